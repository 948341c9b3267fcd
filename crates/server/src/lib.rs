//! The hotline service as a library: configuration, start-up and the CLI's commands, so that
//! end-to-end tests start exactly what `hotline serve` starts, on 127.0.0.1:0.

pub mod allocator;
pub mod cli;
pub mod outbox;
pub mod privacy;
pub mod reminders;
pub mod settings;
pub mod telemetry;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use hotline_api::deadline::RequestDeadline;
use hotline_api::security::{AuthThrottle, SecurityHeaders};
use hotline_api::telemetry::{PrivacyRootSpan, request_id_header};
use hotline_api::{ApiConfig, AppState, Clock, problem_safety_net};
use hotline_storage::{PoolOptions, Storage};
use tracing_actix_web::TracingLogger;

use crate::settings::Settings;

/// Opens the database pool described by the settings, for the server.
pub fn open_storage(settings: &Settings) -> anyhow::Result<Storage> {
    Storage::connect(&settings.database.url, pool_options(settings)).context("opening the database")
}

/// Opens the database for a one-shot command (`migrate`, `token create`, `registry import`): a pool
/// that opens connections only when asked, so none is half-open when the command returns and the
/// process exits.
pub fn open_storage_for_command(settings: &Settings) -> anyhow::Result<Storage> {
    let options = PoolOptions { max_size: 1, min_idle: 0, ..pool_options(settings) };
    let storage = Storage::connect(&settings.database.url, options).context("opening the database")?;
    // With no idle connection, `connect` has not touched the database yet: check it now, as the
    // server's start-up does.
    storage.ping().context("opening the database")?;
    Ok(storage)
}

fn pool_options(settings: &Settings) -> PoolOptions {
    let database = &settings.database;
    PoolOptions {
        max_size: database.pool_size,
        connect_timeout: StdDuration::from_secs(database.connect_timeout_seconds),
        checkout_timeout: StdDuration::from_millis(database.checkout_timeout_ms),
        sqlite_busy_timeout: StdDuration::from_millis(database.sqlite_busy_timeout_ms),
        min_idle: 1,
        statement_timeout: StdDuration::from_millis(database.statement_timeout_ms),
        network_timeout: StdDuration::from_secs(database.network_timeout_seconds),
    }
}

/// The API settings derived from configuration (validated by [`Settings::load`]).
pub fn api_config(settings: &Settings) -> anyhow::Result<ApiConfig> {
    Ok(ApiConfig {
        body_limit: settings.api.body_limit_bytes,
        import_body_limit: settings.api.import_body_limit_bytes,
        max_clock_skew: chrono::Duration::seconds(settings.api.max_clock_skew_seconds),
        reference_prefix: settings.service.reference_prefix.clone(),
        repeat_caller_days: settings.service.repeat_caller_days,
        max_page_size: settings.api.max_page_size,
        sla: settings.sla_targets(),
        police_hours: settings.police_hours()?,
        retry_policy: settings.retry_policy(),
        police_fallback: hotline_api::PoliceFallback {
            emergency_number: settings.police.emergency_number.clone(),
            advice: settings.police.fallback_advice.clone(),
            online_report_url: settings.police.online_report_url.clone(),
        },
        token_cache_ttl: chrono::Duration::seconds(i64::from(settings.api.token_cache_seconds)),
        security_portal_url: Some(settings.hotline.security_portal_url.trim().to_owned())
            .filter(|url| !url.is_empty()),
        max_end_share: settings.registry.max_end_share,
        report_timeout: StdDuration::from_secs(settings.api.report_timeout_seconds),
    })
}

/// A bound, migrated, not-yet-running server.
pub struct Application {
    server: Server,
    address: SocketAddr,
    storage: Storage,
    support_rules: Arc<hotline_domain::support_payment::RuleBook>,
    deadline_policy: hotline_domain::regulatory::DeadlinePolicy,
    stop_worker: tokio::sync::watch::Sender<bool>,
    worker: tokio::task::JoinHandle<()>,
    stop_access_log: tokio::sync::watch::Sender<bool>,
    access_log: tokio::task::JoinHandle<()>,
}

