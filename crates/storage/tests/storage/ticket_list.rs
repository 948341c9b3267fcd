//! The ticket list's SQL against the domain's rules, on both backends: over a grid of statuses,
//! priorities, ages, first responses and referrals, `overdue` in SQL is exactly
//! `hotline_domain::clocks::is_overdue` of each ticket, `total` counts them, and the due-time order is
//! the order of the domain's due times (the one dialect-specific expression).

use chrono::{DateTime, Duration, TimeZone, Utc};
use diesel::prelude::*;
use hotline_domain::clocks::{ReferralTimes, TicketTimes, is_overdue};
use hotline_domain::sla::SlaTargets;
use hotline_domain::ticket_list::{SortKey, TicketListFilter, TicketListQuery, TicketSort};
use hotline_storage::queries::records::ReferralRecord;
use hotline_storage::queries::ticket_list::{Clocks, page};
use hotline_storage::queries::tickets::TicketHeader;
use hotline_storage::schema::{partners, referrals, tickets};
use hotline_storage::{DbConnection, Storage, StorageError, db_time};
use uuid::Uuid;

use crate::helpers;

const TOKEN: &str = "01900000-0000-7000-8000-00000000b001";
const PARTNER: &str = "01900000-0000-7000-8000-00000000b002";
const STATUSES: [&str; 7] = ["new", "triaged", "in_progress", "escalated", "resolved", "closed", "declined"];
const PRIORITIES: [Option<&str>; 5] = [None, Some("P1"), Some("P2"), Some("P3"), Some("P4")];
/// Ages of the first call, in minutes: around every target of the default SLA.
const AGES: [i64; 9] = [10, 20, 70, 300, 1500, 4380, 11_520, 21_700, 44_700];

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 3, 0, 0).single().expect("an instant")
}

/// Writes the grid: every status × priority × age, with and without a first response; escalated ones
/// with a referral requested five minutes after the call (accepted for every other age).
fn seed(storage: &Storage) -> usize {
    let now = now();
    storage
        .write(|conn: &mut DbConnection| -> Result<usize, StorageError> {
            helpers::insert_token(conn, TOKEN)?;
            diesel::insert_into(partners::table)
                .values((
                    partners::id.eq(PARTNER),
                    partners::kind.eq("forensic"),
                    partners::name.eq("東京フォレンジック"),
                    partners::emails.eq("[]"),
                    partners::nationwide.eq(true),
                    partners::active.eq(true),
                    partners::created_at.eq(db_time(now)),
                    partners::updated_at.eq(db_time(now)),
                ))
                .execute(conn)?;
            let mut seq = 0_i64;
            for status in STATUSES {
                for priority in PRIORITIES {
                    for (a, age) in AGES.iter().enumerate() {
                        for responded in [false, true] {
                            seq += 1;
                            let id = Uuid::now_v7().to_string();
                            let first_call = now - Duration::minutes(*age);
                            let at = db_time(first_call);
                            let response = responded.then(|| db_time(first_call + Duration::minutes(5)));
                            let resolved = matches!(status, "resolved" | "closed")
                                .then(|| db_time(first_call + Duration::minutes(age / 2)));
                            diesel::insert_into(tickets::table)
                                .values((
                                    tickets::id.eq(&id),
                                    tickets::reference.eq(format!("HL-2026-{seq:06}")),
                                    tickets::ref_year.eq(2026),
                                    tickets::ref_seq.eq(seq),
                                    tickets::status.eq(status),
                                    tickets::version.eq(1_i64),
                                    tickets::prefecture.eq("13"),
                                    tickets::institution_match.eq("x"),
                                    tickets::first_call_at.eq(at),
                                    tickets::summary.eq("s"),
                                    tickets::created_at.eq(at),
                                    tickets::updated_at.eq(at),
                                    tickets::created_by.eq(TOKEN),
                                    tickets::priority.eq(priority),
                                    tickets::first_response_at.eq(response),
                                    tickets::resolved_at.eq(resolved),
                                ))
                                .execute(conn)?;
                            if status == "escalated" {
                                let requested = db_time(first_call + Duration::minutes(5));
                                let accepted =
                                    (a % 2 == 1).then(|| db_time(first_call + Duration::minutes(6)));
                                diesel::insert_into(referrals::table)
                                    .values((
                                        referrals::id.eq(Uuid::now_v7().to_string()),
                                        referrals::ticket_id.eq(&id),
                                        referrals::partner_id.eq(PARTNER),
                                        referrals::kind.eq("forensic"),
                                        referrals::status.eq(if accepted.is_some() {
                                            "accepted"
                                        } else {
                                            "requested"
                                        }),
                                        referrals::consent_given_by.eq("member"),
                                        referrals::consent_name.eq("山田 太郎"),
                                        referrals::consent_given_at.eq(requested),
                                        referrals::requested_at.eq(requested),
                                        referrals::requested_by.eq(TOKEN),
                                        referrals::accepted_at.eq(accepted),
                                        referrals::updated_at.eq(requested),
                                    ))
                                    .execute(conn)?;
                            }
                        }
                    }
                }
            }
            Ok(usize::try_from(seq).unwrap_or(0))
        })
        .expect("seed the grid")
}

