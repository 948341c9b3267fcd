//! The audit trail's vocabulary. Every change to a ticket is decided here or by the rules it calls,
//! and described as a [`TicketEvent`]: one variant per action, carrying the values before and after
//! and the ids of what it touched. Storage persists an event as it is (its action beside its
//! serialised payload) and never assembles one; the events endpoint and the webhooks render the same
//! typed value back.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::outbox::OutboxStatus;
use crate::privacy::{AnonymisationBasis, DataClass};
use crate::referral::{ConsentGiver, ReferralAction, ReferralKind, ReferralStatus};
use crate::regulatory::{DeadlineKind, DeadlineStatus};
use crate::support_payment::PaymentKind;
use crate::support_payment::claim::ClaimStatus;
use crate::ticket::{EventAction, TicketStatus};
use crate::triage::{Category, IncidentKind, Priority, Triage};
use crate::verification::VerificationOutcome;

/// A value before and after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change<T> {
    /// Before.
    pub before: T,
    /// After.
    pub after: T,
}

impl<T> Change<T> {
    /// `before` → `after`.
    pub fn new(before: T, after: T) -> Self {
        Self { before, after }
    }
}

/// A new call opened the ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Opened {
    /// The reference read out to the caller.
    pub reference: String,
    /// No status → `new`.
    pub status: Change<Option<TicketStatus>>,
    /// The call.
    pub call_id: Uuid,
    /// How the caller was verified.
    pub verification: VerificationOutcome,
    /// References of the caller's earlier tickets.
    pub possible_repeat_of: Vec<String>,
}

/// A follow-up call was attached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallLogged {
    /// The call.
    pub call_id: Uuid,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// How the caller was verified.
    pub verification: VerificationOutcome,
    /// The callback the call completed, if one was due.
    pub completed_callback: Option<Uuid>,
    /// The ticket's version.
    pub version: Change<i64>,
}

/// Category, kind and priority of a triage, as the trail compares them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TriageSummary {
    /// Category.
    pub category: Category,
    /// Kind of incident.
    pub incident_kind: IncidentKind,
    /// Priority set.
    pub priority: Priority,
}

impl From<&Triage> for TriageSummary {
    fn from(triage: &Triage) -> Self {
        Self { category: triage.category, incident_kind: triage.incident_kind, priority: triage.priority }
    }
}

/// A triage (or re-triage); an out-of-scope triage declines the ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Triaged {
    /// The ticket's status.
    pub status: Change<TicketStatus>,
    /// The triage before and after.
    pub triage: Change<Option<TriageSummary>>,
    /// What the hotline suggested.
    pub suggested_priority: Priority,
    /// Why the suggestion was overridden.
    pub priority_reason: Option<String>,
    /// Why an out-of-scope call was declined.
    pub decline_reason: Option<String>,
}

/// A status change with no data of its own (start, close).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusChanged {
    /// The ticket's status.
    pub status: Change<TicketStatus>,
}

/// The resolution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Resolved {
    /// The ticket's status.
    pub status: Change<TicketStatus>,
    /// What was done.
    pub resolution_summary: String,
}

/// A decline without a triage (a caller not eligible, say).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Declined {
    /// The ticket's status.
    pub status: Change<TicketStatus>,
    /// Why.
    pub decline_reason: String,
    /// The free security portal the declined caller is pointed to (configured as
    /// `hotline.security_portal_url`); absent in events recorded before it was configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_portal_url: Option<String>,
}

/// A supervisor reopened the ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reopened {
    /// The ticket's status.
    pub status: Change<TicketStatus>,
    /// Why.
    pub reason: String,
    /// The resolution summary, cleared.
    pub resolution_summary: Change<Option<String>>,
}

/// The assignee changed (assign, take).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assigned {
    /// The token working the ticket.
    pub assignee: Change<Option<Uuid>>,
}

/// A note was added (its text stays in the note).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoteAdded {
    /// The note.
    pub note_id: Uuid,
}

/// A supervisor confirmed an unverified caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallerConfirmed {
    /// Whether the caller counts as confirmed.
    pub caller_confirmed: Change<bool>,
    /// How the caller was confirmed.
    pub note: String,
}

