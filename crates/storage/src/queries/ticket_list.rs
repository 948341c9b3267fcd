//! The supervisors' ticket list: every filter of [`TicketListQuery`] as SQL (the overdue filter too,
//! from the SLA targets and "now"), keyset pages in a stable order (sort key, then id), an exact count
//! on request, and the extra columns of the CSV export, read a batch at a time.
//!
//! Overdue is judged in SQL exactly as `hotline_domain::clocks::is_overdue` judges one ticket: a ticket
//! clock is late when it is not met and its start lies before `now - target` of the ticket's priority
//! (untriaged: P1), so each priority is one comparison against a bound instant. The due-time sort works
//! in whole seconds since the epoch, the only dialect difference here.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::dsl::{exists, not, sql};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text, Timestamp};
use hotline_domain::referral::ReferralStatus;
use hotline_domain::sla::{SlaTarget, SlaTargets};
use hotline_domain::ticket_list::{AssigneeFilter, SortKey, TicketCursor, TicketListFilter, TicketListQuery};
use hotline_domain::triage::{Category, IncidentKind, Priority};
use hotline_domain::verification::VerificationOutcome;
use uuid::Uuid;

use crate::columns::DbUuid;
use crate::queries::corrupt;
use crate::queries::records::ReferralRecord;
use crate::queries::referrals::referrals_of_tickets;
use crate::queries::tickets::{TicketHeader, TicketRow};
use crate::schema::{calls, institutions, members, referrals, ticket_triage, tickets};
use crate::{DbConnection, MultiBackend, StorageError, db_time};

type Boxed<'a> = tickets::BoxedQuery<'a, MultiBackend>;
type Condition = Box<dyn BoxableExpression<tickets::table, MultiBackend, SqlType = Bool>>;

/// A page of the list.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketPage {
    /// The tickets, each with its referrals (for the SLA clocks).
    pub rows: Vec<(TicketHeader, Vec<ReferralRecord>)>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<TicketCursor>,
    /// Every matching ticket, when asked for.
    pub total: Option<i64>,
}

/// What "late" means at the time of asking.
#[derive(Debug, Clone, Copy)]
pub struct Clocks<'a> {
    /// The SLA targets per priority.
    pub targets: &'a SlaTargets,
    /// The time of asking.
    pub now: DateTime<Utc>,
}

/// Which part of a bucket's SLA target a clock uses.
fn bucket(priority: Priority) -> &'static str {
    match priority {
        Priority::P1 => "COALESCE(tickets.priority, 'P1') = 'P1'",
        Priority::P2 => "COALESCE(tickets.priority, 'P1') = 'P2'",
        Priority::P3 => "COALESCE(tickets.priority, 'P1') = 'P3'",
        Priority::P4 => "COALESCE(tickets.priority, 'P1') = 'P4'",
    }
}

/// `now - target` per priority: a clock that started before it is late.
fn cutoffs(clocks: Clocks<'_>, target: fn(&SlaTarget) -> chrono::Duration) -> [NaiveDateTime; 4] {
    Priority::ALL
        .iter()
        .map(|p| db_time(clocks.now - target(&clocks.targets.for_priority(Some(*p)))))
        .collect::<Vec<_>>()
        .try_into()
        .unwrap_or([db_time(clocks.now); 4])
}

/// The ticket is late now: `hotline_domain::clocks::is_overdue`, in SQL.
fn overdue(clocks: Clocks<'_>) -> Condition {
    let first = cutoffs(clocks, |t| t.first_response);
    let resolution = cutoffs(clocks, |t| t.resolution);
    let referral = cutoffs(clocks, |t| t.referral_acceptance);
    let started_before = |cut: &[NaiveDateTime; 4]| {
        let [p1, p2, p3, p4] = *cut;
        sql::<Bool>(bucket(Priority::P1))
            .and(tickets::first_call_at.lt(p1))
            .or(sql::<Bool>(bucket(Priority::P2)).and(tickets::first_call_at.lt(p2)))
            .or(sql::<Bool>(bucket(Priority::P3)).and(tickets::first_call_at.lt(p3)))
            .or(sql::<Bool>(bucket(Priority::P4)).and(tickets::first_call_at.lt(p4)))
    };
    let [r1, r2, r3, r4] = referral;
    let open: Vec<&str> = ReferralStatus::ALL.iter().filter(|s| s.is_open()).map(|s| s.as_str()).collect();
    let late_referral = exists(
        referrals::table
            .filter(referrals::ticket_id.eq(tickets::id))
            .filter(referrals::status.eq_any(open))
            .filter(referrals::accepted_at.is_null())
            .filter(referrals::ended_at.is_null())
            .filter(
                sql::<Bool>(bucket(Priority::P1))
                    .and(referrals::requested_at.lt(r1))
                    .or(sql::<Bool>(bucket(Priority::P2)).and(referrals::requested_at.lt(r2)))
                    .or(sql::<Bool>(bucket(Priority::P3)).and(referrals::requested_at.lt(r3)))
                    .or(sql::<Bool>(bucket(Priority::P4)).and(referrals::requested_at.lt(r4))),
            ),
    );
    Box::new(
        tickets::status.ne_all(["closed", "declined"]).and(
            tickets::first_response_at
                .is_null()
                .and(started_before(&first))
                .or(tickets::resolved_at.is_null().and(started_before(&resolution)))
                .or(late_referral),
        ),
    )
}

