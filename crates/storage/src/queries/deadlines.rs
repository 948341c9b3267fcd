//! Regulatory deadlines (PPC preliminary and final reports, the MHLW report) across tickets.
//!
//! They are computed by the domain (`hotline_domain::regulatory::deadlines`) from a ticket's facts and
//! stored here whenever the facts change ([`rewrite`], in the facts' transaction), so that supervisors
//! can list them across tickets by status and due time with plain indexed queries. The status is never
//! stored: it depends on the time of asking (`due` / `overdue`) and on `done_at`.
//!
//! The periods are configuration; [`resync`] recomputes every stored deadline with the periods in force
//! (the server runs it at start-up), so a changed setting applies to open cases too.
//!
//! The hook for "a deadline fell due" notifications: [`unannounced_due_by`] lists deadlines not done and
//! not yet announced whose due time lies at or before a given instant, and [`mark_announced`] records
//! that one was announced — both inside the transaction that writes the notification (the outbox), so a
//! deadline is announced once. A deadline whose due time moves is announced again. [`announce_due`] does
//! both and appends the `deadline.due` audit event, whose webhooks go out through the outbox.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use hotline_domain::audit::{DeadlineFellDue, TicketEvent};
use hotline_domain::incident_facts::CaseFacts;
use hotline_domain::regulatory::{
    ClockStart, Deadline, DeadlineKind, DeadlinePolicy, DeadlineStatus, deadlines, overdue_cutoff, status_of,
};
use uuid::Uuid;

use crate::queries::audit;
use crate::queries::{corrupt, parse_uuid};
use crate::schema::{regulatory_deadlines, tickets};
use crate::{DbConnection, MultiBackend, StorageError, db_time, utc};

/// A stored deadline, with its status at the time of asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineRecord {
    /// The ticket.
    pub ticket_id: Uuid,
    /// Its reference, for lists.
    pub ticket_reference: String,
    /// Which report.
    pub kind: DeadlineKind,
    /// Awareness, or the first call standing in for it.
    pub clock_start: ClockStart,
    /// The instant the clock starts from.
    pub starts_at: DateTime<Utc>,
    /// Days after the start date.
    pub period_days: u32,
    /// The last day, in Japan.
    pub due_date: NaiveDate,
    /// 23:59:59 JST of the due date.
    pub due_at: DateTime<Utc>,
    /// When the report was made.
    pub done_at: Option<DateTime<Utc>>,
    /// When its falling due was announced (webhook), if it was.
    pub announced_at: Option<DateTime<Utc>>,
    /// `due`, `done` or `overdue` at the time of asking.
    pub status: DeadlineStatus,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = regulatory_deadlines)]
#[diesel(check_for_backend(MultiBackend))]
#[diesel(treat_none_as_null = true)]
struct DeadlineRow {
    ticket_id: String,
    kind: String,
    clock_start: String,
    starts_at: NaiveDateTime,
    period_days: i32,
    due_date: String,
    due_at: NaiveDateTime,
    done_at: Option<NaiveDateTime>,
    announced_at: Option<NaiveDateTime>,
    updated_at: NaiveDateTime,
}

impl DeadlineRow {
    fn new(
        ticket_id: Uuid,
        deadline: &Deadline,
        announced_at: Option<NaiveDateTime>,
        now: DateTime<Utc>,
    ) -> Self {
        DeadlineRow {
            ticket_id: ticket_id.to_string(),
            kind: deadline.kind.as_str().to_owned(),
            clock_start: deadline.clock_start.as_str().to_owned(),
            starts_at: db_time(deadline.starts_at),
            period_days: i32::try_from(deadline.period_days).unwrap_or(i32::MAX),
            due_date: deadline.due_date.to_string(),
            due_at: db_time(deadline.due_at),
            done_at: deadline.done_at.map(db_time),
            announced_at,
            updated_at: db_time(now),
        }
    }

    /// Whether the stored row says the same as a freshly computed one (announcement and time aside).
    fn same_as(&self, other: &DeadlineRow) -> bool {
        (&self.clock_start, self.starts_at, self.period_days, &self.due_date, self.due_at, self.done_at)
            == (
                &other.clock_start,
                other.starts_at,
                other.period_days,
                &other.due_date,
                other.due_at,
                other.done_at,
            )
    }

