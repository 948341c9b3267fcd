//! Optimistic concurrency for tickets: every ticket response carries `ETag: "<version>"`, and every
//! change must send it back in `If-Match`. Two operators editing at once: one wins, the other gets
//! 412 with the current version; nothing is silently overwritten.

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::problem::ApiError;

/// The ETag of a ticket version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The version in `If-Match` (`"7"`, `W/"7"` or `7`); 428 when absent or `*`. A value that is not a version
/// can never match, so it becomes one that fails the comparison and the client gets 412 with the
/// current version.
pub fn required_version(req: &HttpRequest) -> Result<i64, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Err(ApiError::PreconditionRequired);
    };
    let text = value.to_str().unwrap_or("").trim();
    // `*` would match any version and skip the very check every change must pass.
    if text == "*" {
        return Err(ApiError::PreconditionRequired);
    }
    let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    Ok(text.parse::<i64>().unwrap_or(NEVER_A_VERSION))
}

/// Versions start at 1, so this never matches.
const NEVER_A_VERSION: i64 = -1;

/// The `If-Match` header every ticket change needs (documentation of the header the extractor reads).
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct IfMatch {
    /// The ticket's `ETag` as last read (`"7"`); 428 without it, 412 when the ticket changed since.
    #[param(rename = "If-Match", required = true, example = "\"1\"")]
    if_match: String,
}

/// A ticket named in the path.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct TicketPath {
    /// The ticket's id (UUID) or reference (`HL-2026-000123`).
    #[param(example = "HL-2026-000001")]
    id: String,
}
