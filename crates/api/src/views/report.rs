//! Supervisors' views across the whole service: a police desk's availability at an instant, the
//! dashboard, and the summary report. Counts and durations only: no personal data.

use chrono::{DateTime, FixedOffset, Utc};
use hotline_domain::office_hours::OfficeHours;
use hotline_domain::prefecture::PrefectureCode;
use hotline_storage::queries::partners::PartnerRecord;
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
