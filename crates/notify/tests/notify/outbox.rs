//! The outbox worker against a real SMTP server, with an in-memory store as the test double (the store is
//! not under test here; the storage crate tests its own implementation).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hotline_notify::{OutboxMessage, OutboxStore, StoreError, Worker};

use crate::support::{TO, japanese_email, raw_header, smtp_mailer};
use hotline_notify::test_support::{Behaviour, SmtpSink, free_addr};

const WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    Sent,
    Failed,
}

#[derive(Debug)]
struct Row {
    message: OutboxMessage,
    state: State,
    leased_to: Option<(String, Instant)>,
    last_error: Option<String>,
}

/// Pending messages in a Mutex<Vec>: leases, at most `max_attempts`, a failed attempt is due again at once.
#[derive(Debug, Default)]
struct MemStore {
    rows: Mutex<Vec<Row>>,
    claims: AtomicUsize,
    max_attempts: u32,
}

impl MemStore {
    fn with_messages(count: usize) -> Arc<MemStore> {
        let rows = (0..count)
            .map(|n| {
                let email = japanese_email(&format!("alert-{n}@hotline"));
                Row {
                    message: OutboxMessage {
                        id: format!("row-{n}"),
                        message_id: email.message_id,
                        to: TO.to_owned(),
                        subject: email.subject,
                        body: email.body,
                        attempts: 0,
                        webhook_endpoint: None,
                    },
                    state: State::Pending,
                    leased_to: None,
                    last_error: None,
                }
            })
            .collect();
        Arc::new(MemStore { rows: Mutex::new(rows), claims: AtomicUsize::new(0), max_attempts: 5 })
    }

    fn rows(&self) -> std::sync::MutexGuard<'_, Vec<Row>> {
        self.rows.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn states(&self) -> Vec<(State, u32)> {
        self.rows().iter().map(|row| (row.state, row.message.attempts)).collect()
    }
}

impl OutboxStore for MemStore {
    fn claim(&self, worker: &str, limit: usize, lease: Duration) -> Result<Vec<OutboxMessage>, StoreError> {
        self.claims.fetch_add(1, Ordering::SeqCst);
        let now = Instant::now();
        let mut rows = self.rows();
        let due = rows
            .iter_mut()
            .filter(|row| {
                row.state == State::Pending && row.leased_to.as_ref().is_none_or(|(_, until)| *until <= now)
            })
            .take(limit);
        Ok(due
            .map(|row| {
                row.leased_to = Some((worker.to_owned(), now + lease));
                row.message.clone()
            })
            .collect())
    }

    fn mark_sent(&self, id: &str, worker: &str) -> Result<(), StoreError> {
        let mut rows = self.rows();
        let row = rows.iter_mut().find(|row| row.message.id == id).ok_or(StoreError("no such row".into()))?;
        if row.leased_to.as_ref().is_none_or(|(owner, _)| owner != worker) {
            return Err(StoreError("lease lost".into()));
        }
        row.state = State::Sent;
        row.leased_to = None;
        Ok(())
    }

    fn mark_failed_attempt(
        &self,
        id: &str,
        worker: &str,
        error: &str,
        permanent: bool,
    ) -> Result<(), StoreError> {
        let mut rows = self.rows();
        let row = rows.iter_mut().find(|row| row.message.id == id).ok_or(StoreError("no such row".into()))?;
        if row.leased_to.as_ref().is_none_or(|(owner, _)| owner != worker) {
            return Err(StoreError("lease lost".into()));
        }
        row.message.attempts += 1;
        row.last_error = Some(error.to_owned());
        row.leased_to = None;
        if permanent || row.message.attempts >= self.max_attempts {
            row.state = State::Failed;
        }
        Ok(())
    }
}

fn worker(store: &Arc<MemStore>, mailer: hotline_notify::Mailer, poll_interval: Duration) -> Worker {
    Worker {
        store: Arc::clone(store) as Arc<dyn OutboxStore>,
        mailer: Arc::new(mailer),
        webhooks: None,
        worker_id: "test-worker".to_owned(),
        poll_interval,
        batch: 10,
        lease: Duration::from_secs(60),
    }
}

#[tokio::test]
async fn a_pending_message_is_delivered_exactly_once() {
    let sink = SmtpSink::start().await;
    let store = MemStore::with_messages(1);
    let worker = worker(&store, smtp_mailer(sink.addr()), Duration::from_secs(1));

    assert_eq!(worker.run_once().await.expect("first pass"), 1);
    assert_eq!(worker.run_once().await.expect("second pass"), 0, "nothing left to send");

    let received = sink.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(sink.messages().len(), 1, "delivered once");
    assert_eq!(raw_header(&received[0].raw, "Message-ID").as_deref(), Some("<alert-0@hotline>"));
    assert_eq!(store.states(), [(State::Sent, 0)]);
}

