//! What a ticket carries besides its own columns, as records: its triage, notes, callbacks and
//! referrals. Plain data built from domain types; the modules of each aggregate read and write them.

use chrono::{DateTime, Utc};
use hotline_domain::referral::{ReferralKind, ReferralStatus};
use hotline_domain::triage::Triage;
use uuid::Uuid;

/// The current triage of a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriageRecord {
    /// The decision.
    pub triage: Triage,
    /// When.
    pub triaged_at: DateTime<Utc>,
    /// Who.
    pub triaged_by: Uuid,
}

/// A note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteRecord {
    /// Row id.
    pub id: Uuid,
    /// Text.
    pub body: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Who.
    pub created_by: Uuid,
}

/// A promised callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackRecord {
    /// Row id.
    pub id: Uuid,
    /// Ticket.
    pub ticket_id: Uuid,
    /// Ticket reference, for queues.
    pub ticket_reference: String,
    /// The time promised.
    pub promised_at: DateTime<Utc>,
    /// When it is due (moved into the service window).
    pub due_at: DateTime<Utc>,
    /// Note for whoever calls back.
    pub note: Option<String>,
    /// When promised.
    pub created_at: DateTime<Utc>,
    /// Who promised.
    pub created_by: Uuid,
    /// When a follow-up call completed it.
    pub completed_at: Option<DateTime<Utc>>,
    /// That call.
    pub completed_by_call_id: Option<Uuid>,
}

/// A referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralRecord {
    /// Row id.
    pub id: Uuid,
    /// Ticket.
    pub ticket_id: Uuid,
    /// Partner.
    pub partner_id: Uuid,
    /// Partner name (for display).
    pub partner_name: String,
    /// Kind.
    pub kind: ReferralKind,
    /// Status.
    pub status: ReferralStatus,
    /// Member or delegate.
    pub consent_given_by: String,
    /// Who consented.
    pub consent_name: String,
    /// When.
    pub consent_given_at: DateTime<Utc>,
    /// Note with the request.
    pub request_note: Option<String>,
    /// When requested.
    pub requested_at: DateTime<Utc>,
    /// Who requested.
    pub requested_by: Uuid,
    /// When accepted.
    pub accepted_at: Option<DateTime<Utc>>,
    /// When completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// When declined or cancelled.
    pub ended_at: Option<DateTime<Utc>>,
    /// Note of the last status change.
    pub last_note: Option<String>,
    /// 受理番号 given by the police.
    pub police_receipt_number: Option<String>,
    /// Police contact person.
    pub police_contact: Option<String>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}
