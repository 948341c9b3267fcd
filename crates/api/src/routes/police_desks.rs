//! When a prefecture's police cyber desk answers: open or closed at any instant, and the next opening
//! (weekday hours, national holidays, the New Year closure, the desk's own hours), so an operator can
//! tell a member on the phone when to call.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use hotline_domain::prefecture::PrefectureCode;
use hotline_storage::queries::partners;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Authorized;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::PoliceDeskAvailabilityView;

/// The prefecture in the path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PrefecturePath {
    /// JIS X 0401 prefecture code, `01`–`47`.
    #[param(example = "27")]
    prefecture: String,
}

/// Query of the availability.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AvailabilityQuery {
    /// The instant asked about, RFC 3339 with an offset; defaults to now.
    #[serde(default)]
    #[param(example = "2026-11-22T20:00:00+09:00")]
    at: Option<String>,
}

/// Reads `at`: an RFC 3339 instant with an offset.
fn instant(input: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(input).map(|at| at.with_timezone(&Utc)).map_err(|_| {
        ApiError::field(
            "at",
            format!("at must be an instant with an offset (2026-11-22T20:00:00+09:00), got {input:?}"),
        )
    })
}

/// A police desk's availability
///
/// Open or closed at `at` (default now) and the next opening after it, in the desk's own hours on top
/// of the `[police]` defaults (the defaults alone when the directory has no desk for the prefecture).
/// An unknown prefecture is 422 naming `prefecture`.
#[utoipa::path(
    tag = "partners",
    operation_id = "getPoliceDeskAvailability",
    security(("bearer" = ["operator"])),
    params(PrefecturePath, AvailabilityQuery),
    responses((status = 200, description = "The desk's availability.", body = PoliceDeskAvailabilityView)),
)]
#[get("/police-desks/{prefecture}/availability")]
pub async fn availability(
    auth: Authorized,
    path: web::Path<PrefecturePath>,
    query: web::Query<AvailabilityQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let prefecture = PrefectureCode::parse(&path.prefecture)?;
    let now = state.clock.now();
    let at = query.at.as_deref().map_or(Ok(now), instant)?;
    let storage = state.storage.clone();
    let desk = web::block(move || storage.read(|conn| partners::police_desk(conn, prefecture))).await??;
    let ctx = state.views(auth.actor.role, now);
    Ok(HttpResponse::Ok().json(PoliceDeskAvailabilityView::new(prefecture, desk.as_ref(), at, &ctx)))
}
