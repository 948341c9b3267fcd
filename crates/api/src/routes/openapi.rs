//! The OpenAPI 3.1 description of this API, served as committed in docs/openapi.json so that desk
//! software can generate clients from the running server. Tests keep the document equal to the router
//! (crates/api/tests/openapi.rs) and to real responses (tests/e2e/openapi.rs).

use actix_web::HttpResponse;
use actix_web::http::header::{self, HeaderValue};

/// docs/openapi.json, compiled in so the served document always matches the binary's routes.
pub const DOCUMENT: &str = include_str!("../../../../docs/openapi.json");

/// `GET /openapi.json` (no token): the document.
pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/json")))
        .body(DOCUMENT)
}
