//! Logged calls, and the answer to logging one.

use chrono::{DateTime, FixedOffset};
use hotline_domain::identifiers::IdentifierKind;
use hotline_domain::person::CallerRole;
use hotline_domain::ticket::TicketStatus;
use hotline_domain::verification::{ClaimField, IneligibleReason, VerificationOutcome};
use hotline_storage::queries::calls::{CallRecord, LoggedCall};
use hotline_storage::queries::tickets::RelatedTicket;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::context::{PrefectureCodeView, ViewContext};

/// The institution as the caller gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InstitutionClaimView {
    /// Name as given.
    pub name: String,
    /// Address as given.
    pub address: String,
    /// Prefecture code.
    pub prefecture: PrefectureCodeView,
    /// The prefecture's name, e.g. 東京都.
    pub prefecture_name: String,
}

/// The identifier the caller gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IdentifierView {
    /// Registration number or member number.
    pub kind: IdentifierKind,
    /// The number, normalised.
    pub value: String,
}

/// The registry's answer about the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VerificationView {
    /// Verified, mismatch, not found or ineligible.
    pub outcome: VerificationOutcome,
    /// Claimed details that differ from the registry.
    pub mismatches: Vec<ClaimField>,
    /// The member the identifier belongs to.
    pub member_id: Option<Uuid>,
    /// The member's institution that best matched.
    pub institution_id: Option<Uuid>,
    /// `ineligible` only: why — `member_class` (not A①), `no_institution` (runs none on the call's date)
    /// or `membership_ended` (no longer on the roster on the call's date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ineligible_reason: Option<IneligibleReason>,
}

/// A logged call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CallView {
    /// Id.
    pub id: Uuid,
    /// The ticket it opened or continued.
    pub ticket_id: Uuid,
    /// When the call started.
    pub started_at: DateTime<FixedOffset>,
    /// Who called.
    pub caller_name: String,
    /// The caller's relation to the member.
    pub caller_role: CallerRole,
    /// Number to call back.
    pub callback_phone: String,
    /// The A① member running the institution.
    pub member_name: String,
    /// The institution as given.
    pub institution: InstitutionClaimView,
    /// The identifier given.
    pub identifier: IdentifierView,
    /// What the caller said.
    pub summary: String,
    /// A follow-up call on an existing ticket.
    pub follow_up: bool,
    /// The verification.
    pub verification: VerificationView,
    /// When logged.
    pub created_at: DateTime<FixedOffset>,
    /// Who logged it.
    pub created_by: Uuid,
}

impl CallView {
    /// Shows a stored call.
    pub fn new(call: &CallRecord, ctx: &ViewContext<'_>) -> Self {
        Self {
            id: call.id,
            ticket_id: call.ticket_id,
            started_at: ctx.at(call.started_at),
            caller_name: call.caller_name.clone(),
            caller_role: call.caller_role,
            callback_phone: call.callback_phone.clone(),
            member_name: call.member_name.clone(),
            institution: InstitutionClaimView {
                name: call.institution_name.clone(),
                address: call.institution_address.clone(),
                prefecture: call.prefecture.code(),
                prefecture_name: call.prefecture.name_ja().to_owned(),
            },
            identifier: IdentifierView { kind: call.identifier_kind, value: call.identifier_value.clone() },
            summary: call.summary.clone(),
            follow_up: call.follow_up,
            verification: VerificationView {
                outcome: call.verification.outcome,
                mismatches: call.verification.mismatches.clone(),
                member_id: call.verification.member_id,
                institution_id: call.verification.institution_id,
                ineligible_reason: call.verification.ineligible_reason,
            },
            created_at: ctx.at(call.created_at),
            created_by: call.created_by,
        }
    }
}

/// The ticket a call opened or continued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NewTicketView {
    /// Id.
    pub id: Uuid,
    /// Reference to read out to the caller.
    pub reference: String,
    /// Status.
    pub status: TicketStatus,
    /// Version (`ETag`).
    pub version: i64,
    /// Earlier tickets of the same caller.
    pub possible_repeat_of: Vec<RelatedTicketView>,
}

/// The answer to `POST /v1/calls`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LoggedCallView {
    /// The call.
    pub call: CallView,
    /// Its ticket.
    pub ticket: NewTicketView,
}

impl LoggedCallView {
    /// Shows a logged call.
    pub fn new(logged: &LoggedCall, ctx: &ViewContext<'_>) -> Self {
        Self {
            call: CallView::new(&logged.call, ctx),
            ticket: NewTicketView {
                id: logged.ticket.id,
                reference: logged.ticket.reference.clone(),
                status: logged.ticket.status,
                version: logged.ticket.version,
                possible_repeat_of: RelatedTicketView::list(&logged.possible_repeat_of, ctx),
            },
        }
    }
}

/// An earlier ticket of the same caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RelatedTicketView {
    /// Id.
    pub id: Uuid,
    /// Reference.
    pub reference: String,
    /// Status.
    pub status: TicketStatus,
    /// Its first call.
    pub first_call_at: DateTime<FixedOffset>,
    /// What matched: `member` or `institution`.
    pub matched_on: String,
}

impl RelatedTicketView {
    /// Shows the earlier tickets of a caller.
    pub fn list(related: &[RelatedTicket], ctx: &ViewContext<'_>) -> Vec<Self> {
        related
            .iter()
            .map(|ticket| Self {
                id: ticket.id,
                reference: ticket.reference.clone(),
                status: ticket.status,
                first_call_at: ctx.at(ticket.first_call_at),
                matched_on: ticket.matched_on.clone(),
            })
            .collect()
    }
}
