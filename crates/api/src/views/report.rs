//! Supervisors' views across the whole service: a police desk's availability at an instant, the
//! dashboard, and the summary report. Counts and durations only: no personal data.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use hotline_domain::office_hours::OfficeHours;
use hotline_domain::prefecture::PrefectureCode;
use hotline_domain::schedule::HotlineStatus;
use hotline_domain::ticket::TicketStatus;
use hotline_storage::queries::partners::PartnerRecord;
use hotline_storage::queries::reports::{CallsAndTickets, DashboardCounts, Durations, OpenTickets, Summary};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::context::{PrefectureCodeView, ViewContext};
use super::partner::{OfficeHoursView, office_hours_of};
use crate::state::PoliceFallback;

/// The police desk a prefecture's availability is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeskRef {
    /// The desk's partner id.
    pub partner_id: Uuid,
    /// Its name.
    pub name: String,
    /// Its phone.
    pub phone: Option<String>,
    /// Inactive desks get no new referrals.
    pub active: bool,
}

/// Whether a prefecture's police cyber desk answers at an instant, and when it opens next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PoliceDeskAvailabilityView {
    /// The prefecture, `01`–`47`.
    pub prefecture: PrefectureCodeView,
    /// The instant asked about.
    pub at: DateTime<FixedOffset>,
    /// The desk answers at `at`.
    pub open: bool,
    /// Why it is closed (a holiday's name, the New Year, the weekday, or outside office hours).
    pub closed_reason: Option<String>,
    /// The next opening strictly after `at` (60 days ahead at most); `null` if none.
    pub next_open: Option<DateTime<FixedOffset>>,
    /// The hours applied: the desk's own on top of the `[police]` defaults.
    pub office_hours: OfficeHoursView,
    /// The desk whose hours these are; `null` when the directory has none (the defaults apply).
    pub desk: Option<DeskRef>,
    /// While it is closed: the urgent fallback to give the caller.
    pub urgent_fallback: Option<PoliceFallback>,
}

impl PoliceDeskAvailabilityView {
    /// The availability of `desk` (or of the default hours) at `at`.
    pub fn new(
        prefecture: PrefectureCode,
        desk: Option<&PartnerRecord>,
        at: DateTime<Utc>,
        ctx: &ViewContext<'_>,
    ) -> Self {
        let hours: OfficeHours =
            desk.map_or_else(|| ctx.police_hours.clone(), |desk| office_hours_of(desk, ctx.police_hours));
        let open = hours.is_open(at);
        let day = at.with_timezone(&hours.time_zone).date_naive();
        Self {
            prefecture: prefecture.code(),
            at: ctx.at(at),
            open,
            closed_reason: (!open)
                .then(|| hours.closed_reason(day).unwrap_or_else(|| "outside office hours".to_owned())),
            next_open: ctx.at_opt(hours.next_open_after(at)),
            office_hours: OfficeHoursView::new(&hours),
            desk: desk.map(|desk| DeskRef {
                partner_id: desk.id,
                name: desk.name.clone(),
                phone: desk.phone.clone(),
                active: desk.active,
            }),
            urgent_fallback: (!open).then(|| ctx.police_fallback.clone()),
        }
    }
}

/// The hotline's service window now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HotlineStateView {
    /// Calls are taken now.
    pub open: bool,
    /// The next opening or closing, whichever comes first.
    pub next_change: DateTime<FixedOffset>,
    /// The next opening strictly after now.
    pub next_open: DateTime<FixedOffset>,
    /// The next closing strictly after now.
    pub next_close: DateTime<FixedOffset>,
}

/// Open tickets of one priority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PriorityCountView {
    /// `P1`–`P4`, or `untriaged`.
    pub priority: String,
    /// How many.
    pub count: i64,
}

/// Open tickets of one status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusCountView {
    /// The status.
    pub status: TicketStatus,
    /// How many.
    pub count: i64,
    /// How many of them nobody is assigned to.
    pub unassigned: i64,
    /// By priority: `P1`–`P4` then `untriaged`, every one listed.
    pub by_priority: Vec<PriorityCountView>,
}

