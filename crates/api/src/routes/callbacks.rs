//! Callbacks (折り返し): promises to call a caller back. A promise outside the service window moves to
//! the next opening and the response says so; due and overdue callbacks form a queue.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use hotline_domain::callback::plan_callback;
use hotline_domain::role::Role;
use hotline_domain::text::required_notes;
use hotline_storage::queries::lifecycle::{self, CallbackRecord};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Actor;
use crate::extract::{RequestBody, json_body};
use crate::problem::ApiError;
use crate::routes::tickets::{run_change, ticket_id};
use crate::time::display_time;

/// A callback as clients see it.
pub(crate) fn callback_json(callback: &CallbackRecord, tz: Tz, now: DateTime<Utc>) -> Value {
    json!({
        "id": callback.id,
        "ticket_id": callback.ticket_id,
        "ticket_reference": callback.ticket_reference,
        "promised_at": display_time(callback.promised_at, tz),
        "due_at": display_time(callback.due_at, tz),
        "moved": callback.due_at != callback.promised_at,
        "note": callback.note,
        "created_at": display_time(callback.created_at, tz),
        "created_by": callback.created_by,
        "completed_at": callback.completed_at.map(|at| display_time(at, tz)),
        "completed_by_call_id": callback.completed_by_call_id,
        "overdue": callback.completed_at.is_none() && callback.due_at < now,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PromiseRequest {
    due_at: DateTime<FixedOffset>,
    #[serde(default)]
    note: Option<String>,
}

impl RequestBody for PromiseRequest {
    const FREE_TEXT: &'static [&'static str] = &["note"];
}

/// `POST /v1/tickets/{id}/callbacks` (operator, If-Match): `{"due_at": …, "note": …}`.
pub async fn promise(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Operator)?;
    let ticket = ticket_id(&state, &path).await?;
    let (body, fingerprint) = json_body::<PromiseRequest>(&req, payload, state.config.body_limit).await?;
    let now = state.clock.now();
    let plan =
        plan_callback(&state.schedule, body.due_at.with_timezone(&Utc), now, state.config.max_clock_skew)?;
    let note = body.note.as_deref().map(|n| required_notes("note", n, 2000)).transpose()?;
    let tz = state.time_zone();
    run_change(&req, &state, &actor, ticket, fingerprint, StatusCode::CREATED, move |conn, change| {
        let (_, callback) = lifecycle::promise_callback(conn, change, &plan, note.as_deref())?;
        let mut view = callback_json(&callback, tz, change.now);
        if plan.moved {
            view["moved_reason"] = json!(
                "the promised time is outside the service window; the callback is due at the next opening"
            );
        }
        Ok(Some(json!({ "callback": view })))
    })
    .await
}

/// Query of the callback queue.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DueQuery {
    #[serde(default)]
    due_before: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    limit: Option<i64>,
}

/// `GET /v1/callbacks?due_before=…` (operator): open callbacks due before a time (default: now),
/// earliest first.
pub async fn list_due(
    query: web::Query<DueQuery>,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Operator)?;
    let now = state.clock.now();
    let before = query.due_before.map_or(now, |at| at.with_timezone(&Utc));
    let limit = crate::routes::page_limit(query.limit, 50, state.config.max_page_size)?;
    let storage = state.storage.clone();
    let due = web::block(move || storage.read(|conn| lifecycle::callbacks_due_before(conn, before, limit)))
        .await??;
    let tz = state.time_zone();
    Ok(HttpResponse::Ok()
        .json(json!({ "callbacks": due.iter().map(|c| callback_json(c, tz, now)).collect::<Vec<_>>() })))
}