/// Every ticket the query lists, following the cursors, and the total of the first page.
fn walk(
    storage: &Storage,
    filter: TicketListFilter,
    sort: TicketSort,
) -> (Vec<(TicketHeader, Vec<ReferralRecord>)>, i64) {
    let targets = SlaTargets::default();
    let clocks = Clocks { targets: &targets, now: now() };
    let mut query = TicketListQuery { filter, sort, cursor: None, limit: 97, total: true };
    let mut rows = Vec::new();
    let mut total = None;
    loop {
        let page = storage.read(|conn| page(conn, &query, clocks)).expect("a page");
        total = total.or(page.total);
        rows.extend(page.rows);
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return (rows, total.expect("a total")),
        }
    }
}

fn domain_overdue(ticket: &TicketHeader, referrals: &[ReferralRecord]) -> bool {
    let times = TicketTimes {
        status: ticket.status,
        priority: ticket.priority,
        first_call_at: ticket.first_call_at,
        first_response_at: ticket.first_response_at,
        resolved_at: ticket.resolved_at,
    };
    let referrals: Vec<ReferralTimes> = referrals
        .iter()
        .map(|r| ReferralTimes {
            status: r.status,
            requested_at: r.requested_at,
            accepted_at: r.accepted_at,
            ended_at: r.ended_at,
        })
        .collect();
    is_overdue(&SlaTargets::default(), &times, &referrals, now())
}

fn overdue_in_sql_is_the_domain_rule_and_due_order_is_the_domain_due_time(storage: &Storage) {
    let count = seed(storage);
    let (all, total) = walk(storage, TicketListFilter::default(), TicketSort::default());
    assert_eq!((all.len(), total), (count, i64::try_from(count).expect("count")));
    let expected: Vec<String> =
        all.iter().filter(|(t, r)| domain_overdue(t, r)).map(|(t, _)| t.reference.clone()).collect();
    assert!(expected.len() > 50 && expected.len() < count - 50, "the grid has both: {}", expected.len());

    let late = TicketListFilter { overdue: Some(true), ..TicketListFilter::default() };
    let (listed, total) = walk(storage, late, TicketSort::default());
    let listed: Vec<String> = listed.into_iter().map(|(t, _)| t.reference).collect();
    assert_eq!(listed, expected);
    assert_eq!(total, i64::try_from(expected.len()).expect("count"));
    let on_time = TicketListFilter { overdue: Some(false), ..TicketListFilter::default() };
    let (others, _) = walk(storage, on_time, TicketSort::default());
    assert_eq!(others.len() + expected.len(), count);
    assert!(others.iter().all(|(t, r)| !domain_overdue(t, r)));

    let targets = SlaTargets::default();
    let due = |ticket: &TicketHeader| {
        let target = targets.for_priority(ticket.priority);
        let ahead =
            if ticket.first_response_at.is_none() { target.first_response } else { target.resolution };
        ticket.first_call_at + ahead
    };
    for descending in [false, true] {
        let (sorted, _) =
            walk(storage, TicketListFilter::default(), TicketSort { key: SortKey::Due, descending });
        assert_eq!(sorted.len(), count);
        let dues: Vec<DateTime<Utc>> = sorted.iter().map(|(t, _)| due(t)).collect();
        let ordered = dues.windows(2).all(|w| if descending { w[0] >= w[1] } else { w[0] <= w[1] });
        assert!(ordered, "due order, descending: {descending}");
    }
    let (by_priority, _) =
        walk(storage, TicketListFilter::default(), TicketSort { key: SortKey::Priority, descending: false });
    let keys: Vec<&str> = by_priority.iter().map(|(t, _)| t.priority.map_or("P0", |p| p.as_str())).collect();
    assert!(keys.windows(2).all(|w| w[0] <= w[1]), "untriaged first, then P1 … P4");
}

#[test]
fn sqlite_overdue_in_sql_is_the_domain_rule_and_due_order_is_the_domain_due_time() {
    overdue_in_sql_is_the_domain_rule_and_due_order_is_the_domain_due_time(&helpers::sqlite().storage);
}

#[test]
fn postgres_overdue_in_sql_is_the_domain_rule_and_due_order_is_the_domain_due_time() {
    if let Some(db) = helpers::postgres() {
        overdue_in_sql_is_the_domain_rule_and_due_order_is_the_domain_due_time(&db.storage);
    }
}
