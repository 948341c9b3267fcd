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
        return Err(ApiError::PreconditionRequired { current: None });
    };
    let text = value.to_str().unwrap_or("").trim();
    // `*` would match any version and skip the very check every change must pass.
    if text == "*" {
        return Err(ApiError::PreconditionRequired { current: None });
    }
    let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    Ok(text.parse::<i64>().unwrap_or(NEVER_A_VERSION))
}

/// Versions start at 1, so this never matches.
const NEVER_A_VERSION: i64 = -1;
