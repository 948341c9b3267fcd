//! The incident facts of a ticket (cause, dates, reports made) that decide its support payment and its
//! regulatory deadlines. Recording follows the pattern of every ticket change: lock the ticket at the client's version
//! (If-Match), let the domain apply and check the update, write the facts and the deadlines computed from
//! them, bump the version, and append a `facts.recorded` event with the facts before and after.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use hotline_domain::ValidationErrors;
use hotline_domain::audit::{Change as Transition, FactsRecorded, TicketEvent};
use hotline_domain::incident_facts::{CaseFacts, Cause, FactsUpdate, FactsUpdateForm, PersonalDataLeak};
use hotline_domain::regulatory::DeadlinePolicy;
use hotline_domain::support_payment::ClaimRefusal;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::queries::audit;
use crate::queries::change::Change;
use crate::queries::deadlines;
use crate::queries::tickets::{self, LockError, TicketHeader, TicketKey};
use crate::queries::{corrupt, parse_uuid};
use crate::schema::incident_facts;
use crate::{DbConnection, MultiBackend, StorageError, db_time, utc};

/// Why a change to the facts or the claim of a ticket was refused; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// No such ticket.
    #[error("ticket not found")]
    NotFound,
    /// Stale `If-Match`.
    #[error("ticket changed meanwhile (version {current})")]
    VersionMismatch {
        /// Current version.
        current: i64,
    },
    /// The update is invalid; every field error at once.
    #[error("invalid input: {0}")]
    Invalid(ValidationErrors),
    /// The claim rules refused.
    #[error(transparent)]
    Refused(#[from] ClaimRefusal),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<LockError> for CaseError {
    fn from(error: LockError) -> Self {
        match error {
            LockError::NotFound => Self::NotFound,
            LockError::VersionMismatch { current } => Self::VersionMismatch { current },
            LockError::Storage(error) => Self::Storage(error),
        }
    }
}

impl From<diesel::result::Error> for CaseError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Storage(error.into())
    }
}

/// The recorded facts of a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactsRecord {
    /// The facts.
    pub facts: CaseFacts,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Who made it.
    pub updated_by: Uuid,
}

/// The outcome of recording facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactsChange {
    /// The ticket after the change (a new version unless nothing changed).
    pub ticket: TicketHeader,
    /// The facts after the change.
    pub facts: CaseFacts,
    /// Which facts changed; empty when the update repeated what was recorded (then nothing was written
    /// and the version stays).
    pub changed: Vec<&'static str>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = incident_facts)]
#[diesel(check_for_backend(MultiBackend))]
#[diesel(treat_none_as_null = true)]
pub(crate) struct FactsRow {
    pub(crate) ticket_id: String,
    cause: Option<String>,
    personal_data_leak: Option<String>,
    systems_stopped: Option<bool>,
    occurred_at: Option<NaiveDateTime>,
    aware_at: Option<NaiveDateTime>,
    days_closed: Option<i32>,
    mhlw_notified_at: Option<NaiveDateTime>,
    ppc_preliminary_report_at: Option<NaiveDateTime>,
    ppc_final_report_at: Option<NaiveDateTime>,
    victims_notified_at: Option<NaiveDateTime>,
    insider_finding: Option<bool>,
    updated_at: NaiveDateTime,
    updated_by: String,
}

impl FactsRow {
    fn new(ticket_id: Uuid, facts: &CaseFacts, at: DateTime<Utc>, by: Uuid) -> Self {
        FactsRow {
            ticket_id: ticket_id.to_string(),
            cause: facts.cause.map(|c| c.as_str().to_owned()),
            personal_data_leak: facts.personal_data_leak.map(|l| l.as_str().to_owned()),
            systems_stopped: facts.systems_stopped,
            occurred_at: facts.occurred_at.map(db_time),
            aware_at: facts.aware_at.map(db_time),
            days_closed: facts.days_closed.map(i32::from),
            mhlw_notified_at: facts.mhlw_notified_at.map(db_time),
            ppc_preliminary_report_at: facts.ppc_preliminary_report_at.map(db_time),
            ppc_final_report_at: facts.ppc_final_report_at.map(db_time),
            victims_notified_at: facts.victims_notified_at.map(db_time),
            insider_finding: facts.insider_finding,
            updated_at: db_time(at),
            updated_by: by.to_string(),
        }
    }

    pub(crate) fn facts(&self) -> Result<CaseFacts, StorageError> {
        Ok(CaseFacts {
            cause: self
                .cause
                .as_deref()
                .map(|c| Cause::parse(c).map_err(|_| corrupt("incident_facts.cause", c)))
                .transpose()?,
            personal_data_leak: self
                .personal_data_leak
                .as_deref()
                .map(|l| {
                    PersonalDataLeak::parse(l).map_err(|_| corrupt("incident_facts.personal_data_leak", l))
                })
                .transpose()?,
            systems_stopped: self.systems_stopped,
            occurred_at: self.occurred_at.map(utc),
            aware_at: self.aware_at.map(utc),
            days_closed: self
                .days_closed
                .map(|d| u16::try_from(d).map_err(|_| corrupt("incident_facts.days_closed", &d.to_string())))
                .transpose()?,
            mhlw_notified_at: self.mhlw_notified_at.map(utc),
            ppc_preliminary_report_at: self.ppc_preliminary_report_at.map(utc),
            ppc_final_report_at: self.ppc_final_report_at.map(utc),
            victims_notified_at: self.victims_notified_at.map(utc),
            insider_finding: self.insider_finding,
        })
    }

