//! A ticket and what hangs on it: triage, SLA clocks, referrals, callbacks, notes, the audit trail; the
//! queue's summary rows; and the change responses, which are the ticket plus what the change created.

use chrono::{DateTime, FixedOffset};
use hotline_domain::audit::TicketEvent;
use hotline_domain::clocks::{ReferralTimes, TicketTimes, is_overdue, referral_deadline, ticket_deadlines};
use hotline_domain::referral::{ReferralAction, ReferralKind, ReferralStatus, referral_actions};
use hotline_domain::support_payment::MemberStanding;
use hotline_domain::ticket::TicketStatus;
use hotline_domain::triage::{Category, IncidentKind, Priority};
use hotline_domain::verification::VerificationOutcome;
use hotline_domain::workflow::{TicketAction, allowed_actions};
use hotline_storage::queries::audit::EventRecord;
use hotline_storage::queries::records::{CallbackRecord, NoteRecord, ReferralRecord, TriageRecord};
use hotline_storage::queries::support_payments::CaseRecord;
use hotline_storage::queries::ticket_list::TicketPage;
use hotline_storage::queries::ticket_view::FullTicket;
use hotline_storage::queries::tickets::TicketHeader;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::alert::AlertView;
use super::call::{CallView, RelatedTicketView};
use super::context::{DeadlineView, PartnerRef, PrefectureCodeView, ViewContext};
use super::incident::{IncidentFactsView, RegulatoryDeadlineView, TicketSupportPaymentView};
use super::partner::PoliceDeskView;

fn times(ticket: &TicketHeader) -> TicketTimes {
    TicketTimes {
        status: ticket.status,
        priority: ticket.priority,
        first_call_at: ticket.first_call_at,
        first_response_at: ticket.first_response_at,
        resolved_at: ticket.resolved_at,
    }
}

fn referral_times(referral: &ReferralRecord) -> ReferralTimes {
    ReferralTimes {
        status: referral.status,
        requested_at: referral.requested_at,
        accepted_at: referral.accepted_at,
        ended_at: referral.ended_at,
    }
}

/// An action the reader's role may take on the ticket now, and the status it leads to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AllowedTransition {
    /// The action (the last path segment of its route).
    pub action: TicketAction,
    /// The status it leads to.
    pub to: TicketStatus,
}

/// The SLA clocks of a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SlaView {
    /// From the first call to the first action on the ticket.
    pub first_response: DeadlineView,
    /// From the first call to the resolution; `null` until the ticket has a priority.
    pub resolution: Option<DeadlineView>,
    /// Any clock of the ticket or of its open referrals is late.
    pub overdue: bool,
}

impl SlaView {
    fn new(ticket: &TicketHeader, referrals: &[ReferralRecord], ctx: &ViewContext<'_>) -> Self {
        let deadlines = ticket_deadlines(ctx.sla, &times(ticket), ctx.now);
        let clocks: Vec<ReferralTimes> = referrals.iter().map(referral_times).collect();
        Self {
            first_response: DeadlineView::new(&deadlines.first_response, ctx),
            resolution: deadlines.resolution.map(|d| DeadlineView::new(&d, ctx)),
            overdue: is_overdue(ctx.sla, &times(ticket), &clocks, ctx.now),
        }
    }
}

/// How the caller of the first call was verified, and a supervisor's confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CallerView {
    /// Outcome of the first call's verification.
    pub verification: Option<VerificationOutcome>,
    /// When a supervisor confirmed an unverified caller.
    pub confirmed_at: Option<DateTime<FixedOffset>>,
    /// Who confirmed.
    pub confirmed_by: Option<Uuid>,
}

