//! Reminders of regulatory deadlines: a periodic task that announces each PPC or MHLW report falling due
//! today (in Japan) or earlier and not yet recorded as made, once, as a `deadline.due` audit event on its
//! ticket — written by a built-in actor — whose webhooks reach the desk software through the outbox. A
//! read comes first, so an idle tick takes no write lock (SQLite has one writer).

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use hotline_api::Clock;
use hotline_domain::incident_facts::JST;
use hotline_domain::regulatory::end_of_day;
use hotline_storage::queries::deadlines;
use hotline_storage::{Storage, StorageError};
use uuid::Uuid;

/// The built-in actor of `deadline.due` events (revoked, unusable for authentication).
pub const DEADLINE_REMINDER_ACTOR: Uuid = Uuid::from_u128(0x01900000_0000_7000_8000_0000000dead1);

/// Deadlines announced per write transaction.
const BATCH: i64 = 100;

/// Announces every deadline that fell due by the end of `now`'s day in Japan and was not announced yet;
/// how many were announced.
pub fn announce_due(storage: &Storage, now: DateTime<Utc>) -> Result<usize, StorageError> {
    let due_by = end_of_day(now.with_timezone(&JST).date_naive());
    let mut announced = 0;
    loop {
        let pending = storage.read(|conn| deadlines::unannounced_due_by(conn, due_by, now, 1))?;
        if pending.is_empty() {
            return Ok(announced);
        }
        let batch = storage
            .write(|conn| deadlines::announce_due(conn, DEADLINE_REMINDER_ACTOR, due_by, now, BATCH))?;
        announced += batch.len();
        if batch.is_empty() {
            // Another process announced them meanwhile.
            return Ok(announced);
        }
    }
}

/// Runs [`announce_due`] every `interval`, the first time at once.
pub fn spawn(storage: Storage, clock: Arc<dyn Clock>, interval: StdDuration) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let storage = storage.clone();
            let now = clock.now();
            match tokio::task::spawn_blocking(move || announce_due(&storage, now)).await {
                Ok(Ok(0)) => {}
                Ok(Ok(count)) => tracing::info!(count, "regulatory deadlines fell due: announced"),
                Ok(Err(error)) => tracing::warn!(%error, "announcing regulatory deadlines failed"),
                Err(error) => tracing::warn!(%error, "deadline reminder task failed"),
            }
        }
    });
}