/// The due-time sort key in whole seconds since the epoch: the first-response due time while the
/// ticket has no first response, else the resolution due time (untriaged tickets: P1's targets).
fn due_seconds(targets: &SlaTargets, postgres: bool) -> String {
    let case = |target: fn(&SlaTarget) -> chrono::Duration| {
        let seconds: Vec<i64> =
            Priority::ALL.iter().map(|p| target(&targets.for_priority(Some(*p))).num_seconds()).collect();
        format!(
            "CASE COALESCE(tickets.priority, 'P1') WHEN 'P2' THEN {} WHEN 'P3' THEN {} WHEN 'P4' THEN {} ELSE {} END",
            seconds[1], seconds[2], seconds[3], seconds[0]
        )
    };
    let epoch = if postgres {
        "CAST(FLOOR(EXTRACT(EPOCH FROM tickets.first_call_at)) AS BIGINT)"
    } else {
        "CAST(strftime('%s', tickets.first_call_at) AS INTEGER)"
    };
    format!(
        "({epoch} + CASE WHEN tickets.first_response_at IS NULL THEN {} ELSE {} END)",
        case(|t| t.first_response),
        case(|t| t.resolution)
    )
}

/// The due-time sort key of one row, exactly as [`due_seconds`] computes it in SQL.
fn due_seconds_of(targets: &SlaTargets, ticket: &TicketHeader) -> i64 {
    let target = targets.for_priority(ticket.priority);
    let ahead = if ticket.first_response_at.is_none() { target.first_response } else { target.resolution };
    ticket.first_call_at.timestamp() + ahead.num_seconds()
}

const PRIORITY_KEY: &str = "COALESCE(tickets.priority, 'P0')";

/// The members a history filter names by number (`None`: no such filter). Resolved before the list's own
/// query, so that the planner sees `member_id = …` and walks `(member_id, created_at, id)` in order
/// instead of sorting all of a busy caller's tickets.
fn named_members(
    conn: &mut DbConnection,
    filter: &TicketListFilter,
) -> Result<Option<Vec<String>>, StorageError> {
    if filter.member_number.is_none() && filter.registration_number.is_none() {
        return Ok(None);
    }
    let mut query = members::table.select(members::id).into_boxed::<MultiBackend>();
    if let Some(number) = &filter.member_number {
        query = query.filter(members::member_number.eq(number.as_str().to_owned()));
    }
    if let Some(number) = &filter.registration_number {
        query = query.filter(members::registration_number.eq(number.as_str().to_owned()));
    }
    Ok(Some(query.load::<String>(conn)?))
}

