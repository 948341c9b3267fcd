//! The append-only audit trail: every change's typed event ([`TicketEvent`], decided by the domain),
//! stored with its action, its actor and its time, with a webhook delivery for every endpoint
//! subscribed to it in the same transaction. Read back as the same typed events. An event's free text
//! (reasons, notes, summaries, receipt numbers) is kept beside it in `ticket_event_texts`, not in its
//! payload, so that retention and erasure can replace it with the marker while the trail stays
//! append-only; reading puts it back.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use hotline_domain::audit::{FreeTextField, TicketEvent};
use uuid::Uuid;

use crate::columns::{DbEventAction, DbTime, DbUuid};
use crate::schema::{api_tokens, ticket_event_texts, ticket_events};
use crate::{DbConnection, MultiBackend, StorageError};

/// One entry of a ticket's trail.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    /// Row id (UUID v7: in time order).
    pub id: Uuid,
    /// Ticket.
    pub ticket_id: Uuid,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// Acting token.
    pub actor_token_id: Uuid,
    /// Its name.
    pub actor_name: String,
    /// What happened.
    pub event: TicketEvent,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ticket_events)]
#[diesel(check_for_backend(MultiBackend))]
struct EventRow {
    #[diesel(deserialize_as = DbUuid, serialize_as = DbUuid)]
    id: Uuid,
    #[diesel(deserialize_as = DbUuid, serialize_as = DbUuid)]
    ticket_id: Uuid,
    #[diesel(deserialize_as = DbTime, serialize_as = DbTime)]
    occurred_at: DateTime<Utc>,
    #[diesel(deserialize_as = DbUuid, serialize_as = DbUuid)]
    actor_token_id: Uuid,
    #[diesel(deserialize_as = DbEventAction, serialize_as = DbEventAction)]
    action: hotline_domain::ticket::EventAction,
    changes: String,
}

/// Appends `event` to the ticket's trail, with its webhook deliveries; returns the event's id.
pub fn record(
    conn: &mut DbConnection,
    ticket_id: Uuid,
    actor: Uuid,
    at: DateTime<Utc>,
    event: &TicketEvent,
) -> Result<Uuid, StorageError> {
    let mut stripped = event.clone();
    let texts = stripped.take_free_text();
    let row = EventRow {
        id: Uuid::now_v7(),
        ticket_id,
        occurred_at: at,
        actor_token_id: actor,
        action: event.action(),
        changes: stripped.payload(),
    };
    diesel::insert_into(ticket_events::table).values(row.clone()).execute(conn)?;
    for (field, body) in texts {
        diesel::insert_into(ticket_event_texts::table)
            .values((
                ticket_event_texts::event_id.eq(DbUuid(row.id)),
                ticket_event_texts::field.eq(field.as_str()),
                ticket_event_texts::ticket_id.eq(DbUuid(ticket_id)),
                ticket_event_texts::body.eq(body),
            ))
            .execute(conn)?;
    }
    crate::queries::webhooks::enqueue_for_event(conn, row.id, ticket_id, event, at)?;
    Ok(row.id)
}

/// A ticket's trail, oldest first (ids are UUID v7, so they break ties in time order).
pub fn list(conn: &mut DbConnection, ticket_id: Uuid) -> Result<Vec<EventRecord>, StorageError> {
    let rows: Vec<(EventRow, String)> = ticket_events::table
        .inner_join(api_tokens::table.on(api_tokens::id.eq(ticket_events::actor_token_id)))
        .filter(ticket_events::ticket_id.eq(DbUuid(ticket_id)))
        .order((ticket_events::occurred_at.asc(), ticket_events::id.asc()))
        .select((EventRow::as_select(), api_tokens::name))
        .load(conn)?;
    let texts: Vec<(DbUuid, String, String)> = ticket_event_texts::table
        .filter(ticket_event_texts::ticket_id.eq(DbUuid(ticket_id)))
        .select((ticket_event_texts::event_id, ticket_event_texts::field, ticket_event_texts::body))
        .load(conn)?;
    let mut texts_by_event: HashMap<Uuid, Vec<(String, String)>> = HashMap::new();
    for (event_id, field, body) in texts {
        texts_by_event.entry(event_id.0).or_default().push((field, body));
    }
    rows.into_iter()
        .map(|(row, actor_name)| {
            let mut event = TicketEvent::from_stored(row.action.as_str(), &row.changes)
                .map_err(|error| StorageError::Other(format!("ticket_events {}: {error}", row.id)))?;
            for (field, body) in texts_by_event.remove(&row.id).unwrap_or_default() {
                let field = FreeTextField::parse(&field).ok_or_else(|| {
                    StorageError::Other(format!("ticket_event_texts {}: unknown field {field:?}", row.id))
                })?;
                event.put_free_text(field, body);
            }
            Ok(EventRecord {
                id: row.id,
                ticket_id: row.ticket_id,
                occurred_at: row.occurred_at,
                actor_token_id: row.actor_token_id,
                actor_name,
                event,
            })
        })
        .collect()
}
