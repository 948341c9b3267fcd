//! Alerts to partners and webhook deliveries as supervisors see them: where they go and how delivery
//! stands, never their text.

use chrono::{DateTime, FixedOffset};
use hotline_domain::outbox::{Channel, OutboxStatus};
use hotline_storage::queries::outbox::AlertRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::context::ViewContext;

/// An alert or webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AlertView {
    /// Id.
    pub id: Uuid,
    /// `email` or `webhook`.
    pub channel: Channel,
    /// Webhooks only: the endpoint's configured name.
    pub webhook_endpoint: Option<String>,
    /// What it is about, e.g. `referral_requested`, `police_handoff`, or the event type of a webhook.
    pub kind: String,
    /// The ticket.
    pub ticket_id: Uuid,
    /// The referral it is about.
    pub referral_id: Option<Uuid>,
    /// The partner it goes to.
    pub partner_id: Option<Uuid>,
    /// The address (or the endpoint's name).
    pub recipient: String,
    /// Message-ID of the e-mail, or the webhook's delivery id.
    pub message_id: String,
    /// Subject of the e-mail (the event type of a webhook).
    pub subject: String,
    /// Delivery status.
    pub status: OutboxStatus,
    /// Attempts so far.
    pub attempts: i32,
    /// Attempts before it is `failed`.
    pub max_attempts: i32,
    /// Pending only: when the next attempt is due.
    pub next_attempt_at: Option<DateTime<FixedOffset>>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was delivered.
    pub sent_at: Option<DateTime<FixedOffset>>,
    /// When it was written.
    pub created_at: DateTime<FixedOffset>,
}

impl AlertView {
    /// Shows an alert.
    pub fn new(alert: &AlertRecord, ctx: &ViewContext<'_>) -> Self {
        Self {
            id: alert.id,
            channel: alert.channel,
            webhook_endpoint: alert.webhook_endpoint.clone(),
            kind: alert.alert_kind.clone(),
            ticket_id: alert.ticket_id,
            referral_id: alert.referral_id,
            partner_id: alert.partner_id,
            recipient: alert.recipient.clone(),
            message_id: alert.message_id.clone(),
            subject: alert.subject.clone(),
            status: alert.status,
            attempts: alert.attempts,
            max_attempts: alert.max_attempts,
            next_attempt_at: (alert.status == OutboxStatus::Pending).then(|| ctx.at(alert.next_attempt_at)),
            last_error: alert.last_error.clone(),
            sent_at: ctx.at_opt(alert.sent_at),
            created_at: ctx.at(alert.created_at),
        }
    }
}

/// Alerts, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AlertList {
    /// The alerts.
    pub notifications: Vec<AlertView>,
}