/// The facts triage is based on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FactsView {
    /// When the institution noticed.
    pub detected_at: Option<DateTime<FixedOffset>>,
    /// When it happened, if known.
    pub occurred_at: Option<DateTime<FixedOffset>>,
    /// Systems affected, as the caller named them.
    pub systems_affected: Vec<String>,
    /// The electronic medical record cannot be used.
    pub emr_unusable: bool,
    /// Care suspended, including refusing new patients.
    pub care_suspended: bool,
    /// Personal data may have leaked.
    pub personal_data_leaked: bool,
    /// Estimated number of people affected.
    pub people_affected: Option<u64>,
    /// An insider is suspected.
    pub insider_suspected: bool,
}

/// The current triage of a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TriageView {
    /// Category.
    pub category: Category,
    /// Kind of incident.
    pub incident_kind: IncidentKind,
    /// The facts.
    pub facts: FactsView,
    /// The priority the hotline suggested.
    pub suggested_priority: Priority,
    /// The priority set.
    pub priority: Priority,
    /// Why the suggestion was overridden.
    pub priority_reason: Option<String>,
    /// Why an out-of-scope call was declined.
    pub decline_reason: Option<String>,
    /// When.
    pub triaged_at: DateTime<FixedOffset>,
    /// Who.
    pub triaged_by: Uuid,
}

impl TriageView {
    fn new(record: &TriageRecord, ctx: &ViewContext<'_>) -> Self {
        let triage = &record.triage;
        let facts = &triage.facts;
        Self {
            category: triage.category,
            incident_kind: triage.incident_kind,
            facts: FactsView {
                detected_at: ctx.at_opt(facts.detected_at),
                occurred_at: ctx.at_opt(facts.occurred_at),
                systems_affected: facts.systems_affected.clone(),
                emr_unusable: facts.emr_unusable,
                care_suspended: facts.care_suspended,
                personal_data_leaked: facts.personal_data_leaked,
                people_affected: facts.people_affected,
                insider_suspected: facts.insider_suspected,
            },
            suggested_priority: triage.suggested_priority,
            priority: triage.priority,
            priority_reason: triage.priority_reason.clone(),
            decline_reason: triage.decline_reason.clone(),
            triaged_at: ctx.at(record.triaged_at),
            triaged_by: record.triaged_by,
        }
    }
}

/// Who consented to a referral, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConsentView {
    /// `member` or `delegate`.
    pub given_by: String,
    /// The person's name.
    pub name: String,
    /// When.
    pub given_at: DateTime<FixedOffset>,
}

/// A referral to a forensic vendor, a law firm or a police desk, with its acceptance clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReferralView {
    /// Id.
    pub id: Uuid,
    /// The ticket.
    pub ticket_id: Uuid,
    /// Kind.
    pub kind: ReferralKind,
    /// Status.
    pub status: ReferralStatus,
    /// The partner.
    pub partner: PartnerRef,
    /// The member's consent.
    pub consent: ConsentView,
    /// Note sent with the request.
    pub request_note: Option<String>,
    /// When requested.
    pub requested_at: DateTime<FixedOffset>,
    /// Who requested.
    pub requested_by: Uuid,
    /// When accepted.
    pub accepted_at: Option<DateTime<FixedOffset>>,
    /// When completed.
    pub completed_at: Option<DateTime<FixedOffset>>,
    /// When declined or cancelled.
    pub ended_at: Option<DateTime<FixedOffset>>,
    /// Note of the last status change.
    pub last_note: Option<String>,
    /// 受理番号 the police gave.
    pub police_receipt_number: Option<String>,
    /// Police contact person.
    pub police_contact: Option<String>,
    /// From the request to the partner's acceptance.
    pub acceptance: DeadlineView,
    /// Actions possible now (`POST /v1/referrals/{id}/{action}`).
    pub allowed_actions: Vec<ReferralAction>,
    /// Last change.
    pub updated_at: DateTime<FixedOffset>,
}

