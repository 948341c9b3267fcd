//! Aggregates for supervisors: the dashboard's counts, the summary report over a range of JST days, and
//! the gauges of the metrics endpoint. Everything is counted in SQL (`COUNT(*)` with `GROUP BY`), never by
//! loading rows; a percentile is the one duration at its nearest rank (`ORDER BY … LIMIT 1 OFFSET`). Japan
//! has no daylight saving time, so a JST day or hour is the UTC instant shifted by nine hours, written
//! per dialect. Nothing here reads a name, a phone number or a summary.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
use diesel::{Connection, QueryableByName};
use hotline_domain::sla::SlaTargets;
use hotline_domain::triage::Priority;

use crate::{DbConnection, StorageError, db_time, utc};

/// A bound parameter of the raw aggregate queries.
#[derive(Debug, Clone)]
enum Param {
    /// An instant (stored as UTC without a zone).
    Time(NaiveDateTime),
}

/// Runs one aggregate: `sql` written with `$n` parameters (PostgreSQL), which SQLite reads as `?n`.
fn load<R>(conn: &mut DbConnection, sql: &str, params: &[Param]) -> Result<Vec<R>, StorageError>
where
    R: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
{
    Ok(match conn {
        DbConnection::Postgresql(pg) => {
            let mut query = diesel::sql_query(sql).into_boxed::<diesel::pg::Pg>();
            for param in params {
                query = match param {
                    Param::Time(at) => query.bind::<Timestamp, _>(*at),
                };
            }
            query.load::<R>(pg)?
        }
        DbConnection::Sqlite(lite) => {
            let mut query = diesel::sql_query(sql.replace('$', "?")).into_boxed::<diesel::sqlite::Sqlite>();
            for param in params {
                query = match param {
                    Param::Time(at) => query.bind::<Timestamp, _>(*at),
                };
            }
            query.load::<R>(lite)?
        }
    })
}

/// One count.
#[derive(Debug, QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A count under a key.
#[derive(Debug, QueryableByName)]
struct Keyed {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A count under two keys.
#[derive(Debug, QueryableByName)]
struct Keyed2 {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = Nullable<Text>)]
    key2: Option<String>,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Calls or tickets counted under the non-temporal dimensions of the report.
#[derive(Debug, QueryableByName)]
struct Breakdown {
    #[diesel(sql_type = Text)]
    category: String,
    #[diesel(sql_type = Text)]
    incident_kind: String,
    #[diesel(sql_type = Text)]
    prefecture: String,
    #[diesel(sql_type = Text)]
    verification: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// One duration in whole seconds.
#[derive(Debug, QueryableByName)]
struct Seconds {
    #[diesel(sql_type = BigInt)]
    seconds: i64,
}

/// An instant, for the oldest pending alert.
#[derive(Debug, QueryableByName)]
struct Oldest {
    #[diesel(sql_type = Nullable<Timestamp>)]
    at: Option<NaiveDateTime>,
}

fn count(conn: &mut DbConnection, sql: &str, params: &[Param]) -> Result<i64, StorageError> {
    Ok(load::<Count>(conn, sql, params)?.first().map_or(0, |row| row.n))
}

fn is_pg(conn: &DbConnection) -> bool {
    matches!(conn, DbConnection::Postgresql(_))
}

/// The JST date (`YYYY-MM-DD`) of a timestamp column.
fn jst_day(pg: bool, column: &str) -> String {
    if pg {
        format!("to_char({column} + INTERVAL '9 hours', 'YYYY-MM-DD')")
    } else {
        format!("strftime('%Y-%m-%d', {column}, '+9 hours')")
    }
}

/// The JST hour (`00`–`23`) of a timestamp column.
fn jst_hour(pg: bool, column: &str) -> String {
    if pg {
        format!("to_char({column} + INTERVAL '9 hours', 'HH24')")
    } else {
        format!("strftime('%H', {column}, '+9 hours')")
    }
}

/// Whole seconds from `start` to `end` (each instant floored to its second, the same on both backends).
fn seconds_between(pg: bool, start: &str, end: &str) -> String {
    if pg {
        format!("CAST(FLOOR(EXTRACT(EPOCH FROM {end})) - FLOOR(EXTRACT(EPOCH FROM {start})) AS BIGINT)")
    } else {
        format!("CAST(strftime('%s', {end}) AS INTEGER) - CAST(strftime('%s', {start}) AS INTEGER)")
    }
}

/// Ticket statuses still open (all but `closed` and `declined`), listed so that the status index serves.
const OPEN: &str = "('new', 'triaged', 'in_progress', 'escalated', 'resolved')";

/// `CASE` on a ticket's priority (an untriaged ticket counts as P1, as its SLA clock does) choosing one
/// of four bound cutoffs, `$first`…`$first+3` for P1…P4.
fn by_priority(column: &str, first: usize) -> String {
    format!(
        "CASE COALESCE({column}, 'P1') WHEN 'P2' THEN ${} WHEN 'P3' THEN ${} WHEN 'P4' THEN ${} ELSE ${} END",
        first + 1,
        first + 2,
        first + 3,
        first
    )
}

/// The instants before which a clock started is late at `now`, for P1…P4.
fn cutoffs(now: DateTime<Utc>, target: impl Fn(Priority) -> Duration) -> [Param; 4] {
    [Priority::P1, Priority::P2, Priority::P3, Priority::P4].map(|p| Param::Time(db_time(now - target(p))))
}

/// A referral of ticket `t` still waiting for acceptance past its target (the cutoffs bound from `$first`).
fn late_referral(first: usize) -> String {
    format!(
        "r.status IN ('requested', 'accepted') AND r.accepted_at IS NULL AND r.ended_at IS NULL \
         AND r.requested_at < {}",
        by_priority("t.priority", first)
    )
}

/// Open tickets by status, priority (`None`: untriaged) and whether they are assigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenTickets {
    /// Status wire name.
    pub status: String,
    /// Priority wire name, `None` before triage.
    pub priority: Option<String>,
    /// How many.
    pub count: i64,
    /// How many of them nobody is assigned to.
    pub unassigned: i64,
}

