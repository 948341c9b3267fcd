//! Liveness and readiness for load balancers and the runbook; no token needed, no data revealed.

use std::time::Duration;

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

/// How long the readiness check may take: load balancers probe with a one-second timeout.
pub const READINESS_BUDGET: Duration = Duration::from_millis(900);

/// The database can take a write
///
/// No token. SQLite: the file is writable; PostgreSQL: reachable, not a standby, not read-only — answered
/// within 900 ms; 503 otherwise, so traffic goes elsewhere. `HEAD` answers the same status and headers
/// without a body.
#[utoipa::path(
    method(get, head),
    tag = "health",
    operation_id = "readyz",
    responses((status = 200, description = "The database can take a write.", body = ReadyView)),
)]
#[routes]
#[get("/readyz")]
#[head("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let storage = state.storage.clone();
    let checked = web::block(move || storage.check_writable());
    match actix_web::rt::time::timeout(READINESS_BUDGET, checked).await {
        Ok(result) => result??,
        Err(_elapsed) => {
            return Err(ApiError::Unavailable(format!(
                "readiness: the database did not answer within {} ms",
                READINESS_BUDGET.as_millis()
            )));
        }
    }
    Ok(HttpResponse::Ok().json(ReadyView { status: "ready".to_owned() }))
}
