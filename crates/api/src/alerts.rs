//! Alerts to partners, composed here and written to the outbox in the same transaction as the
//! referral change that causes them: a referral the API acknowledged always has its alerts, and the
//! worker delivers them later with retries. Only what the partner needs goes out: the institution,
//! its prefecture, the incident, and the hotline's contact — never the caller's name, phone or numbers.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use hotline_domain::office_hours::OfficeHours;
use hotline_domain::outbox::{Channel, RetryPolicy};
use hotline_domain::referral::ReferralKind;
use hotline_notify::{AlertContext, AlertKind, Lang, Templates};
use hotline_storage::db::DbConnection;
use hotline_storage::queries::outbox::{self, NewAlert};
use hotline_storage::queries::partners::PartnerRecord;
use hotline_storage::queries::records::ReferralRecord;
use hotline_storage::queries::ticket_view::FullTicket;

/// How alerts are written and signed.
pub struct AlertSettings {
    /// Loaded and checked templates.
    pub templates: Arc<Templates>,
    /// Language of alerts.
    pub language: Lang,
    /// The hotline's name as it signs.
    pub hotline_name: String,
    /// The hotline's phone.
    pub hotline_phone: String,
    /// The hotline's email.
    pub hotline_email: String,
    /// Right-hand side of Message-IDs.
    pub message_domain: String,
    /// Retries of new alerts.
    pub retry_policy: RetryPolicy,
    /// Signed links by which partners answer.
    pub ack: crate::ack::AckLinks,
}

/// What an alert is about.
pub struct AlertSubject<'a> {
    /// The ticket with its calls and triage.
    pub ticket: &'a FullTicket,
    /// The referral.
    pub referral: &'a ReferralRecord,
    /// The partner and its addresses.
    pub partner: &'a PartnerRecord,
    /// The partner's hours (police desks), to say whether the desk is open.
    pub hours: Option<&'a OfficeHours>,
}

fn local(at: DateTime<Utc>, tz: Tz) -> String {
    format!("{} (JST)", at.with_timezone(&tz).format("%Y-%m-%d %H:%M"))
}

/// What is asked of the partner, in the alert's language.
fn ask(kind: AlertKind, referral: ReferralKind, language: Lang) -> &'static str {
    match (kind, referral, language) {
        (AlertKind::ReferralCancelled, _, Lang::Ja) => "本件のご依頼は取り消されました。ご対応は不要です。",
        (AlertKind::ReferralCancelled, _, Lang::En) => {
            "This request has been withdrawn; no action is needed."
        }
        (_, ReferralKind::Police, Lang::Ja) => "会員の同意のもと、本件のご相談をお願い申し上げます。",
        (_, ReferralKind::Police, Lang::En) => {
            "With the member's consent, we ask you to take this consultation."
        }
        (_, ReferralKind::Forensic, Lang::Ja) => {
            "初動調査（証拠保全と被害範囲の特定）のご対応をお願いできますでしょうか。"
        }
        (_, ReferralKind::Forensic, Lang::En) => {
            "Could you take on the initial investigation (evidence preservation and scoping)?"
        }
        (_, ReferralKind::Legal, Lang::Ja) => "本件に関する法的助言をお願いできますでしょうか。",
        (_, ReferralKind::Legal, Lang::En) => {
            "Could you advise the institution on the legal aspects of this incident?"
        }
    }
}

/// Why an alert could not be written; the change that caused it is rolled back.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    /// A template failed to render (they are test-rendered at start, so this is a bug).
    #[error("rendering {kind} alert: {cause}")]
    Render {
        /// Which alert.
        kind: &'static str,
        /// The template engine's message.
        cause: String,
    },
    /// The outbox write failed.
    #[error(transparent)]
    Storage(#[from] hotline_storage::StorageError),
}

/// Renders and enqueues one alert per partner address, in the caller's transaction.
pub fn enqueue(
    conn: &mut DbConnection,
    settings: &AlertSettings,
    kind: AlertKind,
    subject: &AlertSubject<'_>,
    note: Option<&str>,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<usize, AlertError> {
    let ticket = &subject.ticket.detail.header;
    let triage = subject.ticket.triage.as_ref().map(|record| &record.triage);
    let first_call = subject.ticket.detail.calls.first();
    let referral = subject.referral;
    let (desk_open_now, desk_next_open) = match subject.hours {
        Some(hours) if hours.is_open(now) => {
            (Some(format!("{}–{}", hours.open.format("%H:%M"), hours.close.format("%H:%M"))), None)
        }
        Some(hours) => (None, hours.next_open_after(now).map(|at| local(at, tz))),
        None => (None, None),
    };
    let context = AlertContext {
        ticket_reference: ticket.reference.clone(),
        referral_kind: referral.kind.as_str().to_owned(),
        partner_name: subject.partner.name.clone(),
        institution_name: first_call.map(|call| call.institution_name.clone()).unwrap_or_default(),
        prefecture_code: ticket.prefecture.code(),
        prefecture_name: ticket.prefecture.name_ja().to_owned(),
        incident_kind: triage.map_or("none", |t| t.incident_kind.as_str()).to_owned(),
        category: triage.map_or("serious_incident", |t| t.category.as_str()).to_owned(),
        priority: ticket.priority.map_or("P1", |p| p.as_str()).to_owned(),
        summary: ticket.summary.clone(),
        requested_at: local(referral.requested_at, tz),
        consent_given_by: referral.consent_given_by.clone(),
        note: note.map(str::to_owned).or_else(|| referral.request_note.clone()),
        ask: ask(kind, referral.kind, settings.language).to_owned(),
        hotline_name: settings.hotline_name.clone(),
        hotline_phone: settings.hotline_phone.clone(),
        hotline_email: settings.hotline_email.clone(),
        ack_url: (kind != AlertKind::ReferralCancelled).then(|| settings.ack.url(referral.id, now)),
        police_context: None,
        desk_open_now,
        desk_next_open,
    };
    let rendered = settings
        .templates
        .render(kind, settings.language, &context)
        .map_err(|error| AlertError::Render { kind: kind.as_str(), cause: error.to_string() })?;
    for recipient in &subject.partner.emails {
        let alert = NewAlert {
            channel: Channel::Email,
            alert_kind: kind.as_str().to_owned(),
            ticket_id: ticket.id,
            referral_id: Some(referral.id),
            partner_id: Some(subject.partner.id),
            recipient: recipient.clone(),
            subject: rendered.subject.clone(),
            body: rendered.body.clone(),
            webhook_endpoint: None,
        };
        outbox::enqueue(conn, &alert, &settings.retry_policy, &settings.message_domain, now)?;
    }
    Ok(subject.partner.emails.len())
}
