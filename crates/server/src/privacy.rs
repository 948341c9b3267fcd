//! Retention of personal data (APPI; docs/data-protection.md): a periodic task, and the `hotline
//! anonymise` command, that replace the caller contact data of tickets closed longer ago than
//! `privacy.retention.caller_contact_days`, and their free text after `privacy.retention.free_text_days`,
//! with the marker — one `personal_data.anonymised` event per ticket and class, by a built-in actor —
//! and forget access-log entries older than `privacy.access_log_days`.
//! A read comes first, so an idle tick takes no write lock (SQLite has one writer).

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use hotline_api::Clock;
use hotline_domain::privacy::{AnonymisationBasis, DataClass, RetentionPolicy};
use hotline_storage::queries::{privacy, tokens};
use hotline_storage::{Storage, StorageError};
use serde::Serialize;
use uuid::Uuid;

/// The built-in actor of `personal_data.anonymised` events written by the retention job (revoked,
/// unusable for authentication).
pub const RETENTION_ACTOR: Uuid = Uuid::from_u128(0x01900000_0000_7000_8000_0000000dead2);

/// Its name in audit trails.
pub const RETENTION_ACTOR_NAME: &str = "data retention";

/// Tickets anonymised per write transaction.
const BATCH: i64 = 100;

/// The most tickets a dry run lists.
const DRY_RUN_LIMIT: i64 = 100_000;

/// What one run did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AnonymiseReport {
    /// Nothing was written.
    pub dry_run: bool,
    /// The retention applied, in days after closure.
    pub caller_contact_days: u32,
    /// References of the tickets anonymised (or due, in a dry run).
    pub tickets: Vec<String>,
    /// Calls whose caller contact data was replaced.
    pub calls: u64,
    /// Referrals whose consenting person's name was replaced.
    pub referrals: u64,
    /// The retention of free text applied, in days after closure.
    pub free_text_days: u32,
    /// References of the tickets whose free text was anonymised (or is due, in a dry run).
    pub free_text_tickets: Vec<String>,
}

/// Anonymises the caller contact data of every ticket due at `now` under `policy`; with `dry_run`,
/// only lists them.
pub fn anonymise_due(
    storage: &Storage,
    policy: RetentionPolicy,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<AnonymiseReport, StorageError> {
    let days = policy.days(DataClass::CallerContact);
    let cutoff = policy.closed_before(DataClass::CallerContact, now);
    let text_days = policy.days(DataClass::FreeText);
    let text_cutoff = policy.closed_before(DataClass::FreeText, now);
    let mut report = AnonymiseReport {
        dry_run,
        caller_contact_days: days,
        free_text_days: text_days,
        ..AnonymiseReport::default()
    };
    if dry_run {
        let due = storage.read(|conn| privacy::caller_contact_due(conn, cutoff, DRY_RUN_LIMIT))?;
        report.tickets = due.into_iter().map(|ticket| ticket.reference).collect();
        let due = storage.read(|conn| privacy::free_text_due(conn, text_cutoff, DRY_RUN_LIMIT))?;
        report.free_text_tickets = due.into_iter().map(|ticket| ticket.reference).collect();
        return Ok(report);
    }
    report.free_text_tickets = anonymise_free_text_due(storage, text_days, text_cutoff, now)?;
    loop {
        if storage.read(|conn| privacy::caller_contact_due(conn, cutoff, 1))?.is_empty() {
            return Ok(report);
        }
        let batch = storage.write(|conn| {
            tokens::ensure_system_actor(conn, RETENTION_ACTOR, RETENTION_ACTOR_NAME, now)?;
            let mut done = Vec::new();
            for ticket in privacy::caller_contact_due(conn, cutoff, BATCH)? {
                let basis = AnonymisationBasis::Retention;
                if let Some(event) = privacy::anonymise_caller_contact(
                    conn,
                    ticket.id,
                    RETENTION_ACTOR,
                    now,
                    basis,
                    Some(days),
                )? {
                    done.push((ticket.reference, event));
                }
            }
            Ok::<_, StorageError>(done)
        })?;
        if batch.is_empty() {
            // Another process anonymised them meanwhile.
            return Ok(report);
        }
        for (reference, event) in batch {
            report.tickets.push(reference);
            report.calls += u64::from(event.calls);
            report.referrals += u64::from(event.referrals);
        }
    }
}

/// The free-text part of [`anonymise_due`]: the references of the tickets anonymised.
fn anonymise_free_text_due(
    storage: &Storage,
    days: u32,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<String>, StorageError> {
    let mut done = Vec::new();
    loop {
        if storage.read(|conn| privacy::free_text_due(conn, cutoff, 1))?.is_empty() {
            return Ok(done);
        }
        let batch = storage.write(|conn| {
            tokens::ensure_system_actor(conn, RETENTION_ACTOR, RETENTION_ACTOR_NAME, now)?;
            let mut batch = Vec::new();
            for ticket in privacy::free_text_due(conn, cutoff, BATCH)? {
                if privacy::anonymise_free_text(conn, ticket.id, RETENTION_ACTOR, now, days)?.is_some() {
                    batch.push(ticket.reference);
                }
            }
            Ok::<_, StorageError>(batch)
        })?;
        if batch.is_empty() {
            return Ok(done);
        }
        done.extend(batch);
    }
}

/// Forgets access-log entries older than `days` at `now`; how many.
pub fn purge_access_log(storage: &Storage, days: u32, now: DateTime<Utc>) -> Result<usize, StorageError> {
    let before = now - Duration::days(i64::from(days));
    storage.write(|conn| privacy::purge_access_before(conn, before))
}

/// Runs [`anonymise_due`] and [`purge_access_log`] every `interval`, the first time at once.
pub fn spawn(
    storage: Storage,
    clock: Arc<dyn Clock>,
    interval: StdDuration,
    policy: RetentionPolicy,
    access_log_days: u32,
) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let storage = storage.clone();
            let now = clock.now();
            let run = tokio::task::spawn_blocking(move || {
                let report = anonymise_due(&storage, policy, now, false)?;
                let purged = purge_access_log(&storage, access_log_days, now)?;
                Ok::<_, StorageError>((report, purged))
            });
            match run.await {
                Ok(Ok((report, purged))) => {
                    if !report.free_text_tickets.is_empty() {
                        tracing::info!(
                            tickets = report.free_text_tickets.len(),
                            "free text past its retention anonymised"
                        );
                    }
                    if !report.tickets.is_empty() {
                        tracing::info!(
                            tickets = report.tickets.len(),
                            calls = report.calls,
                            "caller contact data past its retention anonymised"
                        );
                    }
                    if purged > 0 {
                        tracing::info!(purged, "access-log entries past their retention purged");
                    }
                }
                Ok(Err(error)) => tracing::warn!(%error, "the retention job failed"),
                Err(error) => tracing::warn!(%error, "the retention task failed"),
            }
        }
    });
}
