//! Callbacks (折り返し): promised, due in the service window, completed by the next follow-up call.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use hotline_domain::callback::CallbackPlan;
use hotline_domain::changes;
use hotline_domain::ticket::TicketStatus;
use uuid::Uuid;

use crate::columns::{DbOptTime, DbOptUuid, DbTime, DbUuid};
use crate::queries::change::{self, Change, ChangeError};
use crate::queries::records::CallbackRecord;
use crate::queries::tickets::TicketHeader;
use crate::schema::{callbacks, tickets};
use crate::{DbConnection, MultiBackend, StorageError};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = callbacks)]
#[diesel(check_for_backend(MultiBackend))]
struct CallbackRow {
    #[diesel(deserialize_as = DbUuid, serialize_as = DbUuid)]
    id: Uuid,
    #[diesel(deserialize_as = DbUuid, serialize_as = DbUuid)]
    ticket_id: Uuid,
    #[diesel(deserialize_as = DbTime, serialize_as = DbTime)]
    promised_at: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime, serialize_as = DbTime)]
    due_at: DateTime<Utc>,
    note: Option<String>,
    #[diesel(deserialize_as = DbTime, serialize_as = DbTime)]
    created_at: DateTime<Utc>,
    #[diesel(deserialize_as = DbUuid, serialize_as = DbUuid)]
    created_by: Uuid,
    #[diesel(deserialize_as = DbOptTime, serialize_as = DbOptTime)]
    completed_at: Option<DateTime<Utc>>,
    #[diesel(deserialize_as = DbOptUuid, serialize_as = DbOptUuid)]
    completed_by_call_id: Option<Uuid>,
}

impl CallbackRow {
    fn into_record(self, ticket_reference: String) -> CallbackRecord {
        CallbackRecord {
            id: self.id,
            ticket_id: self.ticket_id,
            ticket_reference,
            promised_at: self.promised_at,
            due_at: self.due_at,
            note: self.note,
            created_at: self.created_at,
            created_by: self.created_by,
            completed_at: self.completed_at,
            completed_by_call_id: self.completed_by_call_id,
        }
    }
}

/// A ticket's callbacks, by due time.
pub fn callbacks_of(
    conn: &mut DbConnection,
    ticket: &TicketHeader,
) -> Result<Vec<CallbackRecord>, StorageError> {
    Ok(callbacks::table
        .filter(callbacks::ticket_id.eq(DbUuid(ticket.id)))
        .order((callbacks::due_at.asc(), callbacks::id.asc()))
        .select(CallbackRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|row| row.into_record(ticket.reference.clone()))
        .collect())
}

/// Open callbacks due before an instant, across tickets: the callback queue.
pub fn callbacks_due_before(
    conn: &mut DbConnection,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<CallbackRecord>, StorageError> {
    let rows: Vec<(CallbackRow, String)> = callbacks::table
        .inner_join(tickets::table)
        .filter(callbacks::completed_at.is_null())
        .filter(callbacks::due_at.lt(DbTime::from(before)))
        // A closed or declined ticket's promises are moot; reopening brings them back.
        .filter(tickets::status.ne_all([TicketStatus::Closed.as_str(), TicketStatus::Declined.as_str()]))
        .order((callbacks::due_at.asc(), callbacks::id.asc()))
        .limit(limit)
        .select((CallbackRow::as_select(), tickets::reference))
        .load(conn)?;
    Ok(rows.into_iter().map(|(row, reference)| row.into_record(reference)).collect())
}

/// Records a promised callback.
pub fn promise_callback(
    conn: &mut DbConnection,
    change: &Change,
    plan: &CallbackPlan,
    note: Option<&str>,
) -> Result<(TicketHeader, CallbackRecord), ChangeError> {
    let ticket = change::lock(conn, change)?;
    let id = Uuid::now_v7();
    let event = changes::promise_callback(&change::now_of(&ticket), id, plan)?;
    let row = CallbackRow {
        id,
        ticket_id: ticket.id,
        promised_at: crate::utc(crate::db_time(plan.promised_at)),
        due_at: crate::utc(crate::db_time(plan.due_at)),
        note: note.map(str::to_owned),
        created_at: crate::utc(crate::db_time(change.now)),
        created_by: change.actor,
        completed_at: None,
        completed_by_call_id: None,
    };
    diesel::insert_into(callbacks::table).values(row.clone()).execute(conn)?;
    change::commit(conn, change, &ticket, &event)?;
    Ok((change::reload(conn, ticket.id)?, row.into_record(ticket.reference.clone())))
}

/// Completes the earliest open callback of a ticket with a follow-up call; returns it, if any.
pub fn complete_next_callback(
    conn: &mut DbConnection,
    ticket_id: Uuid,
    call_id: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<Uuid>, StorageError> {
    let next: Option<DbUuid> = callbacks::table
        .filter(callbacks::ticket_id.eq(DbUuid(ticket_id)))
        .filter(callbacks::completed_at.is_null())
        .order((callbacks::due_at.asc(), callbacks::id.asc()))
        .select(callbacks::id)
        .first(conn)
        .optional()?;
    let Some(id) = next else { return Ok(None) };
    diesel::update(callbacks::table.find(id))
        .set((
            callbacks::completed_at.eq(DbTime::from(at)),
            callbacks::completed_by_call_id.eq(DbUuid(call_id)),
        ))
        .execute(conn)?;
    Ok(Some(id.0))
}
