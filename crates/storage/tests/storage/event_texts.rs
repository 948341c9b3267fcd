//! An event's free text is kept beside it, not in its payload: it reads back as it was written, and
//! the side table, like the trail, refuses any change but the anonymisation marker, and any removal.

use chrono::Utc;
use diesel::prelude::*;
use diesel_migrations::MigrationHarness;
use hotline_domain::audit::{Change, Resolved, TicketEvent};
use hotline_domain::privacy::ANONYMISED;
use hotline_domain::ticket::TicketStatus;
use hotline_storage::queries::audit;
use hotline_storage::schema::{ticket_event_texts, ticket_events};
use hotline_storage::{Storage, StorageError, migrations};
use uuid::Uuid;

use crate::helpers;

const SUMMARY: &str = "restored from backup; called back on 090-1234-5678";

fn free_text_lives_beside_the_event_and_only_the_marker_may_replace_it(storage: &Storage) {
    let token = Uuid::from_u128(0xa1);
    let ticket = Uuid::from_u128(0xb1);
    let event = TicketEvent::Resolved(Resolved {
        status: Change::new(TicketStatus::InProgress, TicketStatus::Resolved),
        resolution_summary: SUMMARY.to_owned(),
    });
    let event_id = storage
        .write(|conn| {
            helpers::insert_token(conn, &token.to_string())?;
            helpers::insert_ticket(conn, &ticket.to_string(), &token.to_string(), 1)?;
            audit::record(conn, ticket, token, Utc::now(), &event)
        })
        .expect("record");

    let (payload, texts) = storage
        .read(|conn| {
            let payload: String =
                ticket_events::table.find(event_id.to_string()).select(ticket_events::changes).first(conn)?;
            let texts: Vec<(String, String, String)> = ticket_event_texts::table
                .select((ticket_event_texts::field, ticket_event_texts::ticket_id, ticket_event_texts::body))
                .load(conn)?;
            Ok::<_, StorageError>((payload, texts))
        })
        .expect("raw rows");
    assert!(!payload.contains("090"), "{payload}");
    assert_eq!(texts, vec![("resolution_summary".to_owned(), ticket.to_string(), SUMMARY.to_owned())]);

    let listed = storage.read(|conn| audit::list(conn, ticket)).expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].event, event, "reads back identical");

    let event_key = event_id.to_string();
    let key = (event_key.as_str(), "resolution_summary");
    let refused = |result: Result<(), StorageError>| {
        let error = result.expect_err("refused");
        assert!(
            matches!(&error, StorageError::Other(m) if m.contains("ticket_event_texts is append-only")),
            "{error:?}"
        );
    };
    refused(storage.write(|conn| {
        diesel::update(ticket_event_texts::table.find(key))
            .set(ticket_event_texts::body.eq("something else"))
            .execute(conn)?;
        Ok(())
    }));
    refused(storage.write(|conn| {
        diesel::update(ticket_event_texts::table.find(key))
            .set((ticket_event_texts::body.eq(ANONYMISED), ticket_event_texts::field.eq("reopen_reason")))
            .execute(conn)?;
        Ok(())
    }));
    refused(storage.write(|conn| {
        diesel::delete(ticket_event_texts::table.find(key)).execute(conn)?;
        Ok(())
    }));

    storage
        .write(|conn| {
            diesel::update(ticket_event_texts::table.find(key))
                .set(ticket_event_texts::body.eq(ANONYMISED))
                .execute(conn)?;
            Ok::<(), StorageError>(())
        })
        .expect("the marker is allowed");
    let listed = storage.read(|conn| audit::list(conn, ticket)).expect("list");
    let TicketEvent::Resolved(resolved) = &listed[0].event else { panic!("{listed:?}") };
    assert_eq!(resolved.resolution_summary, ANONYMISED);
}

#[test]
fn sqlite_free_text_lives_beside_the_event_and_only_the_marker_may_replace_it() {
    free_text_lives_beside_the_event_and_only_the_marker_may_replace_it(&helpers::sqlite().storage);
}

#[test]
fn postgres_free_text_lives_beside_the_event_and_only_the_marker_may_replace_it() {
    let Some(db) = helpers::postgres() else {
        return;
    };
    free_text_lives_beside_the_event_and_only_the_marker_may_replace_it(&db.storage);
}

