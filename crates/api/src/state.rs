//! What every handler may need, shared by all workers: storage, the service window, settings, the
//! clock and the alert settings. Settings arrive already validated by the server's configuration layer.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use hotline_domain::schedule::ServiceSchedule;
use hotline_storage::Storage;

use crate::alerts;

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
    /// How long an authenticated token is remembered (see [`crate::token_cache`]).
    pub token_cache_ttl: Duration,
    /// The free security portal a declined caller is pointed to (`hotline.security_portal_url`).
    pub security_portal_url: Option<String>,
    /// Largest share of the active roster a full-snapshot import may end without `force`.
    pub max_end_share: f64,
    /// How long a summary report's statements may run on PostgreSQL (its request deadline,
    /// `api.report_timeout_seconds`): longer than the general statement timeout, still bounded.
    pub report_timeout: std::time::Duration,
}

/// The urgent fallback when a police desk is closed: 110, the nearest police station, and the
/// National Police Agency's online reporting form (since 2024-03-29).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
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
            security_portal_url: None,
            max_end_share: 0.1,
            report_timeout: std::time::Duration::from_secs(60),
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
    /// The support-payment rule sets (built in and from the config directory), for assessments and claims.
    pub support_rules: Arc<hotline_domain::support_payment::RuleBook>,
    /// The configured periods of the regulatory deadlines, for recording incident facts.
    pub deadline_policy: hotline_domain::regulatory::DeadlinePolicy,
    /// Tokens authenticated in the last `api.token_cache_seconds`.
    pub tokens: crate::token_cache::TokenCache,
    /// Prometheus metrics of this application (`GET /metrics`).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Reads of personal data waiting to be written to the access log (see [`crate::access_log`]).
    pub access_log: Arc<crate::access_log::AccessLog>,
}

impl AppState {
    /// The time zone instants are shown in.
    pub fn time_zone(&self) -> chrono_tz::Tz {
        self.schedule.time_zone()
    }
}
