//! Reading a ticket as the API shows it — its columns, calls, links, triage, referrals, callbacks,
//! notes and alerts (the ticket list lives in `ticket_list`).

use diesel::prelude::*;

use crate::columns::DbUuid;
use crate::queries::callbacks::callbacks_of;
use crate::queries::calls::{self, CallRecord};
use crate::queries::notes::notes_of;
use crate::queries::outbox::{self, AlertRecord};
use crate::queries::records::{CallbackRecord, NoteRecord, ReferralRecord, TriageRecord};
use crate::queries::referrals::referrals_of;
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

/// One ticket with everything on it, in as few statements as the ticket needs: the ticket row comes
/// with one flag per kind of child row (each an index probe), and only the kinds it has are read. A new
/// ticket (calls and repeat-caller links, nothing else yet) takes three statements instead of eight;
/// that is a round trip each on PostgreSQL (docs/benchmarks.md).
pub fn full_ticket(conn: &mut DbConnection, key: &TicketKey) -> Result<Option<FullTicket>, StorageError> {
    use crate::schema::{
        callbacks, outbox as alert_rows, referrals, ticket_links, ticket_notes, ticket_triage,
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
    ));
    type Flagged = (TicketRow, bool, bool, bool, bool, bool, bool);
    let row: Option<Flagged> = match key {
        TicketKey::Id(id) => query.filter(ticket_rows::id.eq(DbUuid(*id))).first(conn).optional()?,
        TicketKey::Reference(reference) => {
            query.filter(ticket_rows::reference.eq(reference)).first(conn).optional()?
        }
    };
    let Some((row, links, triage, referrals, callbacks, notes, alerts)) = row else { return Ok(None) };
    let header = row.into_header()?;
    let id = header.id;
    let detail = TicketDetail {
        possible_repeat_of: if links { tickets::related(conn, id)? } else { Vec::new() },
        calls: calls::of_ticket(conn, id)?,
        header,
    };
    Ok(Some(FullTicket {
        triage: if triage { triage_of(conn, id)? } else { None },
        referrals: if referrals { referrals_of(conn, id)? } else { Vec::new() },
        callbacks: if callbacks { callbacks_of(conn, &detail.header)? } else { Vec::new() },
        notes: if notes { notes_of(conn, id)? } else { Vec::new() },
        alerts: if alerts { outbox::of_ticket(conn, id)? } else { Vec::new() },
        detail,
    }))
}
