//! Configuration with the `config` crate: compiled-in defaults (config/default.toml), the files of a
//! config directory, then `HOTLINE__SECTION__KEY` environment variables. Parsed once at start-up into
//! typed values, so a bad setting stops the process with a message instead of failing a call later.

use std::path::Path;

use anyhow::{Context, bail};
use chrono::{NaiveDate, NaiveTime, Weekday};
use hotline_domain::office_hours::OfficeHours;
use hotline_domain::schedule::{ServiceSchedule, ServiceWindow};
use hotline_domain::sla::{SlaTarget, SlaTargets};
use serde::Deserialize;

/// The documented defaults, compiled in so the binary runs from any directory.
pub const DEFAULT_TOML: &str = include_str!("../../../config/default.toml");

/// Every setting; sections mirror config/default.toml.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// HTTP server.
    pub server: ServerSettings,
    /// Database.
    pub database: DatabaseSettings,
    /// The hotline's own rules.
    pub service: ServiceSettings,
    /// API limits.
    pub api: ApiSettings,
    /// SLA targets per priority.
    pub sla: SlaSettings,
    /// Police desks' default hours and the urgent fallback.
    pub police: PoliceSettings,
    /// How alerts leave (SMTP or files).
    pub mail: hotline_notify::MailSettings,
    /// How alerts are written and signed.
    pub alerts: AlertsSettings,
    /// The delivery worker.
    pub outbox: OutboxSettings,
    /// Acknowledgement links.
    pub ack: AckSettings,
    /// Signed webhooks to the desk software.
    pub webhooks: WebhooksSettings,
    /// Where the support-payment rule sets come from.
    pub support_payments: SupportPaymentsSettings,
    /// The periods of the regulatory deadlines.
    pub deadlines: DeadlinesSettings,
    /// Retention of personal data and the access log.
    pub privacy: PrivacySettings,
    /// Logging.
    pub log: LogSettings,
    /// The hotline's pointers for callers it cannot serve.
    pub hotline: HotlineSettings,
    /// Registry (roster) imports.
    pub registry: RegistrySettings,
    /// The config directory the settings came from, to resolve relative paths.
    #[serde(skip)]
    pub config_dir: std::path::PathBuf,
}

/// `[hotline]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HotlineSettings {
    /// The free security portal declined (not eligible) callers are pointed to; empty: none.
    pub security_portal_url: String,
}

/// `[registry]`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrySettings {
    /// Largest share (0–1) of the active roster a full-snapshot import may end without `force`.
    pub max_end_share: f64,
}

/// `[support_payments]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupportPaymentsSettings {
    /// Directory of extra rule files (`*.toml`), relative to the config directory unless absolute.
    pub rules_dir: std::path::PathBuf,
}

/// `[deadlines]`, in days after the awareness date (in Japan).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlinesSettings {
    /// PPC preliminary report.
    pub ppc_preliminary_days: u32,
    /// PPC final report.
    pub ppc_final_days: u32,
    /// PPC final report when caused with wrongful intent.
    pub ppc_final_wrongful_intent_days: u32,
    /// MHLW report after an attack.
    pub mhlw_report_days: u32,
    /// How often deadlines falling due are looked for and announced (`deadline.due`), in seconds.
    pub announce_interval_seconds: u64,
}

/// `[privacy]`: how long personal data is kept (docs/data-protection.md).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacySettings {
    /// Days an access-log entry is kept.
    pub access_log_days: u32,
    /// How often the retention job runs, in seconds.
    pub job_interval_seconds: u64,
    /// Most reads of personal data waiting to be written to the access log.
    pub access_log_queue: usize,
    /// How often queued reads are written, in milliseconds (the access log is at most this far behind).
    pub access_log_flush_ms: u64,
    /// Queued reads that get written at once, before the interval ends.
    pub access_log_batch: usize,
    /// Days each class of personal data is kept after a ticket's closure.
    pub retention: RetentionSettings,
}

/// `[privacy.retention]`, in days after a ticket's closure.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    /// Caller contact data.
    pub caller_contact_days: u32,
    /// Free text.
    pub free_text_days: u32,
}

/// `[alerts]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsSettings {
    /// ja or en.
    pub language: String,
    /// Template directory, relative to the config directory unless absolute.
    pub templates_dir: std::path::PathBuf,
    /// Signature name.
    pub hotline_name: String,
    /// Phone partners call back.
    pub hotline_phone: String,
    /// Email partners reply to.
    pub hotline_email: String,
    /// Message-ID domain.
    pub message_domain: String,
}

