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
    /// Logging.
    pub log: LogSettings,
    /// The config directory the settings came from, to resolve relative paths.
    #[serde(skip)]
    pub config_dir: std::path::PathBuf,
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
    /// Pool checkout timeout.
    pub connect_timeout_seconds: u64,
    /// SQLite busy timeout.
    pub sqlite_busy_timeout_ms: u64,
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
        hotline_domain::ticket::TicketReference::new(&settings.service.reference_prefix, 2026, 1)
            .map_err(|error| anyhow::anyhow!("service.reference_prefix: {}", error.detail))?;
        Ok(settings)
    }

    /// The template directory: absolute, or relative to the config directory.
    pub fn templates_dir(&self) -> std::path::PathBuf {
        if self.alerts.templates_dir.is_absolute() {
            self.alerts.templates_dir.clone()
        } else {
            self.config_dir.join(&self.alerts.templates_dir)
        }
    }

    /// The retry policy of alerts.
    pub fn retry_policy(&self) -> hotline_domain::outbox::RetryPolicy {
        hotline_domain::outbox::RetryPolicy {
            base_delay: chrono::Duration::seconds(i64::from(self.outbox.base_delay_seconds)),
            max_delay: chrono::Duration::seconds(i64::from(self.outbox.max_delay_seconds)),
            max_attempts: self.outbox.max_attempts,
        }
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
