//! The outbox on both backends: claims never overlap, expired leases are claimed again, failures
//! follow the retry policy and end in `failed`, and a supervisor's retry makes an alert due again.

use std::collections::HashSet;
use std::sync::{Arc, Barrier};

use chrono::{Duration, TimeZone, Utc};
use hotline_domain::outbox::{Channel, OutboxStatus, RetryPolicy};
use hotline_storage::queries::outbox::{self, NewAlert};
use hotline_storage::{Storage, StorageError};
use uuid::Uuid;

use crate::helpers;

const TOKEN: &str = "01900000-0000-7000-8000-00000000aaaa";
const TICKET: &str = "01900000-0000-7000-8000-00000000bbbb";

fn seed(storage: &Storage, alerts: usize, policy: &RetryPolicy) -> Vec<Uuid> {
    let now = Utc.with_ymd_and_hms(2026, 11, 21, 1, 0, 0).unwrap();
    storage
        .write(|conn| {
            helpers::insert_token(conn, TOKEN)?;
            helpers::insert_ticket(conn, TICKET, TOKEN, 1)?;
            (0..alerts)
                .map(|n| {
                    let alert = NewAlert {
                        channel: Channel::Email,
                        alert_kind: "referral_requested".into(),
                        ticket_id: Uuid::parse_str(TICKET).expect("ticket id"),
                        referral_id: None,
                        partner_id: None,
                        recipient: format!("partner{n}@example.jp"),
                        subject: "件名".into(),
                        body: "本文".into(),
                        webhook_endpoint: None,
                    };
                    outbox::enqueue(conn, &alert, policy, "hotline.test", now).map(|a| a.id)
                })
                .collect::<Result<Vec<_>, StorageError>>()
        })
        .expect("seed alerts")
}

fn at(minute: i64) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 1, 0, 0).unwrap() + Duration::minutes(minute)
}

fn claim(storage: &Storage, worker: &str, limit: i64, minute: i64) -> Vec<Uuid> {
    storage
        .write(|conn| outbox::claim(conn, worker, limit, Duration::minutes(5), at(minute)))
        .expect("claim")
        .into_iter()
        .map(|alert| alert.id)
        .collect()
}

fn claims_lease_retry_and_give_up(storage: &Storage) {
    let policy =
        RetryPolicy { base_delay: Duration::seconds(30), max_delay: Duration::minutes(30), max_attempts: 2 };
    let ids = seed(storage, 3, &policy);
    let first = claim(storage, "worker-a", 2, 0);
    assert_eq!(first, ids[..2].to_vec(), "oldest due first");
    let second = claim(storage, "worker-b", 5, 1);
    assert_eq!(second, ids[2..].to_vec(), "claimed alerts are not claimed again while leased");
    assert!(claim(storage, "worker-c", 5, 2).is_empty());

    // worker-a crashed: its lease ends at minute 5 and the alerts are claimed again.
    assert_eq!(claim(storage, "worker-c", 5, 6), first);

    storage.write(|conn| outbox::mark_sent(conn, ids[0], at(6))).expect("sent");
    storage.write(|conn| outbox::mark_sent(conn, ids[2], at(6))).expect("worker-b delivered in time");
    let status = storage
        .write(|conn| {
            outbox::mark_failed_attempt(conn, ids[1], "connection refused", false, &policy, at(6), 1.0)
        })
        .expect("failed once");
    assert_eq!(status, OutboxStatus::Pending);
    let alert = storage.read(|conn| outbox::get(conn, ids[1])).expect("get").expect("alert");
    assert_eq!(
        (alert.attempts, alert.next_attempt_at, alert.last_error.as_deref()),
        (1, at(6) + Duration::seconds(30), Some("connection refused"))
    );
    assert!(claim(storage, "worker-c", 5, 6).is_empty(), "not due before its next attempt");
    assert_eq!(claim(storage, "worker-c", 5, 7), vec![ids[1]]);
    let status = storage
        .write(|conn| {
            outbox::mark_failed_attempt(conn, ids[1], "connection refused", false, &policy, at(7), 1.0)
        })
        .expect("failed twice");
    assert_eq!(status, OutboxStatus::Failed, "gives up after max_attempts");
    assert_eq!(
        storage.read(|conn| outbox::list(conn, Some(OutboxStatus::Failed), None, 10)).expect("list").len(),
        1
    );

    // A sent alert stays sent even if a late worker reports a failure for it.
    let status = storage
        .write(|conn| outbox::mark_failed_attempt(conn, ids[0], "late", false, &policy, at(8), 1.0))
        .expect("late failure");
    assert_eq!(status, OutboxStatus::Sent);

    let retried = storage.write(|conn| outbox::retry(conn, ids[1], &policy, at(9))).expect("retry");
    assert_eq!((retried.status, retried.max_attempts), (OutboxStatus::Pending, 4));
    assert_eq!(claim(storage, "worker-d", 5, 9), vec![ids[1]]);
    let refused = storage.write(|conn| outbox::retry(conn, ids[0], &policy, at(9)));
    assert!(matches!(refused, Err(outbox::RetryError::NotFailed(OutboxStatus::Sent))), "{refused:?}");
    let alert = storage.read(|conn| outbox::get(conn, ids[0])).expect("get").expect("alert");
    assert!(
        alert.message_id.ends_with("@hotline.test")
            && alert.message_id.starts_with(&ids[0].simple().to_string())
    );
}

#[test]
fn sqlite_outbox_claims_leases_retries_and_gives_up() {
    claims_lease_retry_and_give_up(&helpers::sqlite().storage);
}

#[test]
fn postgres_outbox_claims_leases_retries_and_gives_up() {
    let Some(db) = helpers::postgres() else { return };
    claims_lease_retry_and_give_up(&db.storage);
}

#[test]
fn postgres_concurrent_claimers_never_claim_the_same_alert() {
    let Some(db) = helpers::postgres() else { return };
    let ids = seed(&db.storage, 40, &RetryPolicy::default());
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|n| {
            let storage = db.storage.clone();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                let mut mine = Vec::new();
                loop {
                    let batch = claim(&storage, &format!("worker-{n}"), 3, 0);
                    if batch.is_empty() {
                        break mine;
                    }
                    mine.extend(batch);
                }
            })
        })
        .collect();
    let mut seen = HashSet::new();
    let mut total = 0;
    for handle in handles {
        let mine = handle.join().expect("claimer thread");
        total += mine.len();
        seen.extend(mine);
    }
    assert_eq!(total, ids.len(), "every alert claimed exactly once");
    assert_eq!(seen, ids.into_iter().collect::<HashSet<_>>());
}
