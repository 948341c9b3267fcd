//! Support payments (一時支援金) of tickets: the assessment read from the recorded facts and the
//! institution's standing, and the one claim an incident may have, moved by supervisors through
//! `claimed` → `paid` | `rejected`. Each step locks the ticket at the client's version, asks the domain
//! (`hotline_domain::support_payment::claim`), writes the claim, bumps the version and appends a
//! `support_payment.*` event with the status before and after. A second claim is refused by the domain
//! and, should two race, by the unique index on `support_claims.ticket_id`.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use hotline_domain::audit::{Change as Transition, PaymentClaimed, PaymentDecided, TicketEvent};
use hotline_domain::incident_facts::CaseFacts;
use hotline_domain::role::Role;
use hotline_domain::support_payment::claim::{current_status, decide, may_claim, rejection_reason};
use hotline_domain::support_payment::{
    Assessment, ClaimAction, ClaimRefusal, ClaimStatus, ExistingClaim, MemberStanding, PaymentKind, RuleBook,
    assess,
};
use hotline_domain::verification::VerificationOutcome;
use hotline_domain::{FieldError, ValidationErrors};
use uuid::Uuid;

use crate::queries::audit;
use crate::queries::change::Change;
use crate::queries::incident_facts::{self, CaseError};
use crate::queries::tickets::{self, TicketHeader, TicketKey};
use crate::queries::{corrupt, parse_opt_uuid, parse_uuid};
use crate::schema::{calls, incident_facts as facts_table, support_claims, tickets as tickets_table};
use crate::{DbConnection, MultiBackend, StorageError, db_time, utc};

/// A recorded claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRecord {
    /// Row id.
    pub id: Uuid,
    /// The ticket.
    pub ticket_id: Uuid,
    /// The payment claimed.
    pub payment: PaymentKind,
    /// `claimed`, `paid` or `rejected`.
    pub status: ClaimStatus,
    /// The amount claimed (the assessment's when claimed).
    pub amount_yen: u64,
    /// The rule set that judged it (its effective date).
    pub rule_set: NaiveDate,
    /// When claimed.
    pub claimed_at: DateTime<Utc>,
    /// Who claimed.
    pub claimed_by: Uuid,
    /// When paid or rejected.
    pub decided_at: Option<DateTime<Utc>>,
    /// Who recorded it.
    pub decided_by: Option<Uuid>,
    /// Why the association refused.
    pub rejection_reason: Option<String>,
}

impl ClaimRecord {
    fn existing(&self) -> ExistingClaim {
        ExistingClaim { payment: self.payment, status: self.status }
    }
}

/// A ticket's support payment as the ticket view and the supervisors' list show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentView {
    /// The ticket.
    pub ticket_id: Uuid,
    /// Its reference.
    pub ticket_reference: String,
    /// The status: the claim's when one is recorded, otherwise the assessment's.
    pub status: ClaimStatus,
    /// Whether an A① member runs the institution, as far as known.
    pub standing: MemberStanding,
    /// The assessment from the current facts.
    pub assessment: Assessment,
    /// The recorded claim, if any.
    pub claim: Option<ClaimRecord>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = support_claims)]
#[diesel(check_for_backend(MultiBackend))]
struct ClaimRow {
    id: String,
    ticket_id: String,
    payment: String,
    status: String,
    amount_yen: i64,
    rule_set: String,
    claimed_at: NaiveDateTime,
    claimed_by: String,
    decided_at: Option<NaiveDateTime>,
    decided_by: Option<String>,
    rejection_reason: Option<String>,
}

impl ClaimRow {
    fn into_record(self) -> Result<ClaimRecord, StorageError> {
        let status =
            ClaimStatus::parse(&self.status).map_err(|_| corrupt("support_claims.status", &self.status))?;
        if !status.is_recorded() {
            return Err(corrupt("support_claims.status", &self.status));
        }
        Ok(ClaimRecord {
            id: parse_uuid("support_claims.id", &self.id)?,
            ticket_id: parse_uuid("support_claims.ticket_id", &self.ticket_id)?,
            payment: PaymentKind::parse(&self.payment)
                .map_err(|_| corrupt("support_claims.payment", &self.payment))?,
            status,
            amount_yen: u64::try_from(self.amount_yen)
                .map_err(|_| corrupt("support_claims.amount_yen", &self.amount_yen.to_string()))?,
            rule_set: NaiveDate::parse_from_str(&self.rule_set, "%Y-%m-%d")
                .map_err(|_| corrupt("support_claims.rule_set", &self.rule_set))?,
            claimed_at: utc(self.claimed_at),
            claimed_by: parse_uuid("support_claims.claimed_by", &self.claimed_by)?,
            decided_at: self.decided_at.map(utc),
            decided_by: parse_opt_uuid("support_claims.decided_by", self.decided_by.as_deref())?,
            rejection_reason: self.rejection_reason,
        })
    }
}

