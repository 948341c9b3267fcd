//! Supervisors' views across the whole service: a police desk's availability at an instant, the
//! dashboard, and the summary report. Counts and durations only: no personal data.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use hotline_domain::office_hours::OfficeHours;
use hotline_domain::prefecture::PrefectureCode;
use hotline_domain::schedule::HotlineStatus;
use hotline_domain::ticket::TicketStatus;
use hotline_storage::queries::partners::PartnerRecord;
use hotline_storage::queries::reports::{DashboardCounts, OpenTickets};
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
