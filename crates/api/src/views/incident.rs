//! The case side of a ticket (issue 9): the incident facts recorded on it, the regulatory deadlines they
//! start (PPC and MHLW reports), and the support payment (一時支援金) — its assessment and its claim. The
//! assessment and the ticket's deadlines are computed by the domain on every read from the recorded facts;
//! the facts, the claim and (for the cross-ticket list) the deadlines are stored.

use chrono::{DateTime, FixedOffset, NaiveDate};
use hotline_domain::incident_facts::{CaseFacts, Cause, JST, PersonalDataLeak};
use hotline_domain::regulatory::{ClockStart, Deadline, DeadlineKind, DeadlineStatus, deadlines};
use hotline_domain::support_payment::claim::{allowed_claim_actions, claim_summary, current_status};
use hotline_domain::support_payment::{
    Assessment, ClaimAction, ClaimStatus, ExistingClaim, MemberStanding, PaymentKind, Reason, assess,
};
use hotline_storage::queries::deadlines::DeadlineRecord;
use hotline_storage::queries::incident_facts::FactsRecord;
use hotline_storage::queries::support_payments::{ClaimRecord, PaymentView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::context::ViewContext;

/// The incident facts recorded on a ticket. A fact never recorded is `null` ("not known yet", never "no").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IncidentFactsView {
    /// What caused the incident: decides the payment, the 60-day PPC period and the MHLW report.
    pub cause: Option<Cause>,
    /// Whether personal data leaked or may have: starts the PPC deadlines.
    pub personal_data_leak: Option<PersonalDataLeak>,
    /// The attack stopped systems (EMR, ordering…): the MHLW is to be told.
    pub systems_stopped: Option<bool>,
    /// When the incident happened.
    pub occurred_at: Option<DateTime<FixedOffset>>,
    /// Its date in Japan, which selects the support-payment rule set.
    pub incident_date: Option<NaiveDate>,
    /// When the institution became aware; starts the deadlines.
    pub aware_at: Option<DateTime<FixedOffset>>,
    /// Whole days closed (stopping all new-patient consultations counts).
    pub days_closed: Option<u16>,
    /// When the MHLW was notified.
    pub mhlw_notified_at: Option<DateTime<FixedOffset>>,
    /// When the preliminary report (速報) went to the PPC.
    pub ppc_preliminary_report_at: Option<DateTime<FixedOffset>>,
    /// When the final report (確報, with the recurrence-prevention measures) went to the PPC.
    pub ppc_final_report_at: Option<DateTime<FixedOffset>>,
    /// When the people whose data leaked were notified.
    pub victims_notified_at: Option<DateTime<FixedOffset>>,
    /// The case was found to be an insider's doing (内部犯罪): excluded from the payments.
    pub insider_finding: Option<bool>,
    /// Last change.
    pub updated_at: DateTime<FixedOffset>,
    /// Who made it.
    pub updated_by: Uuid,
}

impl IncidentFactsView {
    /// Shows recorded facts.
    pub fn new(record: &FactsRecord, ctx: &ViewContext<'_>) -> Self {
        let facts = &record.facts;
        Self {
            cause: facts.cause,
            personal_data_leak: facts.personal_data_leak,
            systems_stopped: facts.systems_stopped,
            occurred_at: ctx.at_opt(facts.occurred_at),
            incident_date: facts.incident_date(),
            aware_at: ctx.at_opt(facts.aware_at),
            days_closed: facts.days_closed,
            mhlw_notified_at: ctx.at_opt(facts.mhlw_notified_at),
            ppc_preliminary_report_at: ctx.at_opt(facts.ppc_preliminary_report_at),
            ppc_final_report_at: ctx.at_opt(facts.ppc_final_report_at),
            victims_notified_at: ctx.at_opt(facts.victims_notified_at),
            insider_finding: facts.insider_finding,
            updated_at: ctx.at(record.updated_at),
            updated_by: record.updated_by,
        }
    }
}

fn done_late(done_at: Option<chrono::DateTime<chrono::Utc>>, due_date: NaiveDate) -> bool {
    done_at.is_some_and(|at| at.with_timezone(&JST).date_naive() > due_date)
}

