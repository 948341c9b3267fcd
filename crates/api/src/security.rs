//! Response hardening and the throttling of failed authentications.
//!
//! [`SecurityHeaders`] puts on every response — JSON, problem+json, actix's own errors, the partner
//! pages — `X-Content-Type-Options: nosniff`, `Cache-Control: no-store` (ticket reads carry personal
//! data, `POST /v1/tokens` a secret), `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer` and a
//! Content-Security-Policy: `default-src 'none'; frame-ancestors 'none'` for the API, and for the
//! acknowledgement pages (`/ack/…`) one that allows only their own inline style (by hash) and a form
//! posting back to the same origin.
//!
//! [`AuthThrottle`] counts failed authentications per client address with `governor` (GCRA): within the
//! allowance a failure is answered 401, beyond it 429 with `Retry-After`. Only failures are counted
//! and a valid token is always let through, even from an address that is being throttled (desks may
//! share an address with a misconfigured one behind NAT); with 256-bit tokens guessing is hopeless
//! anyway, so the throttle is there to stop floods of bad tokens, not to gate good ones.

use std::future::{Future, Ready, ready};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::LazyLock;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{Error, HttpResponse, ResponseError, web};
use base64::Engine;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sha2::{Digest, Sha256};

use crate::problem::ApiError;

/// The pages' only style, inline; the Content-Security-Policy of these pages allows exactly this text
/// by its hash ([`ACK_PAGE_CSP`]).
pub const ACK_PAGE_STYLE: &str = "body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em;line-height:1.6}\
     dt{font-weight:bold}button{font-size:1em;padding:.5em 1.5em;margin-right:1em}\
     textarea,input{width:100%;font-size:1em}";

/// Content-Security-Policy of every API response: nothing may load, nothing may frame it.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Content-Security-Policy of the acknowledgement pages: their one inline style (allowed by its
/// SHA-256), a form that posts back to this origin, and nothing else — no script, image, frame or
/// other origin.
pub static ACK_PAGE_CSP: LazyLock<String> = LazyLock::new(|| {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(ACK_PAGE_STYLE.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; form-action 'self'; frame-ancestors 'none'; \
         base-uri 'none'"
    )
});

/// Middleware factory: the security headers on every response.
#[derive(Debug, Clone, Copy, Default)]
pub struct SecurityHeaders;

impl<S, B> Transform<S, ServiceRequest> for SecurityHeaders
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = SecurityHeadersService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(SecurityHeadersService { service: Rc::new(service) }))
    }
}

/// The service [`SecurityHeaders`] wraps around the app.
pub struct SecurityHeadersService<S> {
    service: Rc<S>,
}

impl<S, B> Service<ServiceRequest> for SecurityHeadersService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let page = req.path().starts_with("/ack/");
        let answer = self.service.call(req);
        Box::pin(async move {
            // An error that escaped every handler is still answered with the headers: the headers are
            // set on the response actix makes of it, which keeps the error for the logger.
            let mut response = match answer.await {
                Ok(response) => response,
                Err(error) => return Err(with_headers_on_error(error, page)),
            };
            set_headers(response.headers_mut(), page);
            Ok(response)
        })
    }
}

fn with_headers_on_error(error: Error, page: bool) -> Error {
    let mut response = error.error_response();
    set_headers(response.headers_mut(), page);
    actix_web::error::InternalError::from_response(error, response).into()
}

fn set_headers(headers: &mut actix_web::http::header::HeaderMap, page: bool) {
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    let csp = if page {
        HeaderValue::from_str(&ACK_PAGE_CSP).unwrap_or_else(|_| HeaderValue::from_static(API_CSP))
    } else {
        HeaderValue::from_static(API_CSP)
    };
    headers.insert(HeaderName::from_static("content-security-policy"), csp);
}

/// Failed authentications per client address: a small allowance, then 429.
pub struct AuthThrottle {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    per_minute: NonZeroU32,
}

/// Addresses the throttle remembers before it forgets those whose allowance is full again.
const REMEMBERED_ADDRESSES: usize = 10_000;

impl AuthThrottle {
    /// Allows `per_minute` failed authentications per address and minute, in a burst of as many.
    pub fn new(per_minute: NonZeroU32) -> AuthThrottle {
        AuthThrottle { limiter: RateLimiter::keyed(Quota::per_minute(per_minute)), per_minute }
    }

    /// Counts a failed authentication from `address`; `Some(wait)` when it is one too many.
    pub fn failed(&self, address: IpAddr) -> Option<Duration> {
        if self.limiter.len() > REMEMBERED_ADDRESSES {
            self.limiter.retain_recent();
        }
        match self.limiter.check_key(&address) {
            Ok(()) => None,
            Err(not_until) => Some(not_until.wait_time_from(DefaultClock::default().now())),
        }
    }
}

impl std::fmt::Debug for AuthThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthThrottle").field("per_minute", &self.per_minute).finish_non_exhaustive()
    }
}

/// The hook of the authentication middleware: a failed authentication (401) from an address over its
/// allowance becomes 429 with `Retry-After`; anything else (a valid token, a database outage) is left
/// alone. Without an [`AuthThrottle`] in the app data nothing is throttled.
pub fn throttle_failed_authentication(req: &ServiceRequest, error: &ApiError) -> Option<HttpResponse> {
    if !matches!(error, ApiError::Unauthorized(_)) {
        return None;
    }
    let throttle = req.app_data::<web::Data<AuthThrottle>>()?;
    let address = req.peer_addr()?.ip();
    let wait = throttle.failed(address)?;
    Some(too_many_failures(throttle.per_minute, wait))
}

fn too_many_failures(per_minute: NonZeroU32, wait: Duration) -> HttpResponse {
    let retry_after = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    ApiError::TooManyFailedAuthentications { per_minute: per_minute.get(), retry_after }.error_response()
}
