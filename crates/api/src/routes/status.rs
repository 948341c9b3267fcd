//! Is the hotline open now? Desk software shows it, and operators quote the next opening to callers.

use actix_web::{HttpResponse, get, web};

use crate::auth::Authorized;
use crate::state::AppState;
use crate::time::{WindowView, display_time};
use crate::views::HotlineStatusView;

/// Open or closed now
///
/// Any valid token. The window in force today and the next opening and closing (both strictly after now).
#[utoipa::path(
    tag = "hotline",
    operation_id = "getHotlineStatus",
    security(("bearer" = ["operator"])),
    responses((status = 200, description = "The hotline's state now.", body = HotlineStatusView)),
)]
#[get("/hotline/status")]
pub async fn hotline_status(state: web::Data<AppState>, _auth: Authorized) -> HttpResponse {
    let now = state.clock.now();
    let tz = state.time_zone();
    let status = state.schedule.status(now);
    HttpResponse::Ok().json(HotlineStatusView {
        open: status.open,
        now: display_time(now, tz),
        window: WindowView::new(&status.window, tz),
        next_open: display_time(status.next_open, tz),
        next_close: display_time(status.next_close, tz),
    })
}
