//! Alerts to partners as supervisors see them: which are waiting, sent or failed, with their last
//! error, and a retry for the failed ones. Delivery itself is the outbox worker's job.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use hotline_domain::audit::{AlertRetried, Change, TicketEvent};
use hotline_domain::outbox::{Channel, OutboxStatus};
use hotline_domain::ticket::EventAction;
use hotline_storage::queries::audit;
use hotline_storage::queries::outbox::{self, RetryError};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::{Authorized, Supervisor};
use crate::change::parse_id;
use crate::extract::{Empty, Idempotency, Json};
use crate::idempotency::{StoredResponse, write_once};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::{AlertList, AlertView};

/// Query of the alert list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this status: `pending`, `sending`, `sent` or `failed`.
    #[serde(default)]
    status: Option<String>,
    /// Only this channel: `email` or `webhook`.
    #[serde(default)]
    channel: Option<String>,
    /// At most this many (default 50, at most `api.max_page_size`).
    #[serde(default)]
    limit: Option<i64>,
}

/// Partner alerts and webhook deliveries
///
/// Newest first.
#[utoipa::path(
    tag = "notifications",
    operation_id = "listNotifications",
    security(("bearer" = ["supervisor"])),
    params(ListQuery),
    responses((status = 200, description = "The alerts.", body = AlertList)),
)]
#[get("/notifications")]
pub async fn list(
    auth: Authorized<Supervisor>,
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let status = query.status.as_deref().map(OutboxStatus::parse).transpose()?;
    let channel = query.channel.as_deref().map(Channel::parse).transpose()?;
    let limit = crate::extract::page_limit(query.limit, 50, state.config.max_page_size)?;
    let storage = state.storage.clone();
    let alerts =
        web::block(move || storage.read(|conn| outbox::list(conn, status, channel, limit))).await??;
    let ctx = state.views(auth.actor.role, state.clock.now());
    Ok(HttpResponse::Ok()
        .json(AlertList { notifications: alerts.iter().map(|a| AlertView::new(a, &ctx)).collect() }))
}

/// Gives a failed alert a fresh set of attempts and records it on the alert's ticket.
fn retry_alert(
    conn: &mut hotline_storage::db::DbConnection,
    id: uuid::Uuid,
    policy: &hotline_domain::outbox::RetryPolicy,
    actor: uuid::Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<hotline_storage::queries::outbox::AlertRecord, ApiError> {
    let alert = outbox::retry(conn, id, policy, now).map_err(|error| match error {
        RetryError::NotFound => ApiError::NotFound(format!("notification {id}")),
        RetryError::NotFailed(status) => ApiError::AlertNotFailed(status),
        RetryError::Storage(error) => error.into(),
    })?;
    let retried = TicketEvent::AlertRetried(AlertRetried {
        alert_id: alert.id,
        status: Change::new(OutboxStatus::Failed, alert.status),
    });
    audit::record(conn, alert.ticket_id, actor, now, &retried)?;
    Ok(alert)
}

/// An alert named in the path.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct NotificationPath {
    /// The alert's id.
    id: uuid::Uuid,
}

/// Send a failed alert again
///
/// No body (or `{}`). A `failed` alert becomes `pending` with a fresh set of attempts; any other is
/// 409 `alert-not-failed`. With an Idempotency-Key the answer is stored and a repeated request is
/// answered with it.
#[utoipa::path(
    tag = "notifications",
    operation_id = "retryNotification",
    security(("bearer" = ["supervisor"])),
    params(NotificationPath),
    request_body(content = Option<Empty>, description = "Nothing, or `{}`."),
    responses((status = 200, description = "The alert, pending again.", body = AlertView)),
    extensions(("x-problems" = json!(["alert-not-failed"]))),
)]
#[post("/notifications/{id}/retry")]
pub async fn retry(
    auth: Authorized<Supervisor>,
    path: web::Path<String>,
    Idempotency(key): Idempotency,
    body: Json<Empty>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "notification")?;
    let now = state.clock.now();
    let policy = state.config.retry_policy;
    let actor_id = auth.actor.token_id;
    let view_state = state.clone();
    let role = auth.actor.role;
    let response = write_once(
        &state,
        &auth.actor,
        key,
        body.fingerprint,
        move |conn| retry_alert(conn, id, &policy, actor_id, now),
        move |alert| {
            let view = AlertView::new(alert, &view_state.views(role, now));
            let response = StoredResponse::json(StatusCode::OK, &view, None)?;
            Ok((response.clone(), response))
        },
    )
    .await?;
    tracing::info!(alert = %id, by = %actor_id, action = EventAction::AlertRetried.as_str(), "failed alert retried");
    Ok(response)
}