impl ReferralView {
    /// Shows a referral of a ticket of `priority`.
    pub fn new(referral: &ReferralRecord, priority: Option<Priority>, ctx: &ViewContext<'_>) -> Self {
        let deadline = referral_deadline(ctx.sla, priority, &referral_times(referral), ctx.now);
        Self {
            id: referral.id,
            ticket_id: referral.ticket_id,
            kind: referral.kind,
            status: referral.status,
            partner: PartnerRef { id: referral.partner_id, name: referral.partner_name.clone() },
            consent: ConsentView {
                given_by: referral.consent_given_by.clone(),
                name: referral.consent_name.clone(),
                given_at: ctx.at(referral.consent_given_at),
            },
            request_note: referral.request_note.clone(),
            requested_at: ctx.at(referral.requested_at),
            requested_by: referral.requested_by,
            accepted_at: ctx.at_opt(referral.accepted_at),
            completed_at: ctx.at_opt(referral.completed_at),
            ended_at: ctx.at_opt(referral.ended_at),
            last_note: referral.last_note.clone(),
            police_receipt_number: referral.police_receipt_number.clone(),
            police_contact: referral.police_contact.clone(),
            acceptance: DeadlineView::new(&deadline, ctx),
            allowed_actions: referral_actions(referral.status),
            updated_at: ctx.at(referral.updated_at),
        }
    }
}

/// A referral as part of its ticket, with the alerts sent to the partner about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TicketReferralView {
    /// The referral.
    #[serde(flatten)]
    pub referral: ReferralView,
    /// Alerts about this referral, oldest first.
    pub alerts: Vec<AlertView>,
}

/// An open referral standing in the way of a change, with the actions that would close it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OpenReferralView {
    /// Id.
    pub id: Uuid,
    /// Kind.
    pub kind: ReferralKind,
    /// The partner.
    pub partner: PartnerRef,
    /// Status (`requested` or `accepted`).
    pub status: ReferralStatus,
    /// What would close it: `POST /v1/referrals/{id}/{action}`.
    pub allowed_actions: Vec<ReferralAction>,
}

impl OpenReferralView {
    /// The open referral as a problem lists it.
    pub fn new(referral: &ReferralRecord) -> Self {
        Self {
            id: referral.id,
            kind: referral.kind,
            partner: PartnerRef { id: referral.partner_id, name: referral.partner_name.clone() },
            status: referral.status,
            allowed_actions: referral_actions(referral.status),
        }
    }
}

/// A promise to call the caller back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CallbackView {
    /// Id.
    pub id: Uuid,
    /// The ticket.
    pub ticket_id: Uuid,
    /// Its reference.
    pub ticket_reference: String,
    /// The time promised to the caller.
    pub promised_at: DateTime<FixedOffset>,
    /// When it is due: the promised time moved into the service window.
    pub due_at: DateTime<FixedOffset>,
    /// The promised time was outside the window.
    pub moved: bool,
    /// Why it moved (only in the response that promised it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_reason: Option<String>,
    /// Note for whoever calls back.
    pub note: Option<String>,
    /// When promised.
    pub created_at: DateTime<FixedOffset>,
    /// Who promised.
    pub created_by: Uuid,
    /// When a follow-up call completed it.
    pub completed_at: Option<DateTime<FixedOffset>>,
    /// That call.
    pub completed_by_call_id: Option<Uuid>,
    /// Still open after its due time.
    pub overdue: bool,
}

impl CallbackView {
    /// Shows a callback.
    pub fn new(callback: &CallbackRecord, ctx: &ViewContext<'_>) -> Self {
        Self {
            id: callback.id,
            ticket_id: callback.ticket_id,
            ticket_reference: callback.ticket_reference.clone(),
            promised_at: ctx.at(callback.promised_at),
            due_at: ctx.at(callback.due_at),
            moved: callback.due_at != callback.promised_at,
            moved_reason: None,
            note: callback.note.clone(),
            created_at: ctx.at(callback.created_at),
            created_by: callback.created_by,
            completed_at: ctx.at_opt(callback.completed_at),
            completed_by_call_id: callback.completed_by_call_id,
            overdue: callback.completed_at.is_none() && callback.due_at < ctx.now,
        }
    }
}

