//! Partner alerts for the hotline: emails to forensic vendors, law firms and police cyber desks, and
//! signed webhooks to the hotline's own desk software.
//!
//! Four parts, usable on their own:
//! - [`mailer`]: builds a MIME message (stable Message-ID, RFC 2047 subject, UTF-8 body) and sends it over
//!   SMTP, or writes it as an `.eml` file for the embedded default; failures are classified as transient or
//!   permanent so the retry policy can act on them.
//! - [`templates`]: the alert texts, Japanese by default and English, as minijinja files under
//!   `config/templates/`, all checked at start-up.
//! - [`webhook`]: signed HTTP POSTs of ticket events to the desk software (Standard Webhooks headers).
//! - [`outbox`]: the delivery loop over any [`outbox::OutboxStore`], so an alert written in the same
//!   transaction as the change that caused it is delivered with retries and never lost.
//!
//! With the `test-support` feature, `test_support` offers a real SMTP server on 127.0.0.1 for tests.
//!
//! Personal data: alerts carry the institution, its prefecture, the incident summary and the hotline's own
//! contact, never the caller's name, phone or registration numbers; logs carry message ids and outcomes only.

pub mod mailer;
pub mod outbox;
mod redact;
pub mod templates;
#[cfg(feature = "test-support")]
pub mod test_support;
pub mod webhook;

pub use mailer::{
    MailError, MailSettings, Mailer, OutgoingEmail, SendError, SmtpSettings, SmtpTls, Transport,
};
pub use outbox::{OutboxMessage, OutboxStore, StoreError, Worker};
pub use templates::{AlertContext, AlertKind, Lang, RenderedAlert, TemplateError, Templates, UnknownName};
pub use webhook::{UrlSecurity, WebhookDelivery, WebhookError, WebhookSecret, WebhookSender};