    fn into_record(self) -> Result<FactsRecord, StorageError> {
        Ok(FactsRecord {
            facts: self.facts()?,
            updated_at: utc(self.updated_at),
            updated_by: parse_uuid("incident_facts.updated_by", &self.updated_by)?,
        })
    }
}

/// The recorded facts of a ticket, if any were recorded.
pub fn of_ticket(conn: &mut DbConnection, ticket_id: Uuid) -> Result<Option<FactsRecord>, StorageError> {
    incident_facts::table
        .find(ticket_id.to_string())
        .select(FactsRow::as_select())
        .first(conn)
        .optional()?
        .map(FactsRow::into_record)
        .transpose()
}

/// Every ticket's facts, for recomputing deadlines; `pub(crate)` because it is unbounded.
pub(crate) fn all_rows(conn: &mut DbConnection) -> Result<Vec<FactsRow>, StorageError> {
    Ok(incident_facts::table
        .order(incident_facts::ticket_id.asc())
        .select(FactsRow::as_select())
        .load(conn)?)
}

/// Records an update of the facts (patch semantics: only the named facts change) and rewrites the
/// ticket's regulatory deadlines. An update that changes nothing writes nothing and keeps the version.
/// Allowed on a ticket in any status: reports and payments often come weeks after the ticket closed.
pub fn record(
    conn: &mut DbConnection,
    change: &Change,
    form: &FactsUpdateForm<'_>,
    policy: &DeadlinePolicy,
) -> Result<FactsChange, CaseError> {
    let ticket = match tickets::lock_for_change(conn, change.ticket_id, change.expected_version) {
        Ok(ticket) => ticket,
        // The body is judged before the version, as for every other change: an update no version would
        // take is 422, not 412.
        Err(LockError::VersionMismatch { current }) => {
            let recorded = of_ticket(conn, change.ticket_id)?.map(|record| record.facts).unwrap_or_default();
            FactsUpdate::parse(&recorded, form, change.now).map_err(CaseError::Invalid)?;
            return Err(CaseError::VersionMismatch { current });
        }
        Err(other) => return Err(other.into()),
    };
    let before = of_ticket(conn, ticket.id)?;
    let current = before.as_ref().map(|record| record.facts.clone()).unwrap_or_default();
    let update = FactsUpdate::parse(&current, form, change.now).map_err(CaseError::Invalid)?;
    if update.changed.is_empty() {
        return Ok(FactsChange { ticket, facts: update.facts, changed: Vec::new() });
    }
    let row = FactsRow::new(ticket.id, &update.facts, change.now, change.actor);
    if before.is_some() {
        diesel::update(incident_facts::table.find(&row.ticket_id)).set(&row).execute(conn)?;
    } else {
        diesel::insert_into(incident_facts::table).values(&row).execute(conn)?;
    }
    // Read back what was stored (instants truncated to microseconds), so deadlines and the event
    // describe exactly the stored facts.
    let stored = row.facts()?;
    deadlines::rewrite(conn, ticket.id, ticket.first_call_at, &stored, policy, change.now)?;
    tickets::touch(conn, ticket.id, change.now)?;
    let event = TicketEvent::FactsRecorded(FactsRecorded {
        changed: update.changed.iter().map(|name| (*name).to_owned()).collect(),
        facts: Transition::new(pick(&current, &update.changed), pick(&stored, &update.changed)),
    });
    audit::record(conn, ticket.id, change.actor, change.now, &event)?;
    let ticket = tickets::find_header(conn, &TicketKey::Id(ticket.id))?.ok_or(CaseError::NotFound)?;
    Ok(FactsChange { ticket, facts: stored, changed: update.changed })
}

/// The named facts as JSON, for the audit event.
fn pick(facts: &CaseFacts, names: &[&str]) -> Map<String, Value> {
    let all = serde_json::to_value(facts).unwrap_or(Value::Null);
    names.iter().map(|name| ((*name).to_owned(), all.get(*name).cloned().unwrap_or(Value::Null))).collect()
}

/// Recomputes the deadlines of every ticket with facts under `policy` (after the periods changed in
/// the configuration). Run it in a write transaction; it reads every facts row, a few thousand at most.
pub fn resync_deadlines(
    conn: &mut DbConnection,
    policy: &DeadlinePolicy,
    now: DateTime<Utc>,
) -> Result<deadlines::ResyncReport, StorageError> {
    let rows = all_rows(conn)?;
    let mut report = deadlines::ResyncReport { tickets: rows.len(), changed: 0 };
    for row in rows {
        let ticket_id = parse_uuid("incident_facts.ticket_id", &row.ticket_id)?;
        let first_call: NaiveDateTime = crate::schema::tickets::table
            .find(&row.ticket_id)
            .select(crate::schema::tickets::first_call_at)
            .first(conn)?;
        if deadlines::rewrite(conn, ticket_id, utc(first_call), &row.facts()?, policy, now)? {
            report.changed += 1;
        }
    }
    Ok(report)
}