/// Tickets not closed or declined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OpenTicketsView {
    /// All of them.
    pub total: i64,
    /// Nobody is assigned.
    pub unassigned: i64,
    /// Priority P1.
    pub p1: i64,
    /// By status, in lifecycle order (`new` … `resolved`), every one listed.
    pub by_status: Vec<StatusCountView>,
}

/// What is late now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OverdueView {
    /// Open tickets with a late SLA clock, theirs or an open referral's (as `GET /v1/tickets?overdue=true`).
    pub tickets: i64,
    /// Referrals waiting for acceptance past their target.
    pub referrals: i64,
    /// Promised callbacks past due on open tickets.
    pub callbacks: i64,
}

/// Calls of the current JST day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CallsTodayView {
    /// The JST date.
    pub date: NaiveDate,
    /// Calls started that day so far.
    pub count: i64,
}

/// Police desks answering now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PoliceDesksOpenView {
    /// How many prefectures have an active desk open now.
    pub count: i64,
    /// Their codes, ascending.
    pub prefectures: Vec<PrefectureCodeView>,
}

/// The supervisors' dashboard: the state of the service at one instant, counts only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DashboardView {
    /// The instant the counts are for.
    pub now: DateTime<FixedOffset>,
    /// The service window.
    pub hotline: HotlineStateView,
    /// Open tickets.
    pub tickets: OpenTicketsView,
    /// Late clocks.
    pub overdue: OverdueView,
    /// Calls today.
    pub calls_today: CallsTodayView,
    /// Alerts whose delivery failed for good (see `GET /v1/notifications?status=failed`).
    pub failed_alerts: i64,
    /// Police desks open now.
    pub police_desks_open: PoliceDesksOpenView,
}

/// The open statuses, in lifecycle order.
fn open_statuses() -> impl Iterator<Item = TicketStatus> {
    TicketStatus::ALL.into_iter().filter(|status| status.accepts_follow_up())
}

impl DashboardView {
    /// The dashboard from the counts, the police desks and the service window at `ctx.now`.
    pub fn new(
        counts: &DashboardCounts,
        desks: &[PartnerRecord],
        hotline: &HotlineStatus,
        today: NaiveDate,
        ctx: &ViewContext<'_>,
    ) -> Self {
        let by_status: Vec<StatusCountView> = open_statuses()
            .map(|status| {
                let rows: Vec<&OpenTickets> =
                    counts.open_tickets.iter().filter(|row| row.status == status.as_str()).collect();
                let of = |priority: Option<&str>| {
                    rows.iter().filter(|row| row.priority.as_deref() == priority).map(|row| row.count).sum()
                };
                let mut by_priority: Vec<PriorityCountView> = ["P1", "P2", "P3", "P4"]
                    .into_iter()
                    .map(|p| PriorityCountView { priority: p.to_owned(), count: of(Some(p)) })
                    .collect();
                by_priority.push(PriorityCountView { priority: "untriaged".to_owned(), count: of(None) });
                StatusCountView {
                    status,
                    count: rows.iter().map(|row| row.count).sum(),
                    unassigned: rows.iter().map(|row| row.unassigned).sum(),
                    by_priority,
                }
            })
            .collect();
        let mut open: Vec<PrefectureCodeView> = desks
            .iter()
            .filter(|desk| desk.active && office_hours_of(desk, ctx.police_hours).is_open(ctx.now))
            .flat_map(|desk| desk.prefectures.iter().map(|p| p.code()))
            .collect();
        open.sort();
        open.dedup();
        Self {
            now: ctx.at(ctx.now),
            hotline: HotlineStateView {
                open: hotline.open,
                next_change: ctx.at(if hotline.open { hotline.next_close } else { hotline.next_open }),
                next_open: ctx.at(hotline.next_open),
                next_close: ctx.at(hotline.next_close),
            },
            tickets: OpenTicketsView {
                total: by_status.iter().map(|s| s.count).sum(),
                unassigned: by_status.iter().map(|s| s.unassigned).sum(),
                p1: by_status
                    .iter()
                    .flat_map(|s| &s.by_priority)
                    .filter(|p| p.priority == "P1")
                    .map(|p| p.count)
                    .sum(),
                by_status,
            },
            overdue: OverdueView {
                tickets: counts.overdue_tickets,
                referrals: counts.overdue_referrals,
                callbacks: counts.overdue_callbacks,
            },
            calls_today: CallsTodayView { date: today, count: counts.calls_today },
            failed_alerts: counts.failed_alerts,
            police_desks_open: PoliceDesksOpenView {
                count: i64::try_from(open.len()).unwrap_or(i64::MAX),
                prefectures: open,
            },
        }
    }
}

