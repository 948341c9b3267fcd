//! What the service answers before any route runs: a request target over our limit (414), a request head
//! over actix-http's (431), bytes that are not HTTP/1.1 (400) and a head that does not arrive in time
//! (408). actix-http's HTTP/1 dispatcher answers the last three itself, before middleware; our vendored
//! patch of it (vendor/README.md) lets [`install`] supply those answers, so they are problem+json with an
//! `X-Request-Id` like every other answer.

use actix_http::ConnectionType;
use actix_http::error::ParseError;
use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError};
use uuid::Uuid;

use crate::problem::ApiError;
use crate::telemetry::REQUEST_ID_HEADER;

/// Longest request target (path and query, or the whole URI in absolute form) we read: 8 KiB, the common
/// limit of proxies and servers (nginx's default buffer, Apache's `LimitRequestLine`), far above any URI
/// this API builds. Longer targets get 414 `uri-too-long`.
pub const MAX_REQUEST_TARGET_BYTES: usize = 8 * 1024;

/// actix-http's limit on a request head (request line and header fields): a head that is still incomplete
/// when this many bytes are buffered is refused with 431 `headers-too-large`.
pub const MAX_HEAD_BYTES: usize = 128 * 1024;

/// actix-http's limit on the number of header fields; more get 431 `headers-too-large`.
pub const MAX_HEADER_FIELDS: usize = 96;

/// How long a client may take to send the request head after connecting (the server's
/// `client_request_timeout`); later it gets 408 `request-timeout`.
pub const HEAD_TIMEOUT_SECONDS: u64 = 5;

/// Installs [`refused_head`] as actix-http's answer to request heads it refuses. Idempotent; call it
/// before the server starts. Returns `false` if another responder was installed first in this process.
pub fn install() -> bool {
    actix_http::h1::set_parse_error_responder(refused_head)
}

/// The answer to a head actix-http refused: a problem with a fresh request id (UUID v7, as
/// tracing-actix-web gives routed requests), logged, and `Connection: close` (the dispatcher closes the
/// connection after it).
pub fn refused_head(error: &ParseError, head: &[u8]) -> actix_http::Response<BoxBody> {
    let problem = classify(error, head);
    let request_id = Uuid::now_v7();
    tracing::info!(
        request_id = %request_id,
        status = problem.status_code().as_u16(),
        problem = problem.kind().slug(),
        cause = %error,
        "request refused by the HTTP layer before routing"
    );
    let mut response = problem.error_response();
    if let Ok(value) = HeaderValue::from_str(&request_id.to_string()) {
        response.headers_mut().insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    let mut response: actix_http::Response<BoxBody> = response.into();
    response.head_mut().set_connection_type(ConnectionType::Close);
    response
}

/// Which problem a refused head is: an over-long target first (whatever else is wrong with the head,
/// that is what the client must change), then the parser's reason.
fn classify(error: &ParseError, head: &[u8]) -> ApiError {
    if request_target_len(head) > MAX_REQUEST_TARGET_BYTES {
        return ApiError::UriTooLong { limit: MAX_REQUEST_TARGET_BYTES };
    }
    match error {
        ParseError::TooLarge => {
            ApiError::HeadersTooLarge { max_bytes: MAX_HEAD_BYTES, max_fields: MAX_HEADER_FIELDS }
        }
        ParseError::Timeout => ApiError::RequestTimeout { seconds: HEAD_TIMEOUT_SECONDS },
        other => ApiError::MalformedRequest(format!("the request is not valid HTTP/1.1: {other}")),
    }
}

/// Length of the request target in the (possibly incomplete) request line `method SP target SP version`:
/// everything after the first space, up to the last space once the line is complete.
fn request_target_len(head: &[u8]) -> usize {
    let (line, complete) = match head.iter().position(|&byte| byte == b'\n') {
        Some(end) => (&head[..end], true),
        None => (head, false),
    };
    let Some(first_space) = line.iter().position(|&byte| byte == b' ') else {
        return 0;
    };
    let after_method = &line[first_space + 1..];
    if !complete {
        return after_method.len();
    }
    match after_method.iter().rposition(|&byte| byte == b' ') {
        Some(last_space) => last_space,
        None => after_method.len(),
    }
}

/// Middleware: refuses a request target longer than [`MAX_REQUEST_TARGET_BYTES`] with 414 before any
/// route reads it (actix-http itself accepts up to 65,534 bytes; longer ones reach [`refused_head`]).
pub async fn refuse_long_target(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static, BoxBody>>, Error> {
    let uri = req.uri();
    let length = uri.path_and_query().map_or(0, |target| target.as_str().len())
        + uri.authority().map_or(0, |authority| authority.as_str().len())
        + uri.scheme_str().map_or(0, |scheme| scheme.len() + "://".len());
    if length > MAX_REQUEST_TARGET_BYTES {
        let response = ApiError::UriTooLong { limit: MAX_REQUEST_TARGET_BYTES }.error_response();
        return Ok(req.into_response(response).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_is_measured_between_the_method_and_the_version() {
        assert_eq!(request_target_len(b"GET /v1/members?q=x HTTP/1.1\r\nHost: a\r\n\r\n"), 15);
        assert_eq!(request_target_len(b"GET /v1/members?q=x HTTP/1.1\r\n"), 15);
        assert_eq!(request_target_len(b"GET / HTTP/1.1\n\n"), 1);
    }

    #[test]
    fn an_unfinished_request_line_counts_whole_after_the_method() {
        assert_eq!(request_target_len(b"GET /aaaa"), 5);
        assert_eq!(request_target_len(b"GET /a b"), 4);
    }

    #[test]
    fn garbage_without_a_space_has_no_target() {
        assert_eq!(request_target_len(b"\x00\x01\x02garbage"), 0);
        assert_eq!(request_target_len(b""), 0);
    }

    #[test]
    fn a_long_target_is_414_whatever_the_parser_said() {
        let mut head = b"GET /".to_vec();
        head.extend(std::iter::repeat_n(b'a', MAX_REQUEST_TARGET_BYTES));
        assert_eq!(classify(&ParseError::TooLarge, &head).kind().slug(), "uri-too-long");
        head.extend_from_slice(b" HTTP/1.1\r\nHost: a\r\n");
        assert_eq!(classify(&ParseError::Header, &head).kind().slug(), "uri-too-long");
    }

    #[test]
    fn a_large_head_with_a_short_target_is_431_and_garbage_is_400() {
        let head = b"GET / HTTP/1.1\r\nX-Big: aaaa";
        assert_eq!(classify(&ParseError::TooLarge, head).kind().slug(), "headers-too-large");
        assert_eq!(classify(&ParseError::Method, b"\x00\x01garbage\r\n\r\n").kind().slug(), "bad-request");
        assert_eq!(classify(&ParseError::Timeout, b"GET / HT").kind().slug(), "request-timeout");
    }

    #[test]
    fn the_refusal_is_problem_json_with_a_request_id_and_closes_the_connection() {
        let response = refused_head(&ParseError::Header, b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(response.status().as_u16(), 400);
        let headers = response.headers();
        assert_eq!(
            headers.get("content-type").and_then(|value| value.to_str().ok()),
            Some("application/problem+json")
        );
        let id = headers.get(REQUEST_ID_HEADER).and_then(|value| value.to_str().ok()).unwrap_or_default();
        assert_eq!(Uuid::parse_str(id).map(|id| id.get_version_num()), Ok(7));
        assert_eq!(response.head().connection_type(), ConnectionType::Close);
    }
}