/// A callback was promised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallbackPromised {
    /// The callback.
    pub callback_id: Uuid,
    /// The time promised.
    pub promised_at: DateTime<Utc>,
    /// When it is due (moved into the service window).
    pub due_at: DateTime<Utc>,
    /// It was moved.
    pub moved: bool,
}

/// Who consented to a referral, and when (the name stays on the referral).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsentGiven {
    /// Member or delegate.
    pub given_by: ConsentGiver,
    /// When.
    pub given_at: DateTime<Utc>,
}

/// A referral was requested.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReferralRequested {
    /// The referral.
    pub referral_id: Uuid,
    /// Forensic, legal or police.
    pub kind: ReferralKind,
    /// The partner.
    pub partner_id: Uuid,
    /// The ticket's status (the first referral escalates it).
    pub status: Change<TicketStatus>,
    /// The member's consent.
    pub consent: ConsentGiven,
}

/// A referral moved along its own lifecycle: accepted, completed, declined or cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReferralMoved {
    /// What happened (given by the event's action, not repeated in the payload).
    #[serde(skip, default = "accept")]
    pub action: ReferralAction,
    /// The referral.
    pub referral_id: Uuid,
    /// The referral's status.
    pub status: Change<ReferralStatus>,
    /// Note with the change.
    pub note: Option<String>,
    /// 受理番号, when the police accepted.
    pub police_receipt_number: Option<String>,
}

fn accept() -> ReferralAction {
    ReferralAction::Accept
}

/// A supervisor retried a failed alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertRetried {
    /// The alert.
    pub alert_id: Uuid,
    /// Its status.
    pub status: Change<OutboxStatus>,
}

/// Incident facts were recorded; only the facts that changed, by their wire names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FactsRecorded {
    /// Names of the facts that changed.
    pub changed: Vec<String>,
    /// Their values before and after (`null`: unknown).
    #[cfg_attr(feature = "openapi", schema(value_type = Change<Object>))]
    pub facts: Change<serde_json::Map<String, serde_json::Value>>,
}

/// A support payment was claimed from the association.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentClaimed {
    /// The claim.
    pub claim_id: Uuid,
    /// Which payment.
    pub payment: PaymentKind,
    /// Amount in yen.
    pub amount_yen: u64,
    /// The rule set it was assessed under.
    pub rule_set: String,
    /// The claim's status.
    pub status: Change<ClaimStatus>,
}

/// The association paid or rejected a claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentDecided {
    /// The claim.
    pub claim_id: Uuid,
    /// Which payment.
    pub payment: PaymentKind,
    /// Amount in yen.
    pub amount_yen: u64,
    /// The claim's status.
    pub status: Change<ClaimStatus>,
    /// Why it was rejected.
    pub reason: Option<String>,
}

/// A regulatory deadline fell due without its report recorded: the hotline's reminder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeadlineFellDue {
    /// Which report.
    pub kind: DeadlineKind,
    /// Its due date in Japan.
    pub due_date: NaiveDate,
    /// The end of that day.
    pub due_at: DateTime<Utc>,
    /// `due` (today) or already `overdue` when announced.
    pub deadline_status: DeadlineStatus,
}

/// Personal data of one class on the ticket was replaced by the marker
/// ([`crate::privacy::ANONYMISED`]) because its retention ended or the person asked; what was erased is
/// never repeated, only how much.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonalDataAnonymised {
    /// Which class.
    pub class: DataClass,
    /// Why: its retention ended, or the person asked.
    pub basis: AnonymisationBasis,
    /// The retention period applied, in days after the ticket's closure (`retention` only).
    pub retention_days: Option<u32>,
    /// Calls whose values were replaced.
    pub calls: u32,
    /// Referrals whose consenting person's name was replaced.
    pub referrals: u32,
    /// Notes whose text was replaced (erasure on request).
    #[serde(default)]
    pub notes: u32,
    /// Callbacks whose note was replaced (erasure on request).
    #[serde(default)]
    pub callbacks: u32,
    /// Free-text values of the ticket's audit trail that were replaced (reasons, notes, summaries).
    #[serde(default)]
    pub event_texts: u32,
}