/// `[ack]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AckSettings {
    /// Public base URL.
    pub base_url: String,
    /// HMAC secret; empty means random per start.
    pub secret: String,
    /// Link lifetime.
    pub ttl_hours: u32,
}

/// `[webhooks]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksSettings {
    /// Longest time one delivery attempt may take.
    pub timeout_seconds: u64,
    /// The endpoints; none by default.
    #[serde(default)]
    pub endpoints: Vec<WebhookEndpointSettings>,
}

/// One `[[webhooks.endpoints]]` table.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpointSettings {
    /// Stable key.
    pub name: String,
    /// Where deliveries go.
    pub url: String,
    /// The signing secret itself (or use `secret_env`).
    #[serde(default)]
    pub secret: Option<String>,
    /// The environment variable holding the secret, to keep it out of files.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// Event patterns.
    #[serde(default = "every_event")]
    pub events: Vec<String>,
    /// Attempts per delivery; `[outbox] max_attempts` when absent.
    #[serde(default)]
    pub max_attempts: Option<u32>,
}

fn every_event() -> Vec<String> {
    vec!["*".to_owned()]
}

impl std::fmt::Debug for WebhookEndpointSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookEndpointSettings")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("secret_env", &self.secret_env)
            .field("events", &self.events)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

/// The webhook configuration, checked: what the database stores, and the secrets that stay in memory.
#[derive(Debug)]
pub struct Webhooks {
    /// Endpoints for the database.
    pub endpoints: Vec<hotline_storage::queries::webhooks::EndpointSpec>,
    /// Secrets by endpoint name.
    pub secrets: std::collections::HashMap<String, hotline_notify::WebhookSecret>,
    /// Endpoints reached over plain HTTP across a network (warned about at start).
    pub plain_http: Vec<String>,
}

/// `[outbox]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxSettings {
    /// Idle poll interval.
    pub poll_interval_ms: u64,
    /// Claim size.
    pub batch: usize,
    /// Claim lease.
    pub lease_seconds: u64,
    /// First retry delay.
    pub base_delay_seconds: u32,
    /// Longest retry delay.
    pub max_delay_seconds: u32,
    /// Attempts before failed.
    pub max_attempts: u32,
}

/// `[sla]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaSettings {
    /// P1 targets.
    pub p1: SlaTargetSettings,
    /// P2 targets.
    pub p2: SlaTargetSettings,
    /// P3 targets.
    pub p3: SlaTargetSettings,
    /// P4 targets.
    pub p4: SlaTargetSettings,
}

/// One priority's targets, in minutes.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaTargetSettings {
    /// First response.
    pub first_response_minutes: u32,
    /// Referral acceptance.
    pub referral_acceptance_minutes: u32,
    /// Resolution.
    pub resolution_minutes: u32,
}

/// `[police]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoliceSettings {
    /// IANA zone of the hours.
    pub time_zone: String,
    /// HH:MM.
    pub open: String,
    /// HH:MM.
    pub close: String,
    /// mon…sun.
    pub days: Vec<String>,
    /// Closed on national holidays.
    pub closed_on_holidays: bool,
    /// Closed 12/29–1/3.
    pub closed_over_new_year: bool,
    /// Emergency number.
    pub emergency_number: String,
    /// Advice read to the caller.
    pub fallback_advice: String,
    /// National online form.
    pub online_report_url: String,
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// host:port.
    pub listen: String,
    /// Worker threads; 0 = cores.
    pub workers: usize,
    /// Graceful shutdown budget.
    pub shutdown_timeout_seconds: u64,
}

/// `[database]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// sqlite:// or postgres:// URL.
    pub url: String,
    /// Pool size.
    pub pool_size: u32,
    /// Time to open one connection (libpq connect_timeout, start-up wait).
    pub connect_timeout_seconds: u64,
    /// Wait for a pooled connection (or a SQLite writer's turn).
    pub checkout_timeout_ms: u64,
    /// SQLite busy timeout.
    pub sqlite_busy_timeout_ms: u64,
    /// PostgreSQL statement and idle-in-transaction timeout; 0 = server default.
    pub statement_timeout_ms: u64,
    /// PostgreSQL keepalives and tcp_user_timeout; 0 = OS defaults.
    pub network_timeout_seconds: u64,
}

/// `[service]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSettings {
    /// IANA zone name.
    pub time_zone: String,
    /// Ticket reference prefix.
    pub reference_prefix: String,
    /// Repeat-caller look-back.
    pub repeat_caller_days: u32,
    /// Opening hours over time.
    pub windows: Vec<WindowSettings>,
}

