//! The access log's writer (docs/data-protection.md): a handler that showed a ticket's personal data
//! queues the read here, without a write of its own, and a background task ([`AccessLog::run`]) writes
//! what is queued in one write transaction every `privacy.access_log_flush_ms`, or as soon as
//! `privacy.access_log_batch` reads wait. Reads stay reads (issue 12): on SQLite they do not queue
//! behind the single writer, on PostgreSQL they cost no WAL flush. A failed write keeps the batch and
//! retries with backoff; nothing is dropped. When the queue is full (the database down for long) the
//! handler records its read itself, in a write of its own (`crate::change::record_reads`): a read that
//! cannot be recorded then fails (503) instead of going unrecorded.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hotline_domain::privacy::AccessKind;
use hotline_storage::queries::privacy::{self, NewAccess};
use hotline_storage::{Storage, StorageError};
use parking_lot::Mutex;
use tokio::sync::{Notify, watch};
use uuid::Uuid;

/// Longest pause between retries of a failed write.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Reads waiting to be written, and how many a flush has in hand.
#[derive(Debug, Default)]
struct Queue {
    pending: Vec<NewAccess>,
    in_flight: usize,
}

/// The bounded queue of reads of personal data not yet written, shared by all workers.
#[derive(Debug)]
pub struct AccessLog {
    queue: Mutex<Queue>,
    /// Most reads queued and in flight together (`privacy.access_log_queue`).
    capacity: usize,
    /// Reads queued that wake the flusher before its interval (`privacy.access_log_batch`).
    batch: usize,
    /// Held for a whole flush, so a flush waits for the one in flight: the admin's `GET /v1/access-log`
    /// flushes first and then sees every read recorded before it.
    flushing: Mutex<()>,
    wake: Notify,
}

impl AccessLog {
    /// An empty queue holding at most `capacity` reads that wakes the flusher at `batch` (both at least 1).
    pub fn new(capacity: usize, batch: usize) -> Self {
        Self {
            queue: Mutex::new(Queue::default()),
            capacity: capacity.max(1),
            batch: batch.max(1),
            flushing: Mutex::new(()),
            wake: Notify::new(),
        }
    }

    /// How many reads wait to be written (in a flush's hands included).
    pub fn pending(&self) -> usize {
        let queue = self.queue.lock();
        queue.pending.len() + queue.in_flight
    }

    /// Queues `reads` without waiting; gives them back when they do not fit.
    pub fn push(&self, reads: Vec<NewAccess>) -> Result<(), Vec<NewAccess>> {
        let queued = {
            let mut queue = self.queue.lock();
            if queue.pending.len() + queue.in_flight + reads.len() > self.capacity {
                return Err(reads);
            }
            queue.pending.extend(reads);
            queue.pending.len()
        };
        if queued >= self.batch {
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Writes every queued read in one write transaction; how many. Blocks (call it off the async
    /// runtime). On failure the reads go back to the front of the queue, in order, for the next flush.
    pub fn flush(&self, storage: &Storage) -> Result<usize, StorageError> {
        let _flushing = self.flushing.lock();
        let batch = {
            let mut queue = self.queue.lock();
            let batch = std::mem::take(&mut queue.pending);
            queue.in_flight = batch.len();
            batch
        };
        if batch.is_empty() {
            return Ok(0);
        }
        let written = storage.write(|conn| privacy::record_accesses(conn, &batch));
        let mut queue = self.queue.lock();
        queue.in_flight = 0;
        if written.is_err() {
            let newer = std::mem::replace(&mut queue.pending, batch);
            queue.pending.extend(newer);
        }
        written
    }

    /// The flusher: flushes every `interval` or when a batch is queued, backs off (doubling, at most
    /// 30 s) while writes fail, and when `stop` turns true (or its sender is gone) flushes what is left
    /// within `last_flush`, warning of what could not be written.
    pub async fn run(
        self: Arc<Self>,
        storage: Storage,
        interval: Duration,
        mut stop: watch::Receiver<bool>,
        last_flush: Duration,
    ) {
        let mut delay = interval;
        loop {
            let backing_off = delay > interval;
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = self.wake.notified(), if !backing_off => {}
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                    continue;
                }
            }
            match self.flush_off_runtime(&storage).await {
                Ok(_) => delay = interval,
                Err(error) => {
                    delay = (delay * 2).min(MAX_BACKOFF).max(interval);
                    tracing::warn!(%error, pending = self.pending(), retry_in_ms = delay.as_millis(),
                        "writing the access log failed: the reads are kept and retried");
                }
            }
        }
        match tokio::time::timeout(last_flush, self.flush_off_runtime(&storage)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(written)) => tracing::info!(written, "access log flushed at shutdown"),
            Ok(Err(error)) => tracing::error!(%error, lost = self.pending(),
                "the access log could not be written at shutdown: these reads go unrecorded"),
            Err(_) => tracing::error!(
                lost = self.pending(),
                "the access log's last flush did not finish in time: these reads may go unrecorded"
            ),
        }
    }

    async fn flush_off_runtime(self: &Arc<Self>, storage: &Storage) -> Result<usize, StorageError> {
        let (log, storage) = (Arc::clone(self), storage.clone());
        tokio::task::spawn_blocking(move || log.flush(&storage))
            .await
            .map_err(|error| StorageError::Other(format!("access-log flush task: {error}")))?
    }
}

/// `token` read `ticket`'s personal data (`what`) at `at`; its id is taken now, so the log keeps the
/// order of reads however late they are written.
pub fn read_by(token: Uuid, ticket: Uuid, what: AccessKind, at: DateTime<Utc>) -> NewAccess {
    NewAccess { id: Uuid::now_v7(), token_id: token, ticket_id: ticket, what, read_at: at }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(count: usize, ticket: Uuid) -> Vec<NewAccess> {
        let at = DateTime::from_timestamp(1_800_000_000, 0).expect("an instant");
        (0..count).map(|_| read_by(Uuid::now_v7(), ticket, AccessKind::Ticket, at)).collect()
    }

    #[test]
    fn a_full_queue_gives_reads_back_and_a_failed_flush_keeps_them_in_order() {
        let log = AccessLog::new(10, 5);
        let (older, newer) = (reads(6, Uuid::now_v7()), reads(3, Uuid::now_v7()));
        log.push(older.clone()).expect("room for 6");
        assert_eq!(log.push(reads(5, Uuid::nil())).expect_err("no room for 5 more").len(), 5);
        // A database without the table refuses the batch, as one that is down would.
        let (_dir, url) = hotline_storage::test_support::sqlite_temp();
        let broken = Storage::connect(&url, hotline_storage::PoolOptions::default()).expect("a SQLite file");
        assert!(log.flush(&broken).is_err());
        assert_eq!(log.pending(), 6, "kept");
        log.push(newer.clone()).expect("room for 3 more");
        assert!(log.flush(&broken).is_err());
        let queued = log.queue.lock().pending.clone();
        assert_eq!(queued, [older, newer].concat(), "the older reads first, each once");
        assert_eq!(log.queue.lock().in_flight, 0);
    }
}