/// The claim of a ticket, if one was made.
pub fn claim_of(conn: &mut DbConnection, ticket_id: Uuid) -> Result<Option<ClaimRecord>, StorageError> {
    support_claims::table
        .filter(support_claims::ticket_id.eq(ticket_id.to_string()))
        .select(ClaimRow::as_select())
        .first(conn)
        .optional()?
        .map(ClaimRow::into_record)
        .transpose()
}

/// What a ticket view shows of the case besides the ticket itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseRecord {
    /// The recorded incident facts, if any were recorded.
    pub facts: Option<incident_facts::FactsRecord>,
    /// The support-payment claim, if one was made.
    pub claim: Option<ClaimRecord>,
}

/// Whether an A① member runs the ticket's institution: from the first call's verification and a
/// supervisor's confirmation of the caller (the same inputs referrals use).
pub fn standing_of(conn: &mut DbConnection, ticket: &TicketHeader) -> Result<MemberStanding, StorageError> {
    let first: Option<String> = calls::table
        .filter(calls::ticket_id.eq(ticket.id.to_string()))
        .order((calls::started_at.asc(), calls::id.asc()))
        .select(calls::verification)
        .first(conn)
        .optional()?;
    let outcome = first
        .map(|text| VerificationOutcome::parse(&text).ok_or_else(|| corrupt("calls.verification", &text)))
        .transpose()?;
    Ok(MemberStanding::from_verification(outcome, ticket.caller_confirmed_at.is_some()))
}

/// The support payment of a ticket: the assessment from its current facts (none recorded reads as
/// "everything still to record") and its claim.
pub fn view(
    conn: &mut DbConnection,
    ticket: &TicketHeader,
    rules: &RuleBook,
    now: DateTime<Utc>,
) -> Result<PaymentView, StorageError> {
    let facts = incident_facts::of_ticket(conn, ticket.id)?.map(|record| record.facts).unwrap_or_default();
    let standing = standing_of(conn, ticket)?;
    let claim = claim_of(conn, ticket.id)?;
    Ok(build_view(ticket.id, ticket.reference.clone(), &facts, standing, claim, rules, now))
}

fn build_view(
    ticket_id: Uuid,
    ticket_reference: String,
    facts: &CaseFacts,
    standing: MemberStanding,
    claim: Option<ClaimRecord>,
    rules: &RuleBook,
    now: DateTime<Utc>,
) -> PaymentView {
    let assessment = assess(facts, standing, rules, now);
    let status = current_status(&assessment, claim.as_ref().map(ClaimRecord::existing).as_ref());
    PaymentView { ticket_id, ticket_reference, status, standing, assessment, claim }
}

/// The outcome of a claim step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimChange {
    /// The ticket after the step (a new version).
    pub ticket: TicketHeader,
    /// The claim after the step.
    pub claim: ClaimRecord,
}

fn supervisor_only(change: &Change, action: ClaimAction) -> Result<(), CaseError> {
    if change.role.allows(action.required_role()) {
        Ok(())
    } else {
        Err(ClaimRefusal::Forbidden { action, required: Role::Supervisor }.into())
    }
}

fn finish(
    conn: &mut DbConnection,
    change: &Change,
    ticket_id: Uuid,
    event: &TicketEvent,
) -> Result<ClaimChange, CaseError> {
    tickets::touch(conn, ticket_id, change.now)?;
    audit::record(conn, ticket_id, change.actor, change.now, event)?;
    let ticket = tickets::find_header(conn, &TicketKey::Id(ticket_id))?.ok_or(CaseError::NotFound)?;
    let claim = claim_of(conn, ticket_id)?.ok_or(CaseError::NotFound)?;
    Ok(ClaimChange { ticket, claim })
}