/// A free-text value an event may carry: storage keeps it beside the event, under this name, so that
/// retention and erasure can replace it while the trail itself stays append-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FreeTextField {
    /// A triage's reason for overriding the suggested priority.
    PriorityReason,
    /// Why the ticket was declined (by triage or not).
    DeclineReason,
    /// The resolution summary (of a resolution, or the one a reopening cleared).
    ResolutionSummary,
    /// Why a supervisor reopened the ticket.
    ReopenReason,
    /// How an unverified caller was confirmed.
    ConfirmationNote,
    /// A referral's note with its change.
    ReferralNote,
    /// The police's 受理番号.
    PoliceReceiptNumber,
    /// Why a claim was rejected.
    RejectionReason,
}

impl FreeTextField {
    /// Every field, for tests and listings.
    pub const ALL: [Self; 8] = [
        Self::PriorityReason,
        Self::DeclineReason,
        Self::ResolutionSummary,
        Self::ReopenReason,
        Self::ConfirmationNote,
        Self::ReferralNote,
        Self::PoliceReceiptNumber,
        Self::RejectionReason,
    ];

    /// The stable name stored in `ticket_event_texts.field`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PriorityReason => "priority_reason",
            Self::DeclineReason => "decline_reason",
            Self::ResolutionSummary => "resolution_summary",
            Self::ReopenReason => "reopen_reason",
            Self::ConfirmationNote => "confirmation_note",
            Self::ReferralNote => "referral_note",
            Self::PoliceReceiptNumber => "police_receipt_number",
            Self::RejectionReason => "rejection_reason",
        }
    }

    /// Reads a stored name back.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|field| field.as_str() == name)
    }
}

/// Everything that can happen to a ticket. Serialised, it is the event's `changes`: the variant's
/// fields only; its [`EventAction`] is stored beside it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TicketEvent {
    /// `ticket.opened`.
    Opened(Opened),
    /// `call.logged`.
    CallLogged(CallLogged),
    /// `ticket.triaged`.
    Triaged(Triaged),
    /// `ticket.declined` by an out-of-scope triage.
    DeclinedByTriage(Triaged),
    /// `ticket.started`.
    Started(StatusChanged),
    /// `ticket.assigned`.
    Assigned(Assigned),
    /// `ticket.resolved`.
    Resolved(Resolved),
    /// `ticket.closed`.
    Closed(StatusChanged),
    /// `ticket.declined`.
    Declined(Declined),
    /// `ticket.reopened`.
    Reopened(Reopened),
    /// `note.added`.
    NoteAdded(NoteAdded),
    /// `caller.confirmed`.
    CallerConfirmed(CallerConfirmed),
    /// `callback.promised`.
    CallbackPromised(CallbackPromised),
    /// `referral.requested`.
    ReferralRequested(ReferralRequested),
    /// `referral.accepted`, `.completed`, `.declined` or `.cancelled`.
    ReferralMoved(ReferralMoved),
    /// `alert.retried`.
    AlertRetried(AlertRetried),
    /// `facts.recorded`.
    FactsRecorded(FactsRecorded),
    /// `support_payment.claimed`.
    PaymentClaimed(PaymentClaimed),
    /// `support_payment.paid`.
    PaymentPaid(PaymentDecided),
    /// `support_payment.rejected`.
    PaymentRejected(PaymentDecided),
    /// `deadline.due`.
    DeadlineDue(DeadlineFellDue),
    /// `personal_data.anonymised`.
    PersonalDataAnonymised(PersonalDataAnonymised),
}

/// What a webhook repeats of an event: identifiers, the referral kind and the status transition under
/// a key naming whose status it is — never names, notes, reasons or receipt numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventIds {
    /// The call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_id: Option<Uuid>,
    /// The referral.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referral_id: Option<Uuid>,
    /// The partner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<Uuid>,
    /// The callback.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_id: Option<Uuid>,
    /// The note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note_id: Option<Uuid>,
    /// The alert.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_id: Option<Uuid>,
    /// The support-payment claim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim_id: Option<Uuid>,
    /// The referral's kind, or the report's kind of a `deadline.due`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The due date of a `deadline.due`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<NaiveDate>,
    /// The ticket's status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_status: Option<Change<Option<String>>>,
    /// The referral's status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referral_status: Option<Change<Option<String>>>,
    /// The alert's status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_status: Option<Change<Option<String>>>,
    /// The claim's status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim_status: Option<Change<Option<String>>>,
}