fn filtered<'a>(
    filter: &'a TicketListFilter,
    clocks: Clocks<'_>,
    members: Option<&'a [String]>,
) -> Boxed<'a> {
    let mut query = tickets::table.into_boxed::<MultiBackend>();
    if !filter.statuses.is_empty() {
        query = query
            .filter(tickets::status.eq_any(filter.statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>()));
    }
    if !filter.priorities.is_empty() {
        query = query.filter(
            tickets::priority.eq_any(filter.priorities.iter().map(|p| p.as_str()).collect::<Vec<_>>()),
        );
    }
    if !filter.prefectures.is_empty() {
        query = query.filter(
            tickets::prefecture.eq_any(filter.prefectures.iter().map(|p| p.code()).collect::<Vec<_>>()),
        );
    }
    if !filter.categories.is_empty() {
        let categories: Vec<&str> = filter.categories.iter().map(|c| c.as_str()).collect();
        query = query.filter(
            tickets::id.eq_any(
                ticket_triage::table
                    .select(ticket_triage::ticket_id)
                    .filter(ticket_triage::category.eq_any(categories)),
            ),
        );
    }
    if !filter.incident_kinds.is_empty() {
        let kinds: Vec<&str> = filter.incident_kinds.iter().map(|k| k.as_str()).collect();
        query = query.filter(
            tickets::id.eq_any(
                ticket_triage::table
                    .select(ticket_triage::ticket_id)
                    .filter(ticket_triage::incident_kind.eq_any(kinds)),
            ),
        );
    }
    match &filter.assignee {
        Some(AssigneeFilter::Token(id)) => query = query.filter(tickets::assignee_token_id.eq(DbUuid(*id))),
        Some(AssigneeFilter::Unassigned) => query = query.filter(tickets::assignee_token_id.is_null()),
        None => {}
    }
    match filter.overdue {
        Some(true) => query = query.filter(overdue(clocks)),
        Some(false) => query = query.filter(not(overdue(clocks))),
        None => {}
    }
    if !filter.verifications.is_empty() {
        let outcomes: Vec<&str> = filter.verifications.iter().map(|v| v.as_str()).collect();
        query = query.filter(
            tickets::id.eq_any(
                calls::table
                    .select(calls::ticket_id)
                    .filter(calls::follow_up.eq(false))
                    .filter(calls::verification.eq_any(outcomes)),
            ),
        );
    }
    let kinds: Vec<&str> = filter.referral_kinds.iter().map(|k| k.as_str()).collect();
    let statuses: Vec<&str> = filter.referral_statuses.iter().map(|s| s.as_str()).collect();
    let referred = referrals::table.select(referrals::ticket_id);
    query = match (kinds.is_empty(), statuses.is_empty()) {
        (true, true) => query,
        (false, true) => query.filter(tickets::id.eq_any(referred.filter(referrals::kind.eq_any(kinds)))),
        (true, false) => {
            query.filter(tickets::id.eq_any(referred.filter(referrals::status.eq_any(statuses))))
        }
        (false, false) => query.filter(tickets::id.eq_any(
            referred.filter(referrals::kind.eq_any(kinds)).filter(referrals::status.eq_any(statuses)),
        )),
    };
    if let Some(id) = filter.member_id {
        query = query.filter(tickets::member_id.eq(DbUuid(id)));
    }
    match members {
        // One member (a number is unique): an equality, so that the `(member_id, created_at, id)` index
        // also gives the order (PostgreSQL sorts the rows of `= ANY(…)`, even of one value).
        Some([one]) => query = query.filter(tickets::member_id.eq(one)),
        Some(ids) => query = query.filter(tickets::member_id.eq_any(ids)),
        None => {}
    }
    if let Some(id) = filter.institution_id {
        query = query.filter(tickets::institution_id.eq(DbUuid(id)));
    }
    if let Some(from) = filter.created.from {
        query = query.filter(tickets::created_at.ge(db_time(from)));
    }
    if let Some(to) = filter.created.to {
        query = query.filter(tickets::created_at.lt(db_time(to)));
    }
    if let Some(from) = filter.updated.from {
        query = query.filter(tickets::updated_at.ge(db_time(from)));
    }
    if let Some(to) = filter.updated.to {
        query = query.filter(tickets::updated_at.lt(db_time(to)));
    }
    if let Some(text) = &filter.text {
        query = query.filter(
            sql::<Bool>("tickets.search_text LIKE ")
                .bind::<Text, _>(text.like_pattern.clone())
                .sql(" ESCAPE '\\'"),
        );
    }
    query
}

fn parse_time(value: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f").ok()
}

fn time_key(at: DateTime<Utc>) -> String {
    db_time(at).format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// The cursor value of a row under `key`.
fn key_of(key: SortKey, targets: &SlaTargets, ticket: &TicketHeader) -> String {
    match key {
        SortKey::Created => time_key(ticket.created_at),
        SortKey::Updated => time_key(ticket.updated_at),
        SortKey::Priority => ticket.priority.map_or("P0", |p| p.as_str()).to_owned(),
        SortKey::Due => due_seconds_of(targets, ticket).to_string(),
    }
}

/// Orders by `$expr` then id, and starts after the cursor's row when there is one.
macro_rules! keyset {
    ($query:expr, $expr:expr, $after:expr, $descending:expr) => {{
        let mut query = $query;
        if let Some((value, id)) = $after {
            let id: String = id;
            query = if $descending {
                query.filter($expr.lt(value.clone()).or($expr.eq(value).and(tickets::id.lt(id))))
            } else {
                query.filter($expr.gt(value.clone()).or($expr.eq(value).and(tickets::id.gt(id))))
            };
        }
        if $descending {
            query.order(($expr.desc(), tickets::id.desc()))
        } else {
            query.order(($expr.asc(), tickets::id.asc()))
        }
    }};
}

/// Rows after the cursor of an instant sort as one row value, `(column, id) > (value, id)` (`<`
/// descending): both backends walk their `(column, id)` index from there, where the equivalent `OR` of
/// two conditions makes PostgreSQL read and drop every row before the cursor (a page 10,000 rows deep
/// read 10,000 rows; an export of a million, half a million a batch).
fn after_instant<'a>(
    query: Boxed<'a>,
    column: &str,
    after: Option<(NaiveDateTime, String)>,
    descending: bool,
) -> Boxed<'a> {
    let Some((value, id)) = after else { return query };
    let op = if descending { "<" } else { ">" };
    query.filter(
        sql::<Bool>(&format!("({column}, tickets.id) {op} ("))
            .bind::<Timestamp, _>(value)
            .sql(", ")
            .bind::<Text, _>(id)
            .sql(")"),
    )
}