/// A report due to the PPC or the MHLW, as the ticket shows it. The hotline reminds and records; it does
/// not file reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RegulatoryDeadlineView {
    /// Which report.
    pub kind: DeadlineKind,
    /// `due`, `done` or `overdue` now (overdue from 00:00 JST after the due date).
    pub status: DeadlineStatus,
    /// What the clock starts from: `aware_at`, or the first call while that is not recorded.
    pub clock_start: ClockStart,
    /// The instant it starts from.
    pub starts_at: DateTime<FixedOffset>,
    /// Days after the start date (in Japan), the first day not counted.
    pub period_days: u32,
    /// The last day, in Japan (JST).
    pub due_date: NaiveDate,
    /// The end of the last day: 23:59:59 JST of `due_date`.
    pub due_at: DateTime<FixedOffset>,
    /// When the report was recorded as made.
    pub done_at: Option<DateTime<FixedOffset>>,
    /// Made after the due date.
    pub done_late: bool,
    /// Why it applies and how it is counted, in Japanese and English.
    pub reason: Reason,
}

impl RegulatoryDeadlineView {
    /// Shows a deadline computed from the facts.
    pub fn new(deadline: &Deadline, ctx: &ViewContext<'_>) -> Self {
        Self {
            kind: deadline.kind,
            status: deadline.status(ctx.now),
            clock_start: deadline.clock_start,
            starts_at: ctx.at(deadline.starts_at),
            period_days: deadline.period_days,
            due_date: deadline.due_date,
            due_at: ctx.at(deadline.due_at),
            done_at: ctx.at_opt(deadline.done_at),
            done_late: deadline.done_late(),
            reason: deadline.reason.clone(),
        }
    }

    /// The deadlines of a ticket with these facts (none while nothing is reportable), with the
    /// configured periods: the same computation that stores them for [`DeadlineList`].
    pub fn of_facts(
        facts: &CaseFacts,
        first_call_at: chrono::DateTime<chrono::Utc>,
        ctx: &ViewContext<'_>,
    ) -> Vec<Self> {
        deadlines(facts, first_call_at, ctx.deadline_policy).iter().map(|d| Self::new(d, ctx)).collect()
    }
}

/// A deadline in the cross-ticket list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeadlineEntryView {
    /// The ticket.
    pub ticket_id: Uuid,
    /// Its reference.
    pub ticket_reference: String,
    /// Which report.
    pub kind: DeadlineKind,
    /// `due`, `done` or `overdue` now.
    pub status: DeadlineStatus,
    /// What the clock starts from.
    pub clock_start: ClockStart,
    /// The instant it starts from.
    pub starts_at: DateTime<FixedOffset>,
    /// Days after the start date (in Japan).
    pub period_days: u32,
    /// The last day, in Japan (JST).
    pub due_date: NaiveDate,
    /// 23:59:59 JST of `due_date`.
    pub due_at: DateTime<FixedOffset>,
    /// When the report was recorded as made.
    pub done_at: Option<DateTime<FixedOffset>>,
    /// Made after the due date.
    pub done_late: bool,
    /// When its falling due was announced (`deadline.due` event and webhook); `null` until then.
    pub announced_at: Option<DateTime<FixedOffset>>,
}

impl DeadlineEntryView {
    /// Shows a stored deadline.
    pub fn new(record: &DeadlineRecord, ctx: &ViewContext<'_>) -> Self {
        Self {
            ticket_id: record.ticket_id,
            ticket_reference: record.ticket_reference.clone(),
            kind: record.kind,
            status: record.status,
            clock_start: record.clock_start,
            starts_at: ctx.at(record.starts_at),
            period_days: record.period_days,
            due_date: record.due_date,
            due_at: ctx.at(record.due_at),
            done_at: ctx.at_opt(record.done_at),
            done_late: done_late(record.done_at, record.due_date),
            announced_at: ctx.at_opt(record.announced_at),
        }
    }
}

/// Deadlines across tickets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeadlineList {
    /// Earliest due first.
    pub deadlines: Vec<DeadlineEntryView>,
}

/// Which rule set judged the incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RuleSetView {
    /// Its first incident date (JST); its identity.
    pub effective_from: NaiveDate,
    /// Its name.
    pub title: Reason,
    /// The incident date is not recorded: the rule set in force today stands in.
    pub provisional: bool,
}