#[tokio::test]
async fn a_message_is_retried_after_the_server_was_down_then_delivered_once() {
    let addr = free_addr();
    let store = MemStore::with_messages(1);
    let worker = worker(&store, smtp_mailer(addr), Duration::from_secs(1));

    assert_eq!(worker.run_once().await.expect("pass while down"), 1);
    assert_eq!(store.states(), [(State::Pending, 1)], "a transient failure keeps the message pending");
    let error = store.rows()[0].last_error.clone().unwrap_or_default();
    assert!(error.starts_with("transient"), "{error}");

    let sink = SmtpSink::start_on(addr.port()).await;
    assert_eq!(worker.run_once().await.expect("pass while up"), 1);
    assert_eq!(worker.run_once().await.expect("pass after delivery"), 0);

    let received = sink.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(sink.messages().len(), 1, "delivered exactly once");
    assert_eq!(raw_header(&received[0].raw, "Message-ID").as_deref(), Some("<alert-0@hotline>"));
    assert_eq!(store.states(), [(State::Sent, 1)]);
}

#[tokio::test]
async fn the_running_worker_keeps_polling_until_the_server_comes_back() {
    let addr = free_addr();
    let store = MemStore::with_messages(2);
    let worker = worker(&store, smtp_mailer(addr), Duration::from_millis(50));
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(worker.run(shutdown));

    while store.states().iter().all(|(_, attempts)| *attempts == 0) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let sink = SmtpSink::start_on(addr.port()).await;
    sink.wait_for(2, WAIT).await;
    while store.states().iter().any(|(state, _)| *state != State::Sent) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.send(true).expect("worker listens");
    tokio::time::timeout(WAIT, running).await.expect("worker stops").expect("worker task");

    let mut ids: Vec<_> = sink.messages().iter().filter_map(|m| raw_header(&m.raw, "Message-ID")).collect();
    ids.sort();
    assert_eq!(ids, ["<alert-0@hotline>", "<alert-1@hotline>"], "each delivered once");
}

#[tokio::test]
async fn a_550_marks_the_message_failed_for_good() {
    let sink = SmtpSink::start_with(0, Behaviour::rejecting(550)).await;
    let store = MemStore::with_messages(1);
    let worker = worker(&store, smtp_mailer(sink.addr()), Duration::from_secs(1));

    assert_eq!(worker.run_once().await.expect("pass"), 1);
    assert_eq!(worker.run_once().await.expect("nothing due"), 0);

    assert_eq!(store.states(), [(State::Failed, 1)]);
    let error = store.rows()[0].last_error.clone().unwrap_or_default();
    assert!(error.starts_with("permanent") && error.contains("550"), "{error}");
    assert!(!error.contains("@forensic.example.jp"), "no address in the recorded reason: {error}");
}

#[tokio::test]
async fn an_idle_worker_stops_promptly_on_shutdown() {
    let sink = SmtpSink::start().await;
    let store = MemStore::with_messages(0);
    let worker = worker(&store, smtp_mailer(sink.addr()), Duration::from_secs(3600));
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(worker.run(shutdown));
    while store.claims.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let asked = Instant::now();
    stop.send(true).expect("worker listens");
    tokio::time::timeout(Duration::from_secs(2), running).await.expect("stops within 2 s").expect("task");
    assert!(asked.elapsed() < Duration::from_secs(1), "stopped in {:?}", asked.elapsed());
}

#[tokio::test]
async fn shutdown_mid_batch_finishes_the_message_in_hand_and_leaves_the_rest() {
    let slow = Behaviour { delay_after_data: Duration::from_millis(400), ..Behaviour::default() };
    let sink = SmtpSink::start_with(0, slow).await;
    let store = MemStore::with_messages(3);
    let worker = worker(&store, smtp_mailer(sink.addr()), Duration::from_secs(3600));
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(worker.run(shutdown));

    // The first message is in hand once the server has its data and sits on the reply.
    sink.wait_for(1, WAIT).await;
    stop.send(true).expect("worker listens");
    tokio::time::timeout(Duration::from_secs(3), running).await.expect("stops promptly").expect("task");

    assert_eq!(sink.messages().len(), 1, "no new message started after shutdown");
    let states = store.states();
    assert_eq!(states[0], (State::Sent, 0), "the message in hand was finished and recorded");
    assert_eq!(&states[1..], [(State::Pending, 0), (State::Pending, 0)], "the rest wait for the next worker");
}

#[tokio::test]
async fn a_backlog_larger_than_a_batch_drains_without_waiting_for_the_poll_interval() {
    let sink = SmtpSink::start().await;
    let store = MemStore::with_messages(3);
    let worker = Worker { batch: 1, ..worker(&store, smtp_mailer(sink.addr()), Duration::from_secs(3600)) };
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(worker.run(shutdown));

    sink.wait_for(3, WAIT).await;
    while store.states().iter().any(|(state, _)| *state != State::Sent) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.send(true).expect("worker listens");
    tokio::time::timeout(WAIT, running).await.expect("worker stops").expect("worker task");
    assert_eq!(sink.messages().len(), 3);
}