    fn into_record(
        self,
        ticket_reference: String,
        now: DateTime<Utc>,
    ) -> Result<DeadlineRecord, StorageError> {
        let due_date = NaiveDate::parse_from_str(&self.due_date, "%Y-%m-%d")
            .map_err(|_| corrupt("regulatory_deadlines.due_date", &self.due_date))?;
        let done_at = self.done_at.map(utc);
        Ok(DeadlineRecord {
            ticket_id: parse_uuid("regulatory_deadlines.ticket_id", &self.ticket_id)?,
            ticket_reference,
            kind: DeadlineKind::parse(&self.kind)
                .map_err(|_| corrupt("regulatory_deadlines.kind", &self.kind))?,
            clock_start: ClockStart::parse(&self.clock_start)
                .map_err(|_| corrupt("regulatory_deadlines.clock_start", &self.clock_start))?,
            starts_at: utc(self.starts_at),
            period_days: u32::try_from(self.period_days)
                .map_err(|_| corrupt("regulatory_deadlines.period_days", &self.period_days.to_string()))?,
            due_date,
            due_at: utc(self.due_at),
            done_at,
            announced_at: self.announced_at.map(utc),
            status: status_of(done_at, due_date, now),
        })
    }
}

/// Makes the stored deadlines of a ticket match its facts: adds, updates and removes rows. A deadline
/// whose due time moved loses its announcement, so it is announced again. Returns whether anything
/// changed. Runs in the caller's write transaction (the one that records the facts).
pub fn rewrite(
    conn: &mut DbConnection,
    ticket_id: Uuid,
    first_call_at: DateTime<Utc>,
    facts: &CaseFacts,
    policy: &DeadlinePolicy,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let wanted = deadlines(facts, first_call_at, policy);
    let stored: Vec<DeadlineRow> = regulatory_deadlines::table
        .filter(regulatory_deadlines::ticket_id.eq(ticket_id.to_string()))
        .select(DeadlineRow::as_select())
        .load(conn)?;
    let mut changed = false;
    for kind in DeadlineKind::ALL.iter().copied() {
        let old = stored.iter().find(|row| row.kind == kind.as_str());
        let new = wanted.iter().find(|deadline| deadline.kind == kind);
        match (old, new) {
            (None, None) => {}
            (Some(_), None) => {
                diesel::delete(regulatory_deadlines::table.find((ticket_id.to_string(), kind.as_str())))
                    .execute(conn)?;
                changed = true;
            }
            (None, Some(deadline)) => {
                diesel::insert_into(regulatory_deadlines::table)
                    .values(&DeadlineRow::new(ticket_id, deadline, None, now))
                    .execute(conn)?;
                changed = true;
            }
            (Some(old), Some(deadline)) => {
                let announced = if db_time(deadline.due_at) == old.due_at { old.announced_at } else { None };
                let row = DeadlineRow::new(ticket_id, deadline, announced, now);
                if !old.same_as(&row) {
                    diesel::update(regulatory_deadlines::table.find((ticket_id.to_string(), kind.as_str())))
                        .set(&row)
                        .execute(conn)?;
                    changed = true;
                }
            }
        }
    }
    Ok(changed)
}

/// What [`resync`] did, for the start-up log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResyncReport {
    /// Tickets with facts.
    pub tickets: usize,
    /// Tickets whose deadlines changed.
    pub changed: usize,
}

/// Which deadlines to list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeadlineFilter {
    /// Only deadlines with this status at the time of asking.
    pub status: Option<DeadlineStatus>,
    /// Only deadlines due (23:59:59 JST of the due date) before this instant.
    pub due_before: Option<DateTime<Utc>>,
    /// Only one kind of report.
    pub kind: Option<DeadlineKind>,
}

fn load(
    conn: &mut DbConnection,
    mut query: regulatory_deadlines::BoxedQuery<'_, MultiBackend>,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DeadlineRecord>, StorageError> {
    query = query
        .order((
            regulatory_deadlines::due_at.asc(),
            regulatory_deadlines::ticket_id.asc(),
            regulatory_deadlines::kind.asc(),
        ))
        .limit(limit);
    let rows: Vec<DeadlineRow> = query.select(DeadlineRow::as_select()).load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|row| row.ticket_id.as_str()).collect();
    let references: Vec<(String, String)> = tickets::table
        .filter(tickets::id.eq_any(&ids))
        .select((tickets::id, tickets::reference))
        .load(conn)?;
    rows.into_iter()
        .map(|row| {
            let reference = references
                .iter()
                .find(|(id, _)| *id == row.ticket_id)
                .map(|(_, reference)| reference.clone())
                .ok_or_else(|| corrupt("regulatory_deadlines.ticket_id", &row.ticket_id))?;
            row.into_record(reference, now)
        })
        .collect()
}

