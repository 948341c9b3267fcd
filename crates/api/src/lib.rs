//! The hotline REST API on actix-web. One module per resource under `routes/`; handlers parse input,
//! call the domain and storage, and map errors to problem+json. Shared plumbing (auth, bodies,
//! idempotency, errors, telemetry) lives beside them.

pub mod ack;
pub mod alerts;
pub mod auth;
pub mod extract;
pub mod idempotency;
pub mod precondition;
pub mod problem;
pub mod routes;
pub mod telemetry;
pub mod time;
pub mod token_cache;

use std::sync::Arc;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use hotline_domain::schedule::ServiceSchedule;
use hotline_storage::Storage;
use serde_json::Map;

use crate::problem::{PROBLEM_JSON, problem_body};

/// Where "now" comes from; injected so tests can pin the hotline's clock.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Settings the API needs, already validated by the server's configuration layer.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Largest JSON body accepted.
    pub body_limit: usize,
    /// Largest registry CSV accepted.
    pub import_body_limit: usize,
    /// How far in the future a call's `started_at` may lie (desk clocks drift).
    pub max_clock_skew: Duration,
    /// Prefix of ticket references, e.g. `HL`.
    pub reference_prefix: String,
    /// How many days back an earlier ticket of the same caller is flagged.
    pub repeat_caller_days: u32,
    /// Most rows a list or search returns.
    pub max_page_size: i64,
    /// SLA targets per priority.
    pub sla: hotline_domain::sla::SlaTargets,
    /// Default office hours of police desks without their own.
    pub police_hours: hotline_domain::office_hours::OfficeHours,
    /// What a handoff tells the operator when the desk is closed.
    pub police_fallback: PoliceFallback,
    /// How alerts are retried.
    pub retry_policy: hotline_domain::outbox::RetryPolicy,
    /// How long an authenticated token is remembered (see [`token_cache`]).
    pub token_cache_ttl: Duration,
}

/// The urgent fallback when a police desk is closed: 110, the nearest police station, and the
/// National Police Agency's online reporting form (since 2024-03-29).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PoliceFallback {
    /// Emergency number.
    pub emergency_number: String,
    /// Advice read to the caller.
    pub advice: String,
    /// The national online form.
    pub online_report_url: String,
}

impl Default for PoliceFallback {
    fn default() -> Self {
        Self {
            emergency_number: "110".to_owned(),
            advice: "緊急の場合は110番、または最寄りの警察署へ連絡してください。 In an emergency call 110 or the nearest police station.".to_owned(),
            online_report_url: "https://www.npa.go.jp/bureau/cyber/soudan.html".to_owned(),
        }
    }
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            body_limit: 1024 * 1024,
            import_body_limit: 64 * 1024 * 1024,
            max_clock_skew: Duration::minutes(5),
            reference_prefix: "HL".to_owned(),
            repeat_caller_days: 7,
            max_page_size: 100,
            sla: hotline_domain::sla::SlaTargets::default(),
            police_hours: hotline_domain::office_hours::OfficeHours::police_default(),
            police_fallback: PoliceFallback::default(),
            retry_policy: hotline_domain::outbox::RetryPolicy::default(),
            token_cache_ttl: Duration::seconds(10),
        }
    }
}

/// Everything a handler may need, shared by all workers.
pub struct AppState {
    /// Database access.
    pub storage: Storage,
    /// The service window.
    pub schedule: ServiceSchedule,
    /// API settings.
    pub config: ApiConfig,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// How partner alerts are written.
    pub alerts: Arc<alerts::AlertSettings>,
    /// Tokens authenticated in the last `api.token_cache_seconds`.
    pub tokens: token_cache::TokenCache,
}

impl AppState {
    /// The time zone instants are shown in.
    pub fn time_zone(&self) -> chrono_tz::Tz {
        self.schedule.time_zone()
    }
}

/// Registers every route; the server wraps the app with telemetry and [`problem_safety_net`].
pub fn configure(cfg: &mut web::ServiceConfig) {
    routes::configure(cfg);
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
        let (slug, title, detail) = match status.as_u16() {
            404 => ("not-found", "Not found", "no route matches this path".to_owned()),
            405 => {
                ("method-not-allowed", "Method not allowed", "this path does not take this method".to_owned())
            }
            413 => {
                ("payload-too-large", "Request body too large", "the request body is too large".to_owned())
            }
            400..=499 => {
                ("bad-request", "Bad request", status.canonical_reason().unwrap_or("bad request").to_owned())
            }
            _ => ("internal-error", "Internal error", "an unexpected error occurred".to_owned()),
        };
        let body = problem_body(status, slug, title, &detail, Map::new()).to_string();
        let (req, _) = res.into_parts();
        let response: HttpResponse<BoxBody> = HttpResponse::build(status)
            .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)))
            .body(body);
        let response: ServiceResponse<EitherBody<B, BoxBody>> =
            ServiceResponse::new(req, response).map_into_right_body();
        Ok(ErrorHandlerResponse::Response(response))
    })
}
