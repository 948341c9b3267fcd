//! API tokens, managed by admins. A token's secret is shown once, in the response that creates it; a
//! replay of that request (same Idempotency-Key) answers without the secret, which is never stored.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, post, web};
use hotline_domain::role::Role;
use hotline_storage::queries::tokens::{self, NewToken, RevokeError};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{Admin, Authorized, GeneratedToken, generate_token};
use crate::change::parse_id;
use crate::extract::{Idempotency, Json, JsonRequest};
use crate::idempotency::{StoredResponse, write_once};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::{CreatedTokenView, TokenList, TokenView};

/// A token to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// Name, 1–100 characters (e.g. the desk).
    name: String,
    /// `operator`, `supervisor` or `admin`.
    role: String,
}

impl JsonRequest for CreateTokenRequest {
    const FREE_TEXT: &'static [&'static str] = &[];
}

impl CreateTokenRequest {
    /// The token to store, and the secret to show once.
    fn token(
        &self,
        creator: Uuid,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(NewToken, GeneratedToken), ApiError> {
        let name = hotline_domain::text::required_text("name", &self.name, 100)?;
        let role = Role::parse(&self.role)?;
        let generated = generate_token();
        let token = NewToken {
            id: Uuid::now_v7(),
            name,
            role,
            token_hash: generated.hash.clone(),
            created_at: now,
            created_by: Some(creator),
        };
        Ok((token, generated))
    }
}

/// List API tokens
///
/// Oldest first, revoked ones included; never a secret or hash.
#[utoipa::path(
    tag = "tokens",
    operation_id = "listTokens",
    security(("bearer" = ["admin"])),
    responses((status = 200, description = "The tokens.", body = TokenList)),
)]
#[get("/tokens")]
pub async fn list_tokens(
    auth: Authorized<Admin>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let storage = state.storage.clone();
    let all = web::block(move || storage.read(tokens::list)).await??;
    let ctx = state.views(auth.actor.role, state.clock.now());
    Ok(HttpResponse::Ok()
        .json(TokenList { tokens: all.iter().map(|token| TokenView::new(token, &ctx)).collect() }))
}

/// Create a token
///
/// The secret is in `token`, only in this response; a replay answers with `"token": null`.
#[utoipa::path(
    tag = "tokens",
    operation_id = "createToken",
    security(("bearer" = ["admin"])),
    request_body = CreateTokenRequest,
    responses((status = 201, description = "The token, with its secret.", body = CreatedTokenView,
        headers(("Location" = String, description = "`/v1/tokens/{id}`.")))),
)]
#[post("/tokens")]
pub async fn create_token(
    auth: Authorized<Admin>,
    Idempotency(key): Idempotency,
    body: Json<CreateTokenRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let (new_token, generated) = body.value.token(auth.actor.token_id, now)?;
    let secret = generated.secret;
    let view_state = state.clone();
    let reader = auth.actor.role;
    write_once(
        &state,
        &auth.actor,
        key,
        body.fingerprint,
        move |conn| Ok(tokens::create(conn, &new_token)?),
        move |token| {
            let view = TokenView::new(token, &view_state.views(reader, now));
            let location = Some(format!("/v1/tokens/{}", token.id));
            let fresh = CreatedTokenView { view: view.clone(), token: Some(secret.clone()) };
            let kept = CreatedTokenView { view, token: None };
            Ok((
                StoredResponse::json(StatusCode::CREATED, &fresh, location.clone())?,
                StoredResponse::json(StatusCode::CREATED, &kept, location)?,
            ))
        },
    )
    .await
}

/// A token named in the path.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct TokenPath {
    /// The token's id.
    id: Uuid,
}

/// Revoke a token
///
/// At once; revoking twice keeps the first time. 409 `last-admin-token` for the last active admin token.
#[utoipa::path(
    tag = "tokens",
    operation_id = "revokeToken",
    security(("bearer" = ["admin"])),
    params(TokenPath),
    responses((status = 200, description = "The token, revoked.", body = TokenView)),
    extensions(("x-problems" = json!(["last-admin-token"]))),
)]
#[delete("/tokens/{id}")]
pub async fn revoke_token(
    auth: Authorized<Admin>,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "token")?;
    let now = state.clock.now();
    let storage = state.storage.clone();
    let token =
        web::block(move || storage.write(|conn| tokens::revoke(conn, id, now))).await?.map_err(|error| {
            match error {
                RevokeError::NotFound => ApiError::NotFound(format!("token {id}")),
                RevokeError::LastAdmin => ApiError::LastAdminToken,
                RevokeError::Storage(error) => error.into(),
            }
        })?;
    // At once in this process; other processes stop accepting it within api.token_cache_seconds.
    state.tokens.forget(token.id);
    tracing::info!(revoked_token = %token.id, "token revoked");
    Ok(HttpResponse::Ok().json(TokenView::new(&token, &state.views(auth.actor.role, now))))
}
