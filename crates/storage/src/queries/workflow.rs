//! The ticket's own changes: start and close, resolution, decline, reopening, assignment and the
//! confirmation of an unverified caller. Each asks the domain (`hotline_domain::changes`) and writes
//! what the event it returns says.

use diesel::prelude::*;
use hotline_domain::audit::TicketEvent;
use hotline_domain::changes::{self, Refusal};
use hotline_domain::workflow::TicketAction;
use uuid::Uuid;

use crate::DbConnection;
use crate::columns::{DbOptTime, DbOptUuid, DbTime, DbUuid};
use crate::queries::change::{self, Change, ChangeError};
use crate::queries::referrals;
use crate::queries::tickets::TicketHeader;
use crate::schema::{api_tokens, tickets};

/// A plain status change (start, close) with no data of its own.
pub fn apply(
    conn: &mut DbConnection,
    change: &Change,
    action: TicketAction,
) -> Result<TicketHeader, ChangeError> {
    let ticket = change::lock(conn, change)?;
    let event = changes::step(&change::now_of(&ticket), action, change.role)?;
    let (TicketEvent::Started(step) | TicketEvent::Closed(step)) = &event else {
        return Err(ChangeError::NotFound);
    };
    change::set_status(conn, ticket.id, step.status.after)?;
    if action == TicketAction::Close {
        diesel::update(tickets::table.find(DbUuid(ticket.id)))
            .set(tickets::closed_at.eq(DbTime::from(change.now)))
            .execute(conn)?;
    }
    change::commit(conn, change, &ticket, &event)?;
    change::reload(conn, ticket.id)
}

/// Resolves a ticket with a summary; refused while any referral is open, listing them.
pub fn resolve(conn: &mut DbConnection, change: &Change, summary: &str) -> Result<TicketHeader, ChangeError> {
    let ticket = change::lock(conn, change)?;
    let open = referrals::open_referrals(conn, ticket.id)?;
    let event = match changes::resolve(&change::now_of(&ticket), change.role, open.len(), summary) {
        Ok(event) => event,
        Err(Refusal::OpenReferrals) => return Err(ChangeError::OpenReferrals(open)),
        Err(other) => return Err(other.into()),
    };
    let TicketEvent::Resolved(resolved) = &event else { return Err(ChangeError::NotFound) };
    diesel::update(tickets::table.find(DbUuid(ticket.id)))
        .set((
            tickets::status.eq(resolved.status.after.as_str()),
            tickets::resolved_at.eq(DbTime::from(change.now)),
            tickets::resolution_summary.eq(&resolved.resolution_summary),
        ))
        .execute(conn)?;
    change::commit(conn, change, &ticket, &event)?;
    change::reload(conn, ticket.id)
}

/// Declines a ticket (not eligible, or out of scope without a triage) with a reason.
pub fn decline(
    conn: &mut DbConnection,
    change: &Change,
    reason: &str,
    security_portal_url: Option<&str>,
) -> Result<TicketHeader, ChangeError> {
    let ticket = change::lock(conn, change)?;
    let event = changes::decline(&change::now_of(&ticket), change.role, reason, security_portal_url)?;
    let TicketEvent::Declined(declined) = &event else { return Err(ChangeError::NotFound) };
    diesel::update(tickets::table.find(DbUuid(ticket.id)))
        .set((
            tickets::status.eq(declined.status.after.as_str()),
            tickets::resolution_summary.eq(&declined.decline_reason),
        ))
        .execute(conn)?;
    change::commit(conn, change, &ticket, &event)?;
    change::reload(conn, ticket.id)
}

/// Reopens a resolved or closed ticket (supervisor) with a reason.
pub fn reopen(conn: &mut DbConnection, change: &Change, reason: &str) -> Result<TicketHeader, ChangeError> {
    let ticket = change::lock(conn, change)?;
    let event = changes::reopen(&change::now_of(&ticket), change.role, reason)?;
    let TicketEvent::Reopened(reopened) = &event else { return Err(ChangeError::NotFound) };
    diesel::update(tickets::table.find(DbUuid(ticket.id)))
        .set((
            tickets::status.eq(reopened.status.after.as_str()),
            tickets::resolved_at.eq(DbOptTime(None)),
            tickets::closed_at.eq(DbOptTime(None)),
            tickets::resolution_summary.eq(&reopened.resolution_summary.after),
        ))
        .execute(conn)?;
    change::commit(conn, change, &ticket, &event)?;
    change::reload(conn, ticket.id)
}

/// Assigns (supervisor) or unassigns a ticket.
pub fn assign(
    conn: &mut DbConnection,
    change: &Change,
    assignee: Option<Uuid>,
) -> Result<TicketHeader, ChangeError> {
    let ticket = change::lock(conn, change)?;
    let active = match assignee {
        Some(id) => {
            api_tokens::table
                .filter(api_tokens::id.eq(DbUuid(id)))
                .filter(api_tokens::revoked_at.is_null())
                .count()
                .get_result::<i64>(conn)?
                > 0
        }
        None => true,
    };
    let event = changes::assign(&change::now_of(&ticket), change.role, assignee, active)?;
    set_assignee(conn, change, &ticket, &event)
}

/// An operator takes an unassigned ticket.
pub fn take(conn: &mut DbConnection, change: &Change) -> Result<TicketHeader, ChangeError> {
    let ticket = change::lock(conn, change)?;
    let event = changes::take(&change::now_of(&ticket), change.actor)?;
    set_assignee(conn, change, &ticket, &event)
}

fn set_assignee(
    conn: &mut DbConnection,
    change: &Change,
    ticket: &TicketHeader,
    event: &TicketEvent,
) -> Result<TicketHeader, ChangeError> {
    let TicketEvent::Assigned(assigned) = event else { return Err(ChangeError::NotFound) };
    diesel::update(tickets::table.find(DbUuid(ticket.id)))
        .set(tickets::assignee_token_id.eq(DbOptUuid::from(assigned.assignee.after)))
        .execute(conn)?;
    change::commit(conn, change, ticket, event)?;
    change::reload(conn, ticket.id)
}

/// A supervisor confirms an unverified caller, with the reason, which allows referrals of any kind.
pub fn confirm_caller(
    conn: &mut DbConnection,
    change: &Change,
    note: &str,
) -> Result<TicketHeader, ChangeError> {
    let ticket = change::lock(conn, change)?;
    let event = changes::confirm_caller(&change::now_of(&ticket), change.role, note)?;
    diesel::update(tickets::table.find(DbUuid(ticket.id)))
        .set((
            tickets::caller_confirmed_at.eq(DbTime::from(change.now)),
            tickets::caller_confirmed_by.eq(DbUuid(change.actor)),
        ))
        .execute(conn)?;
    change::commit(conn, change, &ticket, &event)?;
    change::reload(conn, ticket.id)
}
