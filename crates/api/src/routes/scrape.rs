//! `GET /metrics` for Prometheus (admin token): the request counters and latency histograms the
//! middleware keeps, and the gauges read from the database at each scrape (one read).

use actix_web::{HttpResponse, get, web};
use hotline_storage::queries::reports;

use crate::auth::{Admin, Authorized};
use crate::problem::ApiError;
use crate::state::AppState;

/// Prometheus metrics
///
/// The text exposition format (version 0.0.4): `hotline_http_requests_total{method,route,status}`,
/// `hotline_http_request_duration_seconds{method,route}` (histogram), `hotline_tickets{status}`,
/// `hotline_outbox_alerts{status}`, `hotline_outbox_oldest_pending_age_seconds` and the database pool's
/// `hotline_db_pool_connections`, `hotline_db_pool_idle_connections`, `hotline_db_pool_max_connections`.
/// Routes are labelled by pattern (`/v1/tickets/{id}`), never by path.
#[utoipa::path(
    tag = "meta",
    operation_id = "getMetrics",
    security(("bearer" = ["admin"])),
    responses((status = 200, description = "The metrics.", content_type = "text/plain", body = String)),
)]
#[get("")]
pub async fn metrics(_auth: Authorized<Admin>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let storage = state.storage.clone();
    let gauges = web::block(move || storage.read(reports::gauges)).await??;
    state.metrics.refresh(&gauges, state.storage.pool_usage(), state.clock.now());
    let body = state
        .metrics
        .render()
        .map_err(|error| ApiError::Internal(format!("rendering the metrics: {error}")))?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(body))
}
