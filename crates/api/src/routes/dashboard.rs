//! The supervisors' dashboard: the state of the whole service at one glance, counted in the database
//! (one read, a handful of aggregate queries), so it stays quick at national scale.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use hotline_domain::referral::ReferralKind;
use hotline_storage::queries::{partners, reports};

use crate::auth::{Authorized, Supervisor};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::DashboardView;

/// 00:00 of a local date, as UTC (the earliest such instant if the zone repeats it).
fn midnight(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let naive = date.and_time(NaiveTime::MIN);
    naive.and_local_timezone(tz).earliest().map_or_else(|| naive.and_utc(), |at| at.with_timezone(&Utc))
}

/// The dashboard
///
/// The hotline's window now and its next change; open tickets (not closed or declined) by status and
/// priority, unassigned and P1; overdue tickets (as the overdue queue has them), referrals waiting for
/// acceptance past target and callbacks past due; calls of the current JST day; failed alerts; and the
/// prefectures whose active police desk is open now. Counts only, no personal data.
#[utoipa::path(
    tag = "reports",
    operation_id = "getDashboard",
    security(("bearer" = ["supervisor"])),
    responses((status = 200, description = "The dashboard.", body = DashboardView)),
)]
#[get("/dashboard")]
pub async fn dashboard(
    auth: Authorized<Supervisor>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (now, tz) = (state.clock.now(), state.time_zone());
    let today = now.with_timezone(&tz).date_naive();
    let day = (midnight(today, tz), midnight(today.checked_add_days(Days::new(1)).unwrap_or(today), tz));
    let (storage, targets) = (state.storage.clone(), state.config.sla);
    let (counts, desks) = web::block(move || {
        storage.read(|conn| {
            let counts = reports::dashboard(conn, now, &targets, day)?;
            Ok((counts, partners::list(conn, Some(ReferralKind::Police), None)?))
        })
    })
    .await??;
    let ctx = state.views(auth.actor.role, now);
    let view = DashboardView::new(&counts, &desks, &state.schedule.status(now), today, &ctx);
    Ok(HttpResponse::Ok().json(view))
}
