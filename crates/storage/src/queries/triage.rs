//! Triage: category, kind of incident, the facts, and the priority (suggested by the domain,
//! overridden with a reason). An out-of-scope triage declines the ticket.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use hotline_domain::audit::TicketEvent;
use hotline_domain::changes;
use hotline_domain::triage::{Category, IncidentFacts, IncidentKind, Priority, Triage};
use uuid::Uuid;

use crate::columns::{DbCategory, DbIncidentKind, DbOptTime, DbPriority, DbTime, DbUuid};
use crate::queries::change::{self, Change, ChangeError};
use crate::queries::records::TriageRecord;
use crate::queries::tickets::TicketHeader;
use crate::schema::{ticket_triage, tickets};
use crate::{DbConnection, MultiBackend, StorageError};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = ticket_triage)]
#[diesel(check_for_backend(MultiBackend))]
#[diesel(treat_none_as_null = true)]
struct TriageRow {
    #[diesel(deserialize_as = DbUuid, serialize_as = DbUuid)]
    ticket_id: Uuid,
    #[diesel(deserialize_as = DbCategory, serialize_as = DbCategory)]
    category: Category,
    #[diesel(deserialize_as = DbIncidentKind, serialize_as = DbIncidentKind)]
    incident_kind: IncidentKind,
    #[diesel(deserialize_as = DbPriority, serialize_as = DbPriority)]
    suggested_priority: Priority,
    #[diesel(deserialize_as = DbPriority, serialize_as = DbPriority)]
    priority: Priority,
    priority_reason: Option<String>,
    decline_reason: Option<String>,
    #[diesel(deserialize_as = DbOptTime, serialize_as = DbOptTime)]
    detected_at: Option<DateTime<Utc>>,
    #[diesel(deserialize_as = DbOptTime, serialize_as = DbOptTime)]
    occurred_at: Option<DateTime<Utc>>,
    /// JSON list of names.
    systems_affected: String,
    emr_unusable: bool,
    care_suspended: bool,
    personal_data_leaked: bool,
    people_affected: Option<i64>,
    insider_suspected: bool,
    #[diesel(deserialize_as = DbTime, serialize_as = DbTime)]
    triaged_at: DateTime<Utc>,
    #[diesel(deserialize_as = DbUuid, serialize_as = DbUuid)]
    triaged_by: Uuid,
}

impl TriageRow {
    fn new(ticket_id: Uuid, decision: &Triage, at: DateTime<Utc>, by: Uuid) -> Self {
        let facts = &decision.facts;
        TriageRow {
            ticket_id,
            category: decision.category,
            incident_kind: decision.incident_kind,
            suggested_priority: decision.suggested_priority,
            priority: decision.priority,
            priority_reason: decision.priority_reason.clone(),
            decline_reason: decision.decline_reason.clone(),
            detected_at: facts.detected_at,
            occurred_at: facts.occurred_at,
            systems_affected: serde_json::to_string(&facts.systems_affected)
                .unwrap_or_else(|_| "[]".to_owned()),
            emr_unusable: facts.emr_unusable,
            care_suspended: facts.care_suspended,
            personal_data_leaked: facts.personal_data_leaked,
            people_affected: facts.people_affected.and_then(|n| i64::try_from(n).ok()),
            insider_suspected: facts.insider_suspected,
            triaged_at: at,
            triaged_by: by,
        }
    }

    fn into_record(self) -> Result<TriageRecord, StorageError> {
        let systems_affected = serde_json::from_str(&self.systems_affected)
            .map_err(|_| crate::queries::corrupt("ticket_triage.systems_affected", &self.systems_affected))?;
        Ok(TriageRecord {
            triage: Triage {
                category: self.category,
                incident_kind: self.incident_kind,
                facts: IncidentFacts {
                    detected_at: self.detected_at,
                    occurred_at: self.occurred_at,
                    systems_affected,
                    emr_unusable: self.emr_unusable,
                    care_suspended: self.care_suspended,
                    personal_data_leaked: self.personal_data_leaked,
                    people_affected: self.people_affected.and_then(|n| u64::try_from(n).ok()),
                    insider_suspected: self.insider_suspected,
                },
                suggested_priority: self.suggested_priority,
                priority: self.priority,
                priority_reason: self.priority_reason,
                decline_reason: self.decline_reason,
            },
            triaged_at: self.triaged_at,
            triaged_by: self.triaged_by,
        })
    }
}

/// The current triage, if any.
pub fn triage_of(conn: &mut DbConnection, ticket_id: Uuid) -> Result<Option<TriageRecord>, StorageError> {
    ticket_triage::table
        .find(DbUuid(ticket_id))
        .select(TriageRow::as_select())
        .first(conn)
        .optional()?
        .map(TriageRow::into_record)
        .transpose()
}

/// Triages (or re-triages) a ticket; an out-of-scope triage declines it.
pub fn triage(
    conn: &mut DbConnection,
    change: &Change,
    decision: &Triage,
) -> Result<TicketHeader, ChangeError> {
    let ticket = change::lock(conn, change)?;
    let before = triage_of(conn, ticket.id)?;
    let event =
        changes::triage(&change::now_of(&ticket), before.as_ref().map(|b| &b.triage), decision, change.role)?;
    let (TicketEvent::Triaged(triaged) | TicketEvent::DeclinedByTriage(triaged)) = &event else {
        return Err(StorageError::Other("a triage decided something else".into()).into());
    };
    let row = TriageRow::new(ticket.id, decision, change.now, change.actor);
    if before.is_some() {
        diesel::update(ticket_triage::table.find(DbUuid(ticket.id))).set(row).execute(conn)?;
    } else {
        diesel::insert_into(ticket_triage::table).values(row).execute(conn)?;
    }
    diesel::update(tickets::table.find(DbUuid(ticket.id)))
        .set((
            tickets::status.eq(triaged.status.after.as_str()),
            tickets::priority.eq(decision.priority.as_str()),
            tickets::resolution_summary.eq(decision.decline_reason.clone()),
        ))
        .execute(conn)?;
    change::commit(conn, change, &ticket, &event)?;
    change::reload(conn, ticket.id)
}
