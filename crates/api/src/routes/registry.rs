//! Registry imports over HTTP (admin): the same all-or-nothing, idempotent import as
//! `hotline registry import FILE.csv`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use hotline_domain::registry::parse_registry_csv;
use hotline_domain::role::Role;
use hotline_storage::queries::registry;

use crate::AppState;
use crate::auth::Actor;
use crate::extract::{IdempotencyKey, RequestFingerprint, read_body, require_media_type};
use crate::idempotency::{StoredResponse, write_once};
use crate::problem::ApiError;

/// `POST /v1/registry/imports` (admin) with a `text/csv` body; answers with what changed.
pub async fn import_registry(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Admin)?;
    let key = IdempotencyKey::from_request(&req)?;
    require_media_type(&req, "text/csv")?;
    let bytes = read_body(&req, payload, state.config.import_body_limit).await?;
    let fingerprint = RequestFingerprint::of(&req, &bytes);
    let snapshot =
        web::block(move || parse_registry_csv(&bytes)).await?.map_err(ApiError::RegistryImportRejected)?;
    let snapshot = std::sync::Arc::new(snapshot);
    let now = state.clock.now();
    let actor_id = actor.token_id;
    write_once(
        &state,
        &actor,
        key,
        fingerprint,
        move |conn| Ok(registry::import(conn, &snapshot, now, Some(actor_id))?),
        |report| {
            let response = StoredResponse::json(StatusCode::OK, report, None)?;
            Ok((response.clone(), response))
        },
    )
    .await
}