/// The dashboard's counts at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardCounts {
    /// Tickets not closed or declined, by status and priority, in stable order.
    pub open_tickets: Vec<OpenTickets>,
    /// Open tickets with a late clock (their own or an open referral's), as the overdue queue has them.
    pub overdue_tickets: i64,
    /// Referrals still waiting for acceptance past their target.
    pub overdue_referrals: i64,
    /// Promised callbacks past due and not completed, on open tickets.
    pub overdue_callbacks: i64,
    /// Calls started in `[day_start, day_end)`.
    pub calls_today: i64,
    /// Alerts whose delivery failed for good.
    pub failed_alerts: i64,
}

/// Counts for the dashboard at `now`; `today` is the JST day as a UTC half-open range.
pub fn dashboard(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    targets: &SlaTargets,
    today: (DateTime<Utc>, DateTime<Utc>),
) -> Result<DashboardCounts, StorageError> {
    // SQLite's statistics hold one average number of rows per status, which makes the few open tickets
    // of a million look like most of them; it is told to count them from the open-ticket index (the
    // statuses, priorities, assignment and clocks are all in it) instead of scanning the table.
    let by_open = if is_pg(conn) { "" } else { "INDEXED BY tickets_open_clocks_idx" };
    let rows: Vec<Keyed2Assigned> = load(
        conn,
        &format!(
            "SELECT status AS key, priority AS key2, \
             SUM(CASE WHEN assignee_token_id IS NULL THEN 1 ELSE 0 END) AS unassigned, COUNT(*) AS n \
             FROM tickets {by_open} WHERE status IN {OPEN} GROUP BY status, priority"
        ),
        &[],
    )?;
    let mut open_tickets: Vec<OpenTickets> = rows
        .into_iter()
        .map(|row| OpenTickets {
            status: row.key,
            priority: row.key2,
            count: row.n,
            unassigned: row.unassigned,
        })
        .collect();
    open_tickets.sort_by(|a, b| (&a.status, &a.priority).cmp(&(&b.status, &b.priority)));
    let fr = cutoffs(now, |p| targets.for_priority(Some(p)).first_response);
    let res = cutoffs(now, |p| targets.for_priority(Some(p)).resolution);
    let acc = cutoffs(now, |p| targets.for_priority(Some(p)).referral_acceptance);
    let overdue_tickets = count(
        conn,
        &format!(
            "SELECT COUNT(*) AS n FROM tickets t {by_open} WHERE t.status IN {OPEN} AND (\
             (t.first_response_at IS NULL AND t.first_call_at < {}) \
             OR (t.resolved_at IS NULL AND t.first_call_at < {}) \
             OR EXISTS (SELECT 1 FROM referrals r WHERE r.ticket_id = t.id AND {}))",
            by_priority("t.priority", 1),
            by_priority("t.priority", 5),
            late_referral(9),
        ),
        &[fr, res, acc.clone()].concat(),
    )?;
    let overdue_referrals = count(
        conn,
        &format!(
            "SELECT COUNT(*) AS n FROM referrals r JOIN tickets t ON t.id = r.ticket_id WHERE {}",
            late_referral(1)
        ),
        &acc,
    )?;
    let overdue_callbacks = count(
        conn,
        &format!(
            "SELECT COUNT(*) AS n FROM callbacks c JOIN tickets t ON t.id = c.ticket_id \
             WHERE c.completed_at IS NULL AND c.due_at < $1 AND t.status IN {OPEN}"
        ),
        &[Param::Time(db_time(now))],
    )?;
    let calls_today = count(
        conn,
        "SELECT COUNT(*) AS n FROM calls WHERE started_at >= $1 AND started_at < $2",
        &[Param::Time(db_time(today.0)), Param::Time(db_time(today.1))],
    )?;
    let failed_alerts = count(conn, "SELECT COUNT(*) AS n FROM outbox WHERE status = 'failed'", &[])?;
    Ok(DashboardCounts {
        open_tickets,
        overdue_tickets,
        overdue_referrals,
        overdue_callbacks,
        calls_today,
        failed_alerts,
    })
}

