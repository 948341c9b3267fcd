//! Tickets' own rows: gap-free yearly references, lookup by id or reference, the version lock of a
//! change, and repeat-caller links.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer};
use hotline_domain::prefecture::PrefectureCode;
use hotline_domain::ticket::TicketStatus;
use hotline_domain::triage::Priority;
use uuid::Uuid;

use crate::queries::{corrupt, parse_opt_uuid, parse_uuid};
use crate::schema::{ticket_links, tickets};
use crate::{DbConnection, MultiBackend, StorageError, db_time, utc};

/// How a ticket is named in a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketKey {
    /// By row id.
    Id(Uuid),
    /// By reference, e.g. `HL-2026-000123`.
    Reference(String),
}

/// The ticket's own columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketHeader {
    /// Row id.
    pub id: Uuid,
    /// Human reference.
    pub reference: String,
    /// Status.
    pub status: TicketStatus,
    /// Optimistic-concurrency version, bumped by every change.
    pub version: i64,
    /// Registry member matched on the first call.
    pub member_id: Option<Uuid>,
    /// Registry institution matched on the first call.
    pub institution_id: Option<Uuid>,
    /// Prefecture of the institution (as claimed).
    pub prefecture: PrefectureCode,
    /// Start of the first call.
    pub first_call_at: DateTime<Utc>,
    /// Summary of the first call.
    pub summary: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Token that opened it.
    pub created_by: Uuid,
    /// Applied priority (set by triage).
    pub priority: Option<Priority>,
    /// Token working the ticket.
    pub assignee: Option<Uuid>,
    /// First action after the first call (triage, decline, note).
    pub first_response_at: Option<DateTime<Utc>>,
    /// When it was resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// How it was resolved.
    pub resolution_summary: Option<String>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// When a supervisor confirmed an unverified caller.
    pub caller_confirmed_at: Option<DateTime<Utc>>,
    /// Who confirmed the caller.
    pub caller_confirmed_by: Option<Uuid>,
}

/// An earlier ticket of the same caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelatedTicket {
    /// Row id.
    pub id: Uuid,
    /// Reference.
    pub reference: String,
    /// Its status now.
    pub status: TicketStatus,
    /// Start of its first call.
    pub first_call_at: DateTime<Utc>,
    /// What matched: `member`, `institution` or `institution_name`.
    pub matched_on: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tickets)]
#[diesel(check_for_backend(MultiBackend))]
pub(crate) struct TicketRow {
    pub(crate) id: String,
    pub(crate) reference: String,
    pub(crate) ref_year: i32,
    pub(crate) ref_seq: i64,
    pub(crate) status: String,
    pub(crate) version: i64,
    pub(crate) member_id: Option<String>,
    pub(crate) institution_id: Option<String>,
    pub(crate) prefecture: String,
    pub(crate) institution_match: String,
    pub(crate) first_call_at: NaiveDateTime,
    pub(crate) summary: String,
    pub(crate) created_at: NaiveDateTime,
    pub(crate) updated_at: NaiveDateTime,
    pub(crate) created_by: String,
    pub(crate) priority: Option<String>,
    pub(crate) assignee_token_id: Option<String>,
    pub(crate) first_response_at: Option<NaiveDateTime>,
    pub(crate) resolved_at: Option<NaiveDateTime>,
    pub(crate) resolution_summary: Option<String>,
    pub(crate) closed_at: Option<NaiveDateTime>,
    pub(crate) caller_confirmed_at: Option<NaiveDateTime>,
    pub(crate) caller_confirmed_by: Option<String>,
    pub(crate) search_text: String,
}

