//! Webhook endpoints on both backends: the sync from configuration adds, updates and deactivates; an
//! audit event writes one outbox row per subscribed active endpoint in its own transaction (and none
//! when that transaction rolls back), with a thin payload.

use chrono::{TimeZone, Utc};
use hotline_domain::audit::{AlertRetried, Change, NoteAdded, TicketEvent, TriageSummary, Triaged};
use hotline_domain::outbox::{Channel, OutboxStatus};
use hotline_domain::ticket::TicketStatus;
use hotline_domain::triage::{Category, IncidentKind, Priority};
use hotline_domain::webhook::{EndpointName, EventFilter};
use hotline_storage::queries::webhooks::{self, EndpointSpec, SyncReport};
use hotline_storage::queries::{audit, outbox};
use hotline_storage::{Storage, StorageError};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers;

const TOKEN: &str = "01900000-0000-7000-8000-00000000aaaa";
const TICKET: &str = "01900000-0000-7000-8000-00000000bbbb";

fn spec(name: &str, url: &str, events: &[&str]) -> EndpointSpec {
    EndpointSpec {
        name: EndpointName::parse(name).expect("name"),
        url: url.to_owned(),
        events: EventFilter::parse(events).expect("events"),
        max_attempts: 5,
    }
}

fn sync(storage: &Storage, specs: &[EndpointSpec]) -> SyncReport {
    let now = Utc.with_ymd_and_hms(2026, 11, 21, 1, 0, 0).unwrap();
    storage.write(|conn| webhooks::sync_endpoints(conn, specs, now)).expect("sync")
}

fn active_names(storage: &Storage) -> Vec<String> {
    storage
        .read(webhooks::list_endpoints)
        .expect("list")
        .into_iter()
        .filter(|endpoint| endpoint.active)
        .map(|endpoint| endpoint.name)
        .collect()
}

fn sync_follows_the_configuration(storage: &Storage) {
    let desk = spec("desk", "https://desk.example.jp/hooks", &["*"]);
    let board = spec("board", "https://board.example.jp/hooks", &["ticket.*"]);
    assert_eq!(
        sync(storage, &[desk.clone(), board.clone()]),
        SyncReport { added: 2, updated: 0, deactivated: 0 }
    );
    assert_eq!(sync(storage, &[desk.clone(), board.clone()]), SyncReport::default(), "nothing changed");

    let moved = spec("board", "https://board2.example.jp/hooks", &["ticket.*"]);
    assert_eq!(sync(storage, &[desk.clone(), moved]), SyncReport { added: 0, updated: 1, deactivated: 0 });
    assert_eq!(
        sync(storage, std::slice::from_ref(&desk)),
        SyncReport { added: 0, updated: 0, deactivated: 1 }
    );
    assert_eq!(active_names(storage), ["desk"]);
    let all = storage.read(webhooks::list_endpoints).expect("list");
    assert_eq!(all.len(), 2, "a removed endpoint is kept, inactive");
    assert_eq!(all[0].url, "https://board2.example.jp/hooks");

    // Configured again: active again.
    assert_eq!(sync(storage, &[desk, board]), SyncReport { added: 0, updated: 1, deactivated: 0 });
    assert_eq!(active_names(storage), ["board", "desk"]);
}

fn record(storage: &Storage, event: &TicketEvent) -> Result<Uuid, StorageError> {
    let at = Utc.with_ymd_and_hms(2026, 11, 21, 1, 2, 3).unwrap();
    storage.write(|conn| {
        audit::record(
            conn,
            Uuid::parse_str(TICKET).expect("id"),
            Uuid::parse_str(TOKEN).expect("id"),
            at,
            event,
        )
    })
}

fn deliveries(storage: &Storage) -> Vec<outbox::AlertRecord> {
    let mut rows = storage.read(|conn| outbox::list(conn, None, Some(Channel::Webhook), 100)).expect("list");
    rows.sort_by(|a, b| a.webhook_endpoint.cmp(&b.webhook_endpoint).then(a.id.cmp(&b.id)));
    rows
}