#[derive(Debug, QueryableByName)]
struct Keyed2Assigned {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = Nullable<Text>)]
    key2: Option<String>,
    #[diesel(sql_type = BigInt)]
    unassigned: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Calls and tickets under one key of the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallsAndTickets {
    /// Calls.
    pub calls: i64,
    /// Tickets opened (by their first call).
    pub tickets: i64,
}

impl CallsAndTickets {
    fn add(&mut self, is_call: bool, n: i64) {
        if is_call {
            self.calls += n;
        } else {
            self.tickets += n;
        }
    }
}

/// The nearest rank of the `p`-th percentile (`p` in 1–100) among `n` sorted values, 1-based: the
/// smallest rank with at least `p`% of the values at or below it; `None` without values.
pub fn nearest_rank(p: u32, n: i64) -> Option<i64> {
    let n = u64::try_from(n).ok().filter(|n| *n > 0)?;
    i64::try_from((u64::from(p) * n).div_ceil(100).clamp(1, n)).ok()
}

/// The distribution of one duration, in whole seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Durations {
    /// How many durations.
    pub count: i64,
    /// The median (nearest rank).
    pub median: Option<i64>,
    /// The 90th percentile (nearest rank).
    pub p90: Option<i64>,
}

/// The summary report's aggregates over a range of JST days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// By JST date, every date of the range.
    pub days: BTreeMap<NaiveDate, CallsAndTickets>,
    /// By JST hour 0–23, every hour.
    pub hours: BTreeMap<u32, CallsAndTickets>,
    /// By the ticket's triage category (`untriaged` before triage).
    pub categories: BTreeMap<String, CallsAndTickets>,
    /// By the ticket's incident kind (`untriaged` before triage).
    pub incident_kinds: BTreeMap<String, CallsAndTickets>,
    /// By the ticket's prefecture.
    pub prefectures: BTreeMap<String, CallsAndTickets>,
    /// Referrals requested in the range, by kind and status now.
    pub referrals: BTreeMap<(String, String), i64>,
    /// Calls by verification outcome.
    pub verification: BTreeMap<String, i64>,
    /// First call → first response, of tickets opened in the range and responded to.
    pub first_response: Durations,
    /// Request → acceptance, of referrals requested in the range and accepted.
    pub referral_acceptance: Durations,
    /// First call → resolution, of tickets opened in the range and resolved.
    pub resolution: Durations,
}

/// The summary of the JST dates `from`–`to` (inclusive); `start` and `end` are 00:00 JST of `from` and
/// of the day after `to`, as UTC.
pub fn summary(
    conn: &mut DbConnection,
    days: (NaiveDate, NaiveDate),
    bounds: (DateTime<Utc>, DateTime<Utc>),
    statement_timeout: std::time::Duration,
) -> Result<Summary, StorageError> {
    // One snapshot for every pass (the counts agree with each other), and on PostgreSQL the report's own
    // statement timeout instead of the general one: a year at national scale takes seconds.
    conn.transaction(|conn| {
        if let DbConnection::Postgresql(pg) = &mut *conn {
            pg.batch_execute(&format!(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET LOCAL statement_timeout = {}",
                statement_timeout.as_millis()
            ))?;
        }
        summary_in(conn, days, bounds)
    })
}