impl TicketRow {
    pub(crate) fn into_header(self) -> Result<TicketHeader, StorageError> {
        Ok(TicketHeader {
            id: parse_uuid("tickets.id", &self.id)?,
            status: TicketStatus::parse(&self.status).map_err(|_| corrupt("tickets.status", &self.status))?,
            member_id: parse_opt_uuid("tickets.member_id", self.member_id.as_deref())?,
            institution_id: parse_opt_uuid("tickets.institution_id", self.institution_id.as_deref())?,
            prefecture: PrefectureCode::parse(&self.prefecture)
                .map_err(|_| corrupt("tickets.prefecture", &self.prefecture))?,
            created_by: parse_uuid("tickets.created_by", &self.created_by)?,
            priority: self
                .priority
                .as_deref()
                .map(|p| Priority::parse(p).map_err(|_| corrupt("tickets.priority", p)))
                .transpose()?,
            assignee: parse_opt_uuid("tickets.assignee_token_id", self.assignee_token_id.as_deref())?,
            first_response_at: self.first_response_at.map(utc),
            resolved_at: self.resolved_at.map(utc),
            resolution_summary: self.resolution_summary,
            closed_at: self.closed_at.map(utc),
            caller_confirmed_at: self.caller_confirmed_at.map(utc),
            caller_confirmed_by: parse_opt_uuid(
                "tickets.caller_confirmed_by",
                self.caller_confirmed_by.as_deref(),
            )?,
            reference: self.reference,
            version: self.version,
            first_call_at: utc(self.first_call_at),
            summary: self.summary,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        })
    }
}

#[derive(QueryableByName)]
struct NextSeq {
    #[diesel(sql_type = BigInt)]
    last_seq: i64,
}

/// Takes the next number of `year` in the caller's transaction. The counter row is upserted and
/// locked until commit, so concurrent tickets get consecutive numbers and a rolled-back ticket gives
/// its number back: references have no gaps. Dialects differ only in placeholders.
pub fn next_seq(conn: &mut DbConnection, year: i32) -> Result<i64, StorageError> {
    const UPSERT: &str = "INSERT INTO ticket_counters (year, last_seq) VALUES (#, 1) \
         ON CONFLICT (year) DO UPDATE SET last_seq = ticket_counters.last_seq + 1 RETURNING last_seq";
    let next = match conn {
        DbConnection::Postgresql(pg) => {
            diesel::sql_query(UPSERT.replace('#', "$1")).bind::<Integer, _>(year).get_result::<NextSeq>(pg)?
        }
        DbConnection::Sqlite(lite) => diesel::sql_query(UPSERT.replace('#', "?"))
            .bind::<Integer, _>(year)
            .get_result::<NextSeq>(lite)?,
    };
    Ok(next.last_seq)
}

/// Inserts a new ticket row.
pub(crate) fn insert(conn: &mut DbConnection, row: &TicketRow) -> Result<(), StorageError> {
    diesel::insert_into(tickets::table).values(row).execute(conn)?;
    Ok(())
}

/// Marks a ticket changed: bumps its version and `updated_at`.
pub(crate) fn touch(conn: &mut DbConnection, id: Uuid, at: DateTime<Utc>) -> Result<i64, StorageError> {
    diesel::update(tickets::table.find(id.to_string()))
        .set((tickets::version.eq(tickets::version + 1), tickets::updated_at.eq(db_time(at))))
        .execute(conn)?;
    Ok(tickets::table.find(id.to_string()).select(tickets::version).first(conn)?)
}

/// Why a change to a ticket was refused before anything was written.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// No such ticket.
    #[error("ticket not found")]
    NotFound,
    /// The client's `If-Match` version is not the current one.
    #[error("ticket changed meanwhile: version is {current}")]
    VersionMismatch {
        /// The current version, for the client to reload.
        current: i64,
    },
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Reads a ticket for a change in the caller's write transaction and checks the client's version.
/// PostgreSQL locks the row (`FOR UPDATE`); SQLite already holds the database write lock
/// (`BEGIN IMMEDIATE`), so concurrent changes are serialised on both and the loser sees a mismatch.
pub fn lock_for_change(
    conn: &mut DbConnection,
    id: Uuid,
    expected_version: i64,
) -> Result<TicketHeader, LockError> {
    let key = id.to_string();
    // `as_select` fixes its backend, so each arm builds its own query.
    let row = match conn {
        DbConnection::Postgresql(pg) => tickets::table
            .filter(tickets::id.eq(&key))
            .select(TicketRow::as_select())
            .for_update()
            .first(pg)
            .optional(),
        DbConnection::Sqlite(lite) => {
            tickets::table.filter(tickets::id.eq(&key)).select(TicketRow::as_select()).first(lite).optional()
        }
    }
    .map_err(StorageError::from)?;
    let header = row.ok_or(LockError::NotFound)?.into_header()?;
    if header.version != expected_version {
        return Err(LockError::VersionMismatch { current: header.version });
    }
    Ok(header)
}

