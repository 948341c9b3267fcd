//! Callbacks (折り返し): promises to call a caller back. A promise outside the service window moves to
//! the next opening and the response says so; due and overdue callbacks form a queue.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, FixedOffset, Utc};
use hotline_domain::callback::plan_callback;
use hotline_domain::text::required_notes;
use hotline_storage::queries::callbacks;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Authorized;
use crate::change::TicketChange;
use crate::extract::JsonRequest;
use crate::precondition::{IfMatch, TicketPath};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::{CallbackList, CallbackView, WithCallback};

/// A promised callback.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromiseRequest {
    /// The time promised to the caller; moved to the next opening when outside the service window.
    due_at: DateTime<FixedOffset>,
    /// Note for whoever calls back, 1–2000 characters.
    #[serde(default)]
    note: Option<String>,
}

impl JsonRequest for PromiseRequest {
    const FREE_TEXT: &'static [&'static str] = &["note"];
}

/// Promise a callback
///
/// A time outside the service window moves to the next opening (`moved`, `moved_reason`). 409
/// `ticket-not-open` on a closed or declined ticket.
#[utoipa::path(
    tag = "callbacks",
    operation_id = "promiseCallback",
    security(("bearer" = ["operator"])),
    params(TicketPath, IfMatch),
    request_body = PromiseRequest,
    responses((status = 201, description = "The ticket and the callback promised.", body = WithCallback,
        headers(("ETag" = String, description = "The new version.")))),
    extensions(("x-problems" = json!(["ticket-not-open"]))),
)]
#[post("/tickets/{id}/callbacks")]
pub async fn promise(
    change: TicketChange<PromiseRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = &change.body;
    let plan = plan_callback(
        &state.schedule,
        body.due_at.with_timezone(&Utc),
        state.clock.now(),
        state.config.max_clock_skew,
    )?;
    let note = body.note.as_deref().map(|n| required_notes("note", n, 2000)).transpose()?;
    change
        .run(
            &state,
            StatusCode::CREATED,
            move |conn, change, _| {
                callbacks::promise_callback(conn, change, &plan, note.as_deref())
                    .map(|(_, callback)| (callback, plan.moved))
            },
            |ticket, (callback, moved), ctx| {
                let mut callback = CallbackView::new(callback, ctx);
                if *moved {
                    callback.moved_reason = Some(
                        "the promised time is outside the service window; the callback is due at the next opening"
                            .to_owned(),
                    );
                }
                WithCallback { ticket, callback }
            },
        )
        .await
}

/// Query of the callback queue.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DueQuery {
    /// Due before this instant (default: now).
    #[serde(default)]
    due_before: Option<DateTime<FixedOffset>>,
    /// At most this many (default 50, at most `api.max_page_size`).
    #[serde(default)]
    limit: Option<i64>,
}

/// Open callbacks due
///
/// Open callbacks due before `due_before` (default: now), earliest first, on tickets that are not
/// closed or declined.
#[utoipa::path(
    tag = "callbacks",
    operation_id = "listDueCallbacks",
    security(("bearer" = ["operator"])),
    params(DueQuery),
    responses((status = 200, description = "The callbacks due.", body = CallbackList)),
)]
#[get("/callbacks")]
pub async fn list_due(
    auth: Authorized,
    query: web::Query<DueQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let before = query.due_before.map_or(now, |at| at.with_timezone(&Utc));
    let limit = crate::extract::page_limit(query.limit, 50, state.config.max_page_size)?;
    let storage = state.storage.clone();
    let due = web::block(move || storage.read(|conn| callbacks::callbacks_due_before(conn, before, limit)))
        .await??;
    let ctx = state.views(auth.actor.role, now);
    Ok(HttpResponse::Ok()
        .json(CallbackList { callbacks: due.iter().map(|c| CallbackView::new(c, &ctx)).collect() }))
}