fn names<T: Copy>(change: &Change<T>, name: fn(T) -> &'static str) -> Change<Option<String>> {
    Change::new(Some(name(change.before).to_owned()), Some(name(change.after).to_owned()))
}

/// Why a stored event cannot be read back.
#[derive(Debug, thiserror::Error)]
pub enum StoredEventError {
    /// Not an action this version knows.
    #[error("unknown audit action {0:?}")]
    UnknownAction(String),
    /// The payload does not fit the action.
    #[error("the {action} payload does not parse: {cause}")]
    Payload {
        /// The action.
        action: &'static str,
        /// The parser's message.
        cause: String,
    },
}

impl TicketEvent {
    /// The action the event records.
    pub fn action(&self) -> EventAction {
        match self {
            Self::Opened(_) => EventAction::TicketOpened,
            Self::CallLogged(_) => EventAction::CallLogged,
            Self::Triaged(_) => EventAction::TicketTriaged,
            Self::DeclinedByTriage(_) | Self::Declined(_) => EventAction::TicketDeclined,
            Self::Started(_) => EventAction::TicketStarted,
            Self::Assigned(_) => EventAction::TicketAssigned,
            Self::Resolved(_) => EventAction::TicketResolved,
            Self::Closed(_) => EventAction::TicketClosed,
            Self::Reopened(_) => EventAction::TicketReopened,
            Self::NoteAdded(_) => EventAction::NoteAdded,
            Self::CallerConfirmed(_) => EventAction::CallerConfirmed,
            Self::CallbackPromised(_) => EventAction::CallbackPromised,
            Self::ReferralRequested(_) => EventAction::ReferralRequested,
            Self::ReferralMoved(moved) => match moved.action {
                ReferralAction::Accept => EventAction::ReferralAccepted,
                ReferralAction::Complete => EventAction::ReferralCompleted,
                ReferralAction::Decline => EventAction::ReferralDeclined,
                ReferralAction::Cancel => EventAction::ReferralCancelled,
            },
            Self::AlertRetried(_) => EventAction::AlertRetried,
            Self::FactsRecorded(_) => EventAction::FactsRecorded,
            Self::PaymentClaimed(_) => EventAction::SupportPaymentClaimed,
            Self::PaymentPaid(_) => EventAction::SupportPaymentPaid,
            Self::PaymentRejected(_) => EventAction::SupportPaymentRejected,
            Self::DeadlineDue(_) => EventAction::DeadlineDue,
            Self::PersonalDataAnonymised(_) => EventAction::PersonalDataAnonymised,
        }
    }

