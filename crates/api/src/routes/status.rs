//! Is the hotline open now? Desk software shows it, and operators quote the next opening to callers.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::AppState;
use crate::auth::Actor;
use crate::problem::ApiError;
use crate::time::{display_time, window_json};

/// `GET /v1/hotline/status`: open or closed now, the window in force and the next transitions.
pub async fn hotline_status(state: web::Data<AppState>, _actor: Actor) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let tz = state.time_zone();
    let status = state.schedule.status(now);
    Ok(HttpResponse::Ok().json(json!({
        "open": status.open,
        "now": display_time(now, tz),
        "window": window_json(&status.window, tz),
        "next_open": display_time(status.next_open, tz),
        "next_close": display_time(status.next_close, tz),
    })))
}