/// The range a report covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReportRangeView {
    /// First JST date, inclusive.
    pub from: NaiveDate,
    /// Last JST date, inclusive.
    pub to: NaiveDate,
    /// Number of days.
    pub days: i64,
    /// Zone the days and hours are counted in.
    #[schema(examples("Asia/Tokyo"))]
    pub time_zone: String,
}

/// Calls and tickets under one key of a breakdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BreakdownRowView {
    /// The key: a JST date, a JST hour `00`–`23`, a category, an incident kind (`untriaged` before
    /// triage) or a prefecture code.
    pub key: String,
    /// Calls started in it.
    pub calls: i64,
    /// Tickets whose first call started in it.
    pub tickets: i64,
}

/// Referrals of one kind with one outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReferralCountView {
    /// `forensic`, `legal` or `police`.
    pub kind: String,
    /// The referral's status now: `requested`, `accepted`, `completed`, `declined` or `cancelled`.
    pub outcome: String,
    /// How many.
    pub count: i64,
}

/// Calls with one verification outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OutcomeCountView {
    /// The outcome.
    pub outcome: String,
    /// How many calls.
    pub count: i64,
}

/// The distribution of one duration, in whole seconds (nearest-rank percentiles).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DurationStatsView {
    /// How many durations.
    pub count: i64,
    /// Median; `null` without durations.
    pub median_seconds: Option<i64>,
    /// 90th percentile; `null` without durations.
    pub p90_seconds: Option<i64>,
}

impl DurationStatsView {
    fn new(durations: &Durations) -> Self {
        Self { count: durations.count, median_seconds: durations.median, p90_seconds: durations.p90 }
    }
}

/// The durations the report measures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DurationsView {
    /// From a ticket's first call to its first response, for tickets opened in the range.
    pub first_response: DurationStatsView,
    /// From a referral's request to its acceptance, for referrals requested in the range.
    pub referral_acceptance: DurationStatsView,
    /// From a ticket's first call to its resolution, for tickets opened in the range and resolved.
    pub resolution: DurationStatsView,
}

/// Totals of the range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReportTotalsView {
    /// Calls.
    pub calls: i64,
    /// Tickets opened.
    pub tickets: i64,
}

/// The summary report over a range of JST days: counts and durations only, every list in a stable
/// order (so two runs over the same data compare byte for byte).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SummaryReportView {
    /// The range.
    pub range: ReportRangeView,
    /// Totals.
    pub totals: ReportTotalsView,
    /// Every JST date of the range, ascending.
    pub by_day: Vec<BreakdownRowView>,
    /// Every JST hour `00`–`23`.
    pub by_hour: Vec<BreakdownRowView>,
    /// By the ticket's category, ascending (only those present).
    pub by_category: Vec<BreakdownRowView>,
    /// By the ticket's incident kind, ascending (only those present).
    pub by_incident_kind: Vec<BreakdownRowView>,
    /// By the ticket's prefecture code, ascending (only those present).
    pub by_prefecture: Vec<BreakdownRowView>,
    /// Referrals requested in the range by kind and outcome, ascending.
    pub referrals: Vec<ReferralCountView>,
    /// Calls by verification outcome, ascending.
    pub verification: Vec<OutcomeCountView>,
    /// Durations.
    pub durations: DurationsView,
}

