//! Reading a ticket as the API shows it — its columns, calls, links, triage, referrals, callbacks,
//! notes and alerts — and the queue of tickets with their referrals (for the SLA clocks).

use diesel::prelude::*;
use hotline_domain::ticket::TicketStatus;
use hotline_domain::triage::Priority;
use uuid::Uuid;

use crate::columns::DbUuid;
use crate::queries::callbacks::callbacks_of;
use crate::queries::calls::{self, CallRecord};
use crate::queries::notes::notes_of;
use crate::queries::outbox::{self, AlertRecord};
use crate::queries::records::{CallbackRecord, NoteRecord, ReferralRecord, TriageRecord};
use crate::queries::referrals::{referrals_of, referrals_of_tickets};
use crate::queries::tickets::{self, RelatedTicket, TicketHeader, TicketKey, TicketRow};
use crate::queries::triage::triage_of;
use crate::schema::tickets as ticket_rows;
use crate::{DbConnection, StorageError};

/// A ticket with its calls and links, for `GET /v1/tickets/{id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketDetail {
    /// Own columns.
    pub header: TicketHeader,
    /// Earlier tickets of the same caller flagged when it was opened.
    pub possible_repeat_of: Vec<RelatedTicket>,
    /// Calls, oldest first.
    pub calls: Vec<CallRecord>,
}

impl std::ops::Deref for TicketDetail {
    type Target = TicketHeader;

    fn deref(&self) -> &TicketHeader {
        &self.header
    }
}

/// A ticket with its calls and repeat-caller links.
pub fn find(conn: &mut DbConnection, key: &TicketKey) -> Result<Option<TicketDetail>, StorageError> {
    let Some(header) = tickets::find_header(conn, key)? else {
        return Ok(None);
    };
    let possible_repeat_of = tickets::related(conn, header.id)?;
    let calls = calls::of_ticket(conn, header.id)?;
    Ok(Some(TicketDetail { header, possible_repeat_of, calls }))
}

/// Everything shown on one ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct FullTicket {
    /// Columns, calls and repeat-caller links.
    pub detail: TicketDetail,
    /// Current triage.
    pub triage: Option<TriageRecord>,
    /// Referrals, oldest first.
    pub referrals: Vec<ReferralRecord>,
    /// Callbacks by due time.
    pub callbacks: Vec<CallbackRecord>,
    /// Notes, oldest first.
    pub notes: Vec<NoteRecord>,
    /// Alerts sent or waiting for this ticket, oldest first.
    pub alerts: Vec<AlertRecord>,
}

/// One ticket with everything on it.
pub fn full_ticket(conn: &mut DbConnection, key: &TicketKey) -> Result<Option<FullTicket>, StorageError> {
    let Some(detail) = find(conn, key)? else { return Ok(None) };
    let id = detail.header.id;
    Ok(Some(FullTicket {
        triage: triage_of(conn, id)?,
        referrals: referrals_of(conn, id)?,
        callbacks: callbacks_of(conn, &detail.header)?,
        notes: notes_of(conn, id)?,
        alerts: outbox::of_ticket(conn, id)?,
        detail,
    }))
}

/// Which tickets a queue shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketFilter {
    /// Only these statuses (empty: all).
    pub statuses: Vec<TicketStatus>,
    /// Only this assignee.
    pub assignee: Option<Uuid>,
    /// Only this priority.
    pub priority: Option<Priority>,
    /// At most this many, oldest first call first.
    pub limit: i64,
}

/// Tickets for a queue, each with its referrals (for SLA clocks).
pub fn list_tickets(
    conn: &mut DbConnection,
    filter: &TicketFilter,
) -> Result<Vec<(TicketHeader, Vec<ReferralRecord>)>, StorageError> {
    let mut query = ticket_rows::table.select(TicketRow::as_select()).into_boxed();
    if !filter.statuses.is_empty() {
        query = query.filter(
            ticket_rows::status.eq_any(filter.statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
        );
    }
    if let Some(assignee) = filter.assignee {
        query = query.filter(ticket_rows::assignee_token_id.eq(DbUuid(assignee)));
    }
    if let Some(priority) = filter.priority {
        query = query.filter(ticket_rows::priority.eq(priority.as_str()));
    }
    let rows: Vec<TicketRow> = query
        .order((ticket_rows::first_call_at.asc(), ticket_rows::id.asc()))
        .limit(filter.limit)
        .load(conn)?;
    let headers: Vec<TicketHeader> =
        rows.into_iter().map(TicketRow::into_header).collect::<Result<_, _>>()?;
    let mut by_ticket: std::collections::HashMap<Uuid, Vec<ReferralRecord>> =
        std::collections::HashMap::new();
    for referral in referrals_of_tickets(conn, headers.iter().map(|h| h.id).collect())? {
        by_ticket.entry(referral.ticket_id).or_default().push(referral);
    }
    Ok(headers
        .into_iter()
        .map(|header| {
            let referrals = by_ticket.remove(&header.id).unwrap_or_default();
            (header, referrals)
        })
        .collect())
}