fn ordered<'a>(
    query: Boxed<'a>,
    list: &TicketListQuery,
    cursor: Option<&TicketCursor>,
    targets: &SlaTargets,
    postgres: bool,
) -> Result<Boxed<'a>, StorageError> {
    let bad = |value: &str| corrupt("cursor", value);
    let id = cursor.map(|c| c.id.to_string());
    let descending = list.sort.descending;
    Ok(match list.sort.key {
        SortKey::Created => {
            let after = match (cursor, id) {
                (Some(c), Some(id)) => Some((parse_time(&c.value).ok_or_else(|| bad(&c.value))?, id)),
                _ => None,
            };
            let query = after_instant(query, "tickets.created_at", after, descending);
            keyset!(query, tickets::created_at, None::<(NaiveDateTime, String)>, descending)
        }
        SortKey::Updated => {
            let after = match (cursor, id) {
                (Some(c), Some(id)) => Some((parse_time(&c.value).ok_or_else(|| bad(&c.value))?, id)),
                _ => None,
            };
            let query = after_instant(query, "tickets.updated_at", after, descending);
            keyset!(query, tickets::updated_at, None::<(NaiveDateTime, String)>, descending)
        }
        SortKey::Priority => {
            let after = match (cursor, id) {
                (Some(c), Some(id)) => Some((c.value.clone(), id)),
                _ => None,
            };
            keyset!(query, sql::<Text>(PRIORITY_KEY), after, descending)
        }
        SortKey::Due => {
            let after = match (cursor, id) {
                (Some(c), Some(id)) => Some((c.value.parse::<i64>().map_err(|_| bad(&c.value))?, id)),
                _ => None,
            };
            let expression = due_seconds(targets, postgres);
            keyset!(query, sql::<BigInt>(&expression), after, descending)
        }
    })
}

/// Up to `limit` tickets after `cursor`, and the cursor after the last of them when more follow.
fn batch(
    conn: &mut DbConnection,
    list: &TicketListQuery,
    cursor: Option<&TicketCursor>,
    limit: i64,
    clocks: Clocks<'_>,
) -> Result<(Vec<TicketHeader>, Option<TicketCursor>), StorageError> {
    let postgres = matches!(conn, DbConnection::Postgresql(_));
    let members = named_members(conn, &list.filter)?;
    let query =
        ordered(filtered(&list.filter, clocks, members.as_deref()), list, cursor, clocks.targets, postgres)?;
    let rows: Vec<TicketRow> = query.select(TicketRow::as_select()).limit(limit + 1).load(conn)?;
    let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    let headers: Vec<TicketHeader> = rows
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(TicketRow::into_header)
        .collect::<Result<_, _>>()?;
    let next = match headers.last() {
        Some(last) if more => Some(TicketCursor {
            sort: list.sort,
            value: key_of(list.sort.key, clocks.targets, last),
            id: last.id,
        }),
        _ => None,
    };
    Ok((headers, next))
}

fn with_referrals(
    conn: &mut DbConnection,
    headers: Vec<TicketHeader>,
) -> Result<Vec<(TicketHeader, Vec<ReferralRecord>)>, StorageError> {
    let mut by_ticket: HashMap<Uuid, Vec<ReferralRecord>> = HashMap::new();
    if !headers.is_empty() {
        for referral in referrals_of_tickets(conn, headers.iter().map(|h| h.id).collect())? {
            by_ticket.entry(referral.ticket_id).or_default().push(referral);
        }
    }
    Ok(headers
        .into_iter()
        .map(|header| {
            let referrals = by_ticket.remove(&header.id).unwrap_or_default();
            (header, referrals)
        })
        .collect())
}

