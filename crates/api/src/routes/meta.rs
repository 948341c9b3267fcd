//! The API describing itself: the OpenAPI document, and the answer for a path no route takes.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, get, web};

use crate::openapi::ApiDocument;
use crate::problem::ApiError;

/// This document
///
/// No token. Generated from the code, as committed in docs/openapi.json; browsable at `/docs`.
#[utoipa::path(
    tag = "meta",
    operation_id = "getOpenApi",
    responses((status = 200, description = "The OpenAPI 3.1 document.", content_type = "application/json", body = Object)),
)]
#[get("/openapi.json")]
pub async fn openapi_json(document: web::Data<&'static ApiDocument>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/json")))
        .body(document.json())
}

/// What no route matched: 405 with `Allow` when the path exists with other methods, 404 otherwise.
/// (Each route is registered with a method guard, so a wrong method falls through to here.)
pub async fn fallback(req: HttpRequest, document: Option<web::Data<&'static ApiDocument>>) -> HttpResponse {
    let allowed = document.map(|document| document.methods_for(req.path())).unwrap_or_default();
    if allowed.is_empty() {
        return ApiError::NoRoute.error_response();
    }
    let mut response = ApiError::MethodNotAllowed(req.method().to_string()).error_response();
    if let Ok(value) = HeaderValue::from_str(&allowed.join(", ")) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}
