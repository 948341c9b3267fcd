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

/// The version in `If-Match` (`"7"`, `W/"7"` or `7`); 428 when absent, 412 when unreadable.
pub fn required_version(req: &HttpRequest) -> Result<i64, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Err(ApiError::PreconditionRequired { current: None });
    };
    let text = value.to_str().unwrap_or("").trim();
    let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    text.parse::<i64>().map_err(|_| {
        ApiError::field("If-Match", format!("If-Match must be the ticket's ETag, e.g. \"3\"; got {text:?}"))
    })
}