/// A note on a ticket; notes are append-only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NoteView {
    /// Id.
    pub id: Uuid,
    /// Text.
    pub body: String,
    /// When.
    pub created_at: DateTime<FixedOffset>,
    /// Who.
    pub created_by: Uuid,
}

impl NoteView {
    fn new(note: &NoteRecord, ctx: &ViewContext<'_>) -> Self {
        Self {
            id: note.id,
            body: note.body.clone(),
            created_at: ctx.at(note.created_at),
            created_by: note.created_by,
        }
    }
}

/// A ticket with everything on it. `allowed_transitions` depends on the reader's role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TicketView {
    /// Id.
    pub id: Uuid,
    /// Reference read out on the phone, e.g. `HL-2026-000123`.
    pub reference: String,
    /// Status.
    pub status: TicketStatus,
    /// Version, also the `ETag`; send it back in `If-Match`.
    pub version: i64,
    /// Priority, once triaged.
    pub priority: Option<Priority>,
    /// Prefecture of the institution (JIS X 0401 code).
    pub prefecture: PrefectureCodeView,
    /// The member the caller's identifier found.
    pub member_id: Option<Uuid>,
    /// The member's institution that best matched.
    pub institution_id: Option<Uuid>,
    /// Summary of the first call.
    pub summary: String,
    /// The token working the ticket.
    pub assignee: Option<Uuid>,
    /// Verification of the caller.
    pub caller: CallerView,
    /// Current triage.
    pub triage: Option<TriageView>,
    /// Resolution summary, or the decline reason.
    pub resolution_summary: Option<String>,
    /// Start of the first call.
    pub first_call_at: DateTime<FixedOffset>,
    /// First action after the call.
    pub first_response_at: Option<DateTime<FixedOffset>>,
    /// When resolved.
    pub resolved_at: Option<DateTime<FixedOffset>>,
    /// When closed.
    pub closed_at: Option<DateTime<FixedOffset>>,
    /// When created.
    pub created_at: DateTime<FixedOffset>,
    /// Last change.
    pub updated_at: DateTime<FixedOffset>,
    /// Who logged the first call.
    pub created_by: Uuid,
    /// What the reader's role may do now.
    pub allowed_transitions: Vec<AllowedTransition>,
    /// SLA clocks.
    pub sla: SlaView,
    /// Referrals, oldest first.
    pub referrals: Vec<TicketReferralView>,
    /// Callbacks, by due time.
    pub callbacks: Vec<CallbackView>,
    /// Notes, oldest first.
    pub notes: Vec<NoteView>,
    /// Earlier tickets of the same caller.
    pub possible_repeat_of: Vec<RelatedTicketView>,
    /// Calls, oldest first.
    pub calls: Vec<CallView>,
    /// Alerts sent or waiting for this ticket, oldest first.
    pub alerts: Vec<AlertView>,
    /// The incident facts that decide the support payment and the deadlines; `null` until recorded
    /// (`POST /v1/tickets/{id}/facts`).
    pub incident_facts: Option<IncidentFactsView>,
    /// Reports due to the PPC (preliminary, final) and the MHLW, in that order, computed from the facts;
    /// empty while nothing is reportable.
    pub regulatory_deadlines: Vec<RegulatoryDeadlineView>,
    /// Where the support payment (一時支援金) stands; `null` while no facts and no claim are recorded.
    pub support_payment: Option<TicketSupportPaymentView>,
}