/// A supervisor claims `payment` for the ticket's incident. Refused (nothing written) for a lower role,
/// a stale version, an incident that already has a claim (either payment: they are mutually
/// exclusive), a payment the facts do not point to, or an assessment that is not `ready_to_claim`.
/// The claim records the amount and the rule set of this moment.
pub fn claim(
    conn: &mut DbConnection,
    change: &Change,
    payment: PaymentKind,
    rules: &RuleBook,
) -> Result<ClaimChange, CaseError> {
    supervisor_only(change, ClaimAction::Claim)?;
    let ticket = tickets::lock_for_change(conn, change.ticket_id, change.expected_version)?;
    let current = view(conn, &ticket, rules, change.now)?;
    let existing = current.claim.as_ref().map(ClaimRecord::existing);
    let draft = may_claim(&current.assessment, existing.as_ref(), payment, change.role)?;
    let id = Uuid::now_v7();
    let row = ClaimRow {
        id: id.to_string(),
        ticket_id: ticket.id.to_string(),
        payment: draft.payment.as_str().to_owned(),
        status: ClaimStatus::Claimed.as_str().to_owned(),
        amount_yen: i64::try_from(draft.amount_yen).unwrap_or(i64::MAX),
        rule_set: draft.rule_set.to_string(),
        claimed_at: db_time(change.now),
        claimed_by: change.actor.to_string(),
        decided_at: None,
        decided_by: None,
        rejection_reason: None,
    };
    diesel::insert_into(support_claims::table).values(&row).execute(conn)?;
    let event = TicketEvent::PaymentClaimed(PaymentClaimed {
        claim_id: id,
        payment: draft.payment,
        amount_yen: draft.amount_yen,
        rule_set: draft.rule_set.to_string(),
        status: Transition::new(current.status, ClaimStatus::Claimed),
    });
    finish(conn, change, ticket.id, &event)
}

/// A supervisor records that the association paid the claim.
pub fn mark_paid(
    conn: &mut DbConnection,
    change: &Change,
    rules: &RuleBook,
) -> Result<ClaimChange, CaseError> {
    decide_claim(conn, change, ClaimAction::Pay, None, rules)
}

/// A supervisor records that the association refused the claim, with its reason (1–1000 characters).
pub fn reject(
    conn: &mut DbConnection,
    change: &Change,
    reason: &str,
    rules: &RuleBook,
) -> Result<ClaimChange, CaseError> {
    decide_claim(conn, change, ClaimAction::Reject, Some(reason), rules)
}

fn decide_claim(
    conn: &mut DbConnection,
    change: &Change,
    action: ClaimAction,
    reason: Option<&str>,
    rules: &RuleBook,
) -> Result<ClaimChange, CaseError> {
    supervisor_only(change, action)?;
    let reason = reason
        .map(rejection_reason)
        .transpose()
        .map_err(|error: FieldError| CaseError::Invalid(ValidationErrors::from(error)))?;
    let ticket = tickets::lock_for_change(conn, change.ticket_id, change.expected_version)?;
    let current = view(conn, &ticket, rules, change.now)?;
    let existing = current.claim.as_ref().map(ClaimRecord::existing);
    let status = decide(&current.assessment, existing.as_ref(), action, change.role)?;
    let Some(claim) = current.claim else {
        return Err(CaseError::NotFound);
    };
    diesel::update(support_claims::table.find(claim.id.to_string()))
        .set((
            support_claims::status.eq(status.as_str()),
            support_claims::decided_at.eq(db_time(change.now)),
            support_claims::decided_by.eq(change.actor.to_string()),
            support_claims::rejection_reason.eq(&reason),
        ))
        .execute(conn)?;
    let decided = PaymentDecided {
        claim_id: claim.id,
        payment: claim.payment,
        amount_yen: claim.amount_yen,
        status: Transition::new(claim.status, status),
        reason,
    };
    let event = match action {
        ClaimAction::Reject => TicketEvent::PaymentRejected(decided),
        _ => TicketEvent::PaymentPaid(decided),
    };
    finish(conn, change, ticket.id, &event)
}

/// Which support payments to list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PaymentFilter {
    /// Only this status (recorded or derived).
    pub status: Option<ClaimStatus>,
}

