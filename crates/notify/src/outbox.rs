//! The outbox delivery loop: claims pending alerts from a store, sends them, and records each outcome, so an
//! alert written in the same transaction as the change that caused it is delivered with retries and never
//! lost.
//!
//! The store is a trait ([`OutboxStore`]) so this crate needs no database: the storage crate implements it
//! over its outbox table, with leases (a claimed message is invisible to other workers until its lease ends)
//! and the retry policy (when to try again, when to give up). Its methods are synchronous and the worker
//! calls them on tokio's blocking pool.
//!
//! Delivery is at least once: if the process dies between the SMTP server's "250 OK" and `mark_sent`, the
//! message is sent again when its lease ends, with the same Message-ID, so the receiver can drop the
//! duplicate. Logs carry the outbox id, the Message-ID, the attempt and the outcome; never an address, a
//! subject or a body.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::mailer::{Mailer, OutgoingEmail, SendError};
use crate::webhook::{WebhookDelivery, WebhookSender};

/// A pending alert as the store hands it out: rendered, addressed, and counted.
#[derive(Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// The outbox row's id, used to record the outcome.
    pub id: String,
    /// Message-ID without angle brackets, fixed when the alert was written, so every retry carries it.
    pub message_id: String,
    /// Recipient mailbox.
    pub to: String,
    /// One-line subject.
    pub subject: String,
    /// UTF-8 plain-text body.
    pub body: String,
    /// Attempts made before this claim.
    pub attempts: u32,
    /// For a webhook delivery, the endpoint whose secret signs it; then `to` is the URL, `subject` the
    /// event type, `body` the JSON payload and `message_id` the delivery id.
    pub webhook_endpoint: Option<String>,
}

impl fmt::Debug for OutboxMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Address, subject and body are personal data: keep them out of `{:?}` and so out of logs.
        f.debug_struct("OutboxMessage")
            .field("id", &self.id)
            .field("message_id", &self.message_id)
            .field("attempts", &self.attempts)
            .field("webhook_endpoint", &self.webhook_endpoint)
            .finish_non_exhaustive()
    }
}

impl OutboxMessage {
    fn email(&self) -> OutgoingEmail {
        OutgoingEmail {
            message_id: self.message_id.clone(),
            to: self.to.clone(),
            subject: self.subject.clone(),
            body: self.body.clone(),
        }
    }

    fn webhook(&self, endpoint: &str) -> WebhookDelivery {
        WebhookDelivery {
            id: self.message_id.clone(),
            endpoint: endpoint.to_owned(),
            url: self.to.clone(),
            event_type: self.subject.clone(),
            body: self.body.clone(),
        }
    }
}

/// A store failure (database down, lost lease) as text, since the worker only logs it and tries again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("outbox store: {0}")]
pub struct StoreError(pub String);

/// What the worker needs from the outbox table, so delivery does not depend on storage (calls may block).
pub trait OutboxStore: Send + Sync + 'static {
    /// Leases up to `limit` due messages to `worker` for `lease`, so no other worker sends them meanwhile.
    fn claim(&self, worker: &str, limit: usize, lease: Duration) -> Result<Vec<OutboxMessage>, StoreError>;

    /// Records delivery, so the message is never sent again.
    fn mark_sent(&self, id: &str, worker: &str) -> Result<(), StoreError>;

    /// Records a failed attempt; the store's retry policy (and `permanent`) decides: retry later or give up.
    fn mark_failed_attempt(
        &self,
        id: &str,
        worker: &str,
        error: &str,
        permanent: bool,
    ) -> Result<(), StoreError>;
}

/// Delivers the outbox: one per process is enough at the hotline's volume, several are safe thanks to leases.
pub struct Worker {
    /// Where pending messages come from and outcomes go.
    pub store: Arc<dyn OutboxStore>,
    /// How emails leave.
    pub mailer: Arc<Mailer>,
    /// How webhooks leave; `None` when the deployment configures none (a webhook row then fails
    /// permanently, visibly, instead of waiting forever).
    pub webhooks: Option<Arc<WebhookSender>>,
    /// Names this worker in leases, so a store can tell workers apart.
    pub worker_id: String,
    /// Pause between polls when the outbox is empty.
    pub poll_interval: Duration,
    /// Most messages claimed at once.
    pub batch: usize,
    /// How long claimed messages stay reserved; sends stop before it ends.
    pub lease: Duration,
}

impl fmt::Debug for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("worker_id", &self.worker_id)
            .field("poll_interval", &self.poll_interval)
            .field("batch", &self.batch)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

/// How one pass over the outbox went.
#[derive(Debug, Default, Clone, Copy)]
struct Pass {
    claimed: usize,
    attempted: usize,
    sent: usize,
}