/// Deadlines across tickets, earliest due first, with their status at `now`. `overdue` means not done
/// and the due date (in Japan) is before `now`'s date, exactly as `Deadline::status` says.
pub fn list(
    conn: &mut DbConnection,
    filter: &DeadlineFilter,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DeadlineRecord>, StorageError> {
    let mut query = regulatory_deadlines::table.into_boxed::<MultiBackend>();
    let cutoff = db_time(overdue_cutoff(now));
    query = match filter.status {
        None => query,
        Some(DeadlineStatus::Done) => query.filter(regulatory_deadlines::done_at.is_not_null()),
        Some(DeadlineStatus::Overdue) => query
            .filter(regulatory_deadlines::done_at.is_null())
            .filter(regulatory_deadlines::due_at.lt(cutoff)),
        Some(DeadlineStatus::Due) => query
            .filter(regulatory_deadlines::done_at.is_null())
            .filter(regulatory_deadlines::due_at.ge(cutoff)),
    };
    if let Some(before) = filter.due_before {
        query = query.filter(regulatory_deadlines::due_at.lt(db_time(before)));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(regulatory_deadlines::kind.eq(kind.as_str()));
    }
    load(conn, query, now, limit)
}

/// A ticket's stored deadlines, in due order.
pub fn of_ticket(
    conn: &mut DbConnection,
    ticket_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<DeadlineRecord>, StorageError> {
    let query = regulatory_deadlines::table
        .filter(regulatory_deadlines::ticket_id.eq(ticket_id.to_string()))
        .into_boxed::<MultiBackend>();
    load(conn, query, now, i64::try_from(DeadlineKind::ALL.len()).unwrap_or(i64::MAX))
}

/// The hook for "deadline fell due" notifications: deadlines not done and not announced whose due time
/// (23:59:59 JST of the due date) is at or before `due_by`, earliest first. Pass the end of today in
/// Japan (`regulatory::end_of_day`) to announce deadlines on the morning of their last day, or `now` to
/// announce them once they are missed.
pub fn unannounced_due_by(
    conn: &mut DbConnection,
    due_by: DateTime<Utc>,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DeadlineRecord>, StorageError> {
    let query = regulatory_deadlines::table
        .filter(regulatory_deadlines::done_at.is_null())
        .filter(regulatory_deadlines::announced_at.is_null())
        .filter(regulatory_deadlines::due_at.le(db_time(due_by)))
        .into_boxed::<MultiBackend>();
    load(conn, query, now, limit)
}

/// Records that a deadline's falling due was announced; false when there is no such deadline or it was
/// announced already. The condition makes the announcement once-only also when two processes announce at
/// the same time: on PostgreSQL the second update waits for the first transaction and then finds the
/// deadline announced; SQLite runs one writer at a time.
pub fn mark_announced(
    conn: &mut DbConnection,
    ticket_id: Uuid,
    kind: DeadlineKind,
    at: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let updated = diesel::update(
        regulatory_deadlines::table
            .find((ticket_id.to_string(), kind.as_str()))
            .filter(regulatory_deadlines::announced_at.is_null()),
    )
    .set(regulatory_deadlines::announced_at.eq(db_time(at)))
    .execute(conn)?;
    Ok(updated > 0)
}

/// Announces the deadlines that fell due: each one not done and not announced whose due time is at or
/// before `due_by` is marked announced and gets a `deadline.due` event by `actor` on its ticket (the
/// event's webhooks are written with it, by `audit::record`). The event names the report
/// (`kind`), its `due_date` and `due_at`, and whether it was `due` or already `overdue` when announced.
/// Run it in a write transaction; returns the deadlines announced, earliest due first.
pub fn announce_due(
    conn: &mut DbConnection,
    actor: Uuid,
    due_by: DateTime<Utc>,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DeadlineRecord>, StorageError> {
    let mut announced = Vec::new();
    for deadline in unannounced_due_by(conn, due_by, now, limit)? {
        if !mark_announced(conn, deadline.ticket_id, deadline.kind, now)? {
            continue;
        }
        let event = TicketEvent::DeadlineDue(DeadlineFellDue {
            kind: deadline.kind,
            due_date: deadline.due_date,
            due_at: deadline.due_at,
            deadline_status: deadline.status,
        });
        audit::record(conn, deadline.ticket_id, actor, now, &event)?;
        announced.push(DeadlineRecord { announced_at: Some(now), ..deadline });
    }
    Ok(announced)
}
