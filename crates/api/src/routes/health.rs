//! Liveness and readiness for load balancers and the runbook; no token needed, no data revealed.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::AppState;
use crate::problem::ApiError;

/// The process is up and serving HTTP.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// How long the readiness check may take: load balancers probe with a one-second timeout.
pub const READINESS_BUDGET: Duration = Duration::from_millis(900);

/// The database can take a write now (SQLite: the file is writable; PostgreSQL: reachable, not a
/// standby, not read-only), answered within [`READINESS_BUDGET`]; 503 problem+json otherwise, so
/// traffic goes elsewhere.
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
    Ok(HttpResponse::Ok().json(json!({ "status": "ready" })))
}