/// Support payments across tickets for supervisors, oldest incident first: recorded claims, and — for
/// derived statuses — the tickets with recorded facts and no claim, assessed now. A ticket without any
/// recorded facts is not listed (every ticket would otherwise read `pending_requirements`). Unclaimed
/// tickets are assessed in memory: there are at most a few thousand incidents with facts.
pub fn list(
    conn: &mut DbConnection,
    filter: &PaymentFilter,
    rules: &RuleBook,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<PaymentView>, StorageError> {
    let limit = usize::try_from(limit.max(0)).unwrap_or(usize::MAX);
    let mut out: Vec<(NaiveDateTime, PaymentView)> = Vec::new();

    let want_recorded = filter.status.is_none_or(ClaimStatus::is_recorded);
    let want_derived = filter.status.is_none_or(|status| !status.is_recorded());

    if want_recorded {
        let mut query = support_claims::table
            .inner_join(tickets_table::table)
            .select((ClaimRow::as_select(), tickets_table::first_call_at))
            .into_boxed();
        if let Some(status) = filter.status {
            query = query.filter(support_claims::status.eq(status.as_str()));
        }
        let rows: Vec<(ClaimRow, NaiveDateTime)> = query
            .order((tickets_table::first_call_at.asc(), tickets_table::id.asc()))
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .load(conn)?;
        for (row, first_call_at) in rows {
            let claim = row.into_record()?;
            let ticket = tickets::find_header(conn, &TicketKey::Id(claim.ticket_id))?
                .ok_or_else(|| corrupt("support_claims.ticket_id", &claim.ticket_id.to_string()))?;
            let facts =
                incident_facts::of_ticket(conn, ticket.id)?.map(|record| record.facts).unwrap_or_default();
            let standing = standing_of(conn, &ticket)?;
            out.push((
                first_call_at,
                build_view(ticket.id, ticket.reference, &facts, standing, Some(claim), rules, now),
            ));
        }
    }

    if want_derived {
        let rows: Vec<(incident_facts::FactsRow, String, NaiveDateTime, Option<NaiveDateTime>)> =
            facts_table::table
                .inner_join(tickets_table::table)
                .left_join(support_claims::table.on(support_claims::ticket_id.eq(facts_table::ticket_id)))
                .filter(support_claims::id.is_null())
                .order((tickets_table::first_call_at.asc(), tickets_table::id.asc()))
                .select((
                    incident_facts::FactsRow::as_select(),
                    tickets_table::reference,
                    tickets_table::first_call_at,
                    tickets_table::caller_confirmed_at,
                ))
                .load(conn)?;
        let ids: Vec<&str> = rows.iter().map(|(row, ..)| row.ticket_id.as_str()).collect();
        let first_calls = first_verifications(conn, &ids)?;
        for (row, reference, first_call_at, confirmed_at) in &rows {
            let ticket_id = parse_uuid("incident_facts.ticket_id", &row.ticket_id)?;
            let outcome = first_calls.get(&row.ticket_id).copied();
            let standing = MemberStanding::from_verification(outcome, confirmed_at.is_some());
            let view = build_view(ticket_id, reference.clone(), &row.facts()?, standing, None, rules, now);
            if filter.status.is_none_or(|status| status == view.status) {
                out.push((*first_call_at, view));
            }
        }
    }

    out.sort_by(|(a_at, a), (b_at, b)| a_at.cmp(b_at).then(a.ticket_id.cmp(&b.ticket_id)));
    out.truncate(limit);
    Ok(out.into_iter().map(|(_, view)| view).collect())
}

/// The first call's verification of each ticket, in one query.
fn first_verifications(
    conn: &mut DbConnection,
    ticket_ids: &[&str],
) -> Result<HashMap<String, VerificationOutcome>, StorageError> {
    let mut out: HashMap<String, VerificationOutcome> = HashMap::new();
    for chunk in ticket_ids.chunks(500) {
        let rows: Vec<(String, String)> = calls::table
            .filter(calls::ticket_id.eq_any(chunk))
            .order((calls::ticket_id.asc(), calls::started_at.asc(), calls::id.asc()))
            .select((calls::ticket_id, calls::verification))
            .load(conn)?;
        for (ticket_id, verification) in rows {
            if out.contains_key(&ticket_id) {
                continue;
            }
            let outcome = VerificationOutcome::parse(&verification)
                .ok_or_else(|| corrupt("calls.verification", &verification))?;
            out.insert(ticket_id, outcome);
        }
    }
    Ok(out)
}
