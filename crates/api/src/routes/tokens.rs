//! API tokens, managed by admins. A token's secret is shown once, in the response that creates it; a
//! replay of that request (same Idempotency-Key) answers without the secret, which is never stored.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, FixedOffset};
use hotline_domain::role::Role;
use hotline_storage::queries::tokens::{self, NewToken, TokenRecord};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::AppState;
use crate::auth::{Actor, generate_token};
use crate::extract::{IdempotencyKey, json_body};
use crate::idempotency::{StoredResponse, write_once};
use crate::problem::ApiError;
use crate::routes::parse_id;
use crate::time::display_time;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateTokenRequest {
    name: String,
    role: String,
}

/// A token as listed: never its secret or hash.
#[derive(Debug, Serialize)]
pub struct TokenView {
    id: Uuid,
    name: String,
    role: Role,
    created_at: DateTime<FixedOffset>,
    created_by: Option<Uuid>,
    revoked_at: Option<DateTime<FixedOffset>>,
}

impl TokenView {
    fn new(token: &TokenRecord, tz: chrono_tz::Tz) -> Self {
        Self {
            id: token.id,
            name: token.name.clone(),
            role: token.role,
            created_at: display_time(token.created_at, tz),
            created_by: token.created_by,
            revoked_at: token.revoked_at.map(|at| display_time(at, tz)),
        }
    }
}

#[derive(Debug, Serialize)]
struct CreatedToken {
    #[serde(flatten)]
    view: TokenView,
    /// The secret, present only in the first response.
    token: Option<String>,
}

/// `GET /v1/tokens` (admin).
pub async fn list_tokens(state: web::Data<AppState>, actor: Actor) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Admin)?;
    let storage = state.storage.clone();
    let all = web::block(move || storage.read(tokens::list)).await??;
    let tz = state.time_zone();
    let views: Vec<TokenView> = all.iter().map(|token| TokenView::new(token, tz)).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "tokens": views })))
}

/// `POST /v1/tokens` (admin): `{"name": "desk-3", "role": "operator"}`.
pub async fn create_token(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Admin)?;
    let key = IdempotencyKey::from_request(&req)?;
    let (body, fingerprint) = json_body::<CreateTokenRequest>(&req, payload, state.config.body_limit).await?;
    let name = hotline_domain::text::required_text("name", &body.name, 100)?;
    let role = Role::parse(&body.role)?;
    let generated = generate_token();
    let new_token = NewToken {
        id: Uuid::now_v7(),
        name,
        role,
        token_hash: generated.hash,
        created_at: state.clock.now(),
        created_by: Some(actor.token_id),
    };
    let tz = state.time_zone();
    let secret = generated.secret;
    write_once(
        &state,
        &actor,
        key,
        fingerprint,
        move |conn| Ok(tokens::create(conn, &new_token)?),
        move |token| {
            let location = Some(format!("/v1/tokens/{}", token.id));
            let fresh = CreatedToken { view: TokenView::new(token, tz), token: Some(secret.clone()) };
            let kept = CreatedToken { view: TokenView::new(token, tz), token: None };
            Ok((
                StoredResponse::json(StatusCode::CREATED, &fresh, location.clone())?,
                StoredResponse::json(StatusCode::CREATED, &kept, location)?,
            ))
        },
    )
    .await
}

/// `DELETE /v1/tokens/{id}` (admin): revokes at once; revoking twice is harmless.
pub async fn revoke_token(
    path: web::Path<String>,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Admin)?;
    let id = parse_id(&path, "token")?;
    let now = state.clock.now();
    let storage = state.storage.clone();
    let token =
        web::block(move || storage.write(|conn| tokens::revoke(conn, id, now))).await?.map_err(|error| {
            match error {
                hotline_storage::StorageError::NotFound => ApiError::NotFound(format!("token {id}")),
                other => other.into(),
            }
        })?;
    // At once in this process; other processes stop accepting it within api.token_cache_seconds.
    state.tokens.forget(token.id);
    tracing::info!(revoked_token = %token.id, "token revoked");
    Ok(HttpResponse::Ok().json(TokenView::new(&token, state.time_zone())))
}