fn summary_in(
    conn: &mut DbConnection,
    (from, to): (NaiveDate, NaiveDate),
    (start, end): (DateTime<Utc>, DateTime<Utc>),
) -> Result<Summary, StorageError> {
    let pg = is_pg(conn);
    let range = [Param::Time(db_time(start)), Param::Time(db_time(end))];
    let mut summary = Summary::default();
    let mut day = from;
    while day <= to {
        summary.days.insert(day, CallsAndTickets::default());
        let Some(next) = day.succ_opt() else { break };
        day = next;
    }
    summary.hours = (0..24).map(|hour| (hour, CallsAndTickets::default())).collect();

    // Two passes a table: the JST day and hour from the instant's index alone, then the triage and the
    // prefecture (and the call's verification) through one join; each dimension is summed from them.
    for (table, at, is_call) in [("calls c", "c.started_at", true), ("tickets t", "t.first_call_at", false)] {
        let (day, hour) = (jst_day(pg, at), jst_hour(pg, at));
        let sql = format!(
            "SELECT {day} AS key, {hour} AS key2, COUNT(*) AS n FROM {table} \
             WHERE {at} >= $1 AND {at} < $2 GROUP BY 1, 2"
        );
        for row in load::<Keyed2>(conn, &sql, &range)? {
            let hour = row.key2.unwrap_or_default();
            summary.cell(Dimension::Day, &row.key)?.add(is_call, row.n);
            summary.cell(Dimension::Hour, &hour)?.add(is_call, row.n);
        }
    }
    let calls_sql = "SELECT COALESCE(tr.category, 'untriaged') AS category, \
         COALESCE(tr.incident_kind, 'untriaged') AS incident_kind, t.prefecture AS prefecture, \
         c.verification AS verification, COUNT(*) AS n \
         FROM calls c JOIN tickets t ON t.id = c.ticket_id LEFT JOIN ticket_triage tr ON tr.ticket_id = t.id \
         WHERE c.started_at >= $1 AND c.started_at < $2 GROUP BY 1, 2, 3, 4";
    let tickets_sql = "SELECT COALESCE(tr.category, 'untriaged') AS category, \
         COALESCE(tr.incident_kind, 'untriaged') AS incident_kind, t.prefecture AS prefecture, \
         '' AS verification, COUNT(*) AS n \
         FROM tickets t LEFT JOIN ticket_triage tr ON tr.ticket_id = t.id \
         WHERE t.first_call_at >= $1 AND t.first_call_at < $2 GROUP BY 1, 2, 3";
    for (sql, is_call) in [(calls_sql, true), (tickets_sql, false)] {
        for row in load::<Breakdown>(conn, sql, &range)? {
            summary.cell(Dimension::Category, &row.category)?.add(is_call, row.n);
            summary.cell(Dimension::IncidentKind, &row.incident_kind)?.add(is_call, row.n);
            summary.cell(Dimension::Prefecture, &row.prefecture)?.add(is_call, row.n);
            if is_call {
                *summary.verification.entry(row.verification).or_default() += row.n;
            }
        }
    }
    let referrals: Vec<Keyed2> = load(
        conn,
        "SELECT kind AS key, status AS key2, COUNT(*) AS n FROM referrals \
         WHERE requested_at >= $1 AND requested_at < $2 GROUP BY kind, status",
        &range,
    )?;
    for row in referrals {
        summary.referrals.insert((row.key, row.key2.unwrap_or_default()), row.n);
    }
    // Counted, then each percentile read at its rank in the sorted durations (the database sorts; only
    // one value per percentile leaves it).
    let durations = |conn: &mut DbConnection, table: &str, start: &str, end: &str, anchor: &str| {
        let seconds = seconds_between(pg, start, end);
        let from = format!("FROM {table} WHERE {anchor} >= $1 AND {anchor} < $2 AND {end} IS NOT NULL");
        let count = count(conn, &format!("SELECT COUNT(*) AS n {from}"), &range)?;
        let mut at = |p: u32| -> Result<Option<i64>, StorageError> {
            let Some(rank) = nearest_rank(p, count) else { return Ok(None) };
            let sql = format!("SELECT {seconds} AS seconds {from} ORDER BY 1 LIMIT 1 OFFSET {}", rank - 1);
            Ok(load::<Seconds>(conn, &sql, &range)?.first().map(|row| row.seconds))
        };
        Ok::<_, StorageError>(Durations { count, median: at(50)?, p90: at(90)? })
    };
    summary.first_response =
        durations(conn, "tickets", "first_call_at", "first_response_at", "first_call_at")?;
    summary.resolution = durations(conn, "tickets", "first_call_at", "resolved_at", "first_call_at")?;
    summary.referral_acceptance =
        durations(conn, "referrals", "requested_at", "accepted_at", "requested_at")?;
    Ok(summary)
}

