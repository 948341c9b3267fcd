//! Prometheus metrics: requests by route pattern, method and status with latency histograms (a
//! middleware), and gauges read from the database when scraped (tickets by status, alerts by outbox
//! status, the age of the oldest alert waiting, the pool's use). Labels are route patterns
//! (`/v1/tickets/{id}`), never paths or query strings, so no personal data and a bounded set of series.
//! Each application has its own registry (no global recorder), so several in one process stay apart.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, web};
use chrono::{DateTime, Utc};
use hotline_domain::outbox::OutboxStatus;
use hotline_domain::ticket::TicketStatus;
use hotline_storage::PoolUsage;
use hotline_storage::queries::reports::Gauges;
use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// The service's metrics and the registry they are exposed from.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    tickets: IntGaugeVec,
    alerts: IntGaugeVec,
    oldest_pending_age: Gauge,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
    pool_max: IntGauge,
}

impl Metrics {
    /// Registers every metric in a registry of its own.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "hotline_http_requests_total",
                "HTTP requests answered, by method, route pattern and status.",
            ),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "hotline_http_request_duration_seconds",
                "Time to answer, by method and route pattern.",
            ),
            &["method", "route"],
        )?;
        let tickets = IntGaugeVec::new(Opts::new("hotline_tickets", "Tickets by status."), &["status"])?;
        let alerts = IntGaugeVec::new(
            Opts::new(
                "hotline_outbox_alerts",
                "Alerts in the outbox by status (failed: delivery failed for good).",
            ),
            &["status"],
        )?;
        let oldest_pending_age = Gauge::new(
            "hotline_outbox_oldest_pending_age_seconds",
            "Age of the oldest alert waiting for delivery (pending or sending); 0 when none waits.",
        )?;
        let pool_connections = IntGauge::new("hotline_db_pool_connections", "Database connections open.")?;
        let pool_idle =
            IntGauge::new("hotline_db_pool_idle_connections", "Database connections open and idle.")?;
        let pool_max =
            IntGauge::new("hotline_db_pool_max_connections", "The most connections the pool opens.")?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(tickets.clone()))?;
        registry.register(Box::new(alerts.clone()))?;
        registry.register(Box::new(oldest_pending_age.clone()))?;
        registry.register(Box::new(pool_connections.clone()))?;
        registry.register(Box::new(pool_idle.clone()))?;
        registry.register(Box::new(pool_max.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            tickets,
            alerts,
            oldest_pending_age,
            pool_connections,
            pool_idle,
            pool_max,
        })
    }

    /// Counts one answered request.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests.with_label_values(&[method, route, &status.to_string()]).inc();
        self.latency.with_label_values(&[method, route]).observe(seconds);
    }

    /// Sets the gauges from the database's counts and the pool, at `now`. Every ticket and outbox
    /// status is set (zero included), so series do not vanish.
    pub fn refresh(&self, gauges: &Gauges, pool: PoolUsage, now: DateTime<Utc>) {
        for status in TicketStatus::ALL {
            let count = gauges.tickets_by_status.get(status.as_str()).copied().unwrap_or(0);
            self.tickets.with_label_values(&[status.as_str()]).set(count);
        }
        for status in OutboxStatus::ALL.iter().copied() {
            let count = gauges.outbox_by_status.get(status.as_str()).copied().unwrap_or(0);
            self.alerts.with_label_values(&[status.as_str()]).set(count);
        }
        let age = gauges
            .oldest_pending_alert
            .map_or(0.0, |oldest| (now - oldest).num_milliseconds().max(0) as f64 / 1000.0);
        self.oldest_pending_age.set(age);
        self.pool_connections.set(i64::from(pool.connections));
        self.pool_idle.set(i64::from(pool.idle));
        self.pool_max.set(i64::from(pool.max));
    }

    /// The text exposition format.
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        String::from_utf8(out).map_err(|error| prometheus::Error::Msg(error.to_string()))
    }
}

/// Middleware: counts every request by method, route pattern (`unmatched` when no route took it) and
/// final status, and observes its latency, in the [`Metrics`] registered as app data (the same as
/// `AppState::metrics`).
pub async fn record_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let outcome = next.call(req).await;
    if let Some(metrics) = metrics {
        let status = match &outcome {
            Ok(response) => response.status().as_u16(),
            Err(error) => error.as_response_error().status_code().as_u16(),
        };
        metrics.observe(&method, &route, status, started.elapsed().as_secs_f64());
    }
    outcome
}
