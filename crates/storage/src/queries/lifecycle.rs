//! Changes to a ticket after intake: triage, work, assignment, notes, callbacks, referrals and the
//! police handoff. Every function runs in the caller's write transaction and follows one pattern:
//! lock the ticket at the client's version (If-Match), ask the domain whether the change is allowed,
//! write it, bump the version, and append an audit event with the state before and after.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use hotline_domain::callback::CallbackPlan;
use hotline_domain::referral::{
    Consent, ReferralAction, ReferralContext, ReferralKind, ReferralRefusal, ReferralStatus, may_refer,
    referral_actions, referral_next,
};
use hotline_domain::role::Role;
use hotline_domain::ticket::{EventAction, TicketStatus};
use hotline_domain::triage::{Category, IncidentFacts, IncidentKind, Priority, Triage};
use hotline_domain::verification::VerificationOutcome;
use hotline_domain::workflow::{TicketAction, TransitionError, transition};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::queries::partners::{self, PartnerRecord};
use crate::queries::tickets::{self as ticket_queries, LockError, TicketHeader};
use crate::queries::{corrupt, parse_opt_uuid, parse_uuid};
use crate::schema::{api_tokens, callbacks, calls, referrals, ticket_notes, ticket_triage, tickets};
use crate::{DbConnection, MultiBackend, StorageError, db_time, utc};

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
    /// Resolution with referrals still open.
    #[error("{0} referral(s) still open")]
    OpenReferrals(usize),
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
    /// The partner already has an open referral for this ticket.
    #[error("partner already has an open referral on this ticket")]
    DuplicateOpenReferral,
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What is wrong with the partner chosen for a referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartnerProblem {
    /// Forensic and legal referrals name their partner.
    Missing,
    /// No partner with that id.
    Unknown(Uuid),
    /// A partner of another kind.
    WrongKind {
        /// The partner's kind.
        partner: ReferralKind,
        /// The referral's kind.
        referral: ReferralKind,
    },
    /// Marked inactive.
    Inactive(String),
    /// Does not cover the institution's prefecture.
    NotCovering {
        /// Partner name.
        partner: String,
        /// Prefecture code.
        prefecture: String,
    },
    /// No address to alert; names the partner so an admin knows what to fill in.
    NoEmail {
        /// Partner id.
        id: Uuid,
        /// Partner name.
        name: String,
    },
    /// The prefecture has no police desk row.
    NoPoliceDesk(String),
}

impl std::fmt::Display for PartnerProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing => write!(f, "partner_id is required for forensic and legal referrals"),
            Self::Unknown(id) => write!(f, "no partner {id}"),
            Self::WrongKind { partner, referral } => {
                write!(f, "the partner is a {} partner, not {}", partner.as_str(), referral.as_str())
            }
            Self::Inactive(name) => write!(f, "{name} is inactive"),
            Self::NotCovering { partner, prefecture } => {
                write!(f, "{partner} does not cover prefecture {prefecture}")
            }
            Self::NoEmail { id, name } => {
                write!(
                    f,
                    "{name} has no email address: a supervisor or admin must add one first (PATCH /v1/partners/{id}, field emails)"
                )
            }
            Self::NoPoliceDesk(prefecture) => {
                write!(f, "no police desk is registered for prefecture {prefecture}")
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

// ------------------------------------------------------------------------------------------------
// Read models

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

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = ticket_triage)]
#[diesel(check_for_backend(MultiBackend))]
#[diesel(treat_none_as_null = true)]
struct TriageRow {
    ticket_id: String,
    category: String,
    incident_kind: String,
    suggested_priority: String,
    priority: String,
    priority_reason: Option<String>,
    decline_reason: Option<String>,
    detected_at: Option<NaiveDateTime>,
    occurred_at: Option<NaiveDateTime>,
    systems_affected: String,
    emr_unusable: bool,
    care_suspended: bool,
    personal_data_leaked: bool,
    people_affected: Option<i64>,
    insider_suspected: bool,
    triaged_at: NaiveDateTime,
    triaged_by: String,
}