    /// The event's payload as stored (`changes`): plain data, so serialising cannot fail.
    pub fn payload(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Reads a stored event back: the action picks the payload's shape.
    pub fn from_stored(action: &str, payload: &str) -> Result<Self, StoredEventError> {
        let action =
            EventAction::parse(action).map_err(|_| StoredEventError::UnknownAction(action.to_owned()))?;
        let fail = |error: serde_json::Error| StoredEventError::Payload {
            action: action.as_str(),
            cause: error.to_string(),
        };
        let moved = |referral: ReferralAction| -> Result<Self, StoredEventError> {
            let mut moved: ReferralMoved = serde_json::from_str(payload).map_err(fail)?;
            moved.action = referral;
            Ok(Self::ReferralMoved(moved))
        };
        Ok(match action {
            EventAction::TicketOpened => Self::Opened(serde_json::from_str(payload).map_err(fail)?),
            EventAction::CallLogged => Self::CallLogged(serde_json::from_str(payload).map_err(fail)?),
            EventAction::TicketTriaged => Self::Triaged(serde_json::from_str(payload).map_err(fail)?),
            EventAction::TicketDeclined => {
                let value: serde_json::Value = serde_json::from_str(payload).map_err(fail)?;
                if value.get("triage").is_some() {
                    Self::DeclinedByTriage(serde_json::from_value(value).map_err(fail)?)
                } else {
                    Self::Declined(serde_json::from_value(value).map_err(fail)?)
                }
            }
            EventAction::TicketStarted => Self::Started(serde_json::from_str(payload).map_err(fail)?),
            EventAction::TicketAssigned => Self::Assigned(serde_json::from_str(payload).map_err(fail)?),
            EventAction::TicketResolved => Self::Resolved(serde_json::from_str(payload).map_err(fail)?),
            EventAction::TicketClosed => Self::Closed(serde_json::from_str(payload).map_err(fail)?),
            EventAction::TicketReopened => Self::Reopened(serde_json::from_str(payload).map_err(fail)?),
            EventAction::NoteAdded => Self::NoteAdded(serde_json::from_str(payload).map_err(fail)?),
            EventAction::CallerConfirmed => {
                Self::CallerConfirmed(serde_json::from_str(payload).map_err(fail)?)
            }
            EventAction::CallbackPromised => {
                Self::CallbackPromised(serde_json::from_str(payload).map_err(fail)?)
            }
            EventAction::ReferralRequested => {
                Self::ReferralRequested(serde_json::from_str(payload).map_err(fail)?)
            }
            EventAction::ReferralAccepted => moved(ReferralAction::Accept)?,
            EventAction::ReferralCompleted => moved(ReferralAction::Complete)?,
            EventAction::ReferralDeclined => moved(ReferralAction::Decline)?,
            EventAction::ReferralCancelled => moved(ReferralAction::Cancel)?,
            EventAction::AlertRetried => Self::AlertRetried(serde_json::from_str(payload).map_err(fail)?),
            EventAction::FactsRecorded => Self::FactsRecorded(serde_json::from_str(payload).map_err(fail)?),
            EventAction::SupportPaymentClaimed => {
                Self::PaymentClaimed(serde_json::from_str(payload).map_err(fail)?)
            }
            EventAction::SupportPaymentPaid => {
                Self::PaymentPaid(serde_json::from_str(payload).map_err(fail)?)
            }
            EventAction::SupportPaymentRejected => {
                Self::PaymentRejected(serde_json::from_str(payload).map_err(fail)?)
            }
            EventAction::DeadlineDue => Self::DeadlineDue(serde_json::from_str(payload).map_err(fail)?),
            EventAction::PersonalDataAnonymised => {
                Self::PersonalDataAnonymised(serde_json::from_str(payload).map_err(fail)?)
            }
        })
    }

    /// The identifiers and status transition a webhook may repeat.
    pub fn ids(&self) -> EventIds {
        let ticket = |status: &Change<TicketStatus>| Some(names(status, TicketStatus::as_str));
        let mut ids = EventIds::default();
        match self {
            Self::Opened(e) => {
                ids.call_id = Some(e.call_id);
                ids.ticket_status = Some(Change::new(
                    e.status.before.map(|s| s.as_str().to_owned()),
                    e.status.after.map(|s| s.as_str().to_owned()),
                ));
            }
            Self::CallLogged(e) => ids.call_id = Some(e.call_id),
            Self::Triaged(e) | Self::DeclinedByTriage(e) => ids.ticket_status = ticket(&e.status),
            Self::Started(e) | Self::Closed(e) => ids.ticket_status = ticket(&e.status),
            Self::Resolved(e) => ids.ticket_status = ticket(&e.status),
            Self::Declined(e) => ids.ticket_status = ticket(&e.status),
            Self::Reopened(e) => ids.ticket_status = ticket(&e.status),
            Self::Assigned(_)
            | Self::CallerConfirmed(_)
            | Self::FactsRecorded(_)
            | Self::PersonalDataAnonymised(_) => {}
            Self::NoteAdded(e) => ids.note_id = Some(e.note_id),
            Self::CallbackPromised(e) => ids.callback_id = Some(e.callback_id),
            Self::ReferralRequested(e) => {
                ids.referral_id = Some(e.referral_id);
                ids.partner_id = Some(e.partner_id);
                ids.kind = Some(e.kind.as_str().to_owned());
                ids.ticket_status = ticket(&e.status);
            }
            Self::ReferralMoved(e) => {
                ids.referral_id = Some(e.referral_id);
                ids.referral_status = Some(names(&e.status, ReferralStatus::as_str));
            }
            Self::AlertRetried(e) => {
                ids.alert_id = Some(e.alert_id);
                ids.alert_status = Some(names(&e.status, OutboxStatus::as_str));
            }
            Self::PaymentClaimed(e) => {
                ids.claim_id = Some(e.claim_id);
                ids.claim_status = Some(names(&e.status, ClaimStatus::as_str));
            }
            Self::DeadlineDue(e) => {
                ids.kind = Some(e.kind.as_str().to_owned());
                ids.due_date = Some(e.due_date);
            }
            Self::PaymentPaid(e) | Self::PaymentRejected(e) => {
                ids.claim_id = Some(e.claim_id);
                ids.claim_status = Some(names(&e.status, ClaimStatus::as_str));
            }
        }
        ids
    }

    /// The referral the event is about, if any (deliveries are filed under it).
    pub fn referral_id(&self) -> Option<Uuid> {
        self.ids().referral_id
    }

    /// Takes the event's free-text values out, leaving an empty string (or `None`) in their place, so
    /// the payload left behind holds no text; [`Self::put_free_text`] puts each back. An empty
    /// required text is left as it is (it holds nothing, and reads back the same).
    pub fn take_free_text(&mut self) -> Vec<(FreeTextField, String)> {
        let mut taken = Vec::new();
        for field in FreeTextField::ALL {
            if let Some(slot) = self.free_text_slot(field) {
                match slot {
                    Slot::Required(text) if !text.is_empty() => taken.push((field, std::mem::take(text))),
                    Slot::Optional(text) => {
                        if let Some(text) = text.take() {
                            taken.push((field, text));
                        }
                    }
                    Slot::Required(_) => {}
                }
            }
        }
        taken
    }

    /// Puts a free-text value taken by [`Self::take_free_text`] back; a field the event does not have
    /// is ignored.
    pub fn put_free_text(&mut self, field: FreeTextField, text: String) {
        match self.free_text_slot(field) {
            Some(Slot::Required(slot)) => *slot = text,
            Some(Slot::Optional(slot)) => *slot = Some(text),
            None => {}
        }
    }

    fn free_text_slot(&mut self, field: FreeTextField) -> Option<Slot<'_>> {
        use FreeTextField as F;
        Some(match (self, field) {
            (Self::Triaged(e) | Self::DeclinedByTriage(e), F::PriorityReason) => {
                Slot::Optional(&mut e.priority_reason)
            }
            (Self::Triaged(e) | Self::DeclinedByTriage(e), F::DeclineReason) => {
                Slot::Optional(&mut e.decline_reason)
            }
            (Self::Resolved(e), F::ResolutionSummary) => Slot::Required(&mut e.resolution_summary),
            (Self::Declined(e), F::DeclineReason) => Slot::Required(&mut e.decline_reason),
            (Self::Reopened(e), F::ReopenReason) => Slot::Required(&mut e.reason),
            (Self::Reopened(e), F::ResolutionSummary) => Slot::Optional(&mut e.resolution_summary.before),
            (Self::CallerConfirmed(e), F::ConfirmationNote) => Slot::Required(&mut e.note),
            (Self::ReferralMoved(e), F::ReferralNote) => Slot::Optional(&mut e.note),
            (Self::ReferralMoved(e), F::PoliceReceiptNumber) => Slot::Optional(&mut e.police_receipt_number),
            (Self::PaymentPaid(e) | Self::PaymentRejected(e), F::RejectionReason) => {
                Slot::Optional(&mut e.reason)
            }
            _ => return None,
        })
    }
}