impl Application {
    /// Opens and migrates the database, binds the listener and prepares the HTTP server.
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Application> {
        let schedule = settings.schedule()?;
        let storage = open_storage(&settings)?;
        let migrating = storage.clone();
        let applied = tokio::task::spawn_blocking(move || migrating.run_migrations())
            .await
            .context("migration task")?
            .context("applying migrations")?;
        tracing::info!(backend = %storage.backend(), applied = applied.len(), "database ready");
        let actors = storage.clone();
        let now = clock.now();
        tokio::task::spawn_blocking(move || {
            actors.write(|conn| {
                hotline_storage::queries::tokens::ensure_system_actor(
                    conn,
                    hotline_api::routes::ack::ACK_LINK_ACTOR,
                    "partner acknowledgement link",
                    now,
                )?;
                hotline_storage::queries::tokens::ensure_system_actor(
                    conn,
                    reminders::DEADLINE_REMINDER_ACTOR,
                    "regulatory deadline reminder",
                    now,
                )?;
                hotline_storage::queries::tokens::ensure_system_actor(
                    conn,
                    privacy::RETENTION_ACTOR,
                    privacy::RETENTION_ACTOR_NAME,
                    now,
                )
            })
        })
        .await
        .context("system actor task")?
        .context("creating the built-in actors")?;
        warn_if_holiday_data_runs_out(clock.now());
        let webhooks = sync_webhooks(&settings, &storage, clock.now()).await?;
        let support_rules = Arc::new(settings.support_rules()?);
        let dates: Vec<String> =
            support_rules.sets().iter().map(|set| set.effective_from.to_string()).collect();
        tracing::info!(effective_from = ?dates, "support-payment rule sets loaded");
        let deadline_policy = settings.deadline_policy()?;
        resync_deadlines(&storage, deadline_policy, clock.now()).await?;

        let listener = TcpListener::bind(&settings.server.listen)
            .with_context(|| format!("binding {}", settings.server.listen))?;
        let address = listener.local_addr()?;
        let purge_clock = Arc::clone(&clock);
        let reminder_clock = Arc::clone(&clock);
        let retention_clock = Arc::clone(&clock);
        let retention_policy = settings.retention_policy()?;
        let templates_dir = settings.templates_dir();
        let templates = if templates_dir.is_dir() {
            hotline_notify::Templates::load(&templates_dir)
                .with_context(|| format!("loading alert templates from {}", templates_dir.display()))?
        } else {
            tracing::info!(dir = %templates_dir.display(), "no template directory there: using the built-in templates");
            hotline_notify::Templates::embedded().context("loading the built-in alert templates")?
        };
        let language = hotline_notify::Lang::parse(&settings.alerts.language)
            .map_err(|error| anyhow::anyhow!("alerts.language: {error}"))?;
        let alerts = Arc::new(hotline_api::alerts::AlertSettings {
            templates: Arc::new(templates),
            language,
            hotline_name: settings.alerts.hotline_name.clone(),
            hotline_phone: settings.alerts.hotline_phone.clone(),
            hotline_email: settings.alerts.hotline_email.clone(),
            message_domain: settings.alerts.message_domain.clone(),
            retry_policy: settings.retry_policy(),
            ack: ack_links(&settings),
        });
        // Built on this runtime: lettre's SMTP pool starts a task of its own.
        let mailer = Arc::new(hotline_notify::Mailer::new(&settings.mail).context("setting up mail")?);
        let (stop_worker, worker_stopped) = tokio::sync::watch::channel(false);
        let worker = hotline_notify::Worker {
            store: Arc::new(outbox::StorageOutbox {
                storage: storage.clone(),
                clock: Arc::clone(&clock),
                policy: settings.retry_policy(),
            }),
            mailer,
            webhooks,
            worker_id: format!("{}-{}", std::process::id(), uuid::Uuid::now_v7().simple()),
            poll_interval: StdDuration::from_millis(settings.outbox.poll_interval_ms),
            batch: settings.outbox.batch,
            lease: StdDuration::from_secs(settings.outbox.lease_seconds),
        };
        let worker = tokio::spawn(worker.run(worker_stopped));
        let config = api_config(&settings)?;
        let metrics = Arc::new(hotline_api::metrics::Metrics::new().context("registering the metrics")?);
        let access_log = Arc::new(hotline_api::access_log::AccessLog::new(
            settings.privacy.access_log_queue,
            settings.privacy.access_log_batch,
        ));
        let state = web::Data::new(AppState {
            storage: storage.clone(),
            schedule,
            tokens: hotline_api::token_cache::TokenCache::new(config.token_cache_ttl),
            config,
            clock,
            alerts,
            support_rules: Arc::clone(&support_rules),
            deadline_policy,
            metrics: Arc::clone(&metrics),
            access_log: Arc::clone(&access_log),
        });
        // The request metrics middleware finds them as app data of their own.
        let metrics = web::Data::from(metrics);
        // Heads actix-http refuses before routing get our problem+json too (crates/api/src/http_layer.rs).
        if !hotline_api::http_layer::install() {
            tracing::warn!("another responder for refused request heads was installed first");
        }
        let deadline = RequestDeadline {
            budget: StdDuration::from_millis(settings.api.request_timeout_ms),
            import_budget: StdDuration::from_secs(settings.api.import_timeout_seconds),
            report_budget: StdDuration::from_secs(settings.api.report_timeout_seconds),
        };
        let failures_per_minute = std::num::NonZeroU32::new(settings.api.auth_failures_per_minute)
            .context("api.auth_failures_per_minute must be at least 1")?;
        let throttle = web::Data::new(AuthThrottle::new(failures_per_minute));
        let mut server = HttpServer::new(move || {
            // The middleware registered last runs first: telemetry, request id, compression, the
            // request metrics, the security headers (on every answer, the deadline's and the safety net's included), the
            // request deadline, then actix's own errors rewritten as problems.
            App::new()
                .app_data(state.clone())
                .app_data(metrics.clone())
                .app_data(throttle.clone())
                .configure(hotline_api::configure)
                .wrap(from_fn(hotline_api::http_layer::refuse_long_target))
                .wrap(problem_safety_net())
                .wrap(deadline)
                .wrap(SecurityHeaders)
                .wrap(Compress::default())
                .wrap(from_fn(hotline_api::metrics::record_request))
                .wrap(from_fn(request_id_header))
                .wrap(TracingLogger::<PrivacyRootSpan>::new())
        })
        .shutdown_timeout(settings.server.shutdown_timeout_seconds)
        .client_request_timeout(StdDuration::from_secs(hotline_api::http_layer::HEAD_TIMEOUT_SECONDS))
        .listen(listener)?;
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        let server = server.run();
        spawn_idempotency_purge(storage.clone(), purge_clock, settings.api.idempotency_retention_hours);
        reminders::spawn(
            storage.clone(),
            reminder_clock,
            StdDuration::from_secs(settings.deadlines.announce_interval_seconds),
        );
        privacy::spawn(
            storage.clone(),
            retention_clock,
            StdDuration::from_secs(settings.privacy.job_interval_seconds),
            retention_policy,
            settings.privacy.access_log_days,
        );
        // Writes the queued reads of personal data; after the server stops, what is left within the
        // shutdown timeout.
        let (stop_access_log, access_log_stopped) = tokio::sync::watch::channel(false);
        let access_log = tokio::spawn(access_log.run(
            storage.clone(),
            StdDuration::from_millis(settings.privacy.access_log_flush_ms),
            access_log_stopped,
            StdDuration::from_secs(settings.server.shutdown_timeout_seconds),
        ));
        tracing::info!(%address, "listening");
        Ok(Application {
            server,
            address,
            storage,
            support_rules,
            deadline_policy,
            stop_worker,
            worker,
            stop_access_log,
            access_log,
        })
    }