fn rows<K: ToString>(map: &std::collections::BTreeMap<K, CallsAndTickets>) -> Vec<BreakdownRowView> {
    map.iter()
        .map(|(key, cell)| BreakdownRowView {
            key: key.to_string(),
            calls: cell.calls,
            tickets: cell.tickets,
        })
        .collect()
}

impl SummaryReportView {
    /// The report from the aggregates.
    pub fn new(summary: &Summary, from: NaiveDate, to: NaiveDate, tz: chrono_tz::Tz) -> Self {
        let by_day = rows(&summary.days);
        let by_hour = summary
            .hours
            .iter()
            .map(|(hour, cell)| BreakdownRowView {
                key: format!("{hour:02}"),
                calls: cell.calls,
                tickets: cell.tickets,
            })
            .collect();
        Self {
            range: ReportRangeView {
                from,
                to,
                days: (to - from).num_days() + 1,
                time_zone: tz.name().to_owned(),
            },
            totals: ReportTotalsView {
                calls: by_day.iter().map(|row| row.calls).sum(),
                tickets: by_day.iter().map(|row| row.tickets).sum(),
            },
            by_day,
            by_hour,
            by_category: rows(&summary.categories),
            by_incident_kind: rows(&summary.incident_kinds),
            by_prefecture: rows(&summary.prefectures),
            referrals: summary
                .referrals
                .iter()
                .map(|((kind, outcome), count)| ReferralCountView {
                    kind: kind.clone(),
                    outcome: outcome.clone(),
                    count: *count,
                })
                .collect(),
            verification: summary
                .verification
                .iter()
                .map(|(outcome, count)| OutcomeCountView { outcome: outcome.clone(), count: *count })
                .collect(),
            durations: DurationsView {
                first_response: DurationStatsView::new(&summary.first_response),
                referral_acceptance: DurationStatsView::new(&summary.referral_acceptance),
                resolution: DurationStatsView::new(&summary.resolution),
            },
        }
    }

    /// The report as CSV (UTF-8 with a byte-order mark, for spreadsheets): one value per line,
    /// `section,key,metric,value`, in the order of the JSON.
    pub fn to_csv(&self) -> Result<Vec<u8>, csv::Error> {
        let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
        out.write_record(["section", "key", "metric", "value"])?;
        let range = &self.range;
        for (metric, value) in [
            ("from", range.from.to_string()),
            ("to", range.to.to_string()),
            ("days", range.days.to_string()),
            ("time_zone", range.time_zone.clone()),
        ] {
            out.write_record(["range", "", metric, &value])?;
        }
        out.write_record(["totals", "", "calls", &self.totals.calls.to_string()])?;
        out.write_record(["totals", "", "tickets", &self.totals.tickets.to_string()])?;
        for (section, rows) in [
            ("day", &self.by_day),
            ("hour", &self.by_hour),
            ("category", &self.by_category),
            ("incident_kind", &self.by_incident_kind),
            ("prefecture", &self.by_prefecture),
        ] {
            for row in rows {
                out.write_record([section, &row.key, "calls", &row.calls.to_string()])?;
                out.write_record([section, &row.key, "tickets", &row.tickets.to_string()])?;
            }
        }
        for row in &self.referrals {
            out.write_record([
                "referrals",
                &format!("{}/{}", row.kind, row.outcome),
                "count",
                &row.count.to_string(),
            ])?;
        }
        for row in &self.verification {
            out.write_record(["verification", &row.outcome, "count", &row.count.to_string()])?;
        }
        let d = &self.durations;
        for (section, stats) in [
            ("first_response", &d.first_response),
            ("referral_acceptance", &d.referral_acceptance),
            ("resolution", &d.resolution),
        ] {
            let opt = |value: Option<i64>| value.map(|v| v.to_string()).unwrap_or_default();
            out.write_record([section, "", "count", &stats.count.to_string()])?;
            out.write_record([section, "", "median_seconds", &opt(stats.median_seconds)])?;
            out.write_record([section, "", "p90_seconds", &opt(stats.p90_seconds)])?;
        }
        out.into_inner().map_err(|error| csv::Error::from(error.into_error()))
    }
}