/// Where a free-text value sits in an event.
enum Slot<'a> {
    Required(&'a mut String),
    Optional(&'a mut Option<String>),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).expect("instant").with_timezone(&Utc)
    }

    fn samples() -> Vec<TicketEvent> {
        let id = Uuid::from_u128(7);
        let status = Change::new(TicketStatus::Triaged, TicketStatus::InProgress);
        let triaged = Triaged {
            status: Change::new(TicketStatus::New, TicketStatus::Triaged),
            triage: Change::new(
                None,
                Some(TriageSummary {
                    category: Category::SeriousIncident,
                    incident_kind: IncidentKind::Ransomware,
                    priority: Priority::P1,
                }),
            ),
            suggested_priority: Priority::P1,
            priority_reason: None,
            decline_reason: None,
        };
        let moved = |action| ReferralMoved {
            action,
            referral_id: id,
            status: Change::new(ReferralStatus::Requested, ReferralStatus::Accepted),
            note: None,
            police_receipt_number: Some("R-1".to_owned()),
        };
        vec![
            TicketEvent::Opened(Opened {
                reference: "HL-2026-000001".to_owned(),
                status: Change::new(None, Some(TicketStatus::New)),
                call_id: id,
                verification: VerificationOutcome::Verified,
                possible_repeat_of: vec![],
            }),
            TicketEvent::CallLogged(CallLogged {
                call_id: id,
                started_at: at("2026-11-20T01:00:00Z"),
                verification: VerificationOutcome::Mismatch,
                completed_callback: None,
                version: Change::new(3, 4),
            }),
            TicketEvent::Triaged(triaged.clone()),
            TicketEvent::DeclinedByTriage(triaged),
            TicketEvent::Started(StatusChanged { status }),
            TicketEvent::Closed(StatusChanged { status }),
            TicketEvent::Declined(Declined {
                status,
                decline_reason: "x".to_owned(),
                security_portal_url: Some("https://portal.example.jp/".to_owned()),
            }),
            TicketEvent::Assigned(Assigned { assignee: Change::new(None, Some(id)) }),
            TicketEvent::NoteAdded(NoteAdded { note_id: id }),
            TicketEvent::ReferralMoved(moved(ReferralAction::Accept)),
            TicketEvent::ReferralMoved(moved(ReferralAction::Cancel)),
            TicketEvent::AlertRetried(AlertRetried {
                alert_id: id,
                status: Change::new(OutboxStatus::Failed, OutboxStatus::Pending),
            }),
            TicketEvent::PersonalDataAnonymised(PersonalDataAnonymised {
                class: DataClass::CallerContact,
                basis: AnonymisationBasis::Retention,
                retention_days: Some(365),
                calls: 2,
                referrals: 0,
                notes: 0,
                callbacks: 0,
                event_texts: 0,
            }),
        ]
    }

    /// One event per free-text field, every text filled (each distinct, so a leak is visible).
    fn with_texts() -> Vec<TicketEvent> {
        let id = Uuid::from_u128(9);
        let text = |name: &str| Some(format!("text of {name} 090-1234-5678"));
        let triaged = Triaged {
            status: Change::new(TicketStatus::New, TicketStatus::Triaged),
            triage: Change::new(None, None),
            suggested_priority: Priority::P2,
            priority_reason: text("priority"),
            decline_reason: text("triage decline"),
        };
        let decided = PaymentDecided {
            claim_id: id,
            payment: PaymentKind::CyberAttack,
            amount_yen: 100,
            status: Change::new(ClaimStatus::Claimed, ClaimStatus::Rejected),
            reason: text("rejection"),
        };
        vec![
            TicketEvent::Triaged(triaged.clone()),
            TicketEvent::DeclinedByTriage(triaged),
            TicketEvent::Resolved(Resolved {
                status: Change::new(TicketStatus::InProgress, TicketStatus::Resolved),
                resolution_summary: "restored from backup; called 090-1234-5678".to_owned(),
            }),
            TicketEvent::Declined(Declined {
                status: Change::new(TicketStatus::New, TicketStatus::Declined),
                decline_reason: "not a member".to_owned(),
                security_portal_url: Some("https://portal.example.jp/".to_owned()),
            }),
            TicketEvent::Reopened(Reopened {
                status: Change::new(TicketStatus::Resolved, TicketStatus::InProgress),
                reason: "caller rang again".to_owned(),
                resolution_summary: Change::new(text("old resolution"), None),
            }),
            TicketEvent::CallerConfirmed(CallerConfirmed {
                caller_confirmed: Change::new(false, true),
                note: "called back on 03-1111-2222".to_owned(),
            }),
            TicketEvent::ReferralMoved(ReferralMoved {
                action: ReferralAction::Accept,
                referral_id: id,
                status: Change::new(ReferralStatus::Requested, ReferralStatus::Accepted),
                note: text("referral"),
                police_receipt_number: text("receipt"),
            }),
            TicketEvent::PaymentPaid(decided.clone()),
            TicketEvent::PaymentRejected(decided),
        ]
    }

    #[test]
    fn every_free_text_field_is_taken_out_and_put_back() {
        let mut covered = std::collections::HashSet::new();
        for event in with_texts().into_iter().chain(samples()) {
            let mut stripped = event.clone();
            let taken = stripped.take_free_text();
            let payload = stripped.payload();
            for (field, text) in &taken {
                assert!(!text.is_empty(), "{}", field.as_str());
                assert!(!payload.contains(&format!("{text:?}")), "{payload} holds {text}");
                covered.insert(*field);
            }
            assert!(!payload.contains("090") && !payload.contains("03-1111"), "{payload}");
            // What is stored reads back, and with its texts back it is the event as it was.
            let mut read = TicketEvent::from_stored(event.action().as_str(), &payload).expect("reads back");
            assert!(read.clone().take_free_text().is_empty(), "nothing left to take");
            for (field, text) in taken {
                read.put_free_text(field, text);
            }
            assert_eq!(read, event, "{}", event.action().as_str());
        }
        for field in FreeTextField::ALL {
            assert!(covered.contains(&field), "{} never taken", field.as_str());
            assert_eq!(FreeTextField::parse(field.as_str()), Some(field));
        }
        assert_eq!(FreeTextField::parse("summary"), None);
    }

    #[test]
    fn the_texts_taken_are_every_text_the_event_holds() {
        let mut event = with_texts().remove(0);
        let taken = event.take_free_text();
        assert_eq!(
            taken.iter().map(|(field, _)| *field).collect::<Vec<_>>(),
            vec![FreeTextField::PriorityReason, FreeTextField::DeclineReason]
        );
        // A field the event does not have is ignored.
        event.put_free_text(FreeTextField::ConfirmationNote, "x".to_owned());
        assert!(event.take_free_text().is_empty());
    }

    #[test]
    fn every_event_reads_back_as_it_was_written() {
        for event in samples() {
            let action = event.action();
            let read = TicketEvent::from_stored(action.as_str(), &event.payload()).expect("reads back");
            assert_eq!(read, event, "{}", action.as_str());
        }
    }

    #[test]
    fn the_payload_is_the_variant_alone_and_keeps_the_stored_shape() {
        let event = TicketEvent::Assigned(Assigned { assignee: Change::new(None, Some(Uuid::from_u128(1))) });
        assert_eq!(
            event.payload(),
            r#"{"assignee":{"before":null,"after":"00000000-0000-0000-0000-000000000001"}}"#
        );
    }

    #[test]
    fn a_referral_answer_is_stored_under_its_own_action_and_its_webhook_names_the_referral_status() {
        let event = samples().remove(9);
        assert_eq!(event.action(), EventAction::ReferralAccepted);
        let ids = event.ids();
        assert_eq!(ids.referral_status, Some(Change::new(Some("requested".into()), Some("accepted".into()))));
        assert!(ids.ticket_status.is_none());
        // Receipt numbers and notes never reach a webhook.
        let shared = serde_json::to_string(&ids).expect("json");
        assert!(!shared.contains("R-1"), "{shared}");
    }

    #[test]
    fn an_anonymisation_names_its_class_and_basis_and_nothing_a_webhook_could_repeat() {
        let event = samples().pop().expect("the last sample");
        assert_eq!(event.action(), EventAction::PersonalDataAnonymised);
        assert_eq!(
            event.payload(),
            r#"{"class":"caller_contact","basis":"retention","retention_days":365,"calls":2,"referrals":0,"notes":0,"callbacks":0,"event_texts":0}"#
        );
        assert_eq!(event.ids(), EventIds::default());
    }

    #[test]
    fn a_stored_payload_that_does_not_fit_its_action_is_an_error_not_a_default() {
        assert!(TicketEvent::from_stored("ticket.started", r#"{"note_id":"x"}"#).is_err());
        assert!(TicketEvent::from_stored("ticket.exploded", "{}").is_err());
    }
}