    /// The bound address (useful with port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The storage the server uses, for tests that inspect the database.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// The support-payment rule sets in force (built in and from the config directory), for the
    /// assessment and claims (`hotline_storage::queries::support_payments`).
    pub fn support_rules(&self) -> &Arc<hotline_domain::support_payment::RuleBook> {
        &self.support_rules
    }

    /// The configured periods of the regulatory deadlines, for recording incident facts
    /// (`hotline_storage::queries::incident_facts::record`).
    pub fn deadline_policy(&self) -> hotline_domain::regulatory::DeadlinePolicy {
        self.deadline_policy
    }

    /// A handle that stops the server gracefully.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM/SIGINT (graceful: in-flight requests finish within the shutdown timeout).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        // The worker finishes the alert in hand and stops; what it has not sent stays in the outbox.
        let _ = self.stop_worker.send(true);
        if let Err(error) = self.worker.await {
            tracing::warn!(%error, "outbox worker ended abnormally");
        }
        // No request reads any more: the reads still queued are written.
        let _ = self.stop_access_log.send(true);
        if let Err(error) = self.access_log.await {
            tracing::warn!(%error, "access-log flusher ended abnormally");
        }
        served
    }
}

/// Link signing; without a configured secret a random one per start (links die with the process).
fn ack_links(settings: &Settings) -> hotline_api::ack::AckLinks {
    let ttl = chrono::Duration::hours(i64::from(settings.ack.ttl_hours));
    if settings.ack.secret.is_empty() {
        tracing::warn!("ack.secret is not set: acknowledgement links will stop working after a restart");
        let secret: [u8; 32] = rand::random();
        hotline_api::ack::AckLinks::new(&settings.ack.base_url, &secret, ttl)
    } else {
        hotline_api::ack::AckLinks::new(&settings.ack.base_url, settings.ack.secret.as_bytes(), ttl)
    }
}

