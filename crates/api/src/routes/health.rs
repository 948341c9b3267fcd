//! Liveness and readiness for load balancers and the runbook; no token needed, no data revealed.

use actix_web::{HttpResponse, routes, web};

use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::{HealthView, ReadyView};

/// The process is up
///
/// No token. `HEAD` answers the same status and headers without a body.
#[utoipa::path(
    method(get, head),
    tag = "health",
    operation_id = "healthz",
    responses((status = 200, description = "The process is up.", body = HealthView)),
)]
#[routes]
#[get("/healthz")]
#[head("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(HealthView { status: "ok".to_owned() })
}

/// The database answers
///
/// No token. 503 when no connection answers within `database.connect_timeout_seconds`. `HEAD` answers
/// the same status and headers without a body.
#[utoipa::path(
    method(get, head),
    tag = "health",
    operation_id = "readyz",
    responses((status = 200, description = "The database answers.", body = ReadyView)),
)]
#[routes]
#[get("/readyz")]
#[head("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let storage = state.storage.clone();
    web::block(move || storage.ping()).await??;
    Ok(HttpResponse::Ok().json(ReadyView { status: "ready".to_owned() }))
}
