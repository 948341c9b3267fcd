//! Registry imports over HTTP (admin): the same all-or-nothing, idempotent import as
//! `hotline registry import FILE.csv`, additive by default or as a full snapshot of the roster.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use hotline_domain::registry::{RegistrySnapshot, parse_registry_csv};
use hotline_storage::queries::registry::{self, ImportOptions};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::{Admin, Authorized};
use crate::extract::{Idempotency, RequestFingerprint, read_body, require_media_type};
use crate::idempotency::{StoredResponse, write_once};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::views::ImportReportView;

/// How the file is imported.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The file is the whole roster: members and member–institution links it leaves out end on the
    /// import date (they are kept, not deleted); a member listed again later is re-opened.
    #[serde(default)]
    snapshot: bool,
    /// Report what the import would create, change, end and re-open, without writing anything.
    #[serde(default)]
    dry_run: bool,
    /// Import a snapshot even if it ends more than `registry.max_end_share` of the active roster.
    #[serde(default)]
    force: bool,
}

impl ImportQuery {
    fn options(self, state: &AppState, now: chrono::DateTime<chrono::Utc>) -> ImportOptions {
        ImportOptions {
            snapshot: self.snapshot,
            dry_run: self.dry_run,
            force: self.force,
            max_end_share: state.config.max_end_share,
            today: now.with_timezone(&state.time_zone()).date_naive(),
        }
    }
}

/// Import a registry CSV
///
/// All or nothing; the format is in docs/registry.md. 422 `registry-import-rejected` lists every
/// problem with its line; 422 `snapshot-ends-too-many`: a snapshot that would end more than
/// `registry.max_end_share` of the active roster, unless `force=true`. A dry run writes nothing (and
/// is not kept for Idempotency-Key replay).
#[utoipa::path(
    tag = "registry",
    operation_id = "importRegistry",
    security(("bearer" = ["admin"])),
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "The registry file (UTF-8, header line first)."),
    responses((status = 200, description = "What the import changed (or, with dry_run, would change).", body = ImportReportView)),
    extensions(("x-problems" = json!(["registry-import-rejected", "snapshot-ends-too-many"]))),
)]
#[post("/registry/imports")]
pub async fn import_registry(
    req: HttpRequest,
    auth: Authorized<Admin>,
    Idempotency(key): Idempotency,
    query: web::Query<ImportQuery>,
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
    let options = query.into_inner().options(&state, now);
    let actor_id = auth.actor.token_id;
    if options.dry_run {
        return dry_run(&state, snapshot, now, actor_id, options).await;
    }
    write_once(
        &state,
        &auth.actor,
        key,
        fingerprint,
        move |conn| Ok(registry::import(conn, &snapshot, now, Some(actor_id), &options)?),
        |report| {
            let response = StoredResponse::json(StatusCode::OK, &ImportReportView::from(report), None)?;
            Ok((response.clone(), response))
        },
    )
    .await
}

/// Runs the import in a transaction that is rolled back, and answers its report.
async fn dry_run(
    state: &web::Data<AppState>,
    snapshot: std::sync::Arc<RegistrySnapshot>,
    now: chrono::DateTime<chrono::Utc>,
    actor_id: uuid::Uuid,
    options: ImportOptions,
) -> Result<HttpResponse, ApiError> {
    let storage = state.storage.clone();
    let report = web::block(move || {
        registry::import_into(&storage, &snapshot, now, Some(actor_id), &options, &mut |_| {})
    })
    .await??;
    Ok(HttpResponse::Ok().json(ImportReportView::from(&report)))
}