impl Worker {
    /// Delivers until `shutdown` turns true (or its sender drops), finishing the message in hand.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(worker = %self.worker_id, "outbox worker started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            let busy = match self.pass(Some(&shutdown)).await {
                Ok(pass) => pass.claimed >= self.batch.max(1) && pass.sent == pass.claimed,
                Err(error) => {
                    tracing::warn!(worker = %self.worker_id, %error, "outbox pass failed; will try again");
                    false
                }
            };
            if busy {
                // A full batch went out: more may be waiting, so go again without sleeping. After any
                // failure the loop sleeps, so a struggling server is not hammered.
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(self.poll_interval) => {}
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
        tracing::info!(worker = %self.worker_id, "outbox worker stopped");
    }

    /// One claim-and-send pass, for tests and one-off drains; returns how many messages were attempted.
    pub async fn run_once(&self) -> Result<usize, StoreError> {
        self.pass(None).await.map(|pass| pass.attempted)
    }

    async fn pass(&self, shutdown: Option<&watch::Receiver<bool>>) -> Result<Pass, StoreError> {
        let claimed_at = Instant::now();
        let (batch, lease) = (self.batch.max(1), self.lease);
        let messages = self.blocking(move |store, worker| store.claim(worker, batch, lease)).await?;
        let mut pass = Pass { claimed: messages.len(), attempted: 0, sent: 0 };
        if messages.is_empty() {
            return Ok(pass);
        }
        tracing::debug!(worker = %self.worker_id, claimed = messages.len(), "outbox batch claimed");
        for message in &messages {
            if shutdown.is_some_and(|rx| *rx.borrow()) {
                tracing::info!(
                    worker = %self.worker_id,
                    left = messages.len() - pass.attempted,
                    "shutting down; the rest of the batch returns to the queue when its lease ends"
                );
                break;
            }
            // Keep a tenth of the lease as margin, so the outcome is recorded while the lease still holds.
            let budget = self.lease.saturating_sub(claimed_at.elapsed()).saturating_sub(self.lease / 10);
            if budget.is_zero() {
                tracing::warn!(
                    worker = %self.worker_id,
                    left = messages.len() - pass.attempted,
                    "lease nearly over; leaving the rest of the batch for the next claim"
                );
                break;
            }
            let sent = self.deliver(message, budget).await?;
            pass.attempted += 1;
            pass.sent += usize::from(sent);
        }
        Ok(pass)
    }

    /// Sends one message and records the outcome (true when sent); a store error stops the batch, since
    /// recording is what keeps a message from being sent twice.
    async fn deliver(&self, message: &OutboxMessage, budget: Duration) -> Result<bool, StoreError> {
        let attempt = message.attempts.saturating_add(1);
        let started = Instant::now();
        let outcome = match (&message.webhook_endpoint, &self.webhooks) {
            (None, _) => {
                let timeout = budget.min(self.mailer.send_timeout());
                match tokio::time::timeout(timeout, self.mailer.send(&message.email())).await {
                    Ok(outcome) => outcome,
                    Err(_) => {
                        Err(SendError::Transient(format!("no answer within {} s", timeout.as_secs_f32())))
                    }
                }
            }
            (Some(endpoint), Some(webhooks)) => {
                let timeout = budget.min(webhooks.timeout());
                match tokio::time::timeout(timeout, webhooks.send(&message.webhook(endpoint))).await {
                    Ok(outcome) => outcome,
                    Err(_) => {
                        Err(SendError::Transient(format!("no answer within {} s", timeout.as_secs_f32())))
                    }
                }
            }
            (Some(endpoint), None) => Err(SendError::Permanent(format!(
                "webhook endpoint {endpoint:?} is not configured in this process (it has no webhooks), so \
                 the delivery cannot be signed"
            ))),
        };
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let id = message.id.clone();
        // The endpoint's name, never its URL (which may carry a token); empty for an email.
        let webhook = message.webhook_endpoint.as_deref().unwrap_or("");
        match outcome {
            Ok(()) => {
                tracing::info!(
                    worker = %self.worker_id, outbox_id = %message.id, message_id = %message.message_id,
                    webhook, attempt, elapsed_ms, outcome = "sent", "alert delivered"
                );
                let recorded = self.blocking(move |store, worker| store.mark_sent(&id, worker)).await;
                if let Err(error) = &recorded {
                    tracing::error!(
                        worker = %self.worker_id, outbox_id = %message.id, message_id = %message.message_id,
                        %error,
                        "alert delivered but not recorded; it will be sent again after its lease, with the \
                         same Message-ID"
                    );
                }
                recorded.map(|()| true)
            }
            Err(failure) => {
                let permanent = failure.is_permanent();
                let reason = failure.to_string();
                tracing::warn!(
                    worker = %self.worker_id, outbox_id = %message.id, message_id = %message.message_id,
                    webhook, attempt, elapsed_ms, outcome = if permanent { "failed_permanent" } else { "failed_transient" },
                    error = %reason, "alert not delivered"
                );
                let recorded = self
                    .blocking(move |store, worker| store.mark_failed_attempt(&id, worker, &reason, permanent))
                    .await;
                if let Err(error) = &recorded {
                    tracing::error!(
                        worker = %self.worker_id, outbox_id = %message.id, message_id = %message.message_id,
                        %error, "failed attempt not recorded; the message is retried after its lease"
                    );
                }
                recorded.map(|()| false)
            }
        }
    }

    /// Runs a store call on the blocking pool, as the store's methods wait on the database.
    async fn blocking<T, F>(&self, call: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn OutboxStore, &str) -> Result<T, StoreError> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        let worker = self.worker_id.clone();
        tokio::task::spawn_blocking(move || call(store.as_ref(), &worker))
            .await
            .map_err(|e| StoreError(format!("the store call did not finish: {e}")))?
    }
}
