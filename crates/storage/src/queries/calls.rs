//! Logging a call as the domain verified it: a new ticket with a gap-free reference (or a follow-up on
//! an open one), repeat-caller links and the audit event, all in the caller's transaction.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use hotline_domain::audit::{CallLogged, Change, Opened, TicketEvent};
use hotline_domain::call::NewCall;
use hotline_domain::identifiers::IdentifierKind;
use hotline_domain::person::CallerRole;
use hotline_domain::prefecture::PrefectureCode;
use hotline_domain::text::match_key;
use hotline_domain::ticket::{TicketReference, TicketStatus, repeat_caller_since};
use hotline_domain::verification::{ClaimField, IneligibleReason, Verification, VerificationOutcome};
use uuid::Uuid;

use crate::queries::audit;
use crate::queries::callbacks::complete_next_callback;
use crate::queries::tickets::{self, RelatedTicket, TicketKey, TicketRow};
use crate::queries::{corrupt, parse_opt_uuid, parse_uuid};
use crate::schema::calls;
use crate::{DbConnection, MultiBackend, StorageError, db_time, utc};

/// Everything needed to log one call.
#[derive(Debug, Clone)]
pub struct LogCall {
    /// The parsed call (window already checked).
    pub call: NewCall,
    /// Id for the call row (UUID v7).
    pub call_id: Uuid,
    /// Acting token.
    pub actor: Uuid,
    /// Server time of the request.
    pub now: DateTime<Utc>,
    /// Reference prefix, e.g. `HL`.
    pub reference_prefix: String,
    /// Year a new ticket is numbered in (service time zone).
    pub reference_year: i32,
    /// Look-back for repeat callers.
    pub repeat_caller_days: u32,
}

/// A stored call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// Row id.
    pub id: Uuid,
    /// Its ticket.
    pub ticket_id: Uuid,
    /// Start of the call.
    pub started_at: DateTime<Utc>,
    /// Person on the phone.
    pub caller_name: String,
    /// Their role.
    pub caller_role: CallerRole,
    /// Callback number.
    pub callback_phone: String,
    /// Claimed member name.
    pub member_name: String,
    /// Claimed institution name.
    pub institution_name: String,
    /// Claimed address.
    pub institution_address: String,
    /// Claimed prefecture.
    pub prefecture: PrefectureCode,
    /// Kind of identifier given.
    pub identifier_kind: IdentifierKind,
    /// Its canonical digits.
    pub identifier_value: String,
    /// Summary.
    pub summary: String,
    /// Verification outcome at logging time.
    pub verification: Verification,
    /// True for a follow-up on an existing ticket.
    pub follow_up: bool,
    /// When it was logged.
    pub created_at: DateTime<Utc>,
    /// Who logged it.
    pub created_by: Uuid,
}

/// The ticket part of a logging result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketSummary {
    /// Row id.
    pub id: Uuid,
    /// Reference.
    pub reference: String,
    /// Status.
    pub status: TicketStatus,
    /// Version after the call.
    pub version: i64,
}

/// What logging a call produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedCall {
    /// The call.
    pub call: CallRecord,
    /// Its ticket.
    pub ticket: TicketSummary,
    /// Earlier tickets of the same caller.
    pub possible_repeat_of: Vec<RelatedTicket>,
}

/// Why a call could not be logged.
#[derive(Debug, thiserror::Error)]
pub enum LogCallError {
    /// The follow-up's ticket does not exist.
    #[error("ticket {0} not found")]
    TicketNotFound(Uuid),
    /// The follow-up's ticket takes no calls.
    #[error("ticket is {0:?}")]
    TicketNotOpen(TicketStatus),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = calls)]
#[diesel(check_for_backend(MultiBackend))]
struct CallRow {
    id: String,
    ticket_id: String,
    started_at: NaiveDateTime,
    caller_name: String,
    caller_role: String,
    callback_phone: String,
    claimed_member_name: String,
    claimed_institution_name: String,
    claimed_institution_address: String,
    claimed_prefecture: String,
    identifier_kind: String,
    identifier_value: String,
    summary: String,
    verification: String,
    mismatches: String,
    member_id: Option<String>,
    institution_id: Option<String>,
    follow_up: bool,
    created_at: NaiveDateTime,
    created_by: String,
    ineligible_reason: Option<String>,
}

