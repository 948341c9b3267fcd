//! The storage-backed outbox for the notify worker: claims, deliveries and failed attempts go to the
//! `outbox` table through the storage crate, with the server's clock and retry policy. (notify does not
//! depend on storage; this adapter is the wiring between them.)

use std::sync::Arc;
use std::time::Duration;

use hotline_api::Clock;
use hotline_domain::outbox::{Channel, RetryPolicy};
use hotline_notify::{OutboxMessage, OutboxStore, StoreError};
use hotline_storage::Storage;
use hotline_storage::queries::outbox;
use uuid::Uuid;

/// The outbox table as the worker sees it.
pub struct StorageOutbox {
    /// Database.
    pub storage: Storage,
    /// Clock for leases and retries.
    pub clock: Arc<dyn Clock>,
    /// Retry policy for failed attempts.
    pub policy: RetryPolicy,
}

fn id(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|_| StoreError(format!("not an outbox id: {text}")))
}

impl OutboxStore for StorageOutbox {
    fn claim(&self, worker: &str, limit: usize, lease: Duration) -> Result<Vec<OutboxMessage>, StoreError> {
        let lease = chrono::Duration::from_std(lease).map_err(|error| StoreError(error.to_string()))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let now = self.clock.now();
        let claimed = self
            .storage
            .write(|conn| outbox::claim(conn, worker, limit, lease, now))
            .map_err(|error| StoreError(error.to_string()))?;
        Ok(claimed
            .into_iter()
            .map(|alert| OutboxMessage {
                id: alert.id.to_string(),
                message_id: alert.message_id,
                to: alert.recipient,
                subject: alert.subject,
                body: alert.body,
                attempts: u32::try_from(alert.attempts).unwrap_or(0),
                // A webhook row always names its endpoint (the storage writes it so); an email row never.
                webhook_endpoint: match alert.channel {
                    Channel::Email => None,
                    Channel::Webhook => Some(alert.webhook_endpoint.unwrap_or_default()),
                },
            })
            .collect())
    }

    fn mark_sent(&self, id_text: &str, _worker: &str) -> Result<(), StoreError> {
        let id = id(id_text)?;
        let now = self.clock.now();
        self.storage
            .write(|conn| outbox::mark_sent(conn, id, now))
            .map_err(|error| StoreError(error.to_string()))
    }

    fn mark_failed_attempt(
        &self,
        id_text: &str,
        _worker: &str,
        error: &str,
        permanent: bool,
    ) -> Result<(), StoreError> {
        let id = id(id_text)?;
        let now = self.clock.now();
        let jitter: f64 = rand::random();
        self.storage
            .write(|conn| outbox::mark_failed_attempt(conn, id, error, permanent, &self.policy, now, jitter))
            .map(|_| ())
            .map_err(|error| StoreError(error.to_string()))
    }
}