/// Writes the configured webhook endpoints to the database (so every event's transaction sees them) and
/// builds their sender; `None` when there are none.
async fn sync_webhooks(
    settings: &Settings,
    storage: &Storage,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Option<Arc<hotline_notify::WebhookSender>>> {
    let webhooks = settings.webhooks()?;
    for name in &webhooks.plain_http {
        tracing::warn!(endpoint = %name, "webhook endpoint uses plain http over a network: use https");
    }
    let syncing = storage.clone();
    let endpoints = webhooks.endpoints;
    let report = tokio::task::spawn_blocking(move || {
        syncing.write(|conn| hotline_storage::queries::webhooks::sync_endpoints(conn, &endpoints, now))
    })
    .await
    .context("webhook sync task")?
    .context("writing the webhook endpoints")?;
    tracing::info!(
        configured = webhooks.secrets.len(),
        added = report.added,
        updated = report.updated,
        deactivated = report.deactivated,
        "webhook endpoints synced"
    );
    if webhooks.secrets.is_empty() {
        return Ok(None);
    }
    let timeout = StdDuration::from_secs(settings.webhooks.timeout_seconds);
    let sender =
        hotline_notify::WebhookSender::new(webhooks.secrets, timeout).context("setting up webhooks")?;
    Ok(Some(Arc::new(sender)))
}

/// Recomputes the stored regulatory deadlines with the configured periods, so a changed period applies
/// to open cases too.
async fn resync_deadlines(
    storage: &Storage,
    policy: hotline_domain::regulatory::DeadlinePolicy,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    let syncing = storage.clone();
    let report = tokio::task::spawn_blocking(move || {
        syncing.write(|conn| hotline_storage::queries::incident_facts::resync_deadlines(conn, &policy, now))
    })
    .await
    .context("deadline resync task")?
    .context("recomputing the regulatory deadlines")?;
    tracing::info!(tickets = report.tickets, changed = report.changed, "regulatory deadlines checked");
    Ok(())
}

/// Police desk hours depend on the shipped holiday data; say so well before it runs out.
fn warn_if_holiday_data_runs_out(now: chrono::DateTime<chrono::Utc>) {
    use chrono::Datelike;
    let last = *hotline_domain::holidays::covered_years().end();
    if now.year() + 1 >= last {
        tracing::warn!(
            last_year = last,
            "the national-holiday data ends soon: run scripts/update-holidays.sh"
        );
    }
}

/// Forgets stored idempotent responses after the retention period, hourly.
fn spawn_idempotency_purge(storage: Storage, clock: Arc<dyn Clock>, retention_hours: i64) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(StdDuration::from_secs(3600));
        loop {
            interval.tick().await;
            let storage = storage.clone();
            let before = clock.now() - chrono::Duration::hours(retention_hours);
            let purged = tokio::task::spawn_blocking(move || {
                storage.write(|conn| hotline_storage::queries::idempotency::purge_older_than(conn, before))
            })
            .await;
            match purged {
                Ok(Ok(count)) if count > 0 => tracing::info!(count, "purged expired idempotency keys"),
                Ok(Ok(_)) => {}
                Ok(Err(error)) => tracing::warn!(%error, "purging idempotency keys failed"),
                Err(error) => tracing::warn!(%error, "purge task failed"),
            }
        }
    });
}