/// One page of the list, with the exact count when the query asks for it.
pub fn page(
    conn: &mut DbConnection,
    list: &TicketListQuery,
    clocks: Clocks<'_>,
) -> Result<TicketPage, StorageError> {
    let (headers, next_cursor) = batch(conn, list, list.cursor.as_ref(), list.limit, clocks)?;
    let rows = with_referrals(conn, headers)?;
    let total = if list.total {
        let members = named_members(conn, &list.filter)?;
        Some(filtered(&list.filter, clocks, members.as_deref()).count().get_result::<i64>(conn)?)
    } else {
        None
    };
    Ok(TicketPage { rows, next_cursor, total })
}

/// The first call of a ticket as the export shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstCall {
    /// Person on the phone.
    pub caller_name: String,
    /// Their role (stored name).
    pub caller_role: String,
    /// Callback number.
    pub callback_phone: String,
    /// Member name as claimed.
    pub member_name: String,
    /// Institution name as claimed.
    pub institution_name: String,
    /// `registration_number` or `member_number`.
    pub identifier_kind: String,
    /// The identifier as given.
    pub identifier_value: String,
    /// Verification outcome.
    pub verification: Option<VerificationOutcome>,
}

/// A row of the CSV export.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRow {
    /// The ticket.
    pub ticket: TicketHeader,
    /// Its referrals (for the SLA clocks).
    pub referrals: Vec<ReferralRecord>,
    /// Triage category and incident kind, once triaged.
    pub triage: Option<(Category, IncidentKind)>,
    /// The registry's name of its institution, when matched.
    pub institution_name: Option<String>,
    /// Its first call.
    pub first_call: Option<FirstCall>,
}

type FirstCallRow = (String, String, String, String, String, String, String, String, String);

/// The next batch of the export after `cursor` (none: from the start), and the cursor after it.
pub fn export_batch(
    conn: &mut DbConnection,
    list: &TicketListQuery,
    cursor: Option<&TicketCursor>,
    size: i64,
    clocks: Clocks<'_>,
) -> Result<(Vec<ExportRow>, Option<TicketCursor>), StorageError> {
    let (headers, next) = batch(conn, list, cursor, size, clocks)?;
    if headers.is_empty() {
        return Ok((Vec::new(), None));
    }
    let ids: Vec<String> = headers.iter().map(|h| h.id.to_string()).collect();
    let institution_ids: Vec<String> =
        headers.iter().filter_map(|h| h.institution_id.map(|i| i.to_string())).collect();
    let triage: HashMap<String, (String, String)> = ticket_triage::table
        .filter(ticket_triage::ticket_id.eq_any(&ids))
        .select((ticket_triage::ticket_id, (ticket_triage::category, ticket_triage::incident_kind)))
        .load::<(String, (String, String))>(conn)?
        .into_iter()
        .collect();
    let names: HashMap<String, String> = institutions::table
        .filter(institutions::id.eq_any(&institution_ids))
        .select((institutions::id, institutions::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let first_calls: HashMap<String, FirstCallRow> = calls::table
        .filter(calls::ticket_id.eq_any(&ids))
        .filter(calls::follow_up.eq(false))
        .select((
            calls::ticket_id,
            calls::caller_name,
            calls::caller_role,
            calls::callback_phone,
            calls::claimed_member_name,
            calls::claimed_institution_name,
            calls::identifier_kind,
            calls::identifier_value,
            calls::verification,
        ))
        .load::<FirstCallRow>(conn)?
        .into_iter()
        .map(|row| (row.0.clone(), row))
        .collect();
    let rows = with_referrals(conn, headers)?
        .into_iter()
        .map(|(ticket, referrals)| {
            let id = ticket.id.to_string();
            let triage = match triage.get(&id) {
                Some((category, kind)) => Some((
                    Category::parse(category).map_err(|_| corrupt("ticket_triage.category", category))?,
                    IncidentKind::parse(kind).map_err(|_| corrupt("ticket_triage.incident_kind", kind))?,
                )),
                None => None,
            };
            let institution_name = ticket.institution_id.and_then(|i| names.get(&i.to_string()).cloned());
            let first_call = first_calls.get(&id).map(|row| FirstCall {
                caller_name: row.1.clone(),
                caller_role: row.2.clone(),
                callback_phone: row.3.clone(),
                member_name: row.4.clone(),
                institution_name: row.5.clone(),
                identifier_kind: row.6.clone(),
                identifier_value: row.7.clone(),
                verification: VerificationOutcome::parse(&row.8),
            });
            Ok(ExportRow { ticket, referrals, triage, institution_name, first_call })
        })
        .collect::<Result<Vec<_>, StorageError>>()?;
    Ok((rows, next))
}