impl TicketView {
    /// Shows a ticket, with its recorded facts and claim, to a reader of `ctx.role`.
    pub fn new(full: &FullTicket, case: &CaseRecord, ctx: &ViewContext<'_>) -> Self {
        let ticket = &full.detail.header;
        let first_verification = full.detail.calls.first().map(|call| call.verification.outcome);
        let facts = case.facts.as_ref().map(|record| &record.facts);
        Self {
            id: ticket.id,
            reference: ticket.reference.clone(),
            status: ticket.status,
            version: ticket.version,
            priority: ticket.priority,
            prefecture: ticket.prefecture.code(),
            member_id: ticket.member_id,
            institution_id: ticket.institution_id,
            summary: ticket.summary.clone(),
            assignee: ticket.assignee,
            caller: CallerView {
                verification: first_verification,
                confirmed_at: ctx.at_opt(ticket.caller_confirmed_at),
                confirmed_by: ticket.caller_confirmed_by,
            },
            triage: full.triage.as_ref().map(|record| TriageView::new(record, ctx)),
            resolution_summary: ticket.resolution_summary.clone(),
            first_call_at: ctx.at(ticket.first_call_at),
            first_response_at: ctx.at_opt(ticket.first_response_at),
            resolved_at: ctx.at_opt(ticket.resolved_at),
            closed_at: ctx.at_opt(ticket.closed_at),
            created_at: ctx.at(ticket.created_at),
            updated_at: ctx.at(ticket.updated_at),
            created_by: ticket.created_by,
            allowed_transitions: allowed_actions(ticket.status, ctx.role)
                .into_iter()
                .map(|(action, to)| AllowedTransition { action, to })
                .collect(),
            sla: SlaView::new(ticket, &full.referrals, ctx),
            referrals: full
                .referrals
                .iter()
                .map(|referral| TicketReferralView {
                    referral: ReferralView::new(referral, ticket.priority, ctx),
                    alerts: full
                        .alerts
                        .iter()
                        .filter(|alert| alert.referral_id == Some(referral.id))
                        .map(|alert| AlertView::new(alert, ctx))
                        .collect(),
                })
                .collect(),
            callbacks: full.callbacks.iter().map(|c| CallbackView::new(c, ctx)).collect(),
            notes: full.notes.iter().map(|n| NoteView::new(n, ctx)).collect(),
            possible_repeat_of: RelatedTicketView::list(&full.detail.possible_repeat_of, ctx),
            calls: full.detail.calls.iter().map(|call| CallView::new(call, ctx)).collect(),
            alerts: full.alerts.iter().map(|alert| AlertView::new(alert, ctx)).collect(),
            incident_facts: case.facts.as_ref().map(|record| IncidentFactsView::new(record, ctx)),
            regulatory_deadlines: facts
                .map(|facts| RegulatoryDeadlineView::of_facts(facts, ticket.first_call_at, ctx))
                .unwrap_or_default(),
            support_payment: TicketSupportPaymentView::of_case(
                facts,
                case.claim.as_ref(),
                MemberStanding::from_verification(first_verification, ticket.caller_confirmed_at.is_some()),
                ctx,
            ),
        }
    }
}

/// The answer to `POST /v1/tickets/{id}/notes`: the ticket and the new note's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WithNote {
    /// The ticket after the change.
    #[serde(flatten)]
    pub ticket: TicketView,
    /// The note added.
    pub note_id: Uuid,
}

/// The answer to `POST /v1/tickets/{id}/callbacks`: the ticket and the callback promised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WithCallback {
    /// The ticket after the change.
    #[serde(flatten)]
    pub ticket: TicketView,
    /// The callback promised.
    pub callback: CallbackView,
}

/// The answer to a referral request or action: the ticket and the referral; for a police handoff, what
/// to tell the caller about the desk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WithReferral {
    /// The ticket after the change.
    #[serde(flatten)]
    pub ticket: TicketView,
    /// The referral requested or changed.
    pub referral: ReferralView,
    /// Police handoffs only: the desk, whether it is open now and what to do if not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub police_desk: Option<PoliceDeskView>,
}