impl CallRow {
    fn into_record(self) -> Result<CallRecord, StorageError> {
        let outcome = VerificationOutcome::parse(&self.verification)
            .ok_or_else(|| corrupt("calls.verification", &self.verification))?;
        let mismatches = self
            .mismatches
            .split(',')
            .filter(|field| !field.is_empty())
            .map(|field| ClaimField::parse(field).ok_or_else(|| corrupt("calls.mismatches", field)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CallRecord {
            id: parse_uuid("calls.id", &self.id)?,
            ticket_id: parse_uuid("calls.ticket_id", &self.ticket_id)?,
            started_at: utc(self.started_at),
            caller_role: CallerRole::parse(&self.caller_role)
                .map_err(|_| corrupt("calls.caller_role", &self.caller_role))?,
            prefecture: PrefectureCode::parse(&self.claimed_prefecture)
                .map_err(|_| corrupt("calls.claimed_prefecture", &self.claimed_prefecture))?,
            identifier_kind: IdentifierKind::parse(&self.identifier_kind)
                .map_err(|_| corrupt("calls.identifier_kind", &self.identifier_kind))?,
            verification: Verification {
                outcome,
                member_id: parse_opt_uuid("calls.member_id", self.member_id.as_deref())?,
                institution_id: parse_opt_uuid("calls.institution_id", self.institution_id.as_deref())?,
                mismatches,
                ineligible_reason: self
                    .ineligible_reason
                    .as_deref()
                    .map(|reason| {
                        IneligibleReason::parse(reason)
                            .ok_or_else(|| corrupt("calls.ineligible_reason", reason))
                    })
                    .transpose()?,
            },
            created_by: parse_uuid("calls.created_by", &self.created_by)?,
            caller_name: self.caller_name,
            callback_phone: self.callback_phone,
            member_name: self.claimed_member_name,
            institution_name: self.claimed_institution_name,
            institution_address: self.claimed_institution_address,
            identifier_value: self.identifier_value,
            summary: self.summary,
            follow_up: self.follow_up,
            created_at: utc(self.created_at),
        })
    }
}

/// The caller's recent tickets, to flag on a new ticket (a follow-up flags none): read before the
/// write transaction, so neither SQLite's write lock nor PostgreSQL's reference counter waits for it
/// (docs/benchmarks.md); every read inside the transaction then touches a few rows by key.
pub fn recent_for_caller(
    conn: &mut DbConnection,
    command: &LogCall,
    verification: &Verification,
) -> Result<Vec<RelatedTicket>, StorageError> {
    let call = &command.call;
    if call.ticket_id.is_some() {
        return Ok(Vec::new());
    }
    tickets::recent_for_caller(
        conn,
        repeat_caller_since(call.started_at, command.repeat_caller_days),
        call.started_at,
        verification.member_id,
        verification.institution_id,
        &match_key(call.claim.institution_name.as_str()),
        call.claim.prefecture,
    )
}

/// Logs a call in the caller's transaction, verified as the domain judged it, with the caller's recent
/// tickets read before ([`recent_for_caller`]): opens a ticket or follows one up.
pub fn log_call(
    conn: &mut DbConnection,
    command: &LogCall,
    verification: Verification,
    possible_repeat_of: Vec<RelatedTicket>,
) -> Result<LoggedCall, LogCallError> {
    match command.call.ticket_id {
        Some(ticket_id) => follow_up(conn, command, ticket_id, verification),
        None => open_ticket(conn, command, verification, possible_repeat_of),
    }
}

fn follow_up(
    conn: &mut DbConnection,
    command: &LogCall,
    ticket_id: Uuid,
    verification: Verification,
) -> Result<LoggedCall, LogCallError> {
    let ticket = tickets::find_header(conn, &TicketKey::Id(ticket_id))?
        .ok_or(LogCallError::TicketNotFound(ticket_id))?;
    if !ticket.status.accepts_follow_up() {
        return Err(LogCallError::TicketNotOpen(ticket.status));
    }
    let record = insert_call(conn, command, ticket.id, verification, true)?;
    let completed_callback = complete_next_callback(conn, ticket.id, record.id, command.now)?;
    let version = tickets::touch(conn, ticket.id, command.now)?;
    let event = TicketEvent::CallLogged(CallLogged {
        call_id: record.id,
        started_at: record.started_at,
        verification: record.verification.outcome,
        completed_callback,
        version: Change::new(ticket.version, version),
    });
    audit::record(conn, ticket.id, command.actor, command.now, &event)?;
    let possible_repeat_of = tickets::related(conn, ticket.id)?;
    Ok(LoggedCall {
        call: record,
        ticket: TicketSummary { id: ticket.id, reference: ticket.reference, status: ticket.status, version },
        possible_repeat_of,
    })
}

fn open_ticket(
    conn: &mut DbConnection,
    command: &LogCall,
    verification: Verification,
    possible_repeat_of: Vec<RelatedTicket>,
) -> Result<LoggedCall, LogCallError> {
    let call = &command.call;
    let institution_match = match_key(call.claim.institution_name.as_str());
    let seq = tickets::next_seq(conn, command.reference_year)?;
    let reference = TicketReference::new(&command.reference_prefix, command.reference_year, seq)
        .map_err(|error| StorageError::Other(error.detail))?;
    let ticket_id = Uuid::now_v7();
    let now = db_time(command.now);
    let registry_name: Option<String> = match verification.institution_id {
        Some(id) => crate::schema::institutions::table
            .find(id.to_string())
            .select(crate::schema::institutions::name)
            .first(conn)
            .optional()
            .map_err(StorageError::from)?,
        None => None,
    };
    let reference_text = reference.to_string();
    let search_text = hotline_domain::ticket_list::search_text(
        [reference_text.as_str(), call.summary.as_str(), call.claim.institution_name.as_str()]
            .into_iter()
            .chain(registry_name.as_deref()),
    );
    tickets::insert(
        conn,
        &TicketRow {
            id: ticket_id.to_string(),
            reference: reference.to_string(),
            ref_year: reference.year(),
            ref_seq: reference.seq(),
            status: TicketStatus::New.as_str().to_owned(),
            version: 1,
            member_id: verification.member_id.map(|id| id.to_string()),
            institution_id: verification.institution_id.map(|id| id.to_string()),
            prefecture: call.claim.prefecture.code(),
            institution_match,
            first_call_at: db_time(call.started_at),
            summary: call.summary.clone(),
            created_at: now,
            updated_at: now,
            created_by: command.actor.to_string(),
            priority: None,
            assignee_token_id: None,
            first_response_at: None,
            resolved_at: None,
            resolution_summary: None,
            closed_at: None,
            caller_confirmed_at: None,
            caller_confirmed_by: None,
            search_text,
        },
    )?;
    let record = insert_call(conn, command, ticket_id, verification, false)?;
    tickets::link_repeats(conn, ticket_id, &possible_repeat_of)?;
    let event = TicketEvent::Opened(Opened {
        reference: reference.to_string(),
        status: Change::new(None, Some(TicketStatus::New)),
        call_id: record.id,
        verification: record.verification.outcome,
        possible_repeat_of: possible_repeat_of.iter().map(|t| t.reference.clone()).collect(),
    });
    audit::record(conn, ticket_id, command.actor, command.now, &event)?;
    Ok(LoggedCall {
        call: record,
        ticket: TicketSummary {
            id: ticket_id,
            reference: reference.to_string(),
            status: TicketStatus::New,
            version: 1,
        },
        possible_repeat_of,
    })
}

fn insert_call(
    conn: &mut DbConnection,
    command: &LogCall,
    ticket_id: Uuid,
    verification: Verification,
    follow_up: bool,
) -> Result<CallRecord, StorageError> {
    let call = &command.call;
    let row = CallRow {
        id: command.call_id.to_string(),
        ticket_id: ticket_id.to_string(),
        started_at: db_time(call.started_at),
        caller_name: call.caller_name.as_str().to_owned(),
        caller_role: call.caller_role.as_str().to_owned(),
        callback_phone: call.callback_phone.as_str().to_owned(),
        claimed_member_name: call.claim.member_name.as_str().to_owned(),
        claimed_institution_name: call.claim.institution_name.as_str().to_owned(),
        claimed_institution_address: call.claim.institution_address.clone(),
        claimed_prefecture: call.claim.prefecture.code(),
        identifier_kind: call.claim.identifier.kind().as_str().to_owned(),
        identifier_value: call.claim.identifier.value().to_owned(),
        summary: call.summary.clone(),
        verification: verification.outcome.as_str().to_owned(),
        mismatches: verification.mismatches.iter().map(|field| field.as_str()).collect::<Vec<_>>().join(","),
        member_id: verification.member_id.map(|id| id.to_string()),
        institution_id: verification.institution_id.map(|id| id.to_string()),
        follow_up,
        created_at: db_time(command.now),
        created_by: command.actor.to_string(),
        ineligible_reason: verification.ineligible_reason.map(|reason| reason.as_str().to_owned()),
    };
    diesel::insert_into(calls::table).values(&row).execute(conn)?;
    row.into_record()
}

/// One call by id.
pub fn get(conn: &mut DbConnection, id: Uuid) -> Result<Option<CallRecord>, StorageError> {
    calls::table
        .find(id.to_string())
        .select(CallRow::as_select())
        .first(conn)
        .optional()?
        .map(CallRow::into_record)
        .transpose()
}

/// A ticket's calls, oldest first.
pub fn of_ticket(conn: &mut DbConnection, ticket_id: Uuid) -> Result<Vec<CallRecord>, StorageError> {
    calls::table
        .filter(calls::ticket_id.eq(ticket_id.to_string()))
        .order((calls::started_at.asc(), calls::id.asc()))
        .select(CallRow::as_select())
        .load(conn)?
        .into_iter()
        .map(CallRow::into_record)
        .collect()
}
