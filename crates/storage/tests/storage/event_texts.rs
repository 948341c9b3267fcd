//! An event's free text is kept beside it, not in its payload: it reads back as it was written, and
//! the side table, like the trail, refuses any change but the anonymisation marker, and any removal.

use chrono::Utc;
use diesel::prelude::*;
use hotline_domain::audit::{Change, Resolved, TicketEvent};
use hotline_domain::privacy::ANONYMISED;
use hotline_domain::ticket::TicketStatus;
use hotline_storage::queries::audit;
use hotline_storage::schema::{ticket_event_texts, ticket_events};
use hotline_storage::{Storage, StorageError};
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