/// A ticket in a queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TicketSummaryView {
    /// Id.
    pub id: Uuid,
    /// Reference.
    pub reference: String,
    /// Status.
    pub status: TicketStatus,
    /// Priority, once triaged.
    pub priority: Option<Priority>,
    /// Prefecture code.
    pub prefecture: PrefectureCodeView,
    /// The token working it.
    pub assignee: Option<Uuid>,
    /// Start of the first call.
    pub first_call_at: DateTime<FixedOffset>,
    /// When it was opened.
    pub created_at: DateTime<FixedOffset>,
    /// Its last change.
    pub updated_at: DateTime<FixedOffset>,
    /// Version (`ETag`).
    pub version: i64,
    /// Referrals still open.
    pub open_referrals: usize,
    /// SLA clocks.
    pub sla: SlaView,
}

impl TicketSummaryView {
    /// Shows a queue row.
    pub fn new(ticket: &TicketHeader, referrals: &[ReferralRecord], ctx: &ViewContext<'_>) -> Self {
        Self {
            id: ticket.id,
            reference: ticket.reference.clone(),
            status: ticket.status,
            priority: ticket.priority,
            prefecture: ticket.prefecture.code(),
            assignee: ticket.assignee,
            first_call_at: ctx.at(ticket.first_call_at),
            created_at: ctx.at(ticket.created_at),
            updated_at: ctx.at(ticket.updated_at),
            version: ticket.version,
            open_referrals: referrals.iter().filter(|r| r.status.is_open()).count(),
            sla: SlaView::new(ticket, referrals, ctx),
        }
    }
}

/// A page of the ticket list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TicketList {
    /// In the requested order (default: oldest created first).
    pub tickets: Vec<TicketSummaryView>,
    /// Send as `cursor` (with the same filters and `sort`) for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// Every ticket matching the filters; `null` unless asked for with `total=true`.
    pub total: Option<i64>,
}

impl TicketList {
    /// Shows a page.
    pub fn new(page: &TicketPage, ctx: &ViewContext<'_>) -> Self {
        Self {
            tickets: page
                .rows
                .iter()
                .map(|(ticket, referrals)| TicketSummaryView::new(ticket, referrals, ctx))
                .collect(),
            next_cursor: page.next_cursor.as_ref().map(|cursor| cursor.encode()),
            total: page.total,
        }
    }
}

/// The callback queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CallbackList {
    /// Earliest due first.
    pub callbacks: Vec<CallbackView>,
}

/// Who did something on a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventActorView {
    /// The token.
    pub token_id: Uuid,
    /// Its name.
    pub name: String,
}

/// One entry of a ticket's audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "StoredEventView")]
pub struct EventView {
    /// Id (also the `event_id` of its webhooks).
    pub id: Uuid,
    /// When.
    pub occurred_at: DateTime<FixedOffset>,
    /// Who.
    pub actor: EventActorView,
    /// What, e.g. `ticket.triaged`.
    pub action: String,
    /// What changed: the values before and after, and the ids of what the change touched; its shape
    /// is the action's.
    pub changes: TicketEvent,
}

/// An event as it travels, before `action` says how to read `changes`.
#[derive(Deserialize)]
struct StoredEventView {
    id: Uuid,
    occurred_at: DateTime<FixedOffset>,
    actor: EventActorView,
    action: String,
    changes: serde_json::Value,
}

impl TryFrom<StoredEventView> for EventView {
    type Error = hotline_domain::audit::StoredEventError;

    fn try_from(raw: StoredEventView) -> Result<Self, Self::Error> {
        let changes = TicketEvent::from_stored(&raw.action, &raw.changes.to_string())?;
        Ok(Self { id: raw.id, occurred_at: raw.occurred_at, actor: raw.actor, action: raw.action, changes })
    }
}

impl EventView {
    /// Shows an audit event.
    pub fn new(event: &EventRecord, ctx: &ViewContext<'_>) -> Self {
        Self {
            id: event.id,
            occurred_at: ctx.at(event.occurred_at),
            actor: EventActorView { token_id: event.actor_token_id, name: event.actor_name.clone() },
            action: event.event.action().as_str().to_owned(),
            changes: event.event.clone(),
        }
    }
}

/// A ticket's audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventList {
    /// Oldest first.
    pub events: Vec<EventView>,
}