impl TriageRow {
    fn into_record(self) -> Result<TriageRecord, StorageError> {
        let parse_priority =
            |column: &str, value: &str| Priority::parse(value).map_err(|_| corrupt(column, value));
        Ok(TriageRecord {
            triage: Triage {
                category: Category::parse(&self.category)
                    .map_err(|_| corrupt("ticket_triage.category", &self.category))?,
                incident_kind: IncidentKind::parse(&self.incident_kind)
                    .map_err(|_| corrupt("ticket_triage.incident_kind", &self.incident_kind))?,
                facts: IncidentFacts {
                    detected_at: self.detected_at.map(utc),
                    occurred_at: self.occurred_at.map(utc),
                    systems_affected: serde_json::from_str(&self.systems_affected)
                        .map_err(|_| corrupt("ticket_triage.systems_affected", &self.systems_affected))?,
                    emr_unusable: self.emr_unusable,
                    care_suspended: self.care_suspended,
                    personal_data_leaked: self.personal_data_leaked,
                    people_affected: self.people_affected.and_then(|n| u64::try_from(n).ok()),
                    insider_suspected: self.insider_suspected,
                },
                suggested_priority: parse_priority(
                    "ticket_triage.suggested_priority",
                    &self.suggested_priority,
                )?,
                priority: parse_priority("ticket_triage.priority", &self.priority)?,
                priority_reason: self.priority_reason,
                decline_reason: self.decline_reason,
            },
            triaged_at: utc(self.triaged_at),
            triaged_by: parse_uuid("ticket_triage.triaged_by", &self.triaged_by)?,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = callbacks)]
#[diesel(check_for_backend(MultiBackend))]
struct CallbackRow {
    id: String,
    ticket_id: String,
    promised_at: NaiveDateTime,
    due_at: NaiveDateTime,
    note: Option<String>,
    created_at: NaiveDateTime,
    created_by: String,
    completed_at: Option<NaiveDateTime>,
    completed_by_call_id: Option<String>,
}

impl CallbackRow {
    fn into_record(self, ticket_reference: String) -> Result<CallbackRecord, StorageError> {
        Ok(CallbackRecord {
            id: parse_uuid("callbacks.id", &self.id)?,
            ticket_id: parse_uuid("callbacks.ticket_id", &self.ticket_id)?,
            ticket_reference,
            promised_at: utc(self.promised_at),
            due_at: utc(self.due_at),
            note: self.note,
            created_at: utc(self.created_at),
            created_by: parse_uuid("callbacks.created_by", &self.created_by)?,
            completed_at: self.completed_at.map(utc),
            completed_by_call_id: parse_opt_uuid(
                "callbacks.completed_by_call_id",
                self.completed_by_call_id.as_deref(),
            )?,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = referrals)]
#[diesel(check_for_backend(MultiBackend))]
struct ReferralRow {
    id: String,
    ticket_id: String,
    partner_id: String,
    kind: String,
    status: String,
    consent_given_by: String,
    consent_name: String,
    consent_given_at: NaiveDateTime,
    request_note: Option<String>,
    requested_at: NaiveDateTime,
    requested_by: String,
    accepted_at: Option<NaiveDateTime>,
    completed_at: Option<NaiveDateTime>,
    ended_at: Option<NaiveDateTime>,
    last_note: Option<String>,
    police_receipt_number: Option<String>,
    police_contact: Option<String>,
    updated_at: NaiveDateTime,
}

impl ReferralRow {
    fn into_record(self, partner_name: String) -> Result<ReferralRecord, StorageError> {
        Ok(ReferralRecord {
            id: parse_uuid("referrals.id", &self.id)?,
            ticket_id: parse_uuid("referrals.ticket_id", &self.ticket_id)?,
            partner_id: parse_uuid("referrals.partner_id", &self.partner_id)?,
            partner_name,
            kind: ReferralKind::parse(&self.kind).map_err(|_| corrupt("referrals.kind", &self.kind))?,
            status: ReferralStatus::parse(&self.status)
                .map_err(|_| corrupt("referrals.status", &self.status))?,
            consent_given_by: self.consent_given_by,
            consent_name: self.consent_name,
            consent_given_at: utc(self.consent_given_at),
            request_note: self.request_note,
            requested_at: utc(self.requested_at),
            requested_by: parse_uuid("referrals.requested_by", &self.requested_by)?,
            accepted_at: self.accepted_at.map(utc),
            completed_at: self.completed_at.map(utc),
            ended_at: self.ended_at.map(utc),
            last_note: self.last_note,
            police_receipt_number: self.police_receipt_number,
            police_contact: self.police_contact,
            updated_at: utc(self.updated_at),
        })
    }
}

/// The current triage, if any.
pub fn triage_of(conn: &mut DbConnection, ticket_id: Uuid) -> Result<Option<TriageRecord>, StorageError> {
    ticket_triage::table
        .find(ticket_id.to_string())
        .select(TriageRow::as_select())
        .first(conn)
        .optional()?
        .map(TriageRow::into_record)
        .transpose()
}

/// Notes, oldest first.
pub fn notes_of(conn: &mut DbConnection, ticket_id: Uuid) -> Result<Vec<NoteRecord>, StorageError> {
    let rows: Vec<(String, String, NaiveDateTime, String)> = ticket_notes::table
        .filter(ticket_notes::ticket_id.eq(ticket_id.to_string()))
        .order((ticket_notes::created_at.asc(), ticket_notes::id.asc()))
        .select((ticket_notes::id, ticket_notes::body, ticket_notes::created_at, ticket_notes::created_by))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, body, created_at, created_by)| {
            Ok(NoteRecord {
                id: parse_uuid("ticket_notes.id", &id)?,
                body,
                created_at: utc(created_at),
                created_by: parse_uuid("ticket_notes.created_by", &created_by)?,
            })
        })
        .collect()
}

/// A ticket's callbacks, by due time.
pub fn callbacks_of(
    conn: &mut DbConnection,
    ticket: &TicketHeader,
) -> Result<Vec<CallbackRecord>, StorageError> {
    callbacks::table
        .filter(callbacks::ticket_id.eq(ticket.id.to_string()))
        .order((callbacks::due_at.asc(), callbacks::id.asc()))
        .select(CallbackRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|row| row.into_record(ticket.reference.clone()))
        .collect()
}

/// Open callbacks due before an instant, across tickets: the callback queue.
pub fn callbacks_due_before(
    conn: &mut DbConnection,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<CallbackRecord>, StorageError> {
    let rows: Vec<(CallbackRow, String)> = callbacks::table
        .inner_join(tickets::table)
        .filter(callbacks::completed_at.is_null())
        .filter(callbacks::due_at.lt(db_time(before)))
        // A closed or declined ticket's promises are moot; reopening brings them back.
        .filter(tickets::status.ne_all([TicketStatus::Closed.as_str(), TicketStatus::Declined.as_str()]))
        .order((callbacks::due_at.asc(), callbacks::id.asc()))
        .limit(limit)
        .select((CallbackRow::as_select(), tickets::reference))
        .load(conn)?;
    rows.into_iter().map(|(row, reference)| row.into_record(reference)).collect()
}

/// A ticket's referrals, oldest first.
pub fn referrals_of(conn: &mut DbConnection, ticket_id: Uuid) -> Result<Vec<ReferralRecord>, StorageError> {
    load_referrals(conn, ReferralFilter::Ticket(ticket_id))
}

/// One referral.
pub fn referral(conn: &mut DbConnection, id: Uuid) -> Result<Option<ReferralRecord>, StorageError> {
    Ok(load_referrals(conn, ReferralFilter::Id(id))?.pop())
}

/// Which referrals to load.
enum ReferralFilter {
    Ticket(Uuid),
    Id(Uuid),
}

fn load_referrals(
    conn: &mut DbConnection,
    filter: ReferralFilter,
) -> Result<Vec<ReferralRecord>, StorageError> {
    let mut query = referrals::table
        .inner_join(crate::schema::partners::table)
        .select((ReferralRow::as_select(), crate::schema::partners::name))
        .into_boxed();
    query = match filter {
        ReferralFilter::Ticket(id) => query.filter(referrals::ticket_id.eq(id.to_string())),
        ReferralFilter::Id(id) => query.filter(referrals::id.eq(id.to_string())),
    };
    let rows: Vec<(ReferralRow, String)> =
        query.order((referrals::requested_at.asc(), referrals::id.asc())).load(conn)?;
    rows.into_iter().map(|(row, name)| row.into_record(name)).collect()
}

// ------------------------------------------------------------------------------------------------
// Changes

fn record(
    conn: &mut DbConnection,
    change: &Change,
    action: EventAction,
    changes: Value,
) -> Result<i64, StorageError> {
    let version = ticket_queries::touch(conn, change.ticket_id, change.now)?;
    ticket_queries::record_event(conn, change.ticket_id, change.actor, change.now, action, &changes)?;
    Ok(version)
}

fn reload(conn: &mut DbConnection, id: Uuid) -> Result<TicketHeader, ChangeError> {
    ticket_queries::find_header(conn, &ticket_queries::TicketKey::Id(id))?.ok_or(ChangeError::NotFound)
}

fn set_status(conn: &mut DbConnection, id: Uuid, status: TicketStatus) -> Result<(), StorageError> {
    diesel::update(tickets::table.find(id.to_string()))
        .set(tickets::status.eq(status.as_str()))
        .execute(conn)?;
    Ok(())
}

fn mark_first_response(
    conn: &mut DbConnection,
    ticket: &TicketHeader,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    if ticket.first_response_at.is_none() {
        diesel::update(tickets::table.find(ticket.id.to_string()))
            .set(tickets::first_response_at.eq(db_time(now)))
            .execute(conn)?;
    }
    Ok(())
}

fn open_referral_count(conn: &mut DbConnection, ticket_id: Uuid) -> Result<usize, StorageError> {
    let open = [ReferralStatus::Requested.as_str(), ReferralStatus::Accepted.as_str()];
    let count: i64 = referrals::table
        .filter(referrals::ticket_id.eq(ticket_id.to_string()))
        .filter(referrals::status.eq_any(open))
        .count()
        .get_result(conn)?;
    Ok(usize::try_from(count).unwrap_or(usize::MAX))
}

/// Triages (or re-triages) a ticket; an out-of-scope triage declines it.
pub fn triage(
    conn: &mut DbConnection,
    change: &Change,
    decision: &Triage,
) -> Result<TicketHeader, ChangeError> {
    let ticket = ticket_queries::lock_for_change(conn, change.ticket_id, change.expected_version)?;
    let action = if decision.declines() { TicketAction::Decline } else { TicketAction::Triage };
    let status = transition(ticket.status, action, change.role)?;
    let before = triage_of(conn, ticket.id)?;
    let facts = &decision.facts;
    let row = TriageRow {
        ticket_id: ticket.id.to_string(),
        category: decision.category.as_str().to_owned(),
        incident_kind: decision.incident_kind.as_str().to_owned(),
        suggested_priority: decision.suggested_priority.as_str().to_owned(),
        priority: decision.priority.as_str().to_owned(),
        priority_reason: decision.priority_reason.clone(),
        decline_reason: decision.decline_reason.clone(),
        detected_at: facts.detected_at.map(db_time),
        occurred_at: facts.occurred_at.map(db_time),
        systems_affected: Value::from(facts.systems_affected.clone()).to_string(),
        emr_unusable: facts.emr_unusable,
        care_suspended: facts.care_suspended,
        personal_data_leaked: facts.personal_data_leaked,
        people_affected: facts.people_affected.and_then(|n| i64::try_from(n).ok()),
        insider_suspected: facts.insider_suspected,
        triaged_at: db_time(change.now),
        triaged_by: change.actor.to_string(),
    };
    if before.is_some() {
        diesel::update(ticket_triage::table.find(&row.ticket_id)).set(&row).execute(conn)?;
    } else {
        diesel::insert_into(ticket_triage::table).values(&row).execute(conn)?;
    }
    diesel::update(tickets::table.find(ticket.id.to_string()))
        .set((
            tickets::status.eq(status.as_str()),
            tickets::priority.eq(decision.priority.as_str()),
            tickets::resolution_summary.eq(decision.decline_reason.clone()),
        ))
        .execute(conn)?;
    mark_first_response(conn, &ticket, change.now)?;
    let summary = |t: &Triage| json!({ "category": t.category.as_str(), "incident_kind": t.incident_kind.as_str(), "priority": t.priority.as_str() });
    record(
        conn,
        change,
        if decision.declines() { EventAction::TicketDeclined } else { EventAction::TicketTriaged },
        json!({
            "status": { "before": ticket.status.as_str(), "after": status.as_str() },
            "triage": { "before": before.as_ref().map(|b| summary(&b.triage)), "after": summary(decision) },
            "suggested_priority": decision.suggested_priority.as_str(),
            "priority_reason": decision.priority_reason,
            "decline_reason": decision.decline_reason,
        }),
    )?;
    reload(conn, ticket.id)
}

/// A plain status change (start, close) with no data of its own.
pub fn apply(
    conn: &mut DbConnection,
    change: &Change,
    action: TicketAction,
) -> Result<TicketHeader, ChangeError> {
    let ticket = ticket_queries::lock_for_change(conn, change.ticket_id, change.expected_version)?;
    let status = transition(ticket.status, action, change.role)?;
    set_status(conn, ticket.id, status)?;
    if action == TicketAction::Close {
        diesel::update(tickets::table.find(ticket.id.to_string()))
            .set(tickets::closed_at.eq(db_time(change.now)))
            .execute(conn)?;
    }
    mark_first_response(conn, &ticket, change.now)?;
    let event = match action {
        TicketAction::Close => EventAction::TicketClosed,
        _ => EventAction::TicketStarted,
    };
    record(
        conn,
        change,
        event,
        json!({ "status": { "before": ticket.status.as_str(), "after": status.as_str() } }),
    )?;
    reload(conn, ticket.id)
}

/// Resolves a ticket with a summary; refused while any referral is open.
pub fn resolve(conn: &mut DbConnection, change: &Change, summary: &str) -> Result<TicketHeader, ChangeError> {
    let ticket = ticket_queries::lock_for_change(conn, change.ticket_id, change.expected_version)?;
    let status = transition(ticket.status, TicketAction::Resolve, change.role)?;
    let open = open_referral_count(conn, ticket.id)?;
    if open > 0 {
        return Err(ChangeError::OpenReferrals(open));
    }
    diesel::update(tickets::table.find(ticket.id.to_string()))
        .set((
            tickets::status.eq(status.as_str()),
            tickets::resolved_at.eq(db_time(change.now)),
            tickets::resolution_summary.eq(summary),
        ))
        .execute(conn)?;
    record(
        conn,
        change,
        EventAction::TicketResolved,
        json!({ "status": { "before": ticket.status.as_str(), "after": status.as_str() }, "resolution_summary": summary }),
    )?;
    reload(conn, ticket.id)
}

/// Declines a ticket (not eligible, or out of scope without a triage) with a reason.
pub fn decline(conn: &mut DbConnection, change: &Change, reason: &str) -> Result<TicketHeader, ChangeError> {
    let ticket = ticket_queries::lock_for_change(conn, change.ticket_id, change.expected_version)?;
    let status = transition(ticket.status, TicketAction::Decline, change.role)?;
    diesel::update(tickets::table.find(ticket.id.to_string()))
        .set((tickets::status.eq(status.as_str()), tickets::resolution_summary.eq(reason)))
        .execute(conn)?;
    mark_first_response(conn, &ticket, change.now)?;
    record(
        conn,
        change,
        EventAction::TicketDeclined,
        json!({ "status": { "before": ticket.status.as_str(), "after": status.as_str() }, "decline_reason": reason }),
    )?;
    reload(conn, ticket.id)
}

/// Reopens a resolved or closed ticket (supervisor) with a reason.
pub fn reopen(conn: &mut DbConnection, change: &Change, reason: &str) -> Result<TicketHeader, ChangeError> {
    let ticket = ticket_queries::lock_for_change(conn, change.ticket_id, change.expected_version)?;
    let status = transition(ticket.status, TicketAction::Reopen, change.role)?;
    diesel::update(tickets::table.find(ticket.id.to_string()))
        .set((
            tickets::status.eq(status.as_str()),
            tickets::resolved_at.eq(None::<NaiveDateTime>),
            tickets::closed_at.eq(None::<NaiveDateTime>),
            tickets::resolution_summary.eq(None::<String>),
        ))
        .execute(conn)?;
    record(
        conn,
        change,
        EventAction::TicketReopened,
        json!({
            "status": { "before": ticket.status.as_str(), "after": status.as_str() },
            "reason": reason,
            "resolution_summary": { "before": ticket.resolution_summary, "after": null },
        }),
    )?;
    reload(conn, ticket.id)
}

/// Assigns (supervisor) or unassigns a ticket.
pub fn assign(
    conn: &mut DbConnection,
    change: &Change,
    assignee: Option<Uuid>,
) -> Result<TicketHeader, ChangeError> {
    if !change.role.allows(Role::Supervisor) {
        return Err(ChangeError::Forbidden(Role::Supervisor));
    }
    let ticket = ticket_queries::lock_for_change(conn, change.ticket_id, change.expected_version)?;
    if let Some(id) = assignee {
        let active: i64 = api_tokens::table
            .filter(api_tokens::id.eq(id.to_string()))
            .filter(api_tokens::revoked_at.is_null())
            .count()
            .get_result(conn)?;
        if active == 0 {
            return Err(ChangeError::UnknownAssignee(id));
        }
    }
    set_assignee(conn, change, &ticket, assignee)
}

/// An operator takes an unassigned ticket.
pub fn take(conn: &mut DbConnection, change: &Change) -> Result<TicketHeader, ChangeError> {
    let ticket = ticket_queries::lock_for_change(conn, change.ticket_id, change.expected_version)?;
    match ticket.assignee {
        Some(current) if current != change.actor => Err(ChangeError::AlreadyAssigned(current)),
        _ => set_assignee(conn, change, &ticket, Some(change.actor)),
    }
}

fn set_assignee(
    conn: &mut DbConnection,
    change: &Change,
    ticket: &TicketHeader,
    assignee: Option<Uuid>,
) -> Result<TicketHeader, ChangeError> {
    diesel::update(tickets::table.find(ticket.id.to_string()))
        .set(tickets::assignee_token_id.eq(assignee.map(|id| id.to_string())))
        .execute(conn)?;
    record(
        conn,
        change,
        EventAction::TicketAssigned,
        json!({ "assignee": { "before": ticket.assignee, "after": assignee } }),
    )?;
    reload(conn, ticket.id)
}

/// Appends a note.
pub fn add_note(
    conn: &mut DbConnection,
    change: &Change,
    body: &str,
) -> Result<(TicketHeader, NoteRecord), ChangeError> {
    let ticket = ticket_queries::lock_for_change(conn, change.ticket_id, change.expected_version)?;
    let id = Uuid::now_v7();
    diesel::insert_into(ticket_notes::table)
        .values((
            ticket_notes::id.eq(id.to_string()),
            ticket_notes::ticket_id.eq(ticket.id.to_string()),
            ticket_notes::body.eq(body),
            ticket_notes::created_at.eq(db_time(change.now)),
            ticket_notes::created_by.eq(change.actor.to_string()),
        ))
        .execute(conn)?;
    mark_first_response(conn, &ticket, change.now)?;
    record(conn, change, EventAction::NoteAdded, json!({ "note_id": id }))?;
    let note = NoteRecord {
        id,
        body: body.to_owned(),
        created_at: crate::utc(db_time(change.now)),
        created_by: change.actor,
    };
    Ok((reload(conn, ticket.id)?, note))
}

/// A supervisor confirms an unverified caller, which allows referrals on a serious incident.
pub fn confirm_caller(
    conn: &mut DbConnection,
    change: &Change,
    note: &str,
) -> Result<TicketHeader, ChangeError> {
    if !change.role.allows(Role::Supervisor) {
        return Err(ChangeError::Forbidden(Role::Supervisor));
    }
    let ticket = ticket_queries::lock_for_change(conn, change.ticket_id, change.expected_version)?;
    diesel::update(tickets::table.find(ticket.id.to_string()))
        .set((
            tickets::caller_confirmed_at.eq(db_time(change.now)),
            tickets::caller_confirmed_by.eq(change.actor.to_string()),
        ))
        .execute(conn)?;
    record(
        conn,
        change,
        EventAction::CallerConfirmed,
        json!({ "caller_confirmed": { "before": ticket.caller_confirmed_at.is_some(), "after": true }, "note": note }),
    )?;
    reload(conn, ticket.id)
}

/// Records a promised callback.
pub fn promise_callback(
    conn: &mut DbConnection,
    change: &Change,
    plan: &CallbackPlan,
    note: Option<&str>,
) -> Result<(TicketHeader, CallbackRecord), ChangeError> {
    let ticket = ticket_queries::lock_for_change(conn, change.ticket_id, change.expected_version)?;
    if !ticket.status.accepts_follow_up() {
        return Err(ChangeError::TicketNotOpen(ticket.status));
    }
    let row = CallbackRow {
        id: Uuid::now_v7().to_string(),
        ticket_id: ticket.id.to_string(),
        promised_at: db_time(plan.promised_at),
        due_at: db_time(plan.due_at),
        note: note.map(str::to_owned),
        created_at: db_time(change.now),
        created_by: change.actor.to_string(),
        completed_at: None,
        completed_by_call_id: None,
    };
    diesel::insert_into(callbacks::table).values(&row).execute(conn)?;
    mark_first_response(conn, &ticket, change.now)?;
    record(
        conn,
        change,
        EventAction::CallbackPromised,
        json!({ "callback_id": row.id, "promised_at": plan.promised_at, "due_at": plan.due_at, "moved": plan.moved }),
    )?;
    let callback = row.into_record(ticket.reference.clone())?;
    Ok((reload(conn, ticket.id)?, callback))
}

/// Completes the earliest open callback of a ticket with a follow-up call; returns it, if any.
pub fn complete_next_callback(
    conn: &mut DbConnection,
    ticket_id: Uuid,
    call_id: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<Uuid>, StorageError> {
    let next: Option<String> = callbacks::table
        .filter(callbacks::ticket_id.eq(ticket_id.to_string()))
        .filter(callbacks::completed_at.is_null())
        .order((callbacks::due_at.asc(), callbacks::id.asc()))
        .select(callbacks::id)
        .first(conn)
        .optional()?;
    let Some(id) = next else { return Ok(None) };
    diesel::update(callbacks::table.find(&id))
        .set((
            callbacks::completed_at.eq(db_time(at)),
            callbacks::completed_by_call_id.eq(call_id.to_string()),
        ))
        .execute(conn)?;
    Ok(Some(parse_uuid("callbacks.id", &id)?))
}

/// A referral to request.
#[derive(Debug, Clone)]
pub struct ReferralRequest {
    /// Kind.
    pub kind: ReferralKind,
    /// Partner for forensic and legal; ignored for police (the prefecture's desk is chosen).
    pub partner_id: Option<Uuid>,
    /// The member's consent.
    pub consent: Consent,
    /// Note to the partner.
    pub note: Option<String>,
}

/// Requests a referral: checks the rules and the partner, escalates the ticket, records it.
pub fn request_referral(
    conn: &mut DbConnection,
    change: &Change,
    request: &ReferralRequest,
) -> Result<(TicketHeader, ReferralRecord, PartnerRecord), ChangeError> {
    let ticket = ticket_queries::lock_for_change(conn, change.ticket_id, change.expected_version)?;
    let category = triage_of(conn, ticket.id)?.map(|record| record.triage.category);
    let first_verification: Option<String> = calls::table
        .filter(calls::ticket_id.eq(ticket.id.to_string()))
        .order((calls::started_at.asc(), calls::id.asc()))
        .select(calls::verification)
        .first(conn)
        .optional()?;
    let context = ReferralContext {
        status: ticket.status,
        category,
        caller_verified: first_verification.as_deref() == Some(VerificationOutcome::Verified.as_str()),
        caller_confirmed: ticket.caller_confirmed_at.is_some(),
    };
    may_refer(request.kind, context)?;
    let status = transition(ticket.status, TicketAction::Escalate, change.role)?;
    let partner = choose_partner(conn, request, &ticket)?;
    let row = ReferralRow {
        id: Uuid::now_v7().to_string(),
        ticket_id: ticket.id.to_string(),
        partner_id: partner.id.to_string(),
        kind: request.kind.as_str().to_owned(),
        status: ReferralStatus::Requested.as_str().to_owned(),
        consent_given_by: request.consent.given_by.as_str().to_owned(),
        consent_name: request.consent.name.as_str().to_owned(),
        consent_given_at: db_time(request.consent.given_at),
        request_note: request.note.clone(),
        requested_at: db_time(change.now),
        requested_by: change.actor.to_string(),
        accepted_at: None,
        completed_at: None,
        ended_at: None,
        last_note: None,
        police_receipt_number: None,
        police_contact: None,
        updated_at: db_time(change.now),
    };
    // The partial unique index allows one open referral per partner; a savepoint keeps the
    // transaction usable on PostgreSQL so the conflict can be reported.
    let inserted = conn.transaction(|conn| diesel::insert_into(referrals::table).values(&row).execute(conn));
    match inserted {
        Ok(_) => {}
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            return Err(ChangeError::DuplicateOpenReferral);
        }
        Err(error) => return Err(error.into()),
    }
    set_status(conn, ticket.id, status)?;
    record(
        conn,
        change,
        EventAction::ReferralRequested,
        json!({
            "referral_id": row.id,
            "kind": request.kind.as_str(),
            "partner_id": partner.id,
            "status": { "before": ticket.status.as_str(), "after": status.as_str() },
            "consent": { "given_by": request.consent.given_by.as_str(), "given_at": request.consent.given_at },
        }),
    )?;
    let referral = row.into_record(partner.name.clone())?;
    Ok((reload(conn, ticket.id)?, referral, partner))
}

fn choose_partner(
    conn: &mut DbConnection,
    request: &ReferralRequest,
    ticket: &TicketHeader,
) -> Result<PartnerRecord, ChangeError> {
    let partner = match request.kind {
        ReferralKind::Police => partners::police_desk(conn, ticket.prefecture)?
            .ok_or_else(|| ChangeError::Partner(PartnerProblem::NoPoliceDesk(ticket.prefecture.code())))?,
        kind => {
            let id = request.partner_id.ok_or(ChangeError::Partner(PartnerProblem::Missing))?;
            let partner =
                partners::get(conn, id)?.ok_or(ChangeError::Partner(PartnerProblem::Unknown(id)))?;
            if partner.kind != kind {
                return Err(ChangeError::Partner(PartnerProblem::WrongKind {
                    partner: partner.kind,
                    referral: kind,
                }));
            }
            if !partner.covers(ticket.prefecture) {
                return Err(ChangeError::Partner(PartnerProblem::NotCovering {
                    partner: partner.name,
                    prefecture: ticket.prefecture.code(),
                }));
            }
            partner
        }
    };
    if !partner.active {
        return Err(ChangeError::Partner(PartnerProblem::Inactive(partner.name)));
    }
    if partner.emails.is_empty() {
        return Err(ChangeError::Partner(PartnerProblem::NoEmail { id: partner.id, name: partner.name }));
    }
    Ok(partner)
}

/// What a partner or the hotline reports about a referral.
#[derive(Debug, Clone, Default)]
pub struct ReferralUpdate {
    /// Note with the change.
    pub note: Option<String>,
    /// 受理番号, when the police accept.
    pub police_receipt_number: Option<String>,
    /// Police contact, when the police accept.
    pub police_contact: Option<String>,
}

/// Moves a referral along its lifecycle (accept, complete, decline, cancel).
pub fn act_on_referral(
    conn: &mut DbConnection,
    change: &Change,
    referral_id: Uuid,
    action: ReferralAction,
    update: &ReferralUpdate,
) -> Result<(TicketHeader, ReferralRecord), ChangeError> {
    let ticket = ticket_queries::lock_for_change(conn, change.ticket_id, change.expected_version)?;
    let current = referral(conn, referral_id)?
        .filter(|r| r.ticket_id == ticket.id)
        .ok_or(ChangeError::ReferralNotFound)?;
    let Some(next) = referral_next(current.status, action) else {
        return Err(ChangeError::ReferralTransition {
            from: current.status,
            action,
            allowed: referral_actions(current.status),
        });
    };
    let now = db_time(change.now);
    let id = referral_id.to_string();
    diesel::update(referrals::table.find(&id))
        .set((
            referrals::status.eq(next.as_str()),
            referrals::last_note.eq(&update.note),
            referrals::updated_at.eq(now),
        ))
        .execute(conn)?;
    match action {
        ReferralAction::Accept => {
            diesel::update(referrals::table.find(&id))
                .set((
                    referrals::accepted_at.eq(now),
                    referrals::police_receipt_number.eq(&update.police_receipt_number),
                    referrals::police_contact.eq(&update.police_contact),
                ))
                .execute(conn)?;
        }
        ReferralAction::Complete => {
            diesel::update(referrals::table.find(&id)).set(referrals::completed_at.eq(now)).execute(conn)?;
        }
        ReferralAction::Decline | ReferralAction::Cancel => {
            diesel::update(referrals::table.find(&id)).set(referrals::ended_at.eq(now)).execute(conn)?;
        }
    }
    let event = match action {
        ReferralAction::Accept => EventAction::ReferralAccepted,
        ReferralAction::Complete => EventAction::ReferralCompleted,
        ReferralAction::Decline => EventAction::ReferralDeclined,
        ReferralAction::Cancel => EventAction::ReferralCancelled,
    };
    record(
        conn,
        change,
        event,
        json!({
            "referral_id": referral_id,
            "status": { "before": current.status.as_str(), "after": next.as_str() },
            "note": update.note,
            "police_receipt_number": update.police_receipt_number,
        }),
    )?;
    let updated = referral(conn, referral_id)?.ok_or(ChangeError::ReferralNotFound)?;
    Ok((reload(conn, ticket.id)?, updated))
}

// ------------------------------------------------------------------------------------------------
// Views

/// Everything shown on one ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct FullTicket {
    /// Columns, calls and repeat-caller links.
    pub detail: ticket_queries::TicketDetail,
    /// Current triage.
    pub triage: Option<TriageRecord>,
    /// Referrals, oldest first.
    pub referrals: Vec<ReferralRecord>,
    /// Callbacks by due time.
    pub callbacks: Vec<CallbackRecord>,
    /// Notes, oldest first.
    pub notes: Vec<NoteRecord>,
    /// Alerts sent or waiting for this ticket, oldest first.
    pub alerts: Vec<crate::queries::outbox::AlertRecord>,
}

/// One ticket with everything on it, in as few statements as the ticket needs: the ticket row comes
/// with one flag per kind of child row (each an index probe), and only the kinds it has are read. A new
/// ticket (calls and repeat-caller links, nothing else yet) takes three statements instead of eight;
/// that is a round trip each on PostgreSQL (docs/benchmarks.md).
pub fn full_ticket(
    conn: &mut DbConnection,
    key: &ticket_queries::TicketKey,
) -> Result<Option<FullTicket>, StorageError> {
    use crate::schema::{outbox, ticket_links};
    use diesel::dsl::exists;
    let query = tickets::table.select((
        ticket_queries::TicketRow::as_select(),
        exists(ticket_links::table.filter(ticket_links::ticket_id.eq(tickets::id))),
        exists(ticket_triage::table.filter(ticket_triage::ticket_id.eq(tickets::id))),
        exists(referrals::table.filter(referrals::ticket_id.eq(tickets::id))),
        exists(callbacks::table.filter(callbacks::ticket_id.eq(tickets::id))),
        exists(ticket_notes::table.filter(ticket_notes::ticket_id.eq(tickets::id))),
        exists(outbox::table.filter(outbox::ticket_id.eq(tickets::id))),
    ));
    type Flagged = (ticket_queries::TicketRow, bool, bool, bool, bool, bool, bool);
    let row: Option<Flagged> = match key {
        ticket_queries::TicketKey::Id(id) => {
            query.filter(tickets::id.eq(id.to_string())).first(conn).optional()?
        }
        ticket_queries::TicketKey::Reference(reference) => {
            query.filter(tickets::reference.eq(reference)).first(conn).optional()?
        }
    };
    let Some((row, links, triage, referrals, callbacks, notes, alerts)) = row else { return Ok(None) };
    let header = row.into_header()?;
    let id = header.id;
    let detail = ticket_queries::TicketDetail {
        possible_repeat_of: if links { ticket_queries::related(conn, id)? } else { Vec::new() },
        calls: crate::queries::calls::of_ticket(conn, id)?,
        header,
    };
    Ok(Some(FullTicket {
        triage: if triage { triage_of(conn, id)? } else { None },
        referrals: if referrals { referrals_of(conn, id)? } else { Vec::new() },
        callbacks: if callbacks { callbacks_of(conn, &detail.header)? } else { Vec::new() },
        notes: if notes { notes_of(conn, id)? } else { Vec::new() },
        alerts: if alerts { crate::queries::outbox::of_ticket(conn, id)? } else { Vec::new() },
        detail,
    }))
}

/// Which tickets a queue shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketFilter {
    /// Only these statuses (empty: all).
    pub statuses: Vec<TicketStatus>,
    /// Only this assignee.
    pub assignee: Option<Uuid>,
    /// Only this priority.
    pub priority: Option<Priority>,
    /// At most this many, oldest first call first.
    pub limit: i64,
}

/// Tickets for a queue, each with its referrals (for SLA clocks).
pub fn list_tickets(
    conn: &mut DbConnection,
    filter: &TicketFilter,
) -> Result<Vec<(TicketHeader, Vec<ReferralRecord>)>, StorageError> {
    let mut query = tickets::table.select(ticket_queries::TicketRow::as_select()).into_boxed();
    if !filter.statuses.is_empty() {
        query = query
            .filter(tickets::status.eq_any(filter.statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>()));
    }
    if let Some(assignee) = filter.assignee {
        query = query.filter(tickets::assignee_token_id.eq(assignee.to_string()));
    }
    if let Some(priority) = filter.priority {
        query = query.filter(tickets::priority.eq(priority.as_str()));
    }
    let rows: Vec<ticket_queries::TicketRow> =
        query.order((tickets::first_call_at.asc(), tickets::id.asc())).limit(filter.limit).load(conn)?;
    let headers: Vec<TicketHeader> =
        rows.into_iter().map(ticket_queries::TicketRow::into_header).collect::<Result<_, _>>()?;
    let ids: Vec<String> = headers.iter().map(|h| h.id.to_string()).collect();
    let mut by_ticket: std::collections::HashMap<Uuid, Vec<ReferralRecord>> =
        std::collections::HashMap::new();
    let rows: Vec<(ReferralRow, String)> = referrals::table
        .inner_join(crate::schema::partners::table)
        .filter(referrals::ticket_id.eq_any(&ids))
        .order((referrals::requested_at.asc(), referrals::id.asc()))
        .select((ReferralRow::as_select(), crate::schema::partners::name))
        .load(conn)?;
    for (row, name) in rows {
        let record = row.into_record(name)?;
        by_ticket.entry(record.ticket_id).or_default().push(record);
    }
    Ok(headers
        .into_iter()
        .map(|h| {
            let r = by_ticket.remove(&h.id).unwrap_or_default();
            (h, r)
        })
        .collect())
}

/// The ticket a referral belongs to.
pub fn ticket_of_referral(conn: &mut DbConnection, referral_id: Uuid) -> Result<Option<Uuid>, StorageError> {
    let ticket: Option<String> =
        referrals::table.find(referral_id.to_string()).select(referrals::ticket_id).first(conn).optional()?;
    ticket.map(|id| parse_uuid("referrals.ticket_id", &id)).transpose()
}
