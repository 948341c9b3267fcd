//! What every change to a ticket shares. A change runs in the caller's write transaction: lock the
//! ticket at the client's version (If-Match), hand what the domain needs to its decision
//! (`hotline_domain::changes`), write what the returned event says, then [`commit`] — bump the version,
//! mark the first response, append the event to the audit trail.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use hotline_domain::audit::TicketEvent;
use hotline_domain::changes::{Refusal, TicketNow, counts_as_first_response};
use hotline_domain::referral::{PartnerProblem, ReferralAction, ReferralRefusal, ReferralStatus};
use hotline_domain::role::Role;
use hotline_domain::ticket::TicketStatus;
use hotline_domain::workflow::TransitionError;
use uuid::Uuid;

use crate::columns::{DbTime, DbUuid};
use crate::queries::audit;
use crate::queries::records::ReferralRecord;
use crate::queries::tickets::{self, LockError, TicketHeader, TicketKey};
use crate::schema::tickets as ticket_rows;
use crate::{DbConnection, StorageError};

/// Who changes which ticket, at which version, when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// The ticket.
    pub ticket_id: Uuid,
    /// The version the client last saw (`If-Match`).
    pub expected_version: i64,
    /// Acting token.
    pub actor: Uuid,
    /// Its role.
    pub role: Role,
    /// Server time.
    pub now: DateTime<Utc>,
}

/// Why a change was refused; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// No such ticket.
    #[error("ticket not found")]
    NotFound,
    /// Stale `If-Match`.
    #[error("ticket changed meanwhile (version {current})")]
    VersionMismatch {
        /// Current version.
        current: i64,
    },
    /// The state machine refused.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// A supervisor-only change by a lower role.
    #[error("needs the {0} role")]
    Forbidden(Role),
    /// A closed or declined ticket takes no callbacks (reopen it, or open a new ticket).
    #[error("ticket is {0:?}")]
    TicketNotOpen(TicketStatus),
    /// Resolution with referrals still open; lists them.
    #[error("{} referral(s) still open", .0.len())]
    OpenReferrals(Vec<ReferralRecord>),
    /// Taking a ticket someone else works.
    #[error("ticket already assigned")]
    AlreadyAssigned(Uuid),
    /// Assigning to a token that does not exist or is revoked.
    #[error("no active token {0}")]
    UnknownAssignee(Uuid),
    /// The referral rules refused.
    #[error(transparent)]
    Referral(#[from] ReferralRefusal),
    /// The chosen partner cannot take this referral.
    #[error("{0}")]
    Partner(PartnerProblem),
    /// No such referral on this ticket.
    #[error("referral not found")]
    ReferralNotFound,
    /// The referral's own lifecycle refused.
    #[error("cannot {action:?} a {from:?} referral")]
    ReferralTransition {
        /// Current referral status.
        from: ReferralStatus,
        /// Refused action.
        action: ReferralAction,
        /// What is possible instead.
        allowed: Vec<ReferralAction>,
    },
    /// The partner already has an open referral for this ticket; lists it.
    #[error("partner already has an open referral on this ticket")]
    DuplicateOpenReferral(Vec<ReferralRecord>),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<Refusal> for ChangeError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Transition(error) => Self::Transition(error),
            Refusal::Forbidden(role) => Self::Forbidden(role),
            Refusal::TicketNotOpen(status) => Self::TicketNotOpen(status),
            // The caller that asked knows which referrals are open and lists them.
            Refusal::OpenReferrals => Self::OpenReferrals(Vec::new()),
            Refusal::AlreadyAssigned(id) => Self::AlreadyAssigned(id),
            Refusal::UnknownAssignee(id) => Self::UnknownAssignee(id),
            Refusal::Referral(refusal) => Self::Referral(refusal),
            Refusal::Partner(problem) => Self::Partner(problem),
            Refusal::ReferralTransition { from, action, allowed } => {
                Self::ReferralTransition { from, action, allowed }
            }
        }
    }
}

impl From<LockError> for ChangeError {
    fn from(error: LockError) -> Self {
        match error {
            LockError::NotFound => Self::NotFound,
            LockError::VersionMismatch { current } => Self::VersionMismatch { current },
            LockError::Storage(error) => Self::Storage(error),
        }
    }
}

impl From<diesel::result::Error> for ChangeError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Storage(error.into())
    }
}

/// Locks the ticket at the client's version.
pub(crate) fn lock(conn: &mut DbConnection, change: &Change) -> Result<TicketHeader, ChangeError> {
    Ok(tickets::lock_for_change(conn, change.ticket_id, change.expected_version)?)
}

/// What the domain's decisions need to know about a ticket.
pub(crate) fn now_of(ticket: &TicketHeader) -> TicketNow {
    TicketNow {
        status: ticket.status,
        assignee: ticket.assignee,
        caller_confirmed: ticket.caller_confirmed_at.is_some(),
        resolution_summary: ticket.resolution_summary.clone(),
    }
}

/// Finishes a change whose own rows are written: the first response (when the event is the hotline
/// acting), the version, and the audit event.
pub(crate) fn commit(
    conn: &mut DbConnection,
    change: &Change,
    ticket: &TicketHeader,
    event: &TicketEvent,
) -> Result<i64, StorageError> {
    if ticket.first_response_at.is_none() && counts_as_first_response(event) {
        diesel::update(ticket_rows::table.find(DbUuid(ticket.id)))
            .set(ticket_rows::first_response_at.eq(DbTime::from(change.now)))
            .execute(conn)?;
    }
    let version = tickets::touch(conn, ticket.id, change.now)?;
    audit::record(conn, ticket.id, change.actor, change.now, event)?;
    Ok(version)
}

/// The ticket after the change.
pub(crate) fn reload(conn: &mut DbConnection, id: Uuid) -> Result<TicketHeader, ChangeError> {
    tickets::find_header(conn, &TicketKey::Id(id))?.ok_or(ChangeError::NotFound)
}

/// Writes a new status.
pub(crate) fn set_status(
    conn: &mut DbConnection,
    id: Uuid,
    status: TicketStatus,
) -> Result<(), StorageError> {
    diesel::update(ticket_rows::table.find(DbUuid(id)))
        .set(ticket_rows::status.eq(status.as_str()))
        .execute(conn)?;
    Ok(())
}