/// The ticket's own columns, by id or reference.
pub fn find_header(conn: &mut DbConnection, key: &TicketKey) -> Result<Option<TicketHeader>, StorageError> {
    let query = tickets::table.select(TicketRow::as_select());
    let row = match key {
        TicketKey::Id(id) => query.filter(tickets::id.eq(id.to_string())).first(conn).optional()?,
        TicketKey::Reference(reference) => {
            query.filter(tickets::reference.eq(reference)).first(conn).optional()?
        }
    };
    row.map(TicketRow::into_header).transpose()
}

/// At most this many earlier tickets are flagged on a new one.
pub const REPEAT_CALLER_LIMIT: usize = 20;

/// The repeat-caller look-up: three branches, each a range scan of its own index (migration
/// `2026-12-01-000011_repeat_caller_indexes`) newest first and stopped after the rows it returns, so
/// it reads at most 3 × 20 rows however many tickets the caller has (SQLite always plans it so;
/// PostgreSQL's planner may instead walk the `first_call_at` index backwards and skip other callers'
/// tickets when it estimates that cheaper: see docs/benchmarks.md). `$1`..`$6`: member, institution,
/// claimed institution name, since, until, prefecture (SQLite reads `?n` the same way).
const RECENT_FOR_CALLER: &str = "\
    SELECT id, reference, status, first_call_at, 0 AS branch FROM (\
        SELECT id, reference, status, first_call_at FROM tickets \
        WHERE member_id = $1 AND first_call_at >= $4 AND first_call_at <= $5 \
        ORDER BY first_call_at DESC, id DESC LIMIT 20) AS by_member \
    UNION ALL SELECT id, reference, status, first_call_at, 1 FROM (\
        SELECT id, reference, status, first_call_at FROM tickets \
        WHERE institution_id = $2 AND first_call_at >= $4 AND first_call_at <= $5 \
        ORDER BY first_call_at DESC, id DESC LIMIT 20) AS by_institution \
    UNION ALL SELECT id, reference, status, first_call_at, 2 FROM (\
        SELECT id, reference, status, first_call_at FROM tickets \
        WHERE institution_match = $3 AND prefecture = $6 AND first_call_at >= $4 AND first_call_at <= $5 \
        ORDER BY first_call_at DESC, id DESC LIMIT 20) AS by_name";

#[derive(QueryableByName)]
struct RecentRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    reference: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    status: String,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    first_call_at: NaiveDateTime,
    #[diesel(sql_type = Integer)]
    branch: i32,
}

/// Tickets of the same caller whose first call lies between `since` and `until`, newest first, at
/// most [`REPEAT_CALLER_LIMIT`]: same registry member, same registry institution, or the same claimed
/// institution name in the same prefecture (for callers the registry does not know). A ticket found
/// by several branches is reported as matched by the first (member, institution, name).
pub fn recent_for_caller(
    conn: &mut DbConnection,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    member_id: Option<Uuid>,
    institution_id: Option<Uuid>,
    institution_match: &str,
    prefecture: PrefectureCode,
) -> Result<Vec<RelatedTicket>, StorageError> {
    use diesel::sql_types::{Nullable, Text, Timestamp};
    let member = member_id.map(|id| id.to_string());
    let institution = institution_id.map(|id| id.to_string());
    let (since, until) = (db_time(since), db_time(until));
    let rows: Vec<RecentRow> = match conn {
        DbConnection::Postgresql(pg) => diesel::sql_query(RECENT_FOR_CALLER)
            .bind::<Nullable<Text>, _>(member)
            .bind::<Nullable<Text>, _>(institution)
            .bind::<Text, _>(institution_match)
            .bind::<Timestamp, _>(since)
            .bind::<Timestamp, _>(until)
            .bind::<Text, _>(prefecture.code())
            .load(pg)?,
        DbConnection::Sqlite(lite) => diesel::sql_query(RECENT_FOR_CALLER.replace('$', "?"))
            .bind::<Nullable<Text>, _>(member)
            .bind::<Nullable<Text>, _>(institution)
            .bind::<Text, _>(institution_match)
            .bind::<Timestamp, _>(since)
            .bind::<Timestamp, _>(until)
            .bind::<Text, _>(prefecture.code())
            .load(lite)?,
    };
    let mut best: std::collections::HashMap<String, RecentRow> = std::collections::HashMap::new();
    for row in rows {
        match best.get(&row.id) {
            Some(seen) if seen.branch <= row.branch => {}
            _ => {
                best.insert(row.id.clone(), row);
            }
        }
    }
    let mut rows: Vec<RecentRow> = best.into_values().collect();
    rows.sort_by(|a, b| b.first_call_at.cmp(&a.first_call_at).then_with(|| b.id.cmp(&a.id)));
    rows.truncate(REPEAT_CALLER_LIMIT);
    rows.into_iter()
        .map(|row| {
            Ok(RelatedTicket {
                id: parse_uuid("tickets.id", &row.id)?,
                status: TicketStatus::parse(&row.status)
                    .map_err(|_| corrupt("tickets.status", &row.status))?,
                reference: row.reference,
                first_call_at: utc(row.first_call_at),
                matched_on: match row.branch {
                    0 => "member",
                    1 => "institution",
                    _ => "institution_name",
                }
                .to_owned(),
            })
        })
        .collect()
}

