//! Alerts to partners as supervisors see them: which are waiting, sent or failed, with their last
//! error, and a retry for the failed ones. Delivery itself is the outbox worker's job.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::DateTime;
use chrono_tz::Tz;
use hotline_domain::outbox::{Channel, OutboxStatus};
use hotline_domain::role::Role;
use hotline_storage::StorageError;
use hotline_storage::queries::outbox::{self, AlertRecord};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Actor;
use crate::extract::{IdempotencyKey, RequestBody};
use crate::idempotency::{StoredResponse, write_once};
use crate::problem::ApiError;
use crate::routes::parse_id;
use crate::routes::tickets::optional_body;
use crate::time::display_time;

/// An alert as clients see it: where it goes and how delivery stands, not its text.
pub(crate) fn alert_json(alert: &AlertRecord, tz: Tz) -> Value {
    let at = |value: Option<DateTime<chrono::Utc>>| value.map(|at| display_time(at, tz));
    json!({
        "id": alert.id,
        "channel": alert.channel.as_str(),
        "webhook_endpoint": alert.webhook_endpoint,
        "kind": alert.alert_kind,
        "ticket_id": alert.ticket_id,
        "referral_id": alert.referral_id,
        "partner_id": alert.partner_id,
        "recipient": alert.recipient,
        "message_id": alert.message_id,
        "subject": alert.subject,
        "status": alert.status.as_str(),
        "attempts": alert.attempts,
        "max_attempts": alert.max_attempts,
        "next_attempt_at": (alert.status == OutboxStatus::Pending).then(|| display_time(alert.next_attempt_at, tz)),
        "last_error": alert.last_error,
        "sent_at": at(alert.sent_at),
        "created_at": display_time(alert.created_at, tz),
    })
}

/// Query of the alert list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
}

/// `GET /v1/notifications?status=failed` (supervisor): alerts, newest first.
pub async fn list(
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Supervisor)?;
    let status = query.status.as_deref().map(OutboxStatus::parse).transpose()?;
    let channel = query.channel.as_deref().map(Channel::parse).transpose()?;
    let limit = crate::routes::page_limit(query.limit, 50, state.config.max_page_size)?;
    let storage = state.storage.clone();
    let alerts =
        web::block(move || storage.read(|conn| outbox::list(conn, status, channel, limit))).await??;
    let tz = state.time_zone();
    Ok(HttpResponse::Ok()
        .json(json!({ "notifications": alerts.iter().map(|a| alert_json(a, tz)).collect::<Vec<_>>() })))
}

/// No body (or `{}`): a retry says everything in its path.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetryRequest {}

impl RequestBody for RetryRequest {
    const FREE_TEXT: &'static [&'static str] = &[];
}

/// `POST /v1/notifications/{id}/retry` (supervisor): a failed alert gets a fresh set of attempts. With an
/// `Idempotency-Key`, a retried request is answered with the first answer instead of a 409.
pub async fn retry(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Supervisor)?;
    let id = parse_id(&path, "notification")?;
    let (_body, fingerprint) = optional_body::<RetryRequest>(&req, payload, state.config.body_limit).await?;
    let key = IdempotencyKey::from_request(&req)?;
    let now = state.clock.now();
    let policy = state.config.retry_policy;
    let actor_id = actor.token_id;
    let tz = state.time_zone();
    let response = write_once(
        &state,
        &actor,
        key,
        fingerprint,
        move |conn| {
            let alert = outbox::retry(conn, id, &policy, now).map_err(|error| match error {
                StorageError::NotFound => ApiError::NotFound(format!("notification {id}")),
                other => other.into(),
            })?;
            hotline_storage::queries::tickets::record_event(
                conn,
                alert.ticket_id,
                actor_id,
                now,
                hotline_domain::ticket::EventAction::AlertRetried,
                &json!({ "alert_id": alert.id, "status": { "before": "failed", "after": alert.status.as_str() } }),
            )?;
            Ok(alert)
        },
        move |alert| {
            let response = StoredResponse::json(StatusCode::OK, &alert_json(alert, tz), None)?;
            Ok((response.clone(), response))
        },
    )
    .await?;
    tracing::info!(alert = %id, by = %actor.token_id, "failed alert retried");
    Ok(response)
}