/// Part of the amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AmountLineView {
    /// `base` or `closure_supplement`.
    #[schema(examples("base"))]
    pub code: String,
    /// Yen.
    pub amount_yen: u64,
    /// Why.
    pub reason: Reason,
}

/// One requirement of the payment and whether it is met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RequirementView {
    /// Stable code: `cause_recorded`, `incident_date_recorded`, `member_institution_confirmed`,
    /// `days_closed_recorded`, `mhlw_notified`, `ppc_preliminary_report`,
    /// `ppc_recurrence_prevention_report` or `victims_notified` (docs/support-payments.md).
    #[schema(examples("victims_notified"))]
    pub code: String,
    /// Met, or still missing.
    pub met: bool,
    /// `payment` (the whole payment) or `closure_supplement` (the supplement only).
    pub scope: String,
    /// What is met or missing, in Japanese and English.
    pub reason: Reason,
}

/// One exclusion and whether it applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExclusionView {
    /// Stable code: `incident_before_scheme`, `cause_not_covered`, `payment_not_offered`, `insider` or
    /// `not_member_institution`.
    #[schema(examples("insider"))]
    pub code: String,
    /// It applies: nothing is paid.
    pub applies: bool,
    /// Why, in Japanese and English.
    pub reason: Reason,
}

/// What the rules say about the incident now, from its current facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AssessmentView {
    /// `not_applicable`, `pending_requirements` or `ready_to_claim`.
    pub status: ClaimStatus,
    /// The payment the cause points to; `null` while the cause is not recorded or not covered.
    pub payment: Option<PaymentKind>,
    /// Base plus supplement; shown while pending (what will be paid once the requirements are met), 0
    /// when not applicable.
    pub amount_yen: u64,
    /// How the amount is made up.
    pub amounts: Vec<AmountLineView>,
    /// The rule set used; `null` before the first rule set.
    pub rule_set: Option<RuleSetView>,
    /// Every requirement checked, met or missing.
    pub requirements: Vec<RequirementView>,
    /// Every exclusion checked, applying or not.
    pub exclusions: Vec<ExclusionView>,
    /// One sentence for the operator, in Japanese and English.
    pub summary: Reason,
}

impl AssessmentView {
    /// Shows an assessment.
    pub fn new(assessment: &Assessment) -> Self {
        Self {
            status: assessment.status,
            payment: assessment.payment,
            amount_yen: assessment.amount_yen,
            amounts: assessment
                .amounts
                .iter()
                .map(|line| AmountLineView {
                    code: line.code.to_owned(),
                    amount_yen: line.amount_yen,
                    reason: line.reason.clone(),
                })
                .collect(),
            rule_set: assessment.rule_set.as_ref().map(|set| RuleSetView {
                effective_from: set.effective_from,
                title: set.title.clone(),
                provisional: set.provisional,
            }),
            requirements: assessment
                .requirements
                .iter()
                .map(|check| RequirementView {
                    code: check.code.to_owned(),
                    met: check.met,
                    scope: check.scope.to_owned(),
                    reason: check.reason.clone(),
                })
                .collect(),
            exclusions: assessment
                .exclusions
                .iter()
                .map(|check| ExclusionView {
                    code: check.code.to_owned(),
                    applies: check.applies,
                    reason: check.reason.clone(),
                })
                .collect(),
            summary: assessment.summary.clone(),
        }
    }
}

/// The claim a supervisor made for the incident (one per incident).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ClaimView {
    /// Id.
    pub id: Uuid,
    /// The payment claimed.
    pub payment: PaymentKind,
    /// `claimed`, `paid` or `rejected`.
    pub status: ClaimStatus,
    /// The amount claimed (the assessment's at the moment of claiming).
    pub amount_yen: u64,
    /// The rule set that judged it (its first date).
    pub rule_set: NaiveDate,
    /// When claimed.
    pub claimed_at: DateTime<FixedOffset>,
    /// Who claimed.
    pub claimed_by: Uuid,
    /// When paid or rejected.
    pub decided_at: Option<DateTime<FixedOffset>>,
    /// Who recorded it.
    pub decided_by: Option<Uuid>,
    /// Why the association refused.
    pub rejection_reason: Option<String>,
}