fn events_are_written_once_per_subscribed_active_endpoint(storage: &Storage) {
    storage
        .write(|conn| {
            helpers::insert_token(conn, TOKEN)?;
            helpers::insert_ticket(conn, TICKET, TOKEN, 7)
        })
        .expect("seed");
    sync(
        storage,
        &[
            spec("desk", "https://desk.example.jp/hooks", &["*"]),
            spec("board", "https://board.example.jp/hooks", &["ticket.triaged"]),
            spec("gone", "https://gone.example.jp/hooks", &["*"]),
        ],
    );
    sync(
        storage,
        &[
            spec("desk", "https://desk.example.jp/hooks", &["*"]),
            spec("board", "https://board.example.jp/hooks", &["ticket.triaged"]),
        ],
    );

    let alert = "01900000-0000-7000-8000-00000000cccc";
    let retried = TicketEvent::AlertRetried(AlertRetried {
        alert_id: Uuid::parse_str(alert).expect("id"),
        status: Change::new(OutboxStatus::Failed, OutboxStatus::Pending),
    });
    record(storage, &retried).expect("event");
    let rows = deliveries(storage);
    assert_eq!(rows.len(), 1, "board does not subscribe to alert events: {rows:#?}");
    let row = &rows[0];
    assert_eq!(row.webhook_endpoint.as_deref(), Some("desk"));
    assert_eq!((row.channel, row.status), (Channel::Webhook, OutboxStatus::Pending));
    assert_eq!(row.recipient, "https://desk.example.jp/hooks");
    assert_eq!(row.subject, "alert.retried");
    assert_eq!(row.max_attempts, 5);
    assert!(row.message_id.starts_with("msg_"), "{}", row.message_id);
    let payload: Value = serde_json::from_str(&row.body).expect("JSON payload");
    assert_eq!(payload["type"], "alert.retried");
    assert_eq!(payload["timestamp"], "2026-11-21T01:02:03.000000Z");
    assert_eq!(
        payload["data"],
        json!({
            "event_id": payload["data"]["event_id"],
            "ticket_id": TICKET,
            "ticket_reference": "HL-2026-00007",
            "alert_id": alert,
            "alert_status": { "before": "failed", "after": "pending" },
        }),
        "identifiers and the status only: {payload}"
    );

    let triaged = TicketEvent::Triaged(Triaged {
        status: Change::new(TicketStatus::New, TicketStatus::Triaged),
        triage: Change::new(
            None,
            Some(TriageSummary {
                category: Category::SeriousIncident,
                incident_kind: IncidentKind::Ransomware,
                priority: Priority::P1,
            }),
        ),
        suggested_priority: Priority::P1,
        priority_reason: None,
        decline_reason: None,
    });
    record(storage, &triaged).expect("event");
    let endpoints: Vec<Option<String>> =
        deliveries(storage).into_iter().map(|r| r.webhook_endpoint).collect();
    assert_eq!(endpoints, [Some("board".to_owned()), Some("desk".to_owned()), Some("desk".to_owned())]);

    // An event whose transaction rolls back leaves no delivery behind.
    let before = deliveries(storage).len();
    let failed: Result<(), StorageError> = storage.write(|conn| {
        audit::record(
            conn,
            Uuid::parse_str(TICKET).expect("id"),
            Uuid::parse_str(TOKEN).expect("id"),
            Utc::now(),
            &TicketEvent::NoteAdded(NoteAdded { note_id: Uuid::now_v7() }),
        )?;
        Err(StorageError::Conflict("the change was refused after the event".to_owned()))
    });
    assert!(failed.is_err());
    assert_eq!(deliveries(storage).len(), before);

    // Emails only on the ticket's alert list.
    let of_ticket =
        storage.read(|conn| outbox::of_ticket(conn, Uuid::parse_str(TICKET).expect("id"))).expect("alerts");
    assert!(of_ticket.is_empty(), "{of_ticket:#?}");
}

#[test]
fn sqlite_sync_follows_the_configuration() {
    sync_follows_the_configuration(&helpers::sqlite().storage);
}

#[test]
fn postgres_sync_follows_the_configuration() {
    if let Some(db) = helpers::postgres() {
        sync_follows_the_configuration(&db.storage);
    }
}

#[test]
fn sqlite_events_are_written_once_per_subscribed_active_endpoint() {
    events_are_written_once_per_subscribed_active_endpoint(&helpers::sqlite().storage);
}

#[test]
fn postgres_events_are_written_once_per_subscribed_active_endpoint() {
    if let Some(db) = helpers::postgres() {
        events_are_written_once_per_subscribed_active_endpoint(&db.storage);
    }
}
