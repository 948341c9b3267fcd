//! Reading a ticket as the API shows it — its columns, calls, links, triage, referrals, callbacks,
//! notes and alerts (the ticket list lives in `ticket_list`).

use diesel::prelude::*;

use crate::columns::DbUuid;
use crate::queries::callbacks::callbacks_of;
use crate::queries::calls::{self, CallRecord};
use crate::queries::incident_facts;
use crate::queries::notes::notes_of;
use crate::queries::outbox::{self, AlertRecord};
use crate::queries::records::{CallbackRecord, NoteRecord, ReferralRecord, TriageRecord};
use crate::queries::referrals::referrals_of;
use crate::queries::support_payments::{self, CaseRecord};
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

/// What hangs on a ticket, as the EXISTS flags of its row: a ticket read skips the statements of
/// everything absent (most tickets have no triage, referral, callback, note, alert, facts or claim).
#[derive(Debug, Clone, Copy)]
struct Present {
    links: bool,
    triage: bool,
    referrals: bool,
    callbacks: bool,
    notes: bool,
    alerts: bool,
    facts: bool,
    claim: bool,
}

/// The ticket's row and what hangs on it, in one statement.
fn flagged_row(
    conn: &mut DbConnection,
    key: &TicketKey,
) -> Result<Option<(TicketRow, Present)>, StorageError> {
    use crate::schema::{
        callbacks, incident_facts, outbox as alert_rows, referrals, support_claims, ticket_links,
        ticket_notes, ticket_triage,
    };
    use diesel::dsl::exists;
    let query = ticket_rows::table.select((
        TicketRow::as_select(),
        exists(ticket_links::table.filter(ticket_links::ticket_id.eq(ticket_rows::id))),
        exists(ticket_triage::table.filter(ticket_triage::ticket_id.eq(ticket_rows::id))),
        exists(referrals::table.filter(referrals::ticket_id.eq(ticket_rows::id))),
        exists(callbacks::table.filter(callbacks::ticket_id.eq(ticket_rows::id))),
        exists(ticket_notes::table.filter(ticket_notes::ticket_id.eq(ticket_rows::id))),
        exists(alert_rows::table.filter(alert_rows::ticket_id.eq(ticket_rows::id))),
        exists(incident_facts::table.filter(incident_facts::ticket_id.eq(ticket_rows::id))),
        exists(support_claims::table.filter(support_claims::ticket_id.eq(ticket_rows::id))),
    ));
    type Flagged = (TicketRow, bool, bool, bool, bool, bool, bool, bool, bool);
    let row: Option<Flagged> = match key {
        TicketKey::Id(id) => query.filter(ticket_rows::id.eq(DbUuid(*id))).first(conn).optional()?,
        TicketKey::Reference(reference) => {
            query.filter(ticket_rows::reference.eq(reference)).first(conn).optional()?
        }
    };
    Ok(row.map(|(row, links, triage, referrals, callbacks, notes, alerts, facts, claim)| {
        (row, Present { links, triage, referrals, callbacks, notes, alerts, facts, claim })
    }))
}

/// The rest of a ticket whose row was read: one statement for its calls and one for each kind of
/// thing present.
fn assemble(conn: &mut DbConnection, row: TicketRow, present: Present) -> Result<FullTicket, StorageError> {
    let header = row.into_header()?;
    let id = header.id;
    let detail = TicketDetail {
        possible_repeat_of: if present.links { tickets::related(conn, id)? } else { Vec::new() },
        calls: calls::of_ticket(conn, id)?,
        header,
    };
    Ok(FullTicket {
        triage: if present.triage { triage_of(conn, id)? } else { None },
        referrals: if present.referrals { referrals_of(conn, id)? } else { Vec::new() },
        callbacks: if present.callbacks { callbacks_of(conn, &detail.header)? } else { Vec::new() },
        notes: if present.notes { notes_of(conn, id)? } else { Vec::new() },
        alerts: if present.alerts { outbox::of_ticket(conn, id)? } else { Vec::new() },
        detail,
    })
}

/// A ticket with everything on it.
pub fn full_ticket(conn: &mut DbConnection, key: &TicketKey) -> Result<Option<FullTicket>, StorageError> {
    let Some((row, present)) = flagged_row(conn, key)? else { return Ok(None) };
    assemble(conn, row, present).map(Some)
}

/// What the ticket view shows, in as few statements as the ticket needs: the ticket row comes with one
/// flag per kind of child row (each an index probe), and only the kinds it has are read, its recorded
/// incident facts and support-payment claim included. A new ticket (calls and repeat-caller links,
/// nothing else yet) takes three statements instead of ten; that is a round trip each on PostgreSQL
/// (docs/benchmarks.md).
pub fn full_ticket_and_case(
    conn: &mut DbConnection,
    key: &TicketKey,
) -> Result<Option<(FullTicket, CaseRecord)>, StorageError> {
    let Some((row, present)) = flagged_row(conn, key)? else { return Ok(None) };
    let full = assemble(conn, row, present)?;
    let id = full.detail.header.id;
    let case = CaseRecord {
        facts: if present.facts { incident_facts::of_ticket(conn, id)? } else { None },
        claim: if present.claim { support_payments::claim_of(conn, id)? } else { None },
    };
    Ok(Some((full, case)))
}