impl ClaimView {
    /// Shows a claim.
    pub fn new(claim: &ClaimRecord, ctx: &ViewContext<'_>) -> Self {
        Self {
            id: claim.id,
            payment: claim.payment,
            status: claim.status,
            amount_yen: claim.amount_yen,
            rule_set: claim.rule_set,
            claimed_at: ctx.at(claim.claimed_at),
            claimed_by: claim.claimed_by,
            decided_at: ctx.at_opt(claim.decided_at),
            decided_by: claim.decided_by,
            rejection_reason: claim.rejection_reason.clone(),
        }
    }
}

/// The support payment of one ticket: the assessment, the claim, and what the reader may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SupportPaymentView {
    /// The ticket.
    pub ticket_id: Uuid,
    /// Its reference.
    pub ticket_reference: String,
    /// The claim's status once one is recorded (`claimed`, `paid`, `rejected`), the assessment's before.
    pub status: ClaimStatus,
    /// Whether an A① member runs the institution, as far as the hotline knows.
    pub standing: MemberStanding,
    /// The assessment from the current facts (shown beside a claim too: later facts do not move it).
    pub assessment: AssessmentView,
    /// The claim, once made.
    pub claim: Option<ClaimView>,
    /// Claim steps the reader's role may take now: `POST /v1/tickets/{id}/support-payment/{action}`.
    pub allowed_actions: Vec<ClaimAction>,
}

impl SupportPaymentView {
    /// Shows a ticket's support payment.
    pub fn new(view: &PaymentView, ctx: &ViewContext<'_>) -> Self {
        Self {
            ticket_id: view.ticket_id,
            ticket_reference: view.ticket_reference.clone(),
            status: view.status,
            standing: view.standing,
            assessment: AssessmentView::new(&view.assessment),
            claim: view.claim.as_ref().map(|claim| ClaimView::new(claim, ctx)),
            allowed_actions: allowed_claim_actions(view.status, ctx.role),
        }
    }
}

/// Support payments across tickets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SupportPaymentList {
    /// Oldest incident (first call) first.
    pub support_payments: Vec<SupportPaymentView>,
}

/// The support payment as the ticket shows it: where it stands and what is missing; the full assessment
/// is at `GET /v1/tickets/{id}/support-payment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TicketSupportPaymentView {
    /// The claim's status once one is recorded, the assessment's before.
    pub status: ClaimStatus,
    /// The payment the facts point to.
    pub payment: Option<PaymentKind>,
    /// The assessment's amount.
    pub amount_yen: u64,
    /// One sentence for the operator, in Japanese and English: on the claim once one is recorded, else
    /// the assessment's.
    pub summary: Reason,
    /// Codes of the requirements still missing (from the current facts).
    pub missing: Vec<String>,
    /// Codes of the exclusions that apply.
    pub exclusions: Vec<String>,
    /// The claim, once made.
    pub claim: Option<ClaimView>,
    /// Claim steps the reader's role may take now.
    pub allowed_actions: Vec<ClaimAction>,
}

impl TicketSupportPaymentView {
    /// The support payment of a ticket with these facts and claim, assessed now; `None` while neither
    /// facts nor a claim are recorded (every ticket would otherwise read `pending_requirements`).
    pub fn of_case(
        facts: Option<&CaseFacts>,
        claim: Option<&ClaimRecord>,
        standing: MemberStanding,
        ctx: &ViewContext<'_>,
    ) -> Option<Self> {
        if facts.is_none() && claim.is_none() {
            return None;
        }
        let assessment = assess(&facts.cloned().unwrap_or_default(), standing, ctx.support_rules, ctx.now);
        let existing = claim.map(|claim| ExistingClaim { payment: claim.payment, status: claim.status });
        let status = current_status(&assessment, existing.as_ref());
        Some(Self {
            status,
            payment: assessment.payment,
            amount_yen: assessment.amount_yen,
            summary: claim.map_or_else(
                || assessment.summary.clone(),
                |claim| claim_summary(claim.payment, claim.status, claim.amount_yen),
            ),
            missing: assessment.missing().into_iter().map(str::to_owned).collect(),
            exclusions: assessment.applying_exclusions().into_iter().map(str::to_owned).collect(),
            claim: claim.map(|claim| ClaimView::new(claim, ctx)),
            allowed_actions: allowed_claim_actions(status, ctx.role),
        })
    }
}
