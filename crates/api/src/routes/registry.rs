//! Registry imports over HTTP (admin): the same all-or-nothing, idempotent import as
//! `hotline registry import FILE.csv`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use hotline_domain::registry::parse_registry_csv;
use hotline_storage::queries::registry;

use crate::auth::{Admin, Authorized};
use crate::extract::{Idempotency, RequestFingerprint, read_body, require_media_type};
use crate::idempotency::{StoredResponse, write_once};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::ImportReportView;

/// Import a registry CSV
///
/// All or nothing; the format is in docs/registry.md. 422 `registry-import-rejected` lists every
/// problem with its line.
#[utoipa::path(
    tag = "registry",
    operation_id = "importRegistry",
    security(("bearer" = ["admin"])),
    request_body(content = String, content_type = "text/csv", description = "The registry file (UTF-8, header line first)."),
    responses((status = 200, description = "What the import changed.", body = ImportReportView)),
    extensions(("x-problems" = json!(["registry-import-rejected"]))),
)]
#[post("/registry/imports")]
pub async fn import_registry(
    req: HttpRequest,
    auth: Authorized<Admin>,
    Idempotency(key): Idempotency,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    require_media_type(&req, "text/csv")?;
    let bytes = read_body(&req, payload, state.config.import_body_limit).await?;
    let fingerprint = RequestFingerprint::of(&req, &bytes);
    let snapshot =
        web::block(move || parse_registry_csv(&bytes)).await?.map_err(ApiError::RegistryImportRejected)?;
    let snapshot = std::sync::Arc::new(snapshot);
    let now = state.clock.now();
    let actor_id = auth.actor.token_id;
    write_once(
        &state,
        &auth.actor,
        key,
        fingerprint,
        move |conn| Ok(registry::import(conn, &snapshot, now, Some(actor_id))?),
        |report| {
            let response = StoredResponse::json(StatusCode::OK, &ImportReportView::from(report), None)?;
            Ok((response.clone(), response))
        },
    )
    .await
}
