//! Webhook endpoints of the desk software and the deliveries written for each ticket event.
//!
//! Endpoints come from configuration: [`sync_endpoints`] writes them at start-up (secrets stay in the
//! configuration), so every process — and every transaction — sees the same subscriptions. Each audit
//! event is written to the outbox once per subscribed active endpoint by [`enqueue_for_event`], inside
//! the transaction that records the event: an event the API acknowledged always has its webhooks, and
//! the outbox worker delivers them with the same leases and retries as the partner alerts.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use hotline_domain::audit::TicketEvent;
use hotline_domain::outbox::{Channel, RetryPolicy};
use hotline_domain::webhook::{EndpointName, EventFilter, WebhookPayload};
use uuid::Uuid;

use crate::queries::corrupt;
use crate::queries::outbox::{self, NewAlert};
use crate::schema::{tickets, webhook_endpoints};
use crate::{DbConnection, MultiBackend, StorageError, db_time, utc};

/// An endpoint as configured (without its secret, which never reaches the database).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointSpec {
    /// Stable key; deliveries name it, and the worker finds the secret by it.
    pub name: EndpointName,
    /// Where deliveries are POSTed.
    pub url: String,
    /// Which events it receives.
    pub events: EventFilter,
    /// Attempts per delivery before it is `failed`.
    pub max_attempts: u32,
}

/// An endpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointRecord {
    /// Name.
    pub name: String,
    /// URL.
    pub url: String,
    /// Subscribed events.
    pub events: EventFilter,
    /// Attempts per delivery.
    pub max_attempts: i32,
    /// False once it was removed from the configuration: it gets no new deliveries.
    pub active: bool,
    /// First configured.
    pub created_at: DateTime<Utc>,
    /// Last changed by a sync.
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_endpoints)]
#[diesel(check_for_backend(MultiBackend))]
struct EndpointRow {
    name: String,
    url: String,
    events: String,
    max_attempts: i32,
    active: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl EndpointRow {
    fn into_record(self) -> Result<EndpointRecord, StorageError> {
        Ok(EndpointRecord {
            events: EventFilter::from_stored(&self.events)
                .map_err(|_| corrupt("webhook_endpoints.events", &self.events))?,
            name: self.name,
            url: self.url,
            max_attempts: self.max_attempts,
            active: self.active,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        })
    }
}

/// What a sync changed, for the start-up log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Endpoints seen for the first time.
    pub added: usize,
    /// Endpoints whose URL, events or attempts changed, or that came back.
    pub updated: usize,
    /// Endpoints no longer configured.
    pub deactivated: usize,
}

/// Makes the stored endpoints match the configuration: adds new ones, updates changed ones, and
/// deactivates the ones no longer configured (kept, because their past deliveries name them). Run it
/// in a write transaction.
pub fn sync_endpoints(
    conn: &mut DbConnection,
    specs: &[EndpointSpec],
    now: DateTime<Utc>,
) -> Result<SyncReport, StorageError> {
    let now = db_time(now);
    let stored = list_endpoints(conn)?;
    let mut report = SyncReport::default();
    for spec in specs {
        let max_attempts = i32::try_from(spec.max_attempts).unwrap_or(i32::MAX);
        let events = spec.events.to_stored();
        match stored.iter().find(|record| record.name == spec.name.as_str()) {
            None => {
                let row = EndpointRow {
                    name: spec.name.as_str().to_owned(),
                    url: spec.url.clone(),
                    events,
                    max_attempts,
                    active: true,
                    created_at: now,
                    updated_at: now,
                };
                diesel::insert_into(webhook_endpoints::table).values(&row).execute(conn)?;
                report.added += 1;
            }
            Some(record) => {
                let unchanged = record.url == spec.url
                    && record.events == spec.events
                    && record.max_attempts == max_attempts
                    && record.active;
                if !unchanged {
                    diesel::update(webhook_endpoints::table.find(spec.name.as_str()))
                        .set((
                            webhook_endpoints::url.eq(&spec.url),
                            webhook_endpoints::events.eq(events),
                            webhook_endpoints::max_attempts.eq(max_attempts),
                            webhook_endpoints::active.eq(true),
                            webhook_endpoints::updated_at.eq(now),
                        ))
                        .execute(conn)?;
                    report.updated += 1;
                }
            }
        }
    }
    for record in stored.iter().filter(|record| record.active) {
        if !specs.iter().any(|spec| spec.name.as_str() == record.name) {
            diesel::update(webhook_endpoints::table.find(&record.name))
                .set((webhook_endpoints::active.eq(false), webhook_endpoints::updated_at.eq(now)))
                .execute(conn)?;
            report.deactivated += 1;
        }
    }
    Ok(report)
}

/// Every endpoint, active or not, by name.
pub fn list_endpoints(conn: &mut DbConnection) -> Result<Vec<EndpointRecord>, StorageError> {
    webhook_endpoints::table
        .order(webhook_endpoints::name.asc())
        .select(EndpointRow::as_select())
        .load(conn)?
        .into_iter()
        .map(EndpointRow::into_record)
        .collect()
}

/// Writes one delivery per active endpoint subscribed to `action`, in the caller's transaction (the
/// one recording the event). Returns how many were written.
pub(crate) fn enqueue_for_event(
    conn: &mut DbConnection,
    event_id: Uuid,
    ticket_id: Uuid,
    event: &TicketEvent,
    occurred_at: DateTime<Utc>,
) -> Result<usize, StorageError> {
    let action = event.action();
    let endpoints: Vec<EndpointRecord> = webhook_endpoints::table
        .filter(webhook_endpoints::active.eq(true))
        .order(webhook_endpoints::name.asc())
        .select(EndpointRow::as_select())
        .load(conn)?
        .into_iter()
        .map(EndpointRow::into_record)
        .collect::<Result<_, _>>()?;
    let subscribed: Vec<&EndpointRecord> =
        endpoints.iter().filter(|endpoint| endpoint.events.matches(action)).collect();
    if subscribed.is_empty() {
        return Ok(0);
    }
    let reference: String =
        tickets::table.find(ticket_id.to_string()).select(tickets::reference).first(conn)?;
    let payload = WebhookPayload::new(event_id, event, occurred_at, ticket_id, &reference);
    let body = serde_json::to_string(&payload).map_err(|error| StorageError::Other(error.to_string()))?;
    let referral_id = event.referral_id();
    for endpoint in &subscribed {
        let delivery = NewAlert {
            channel: Channel::Webhook,
            alert_kind: action.as_str().to_owned(),
            ticket_id,
            referral_id,
            partner_id: None,
            recipient: endpoint.url.clone(),
            subject: action.as_str().to_owned(),
            body: body.clone(),
            webhook_endpoint: Some(endpoint.name.clone()),
        };
        let policy = RetryPolicy {
            max_attempts: u32::try_from(endpoint.max_attempts).unwrap_or(1),
            ..RetryPolicy::default()
        };
        outbox::enqueue(conn, &delivery, &policy, "webhook", occurred_at)?;
    }
    Ok(subscribed.len())
}