/// One `[[service.windows]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSettings {
    /// YYYY-MM-DD, local.
    #[serde(default)]
    pub effective_from: Option<String>,
    /// HH:MM.
    pub open: String,
    /// HH:MM.
    pub close: String,
}

/// `[api]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSettings {
    /// JSON body limit.
    pub body_limit_bytes: usize,
    /// CSV body limit.
    pub import_body_limit_bytes: usize,
    /// Allowed future skew of started_at.
    pub max_clock_skew_seconds: i64,
    /// Page size cap.
    pub max_page_size: i64,
    /// Idempotency retention.
    pub idempotency_retention_hours: i64,
    /// Per-request deadline.
    pub request_timeout_ms: u64,
    /// Deadline of a registry import.
    pub import_timeout_seconds: u64,
    /// Deadline of a summary report.
    pub report_timeout_seconds: u64,
    /// Failed authentications allowed per client address and minute.
    pub auth_failures_per_minute: u32,
    /// How long an authenticated token is remembered in the process (0: not at all).
    pub token_cache_seconds: u32,
}

/// `[log]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// pretty or json.
    pub format: LogFormat,
    /// Filter directives.
    pub filter: String,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

impl Settings {
    /// Loads the layers: defaults, `dir/default.toml`, `dir/{environment}.toml`, then the environment.
    pub fn load(dir: &Path, environment: Option<&str>) -> anyhow::Result<Settings> {
        use config::{Config, Environment, File, FileFormat};
        let mut builder = Config::builder()
            .add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml))
            .add_source(File::from(dir.join("default.toml")).required(false));
        if let Some(environment) = environment {
            let path = dir.join(format!("{environment}.toml"));
            if !path.exists() {
                bail!("configuration file {} for environment {environment:?} does not exist", path.display());
            }
            builder = builder.add_source(File::from(path));
        }
        let config = builder
            .add_source(
                Environment::with_prefix("HOTLINE").prefix_separator("__").separator("__").try_parsing(true),
            )
            .build()
            .context("reading configuration")?;
        let mut settings: Settings =
            config.try_deserialize().context("configuration has an invalid setting")?;
        settings.config_dir = dir.to_path_buf();
        hotline_notify::Lang::parse(&settings.alerts.language)
            .map_err(|error| anyhow::anyhow!("alerts.language: {error}"))?;
        settings.schedule()?;
        settings.police_hours()?;
        settings.webhooks()?;
        settings.deadline_policy()?;
        settings.retention_policy()?;
        settings.support_rules()?;
        settings.check_limits()?;
        if !(0.0..=1.0).contains(&settings.registry.max_end_share) {
            bail!("registry.max_end_share must be between 0 and 1, got {}", settings.registry.max_end_share);
        }
        hotline_domain::ticket::TicketReference::new(&settings.service.reference_prefix, 2026, 1)
            .map_err(|error| anyhow::anyhow!("service.reference_prefix: {}", error.detail))?;
        Ok(settings)
    }

    /// The timeouts and limits that bound every wait, checked against each other.
    pub fn check_limits(&self) -> anyhow::Result<()> {
        let db = &self.database;
        let api = &self.api;
        if db.pool_size == 0 {
            bail!("database.pool_size must be at least 1");
        }
        if !(1..=600).contains(&db.connect_timeout_seconds) {
            bail!("database.connect_timeout_seconds must be 1–600, got {}", db.connect_timeout_seconds);
        }
        if !(100..=600_000).contains(&api.request_timeout_ms) {
            bail!("api.request_timeout_ms must be 100–600000, got {}", api.request_timeout_ms);
        }
        if db.checkout_timeout_ms < 10 || db.checkout_timeout_ms >= api.request_timeout_ms {
            bail!(
                "database.checkout_timeout_ms must be at least 10 and less than api.request_timeout_ms ({}), got {}",
                api.request_timeout_ms,
                db.checkout_timeout_ms
            );
        }
        if db.statement_timeout_ms != 0 && db.statement_timeout_ms < 100 {
            bail!(
                "database.statement_timeout_ms must be 0 (the server's default) or at least 100, got {}",
                db.statement_timeout_ms
            );
        }
        if db.network_timeout_seconds > 3600 {
            bail!("database.network_timeout_seconds must be 0–3600, got {}", db.network_timeout_seconds);
        }
        if !(1..=86_400).contains(&api.import_timeout_seconds) {
            bail!("api.import_timeout_seconds must be 1–86400, got {}", api.import_timeout_seconds);
        }
        if !(1..=3_600).contains(&api.report_timeout_seconds) {
            bail!("api.report_timeout_seconds must be 1–3600, got {}", api.report_timeout_seconds);
        }
        if !(1..=100_000).contains(&api.auth_failures_per_minute) {
            bail!("api.auth_failures_per_minute must be 1–100000, got {}", api.auth_failures_per_minute);
        }
        Ok(())
    }

    /// The template directory: absolute, or relative to the config directory.
    pub fn templates_dir(&self) -> std::path::PathBuf {
        if self.alerts.templates_dir.is_absolute() {
            self.alerts.templates_dir.clone()
        } else {
            self.config_dir.join(&self.alerts.templates_dir)
        }
    }

    /// The directory of extra support-payment rule files: absolute, or relative to the config directory.
    pub fn support_rules_dir(&self) -> std::path::PathBuf {
        if self.support_payments.rules_dir.is_absolute() {
            self.support_payments.rules_dir.clone()
        } else {
            self.config_dir.join(&self.support_payments.rules_dir)
        }
    }

    /// The support-payment rule sets: the ones compiled in, plus every `*.toml` file of the rules
    /// directory (a file named like a built-in one replaces it). A broken file stops the start with its
    /// path and line; so do two rule sets taking effect on the same date.
    pub fn support_rules(&self) -> anyhow::Result<hotline_domain::support_payment::RuleBook> {
        use hotline_domain::support_payment::rules::SHIPPED_RULE_FILES;
        let mut files: Vec<(String, String, String)> = SHIPPED_RULE_FILES
            .iter()
            .map(|(name, text)| {
                ((*name).to_owned(), format!("built-in config/support-payments/{name}"), (*text).to_owned())
            })
            .collect();
        let dir = self.support_rules_dir();
        if dir.is_dir() {
            let mut paths: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
                .with_context(|| format!("reading the support-payment rules directory {}", dir.display()))?
                .map(|entry| entry.map(|entry| entry.path()))
                .collect::<Result<_, _>>()
                .with_context(|| format!("reading the support-payment rules directory {}", dir.display()))?;
            paths.retain(|path| path.is_file() && path.extension().is_some_and(|ext| ext == "toml"));
            paths.sort();
            for path in paths {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading the support-payment rule file {}", path.display()))?;
                let shown = path.display().to_string();
                match files.iter_mut().find(|(existing, ..)| *existing == name) {
                    Some(file) => *file = (name, shown, text),
                    None => files.push((name, shown, text)),
                }
            }
        }
        let named: Vec<(&str, &str)> =
            files.iter().map(|(_, shown, text)| (shown.as_str(), text.as_str())).collect();
        hotline_domain::support_payment::RuleBook::from_files(&named)
            .map_err(|error| anyhow::anyhow!("support-payment rules: {error}"))
    }

    /// The retention periods of personal data, checked (with the job's interval and the access log's
    /// period).
    pub fn retention_policy(&self) -> anyhow::Result<hotline_domain::privacy::RetentionPolicy> {
        let p = &self.privacy;
        let policy = hotline_domain::privacy::RetentionPolicy {
            caller_contact_days: p.retention.caller_contact_days,
            free_text_days: p.retention.free_text_days,
        };
        policy.check().map_err(|error| anyhow::anyhow!("privacy.retention.{error}"))?;
        if !(1..=hotline_domain::privacy::MAX_RETENTION_DAYS).contains(&p.access_log_days) {
            bail!(
                "privacy.access_log_days must be 1–{}, got {}",
                hotline_domain::privacy::MAX_RETENTION_DAYS,
                p.access_log_days
            );
        }
        if !(1..=86_400).contains(&p.job_interval_seconds) {
            bail!("privacy.job_interval_seconds must be 1–86400, got {}", p.job_interval_seconds);
        }
        if !(100..=1_000_000).contains(&p.access_log_queue) {
            bail!("privacy.access_log_queue must be 100–1000000, got {}", p.access_log_queue);
        }
        if !(10..=60_000).contains(&p.access_log_flush_ms) {
            bail!("privacy.access_log_flush_ms must be 10–60000, got {}", p.access_log_flush_ms);
        }
        if !(1..=p.access_log_queue).contains(&p.access_log_batch) {
            bail!(
                "privacy.access_log_batch must be 1–privacy.access_log_queue ({}), got {}",
                p.access_log_queue,
                p.access_log_batch
            );
        }
        Ok(policy)
    }

    /// The periods of the regulatory deadlines, checked (with the reminders' interval).
    pub fn deadline_policy(&self) -> anyhow::Result<hotline_domain::regulatory::DeadlinePolicy> {
        let d = &self.deadlines;
        let policy = hotline_domain::regulatory::DeadlinePolicy {
            ppc_preliminary_days: d.ppc_preliminary_days,
            ppc_final_days: d.ppc_final_days,
            ppc_final_wrongful_intent_days: d.ppc_final_wrongful_intent_days,
            mhlw_report_days: d.mhlw_report_days,
        };
        policy.check().map_err(|error| anyhow::anyhow!("deadlines: {error}"))?;
        if !(1..=86_400).contains(&d.announce_interval_seconds) {
            bail!("deadlines.announce_interval_seconds must be 1–86400, got {}", d.announce_interval_seconds);
        }
        Ok(policy)
    }

    /// The retry policy of alerts.
    pub fn retry_policy(&self) -> hotline_domain::outbox::RetryPolicy {
        hotline_domain::outbox::RetryPolicy {
            base_delay: chrono::Duration::seconds(i64::from(self.outbox.base_delay_seconds)),
            max_delay: chrono::Duration::seconds(i64::from(self.outbox.max_delay_seconds)),
            max_attempts: self.outbox.max_attempts,
        }
    }

    /// The webhook endpoints, validated: unique names, known event patterns, usable URLs and secrets.
    pub fn webhooks(&self) -> anyhow::Result<Webhooks> {
        use hotline_domain::webhook::{EndpointName, EventFilter};
        let mut checked = Webhooks {
            endpoints: Vec::new(),
            secrets: std::collections::HashMap::new(),
            plain_http: Vec::new(),
        };
        for endpoint in &self.webhooks.endpoints {
            let name = EndpointName::parse(&endpoint.name)
                .map_err(|error| anyhow::anyhow!("webhooks.endpoints: {}", error.detail))?;
            let label = format!("webhooks.endpoints {:?}", endpoint.name);
            if checked.secrets.contains_key(name.as_str()) {
                bail!("{label}: the name is used twice");
            }
            let events = EventFilter::parse(&endpoint.events)
                .map_err(|error| anyhow::anyhow!("{label}: events: {}", error.detail))?;
            let security = hotline_notify::webhook::check_url(&endpoint.name, &endpoint.url)?;
            if security == hotline_notify::UrlSecurity::Plain {
                checked.plain_http.push(endpoint.name.clone());
            }
            let secret = match (&endpoint.secret, &endpoint.secret_env) {
                (Some(secret), None) => secret.clone(),
                (None, Some(variable)) => std::env::var(variable).map_err(|_| {
                    anyhow::anyhow!("{label}: secret_env names {variable:?}, which is not set")
                })?,
                _ => bail!("{label}: set exactly one of secret and secret_env"),
            };
            let secret = hotline_notify::WebhookSecret::parse(&endpoint.name, &secret)?;
            let max_attempts = endpoint.max_attempts.unwrap_or(self.outbox.max_attempts);
            if max_attempts == 0 {
                bail!("{label}: max_attempts must be at least 1");
            }
            checked.endpoints.push(hotline_storage::queries::webhooks::EndpointSpec {
                name: name.clone(),
                url: endpoint.url.clone(),
                events,
                max_attempts,
            });
            checked.secrets.insert(name.as_str().to_owned(), secret);
        }
        if self.webhooks.timeout_seconds == 0 {
            bail!("webhooks.timeout_seconds must be at least 1");
        }
        Ok(checked)
    }

    /// SLA targets, in the domain's terms.
    pub fn sla_targets(&self) -> SlaTargets {
        let target = |t: &SlaTargetSettings| SlaTarget {
            first_response: chrono::Duration::minutes(i64::from(t.first_response_minutes)),
            referral_acceptance: chrono::Duration::minutes(i64::from(t.referral_acceptance_minutes)),
            resolution: chrono::Duration::minutes(i64::from(t.resolution_minutes)),
        };
        let sla = &self.sla;
        SlaTargets { by_priority: [target(&sla.p1), target(&sla.p2), target(&sla.p3), target(&sla.p4)] }
    }

    /// Default police desk hours, validated.
    pub fn police_hours(&self) -> anyhow::Result<OfficeHours> {
        let police = &self.police;
        let time = |label: &str, value: &str| {
            NaiveTime::parse_from_str(value, "%H:%M")
                .with_context(|| format!("police.{label} {value:?} must be HH:MM"))
        };
        let days = police
            .days
            .iter()
            .map(|day| {
                day.parse::<Weekday>()
                    .map_err(|_| anyhow::anyhow!("police.days: {day:?} is not a weekday (mon…sun)"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let hours = OfficeHours {
            time_zone: police.time_zone.parse().map_err(|_| {
                anyhow::anyhow!("police.time_zone {:?} is not an IANA time zone", police.time_zone)
            })?,
            open: time("open", &police.open)?,
            close: time("close", &police.close)?,
            days,
            closed_on_holidays: police.closed_on_holidays,
            closed_over_new_year: police.closed_over_new_year,
        };
        if hours.open >= hours.close {
            bail!("police.open must be before police.close");
        }
        Ok(hours)
    }

    /// The service schedule, validated.
    pub fn schedule(&self) -> anyhow::Result<ServiceSchedule> {
        let time_zone: chrono_tz::Tz = self.service.time_zone.parse().map_err(|_| {
            anyhow::anyhow!("service.time_zone {:?} is not an IANA time zone", self.service.time_zone)
        })?;
        let windows = self
            .service
            .windows
            .iter()
            .map(|window| {
                let time = |label: &str, value: &str| {
                    NaiveTime::parse_from_str(value, "%H:%M")
                        .with_context(|| format!("service.windows {label} {value:?} must be HH:MM"))
                };
                let effective_from = window
                    .effective_from
                    .as_deref()
                    .map(|date| {
                        NaiveDate::parse_from_str(date, "%Y-%m-%d").with_context(|| {
                            format!("service.windows effective_from {date:?} must be YYYY-MM-DD")
                        })
                    })
                    .transpose()?;
                Ok(ServiceWindow {
                    effective_from,
                    open: time("open", &window.open)?,
                    close: time("close", &window.close)?,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        ServiceSchedule::new(time_zone, windows).context("service.windows")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The settings with `extra` as the config directory's default.toml.
    fn load_with(extra: &str) -> anyhow::Result<Settings> {
        let dir = tempfile::tempdir().expect("a temporary config directory");
        std::fs::write(dir.path().join("default.toml"), extra).expect("write default.toml");
        Settings::load(dir.path(), None)
    }

    fn error_of(extra: &str) -> String {
        format!("{:#}", load_with(extra).expect_err("refused"))
    }

    const DESK: &str = r#"
[[webhooks.endpoints]]
name = "desk"
url = "https://desk.example.jp/hooks"
secret = "0123456789abcdef0123456789abcdef"
"#;

    #[test]
    fn roster_and_portal_settings_have_their_defaults_and_a_share_outside_0_1_is_refused() {
        let settings = load_with("").expect("defaults load");
        assert!((settings.registry.max_end_share - 0.1).abs() < f64::EPSILON);
        assert!(settings.hotline.security_portal_url.starts_with("https://"));
        for share in ["-0.1", "1.5"] {
            let error = error_of(&format!("[registry]\nmax_end_share = {share}\n"));
            assert!(error.contains("registry.max_end_share"), "{error}");
        }
        assert!(load_with("[registry]\nmax_end_share = 1.0\n").is_ok());
    }

    #[test]
    fn no_webhooks_by_default() {
        let settings = load_with("").expect("defaults load");
        let webhooks = settings.webhooks().expect("valid");
        assert!(webhooks.endpoints.is_empty() && webhooks.secrets.is_empty());
    }

    #[test]
    fn an_endpoint_gets_every_event_and_the_outbox_attempts_by_default() {
        let settings = load_with(DESK).expect("loads");
        let webhooks = settings.webhooks().expect("valid");
        assert_eq!(webhooks.endpoints.len(), 1);
        let desk = &webhooks.endpoints[0];
        assert_eq!(desk.name.as_str(), "desk");
        assert_eq!(desk.events, hotline_domain::webhook::EventFilter::all());
        assert_eq!(desk.max_attempts, settings.outbox.max_attempts);
        assert!(webhooks.secrets.contains_key("desk") && webhooks.plain_http.is_empty());
        assert!(!format!("{settings:?}").contains("0123456789abcdef"), "the secret stays out of Debug");
    }

    #[test]
    fn mistakes_stop_the_start_naming_the_endpoint_and_the_setting() {
        let twice = format!("{DESK}{DESK}");
        assert!(error_of(&twice).contains("used twice"), "{}", error_of(&twice));
        let typo = DESK.replace("secret =", "events = [\"ticket.opend\"]\nsecret =");
        let error = error_of(&typo);
        assert!(error.contains("\"desk\"") && error.contains("ticket.opened"), "{error}");
        let short = DESK.replace("0123456789abcdef0123456789abcdef", "short");
        assert!(error_of(&short).contains("at least 32"), "{}", error_of(&short));
        let both = DESK.replace("secret =", "secret_env = \"HOTLINE_TEST_UNSET_VARIABLE\"\nsecret =");
        assert!(error_of(&both).contains("exactly one"), "{}", error_of(&both));
        let unset = DESK.replace(
            "secret = \"0123456789abcdef0123456789abcdef\"",
            "secret_env = \"HOTLINE_TEST_UNSET_VARIABLE\"",
        );
        assert!(error_of(&unset).contains("HOTLINE_TEST_UNSET_VARIABLE"), "{}", error_of(&unset));
        let ftp = DESK.replace("https://", "ftp://");
        assert!(error_of(&ftp).contains("scheme"), "{}", error_of(&ftp));
        let bad_name = DESK.replace("name = \"desk\"", "name = \"Desk Software\"");
        assert!(error_of(&bad_name).contains("webhooks.endpoints"), "{}", error_of(&bad_name));
    }

    /// The settings of a config directory with `files` (relative path, text), and the directory (alive
    /// as long as the settings read from it).
    fn load_dir(files: &[(&str, &str)]) -> anyhow::Result<(tempfile::TempDir, Settings)> {
        let dir = tempfile::tempdir().expect("a temporary config directory");
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("create directories");
            std::fs::write(path, text).expect("write a config file");
        }
        let settings = Settings::load(dir.path(), None)?;
        Ok((dir, settings))
    }

    const SHIPPED_RULES: &str = hotline_domain::support_payment::rules::SHIPPED_RULE_FILES[0].1;

    #[test]
    fn the_built_in_rule_set_and_deadline_periods_apply_by_default() {
        let settings = load_with("").expect("defaults load");
        let book = settings.support_rules().expect("rules");
        let dates: Vec<String> = book.sets().iter().map(|set| set.effective_from.to_string()).collect();
        assert_eq!(dates, ["2022-06-01"]);
        assert_eq!(
            settings.deadline_policy().expect("policy"),
            hotline_domain::regulatory::DeadlinePolicy::default()
        );
    }

    #[test]
    fn a_revision_file_in_the_rules_directory_adds_a_rule_set() {
        let revision =
            SHIPPED_RULES.replace("effective_from = \"2022-06-01\"", "effective_from = \"2023-06-01\"");
        let (_dir, settings) = load_dir(&[
            ("support-payments/2023-06-01.toml", &revision),
            ("support-payments/README.txt", "not a rule"),
        ])
        .expect("loads");
        let book = settings.support_rules().expect("rules");
        let dates: Vec<String> = book.sets().iter().map(|set| set.effective_from.to_string()).collect();
        assert_eq!(dates, ["2022-06-01", "2023-06-01"]);
    }

    #[test]
    fn a_file_named_like_the_built_in_one_replaces_it() {
        let changed = SHIPPED_RULES.replace("amount_yen = 100000", "amount_yen = 100001");
        let (_dir, settings) = load_dir(&[("support-payments/2022-06-01.toml", &changed)]).expect("loads");
        let book = settings.support_rules().expect("rules");
        assert_eq!(book.sets().len(), 1);
        assert_eq!(book.sets()[0].cyber_attack.as_ref().map(|p| p.amount_yen), Some(100_001));
    }

    #[test]
    fn a_broken_rule_file_stops_the_start_naming_the_file_and_the_line() {
        let broken = SHIPPED_RULES.replace("min_days = 1", "min_days = 1\nmax_days = 3");
        let line = broken.lines().position(|l| l.contains("max_days")).expect("line") + 1;
        let error =
            format!("{:#}", load_dir(&[("support-payments/2024-01-01.toml", &broken)]).expect_err("refused"));
        assert!(error.contains("2024-01-01.toml") && error.contains(&format!("line {line}: ")), "{error}");
        let twice = load_dir(&[("support-payments/copy.toml", SHIPPED_RULES)]).expect_err("same date");
        assert!(format!("{twice:#}").contains("both take effect on 2022-06-01"), "{twice:#}");
    }

    #[test]
    fn deadline_periods_are_checked() {
        let error = error_of(
            "[deadlines]\nppc_preliminary_days = 40\nppc_final_days = 30\nppc_final_wrongful_intent_days = 60\nmhlw_report_days = 1\n",
        );
        assert!(error.contains("deadlines: ppc_preliminary_days cannot be longer"), "{error}");
        let settings = load_with("[deadlines]\nppc_preliminary_days = 3\nppc_final_days = 30\nppc_final_wrongful_intent_days = 60\nmhlw_report_days = 0\n").expect("loads");
        let policy = settings.deadline_policy().expect("policy");
        assert_eq!((policy.ppc_preliminary_days, policy.mhlw_report_days), (3, 0));
    }

    #[test]
    fn the_reminder_interval_is_a_second_to_a_day() {
        assert_eq!(load_with("").expect("defaults load").deadlines.announce_interval_seconds, 60);
        for bad in [0, 86_401] {
            let error = error_of(&format!("[deadlines]\nannounce_interval_seconds = {bad}\n"));
            assert!(
                error.contains(&format!("deadlines.announce_interval_seconds must be 1–86400, got {bad}")),
                "{error}"
            );
        }
        assert!(load_with("[deadlines]\nannounce_interval_seconds = 1\n").is_ok());
    }

    #[test]
    fn privacy_retention_defaults_and_bounds() {
        let settings = load_with("").expect("defaults load");
        let policy = settings.retention_policy().expect("default policy");
        assert_eq!((policy.caller_contact_days, policy.free_text_days), (365, 1095));
        assert_eq!(settings.privacy.access_log_days, 730);
        assert_eq!(settings.privacy.job_interval_seconds, 3600);
        let error = error_of("[privacy.retention]\ncaller_contact_days = 0\n");
        assert!(error.contains("privacy.retention.caller_contact_days must be 1–36500, got 0"), "{error}");
        let error = error_of("[privacy]\naccess_log_days = 0\n");
        assert!(error.contains("privacy.access_log_days must be 1–36500, got 0"), "{error}");
        let error = error_of("[privacy]\njob_interval_seconds = 0\n");
        assert!(error.contains("privacy.job_interval_seconds must be 1–86400, got 0"), "{error}");
    }

    #[test]
    fn the_access_log_queue_defaults_and_bounds() {
        let p = load_with("").expect("defaults load").privacy;
        assert_eq!((p.access_log_queue, p.access_log_flush_ms, p.access_log_batch), (10_000, 500, 500));
        let error = error_of("[privacy]\naccess_log_queue = 99\n");
        assert!(error.contains("privacy.access_log_queue must be 100–1000000, got 99"), "{error}");
        let error = error_of("[privacy]\naccess_log_flush_ms = 60001\n");
        assert!(error.contains("privacy.access_log_flush_ms must be 10–60000, got 60001"), "{error}");
        let error = error_of("[privacy]\naccess_log_queue = 100\naccess_log_batch = 101\n");
        assert!(
            error.contains("privacy.access_log_batch must be 1–privacy.access_log_queue (100), got 101"),
            "{error}"
        );
        assert!(load_with("[privacy]\naccess_log_queue = 100\naccess_log_batch = 100\n").is_ok());
    }

    #[test]
    fn timeouts_are_checked_against_each_other() {
        let settings = load_with("").expect("defaults load");
        assert_eq!((settings.api.request_timeout_ms, settings.database.checkout_timeout_ms), (2000, 1000));
        let error = error_of("[database]\ncheckout_timeout_ms = 2000\n");
        assert!(error.contains("less than api.request_timeout_ms (2000)"), "{error}");
        let error = error_of("[api]\nrequest_timeout_ms = 50\n");
        assert!(error.contains("api.request_timeout_ms must be 100–600000, got 50"), "{error}");
        let error = error_of("[database]\nstatement_timeout_ms = 5\n");
        assert!(error.contains("statement_timeout_ms"), "{error}");
        let error = error_of("[api]\nauth_failures_per_minute = 0\n");
        assert!(error.contains("auth_failures_per_minute"), "{error}");
        load_with("[database]\nstatement_timeout_ms = 0\nnetwork_timeout_seconds = 0\n")
            .expect("0 turns them off");
    }

    #[test]
    fn plain_http_over_a_network_is_flagged_and_loopback_is_not() {
        let settings = load_with(&DESK.replace("https://desk.example.jp", "http://10.1.2.3")).expect("loads");
        assert_eq!(settings.webhooks().expect("valid").plain_http, ["desk"]);
        let settings =
            load_with(&DESK.replace("https://desk.example.jp", "http://127.0.0.1:9000")).expect("loads");
        assert!(settings.webhooks().expect("valid").plain_http.is_empty());
    }
}