/// Records that `ticket_id` may repeat each of `related`, in one statement: a new ticket is written
/// while its year's reference counter is locked, so every round trip saved shortens the wait of the
/// next call (docs/benchmarks.md). Multi-row INSERT does not compile through the multi-connection, so
/// each dialect gets its arm.
pub(crate) fn link_repeats(
    conn: &mut DbConnection,
    ticket_id: Uuid,
    related: &[RelatedTicket],
) -> Result<(), StorageError> {
    if related.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = related
        .iter()
        .map(|other| {
            (
                ticket_links::ticket_id.eq(ticket_id.to_string()),
                ticket_links::related_ticket_id.eq(other.id.to_string()),
                ticket_links::reason.eq(format!("possible_repeat:{}", other.matched_on)),
            )
        })
        .collect();
    match conn {
        DbConnection::Postgresql(pg) => diesel::insert_into(ticket_links::table).values(&rows).execute(pg)?,
        DbConnection::Sqlite(lite) => diesel::insert_into(ticket_links::table).values(&rows).execute(lite)?,
    };
    Ok(())
}

/// Earlier tickets flagged on this one (only the columns shown: a new ticket has up to 20). The links
/// are read by the ticket's key, then their tickets by theirs, and sorted here. As one join, PostgreSQL
/// chose from its statistics: ordered by `first_call_at` it walked every ticket in that order looking
/// for the linked ones, unordered it hashed a scan of every ticket when the statistics (taken at start)
/// put hundreds of links on a ticket; both grew with the table (docs/benchmarks.md, the issue-12 runs).
/// Two key look-ups cannot go wrong that way.
pub fn related(conn: &mut DbConnection, ticket_id: Uuid) -> Result<Vec<RelatedTicket>, StorageError> {
    let links: HashMap<String, String> = ticket_links::table
        .filter(ticket_links::ticket_id.eq(ticket_id.to_string()))
        .select((ticket_links::related_ticket_id, ticket_links::reason))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    if links.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, String, String, NaiveDateTime)> = tickets::table
        .filter(tickets::id.eq_any(links.keys()))
        .select((tickets::id, tickets::reference, tickets::status, tickets::first_call_at))
        .load(conn)?;
    let mut related = rows
        .into_iter()
        .map(|(id, reference, status, first_call_at)| {
            let reason = links.get(&id).map_or("", String::as_str);
            Ok(RelatedTicket {
                id: parse_uuid("tickets.id", &id)?,
                status: TicketStatus::parse(&status).map_err(|_| corrupt("tickets.status", &status))?,
                reference,
                first_call_at: utc(first_call_at),
                matched_on: reason.strip_prefix("possible_repeat:").unwrap_or(reason).to_owned(),
            })
        })
        .collect::<Result<Vec<_>, StorageError>>()?;
    related.sort_by(|a, b| b.first_call_at.cmp(&a.first_call_at).then_with(|| b.reference.cmp(&a.reference)));
    Ok(related)
}
