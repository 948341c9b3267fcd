//! The application as the server mounts it: the documented routes, the reference page, the answer
//! for paths no route takes, the OpenAPI document generated from those routes, and the problem+json
//! safety net around everything.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{HttpResponse, web};

use crate::openapi::{self, ApiDocument};
use crate::problem::{PROBLEM_JSON, Problem, ProblemType};
use crate::routes;

/// The OpenAPI document as the server serves it (docs/openapi.json, built in).
pub fn document() -> &'static ApiDocument {
    openapi::served()
}

/// The OpenAPI document the code of [`routes::configure_documented`] generates: pretty JSON with a final newline,
/// what docs/openapi.json must hold.
pub fn document_json() -> &'static str {
    openapi::generate(routes::configure_documented)
}

/// Registers every route (each documented where it is registered, see [`openapi`]), the reference page
/// at `/docs`, and the answer for paths no route takes (404, or 405 with `Allow`). The server wraps the
/// app with telemetry and [`problem_safety_net`].
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::Data::new(document())).service(openapi::reference_page());
    routes::configure(cfg);
    cfg.default_service(web::to(routes::fallback));
}

/// Rewrites any error response that is not problem+json yet (actix's own 404, 405, and the like) into
/// one, so clients meet a single error format.
pub fn problem_safety_net<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|res: ServiceResponse<B>| {
        let is_problem = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with(PROBLEM_JSON) || value.starts_with("text/html"));
        // Our own error bodies pass: problem+json, and the HTML pages partners see from their links.
        if is_problem {
            return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
        }
        let status = res.status();
        let kind = ProblemType::for_status(status);
        let detail = match kind {
            ProblemType::NotFound => "no route matches this path".to_owned(),
            ProblemType::MethodNotAllowed => "this path does not take this method".to_owned(),
            ProblemType::PayloadTooLarge => "the request body is too large".to_owned(),
            ProblemType::InternalError => "an unexpected error occurred".to_owned(),
            _ => status.canonical_reason().unwrap_or("bad request").to_owned(),
        };
        let mut problem = Problem::new(kind, detail);
        // The HTTP layer's own status is kept (e.g. a 5xx other than 500).
        problem.status = status.as_u16();
        let body = problem.to_json();
        let (req, original) = res.into_parts();
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        // A 405 says which methods the resource takes (RFC 9110 §15.5.6).
        if let Some(allow) = original.headers().get(header::ALLOW) {
            response.insert_header((header::ALLOW, allow.clone()));
        }
        let response: HttpResponse<BoxBody> = response.body(body);
        let response: ServiceResponse<EitherBody<B, BoxBody>> =
            ServiceResponse::new(req, response).map_into_right_body();
        Ok(ErrorHandlerResponse::Response(response))
    })
}