/// Which breakdown a row of the report belongs to.
#[derive(Debug, Clone, Copy)]
enum Dimension {
    Day,
    Hour,
    Category,
    IncidentKind,
    Prefecture,
}

impl Summary {
    fn cell(&mut self, dimension: Dimension, key: &str) -> Result<&mut CallsAndTickets, StorageError> {
        let bad = || StorageError::Other(format!("unexpected report key {key:?}"));
        Ok(match dimension {
            Dimension::Day => {
                let day = NaiveDate::parse_from_str(key, "%Y-%m-%d").map_err(|_| bad())?;
                self.days.entry(day).or_default()
            }
            Dimension::Hour => self.hours.entry(key.parse().map_err(|_| bad())?).or_default(),
            Dimension::Category => self.categories.entry(key.to_owned()).or_default(),
            Dimension::IncidentKind => self.incident_kinds.entry(key.to_owned()).or_default(),
            Dimension::Prefecture => self.prefectures.entry(key.to_owned()).or_default(),
        })
    }
}

/// The gauges the metrics endpoint refreshes at each scrape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gauges {
    /// Tickets by status (every status that has one).
    pub tickets_by_status: BTreeMap<String, i64>,
    /// Alerts by outbox status.
    pub outbox_by_status: BTreeMap<String, i64>,
    /// When the oldest alert still pending was written.
    pub oldest_pending_alert: Option<DateTime<Utc>>,
}

/// The gauges at this moment.
pub fn gauges(conn: &mut DbConnection) -> Result<Gauges, StorageError> {
    let tickets: Vec<Keyed> =
        load(conn, "SELECT status AS key, COUNT(*) AS n FROM tickets GROUP BY status", &[])?;
    let outbox: Vec<Keyed> =
        load(conn, "SELECT status AS key, COUNT(*) AS n FROM outbox GROUP BY status", &[])?;
    let oldest: Vec<Oldest> =
        load(conn, "SELECT MIN(created_at) AS at FROM outbox WHERE status IN ('pending', 'sending')", &[])?;
    Ok(Gauges {
        tickets_by_status: tickets.into_iter().map(|row| (row.key, row.n)).collect(),
        outbox_by_status: outbox.into_iter().map(|row| (row.key, row.n)).collect(),
        oldest_pending_alert: oldest.into_iter().next().and_then(|row| row.at).map(utc),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_statuses_are_those_that_take_follow_ups() {
        use hotline_domain::ticket::TicketStatus;
        let open: Vec<String> = TicketStatus::ALL
            .into_iter()
            .filter(|status| status.accepts_follow_up())
            .map(|status| format!("'{}'", status.as_str()))
            .collect();
        assert_eq!(OPEN, format!("({})", open.join(", ")));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        assert_eq!(nearest_rank(50, 10), Some(5));
        assert_eq!(nearest_rank(90, 10), Some(9));
        assert_eq!(nearest_rank(100, 10), Some(10));
        assert_eq!(nearest_rank(90, 1), Some(1));
        assert_eq!(nearest_rank(50, 3), Some(2));
        assert_eq!(nearest_rank(50, 4), Some(2));
        assert_eq!(nearest_rank(90, 3), Some(3));
        assert_eq!(nearest_rank(50, 0), None);
    }

    #[test]
    fn cutoffs_choose_the_priority_and_untriaged_counts_as_p1() {
        assert_eq!(
            by_priority("t.priority", 5),
            "CASE COALESCE(t.priority, 'P1') WHEN 'P2' THEN $6 WHEN 'P3' THEN $7 WHEN 'P4' THEN $8 ELSE $5 END"
        );
    }
}
