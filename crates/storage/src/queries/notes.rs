//! Notes on a ticket: append-only; the audit trail refers to them by id.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use hotline_domain::changes;
use uuid::Uuid;

use crate::columns::{DbTime, DbUuid};
use crate::queries::change::{self, Change, ChangeError};
use crate::queries::records::NoteRecord;
use crate::queries::tickets::TicketHeader;
use crate::schema::ticket_notes;
use crate::{DbConnection, MultiBackend, StorageError};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ticket_notes)]
#[diesel(check_for_backend(MultiBackend))]
struct NoteRow {
    #[diesel(deserialize_as = DbUuid, serialize_as = DbUuid)]
    id: Uuid,
    #[diesel(deserialize_as = DbUuid, serialize_as = DbUuid)]
    ticket_id: Uuid,
    body: String,
    #[diesel(deserialize_as = DbTime, serialize_as = DbTime)]
    created_at: DateTime<Utc>,
    #[diesel(deserialize_as = DbUuid, serialize_as = DbUuid)]
    created_by: Uuid,
}

impl From<NoteRow> for NoteRecord {
    fn from(row: NoteRow) -> Self {
        NoteRecord { id: row.id, body: row.body, created_at: row.created_at, created_by: row.created_by }
    }
}

/// Notes, oldest first.
pub fn notes_of(conn: &mut DbConnection, ticket_id: Uuid) -> Result<Vec<NoteRecord>, StorageError> {
    Ok(ticket_notes::table
        .filter(ticket_notes::ticket_id.eq(DbUuid(ticket_id)))
        .order((ticket_notes::created_at.asc(), ticket_notes::id.asc()))
        .select(NoteRow::as_select())
        .load(conn)?
        .into_iter()
        .map(NoteRecord::from)
        .collect())
}

/// Appends a note.
pub fn add_note(
    conn: &mut DbConnection,
    change: &Change,
    body: &str,
) -> Result<(TicketHeader, NoteRecord), ChangeError> {
    let ticket = change::lock(conn, change)?;
    let row = NoteRow {
        id: Uuid::now_v7(),
        ticket_id: ticket.id,
        body: body.to_owned(),
        created_at: crate::utc(crate::db_time(change.now)),
        created_by: change.actor,
    };
    diesel::insert_into(ticket_notes::table).values(row.clone()).execute(conn)?;
    change::commit(conn, change, &ticket, &changes::add_note(row.id))?;
    Ok((change::reload(conn, ticket.id)?, row.into()))
}