/// Events as they were recorded before migration 000015, their free text inline.
fn old_events() -> Vec<TicketEvent> {
    use hotline_domain::audit::{CallerConfirmed, ReferralMoved, Reopened};
    use hotline_domain::referral::{ReferralAction, ReferralStatus};
    vec![
        TicketEvent::Resolved(Resolved {
            status: Change::new(TicketStatus::InProgress, TicketStatus::Resolved),
            resolution_summary: SUMMARY.to_owned(),
        }),
        TicketEvent::Reopened(Reopened {
            status: Change::new(TicketStatus::Resolved, TicketStatus::InProgress),
            reason: "再発（事務長 090-1234-5678）".to_owned(),
            resolution_summary: Change::new(Some(SUMMARY.to_owned()), None),
        }),
        TicketEvent::CallerConfirmed(CallerConfirmed {
            caller_confirmed: Change::new(false, true),
            note: "会員名簿で確認、090-1234-5678 に折り返し".to_owned(),
        }),
        TicketEvent::ReferralMoved(ReferralMoved {
            action: ReferralAction::Accept,
            referral_id: Uuid::from_u128(0xc1),
            status: Change::new(ReferralStatus::Requested, ReferralStatus::Accepted),
            note: None,
            police_receipt_number: Some("R-090-1234".to_owned()),
        }),
    ]
}

fn texts_recorded_before_the_migration_are_moved_beside_their_events(storage: &Storage) {
    let token = Uuid::from_u128(0xa2);
    let ticket = Uuid::from_u128(0xb2);
    let events = old_events();
    let payloads = |conn: &mut hotline_storage::DbConnection| -> Vec<String> {
        ticket_events::table
            .order(ticket_events::id.asc())
            .select(ticket_events::changes)
            .load(conn)
            .expect("payloads")
    };
    storage
        .read(|conn| {
            let backend = storage.backend();
            // Back to before 000015 (000016 and 000020 came after it), with the old events written inline.
            for expected in ["20261201000020", "20261201000016", "20261201000015"] {
                let reverted = conn.revert_last_migration(migrations(backend)).expect("revert");
                assert_eq!(reverted.to_string(), expected);
            }
            helpers::insert_token(conn, &token.to_string())?;
            helpers::insert_ticket(conn, &ticket.to_string(), &token.to_string(), 1)?;
            for (n, event) in events.iter().enumerate() {
                diesel::insert_into(ticket_events::table)
                    .values((
                        ticket_events::id.eq(Uuid::from_u128(0xe0 + n as u128).to_string()),
                        ticket_events::ticket_id.eq(ticket.to_string()),
                        ticket_events::occurred_at.eq(helpers::now()),
                        ticket_events::actor_token_id.eq(token.to_string()),
                        ticket_events::action.eq(event.action().as_str()),
                        ticket_events::changes.eq(event.payload()),
                    ))
                    .execute(conn)?;
            }
            assert!(payloads(conn).iter().any(|p| p.contains("090-1234")), "inline before");

            conn.run_pending_migrations(migrations(backend)).expect("migrate");
            for payload in payloads(conn) {
                assert!(!payload.contains("090-1234") && !payload.contains("再発"), "{payload}");
            }
            let moved: i64 = ticket_event_texts::table.count().get_result(conn)?;
            assert_eq!(moved, 5, "summary, reason and old summary, note, receipt number");
            let listed: Vec<TicketEvent> =
                audit::list(conn, ticket)?.into_iter().map(|record| record.event).collect();
            assert_eq!(listed, events, "read back as they were recorded");

            // down.sql puts them back inline.
            conn.revert_last_migration(migrations(backend)).expect("revert 000020");
            conn.revert_last_migration(migrations(backend)).expect("revert 000016");
            conn.revert_last_migration(migrations(backend)).expect("revert 000015");
            let restored: Vec<TicketEvent> = ticket_events::table
                .order(ticket_events::id.asc())
                .select((ticket_events::action, ticket_events::changes))
                .load::<(String, String)>(conn)?
                .into_iter()
                .map(|(action, payload)| TicketEvent::from_stored(&action, &payload).expect("reads"))
                .collect();
            assert_eq!(restored, events);
            conn.run_pending_migrations(migrations(backend)).expect("migrate again");
            Ok::<(), StorageError>(())
        })
        .expect("migrations with old events");
}

#[test]
fn sqlite_texts_recorded_before_the_migration_are_moved_beside_their_events() {
    texts_recorded_before_the_migration_are_moved_beside_their_events(&helpers::sqlite().storage);
}

#[test]
fn postgres_texts_recorded_before_the_migration_are_moved_beside_their_events() {
    let Some(db) = helpers::postgres() else {
        return;
    };
    texts_recorded_before_the_migration_are_moved_beside_their_events(&db.storage);
}
