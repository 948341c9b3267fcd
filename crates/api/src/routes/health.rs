//! Liveness and readiness for load balancers and the runbook; no token needed, no data revealed.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::AppState;
use crate::problem::ApiError;

/// The process is up and serving HTTP.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The database answers; 503 problem+json otherwise, so traffic goes elsewhere.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let storage = state.storage.clone();
    web::block(move || storage.ping()).await??;
    Ok(HttpResponse::Ok().json(json!({ "status": "ready" })))
}
