//! The mailer: turns an [`OutgoingEmail`] into a MIME message and hands it to SMTP, or writes it as an
//! `.eml` file when the service runs embedded without a mail server.
//!
//! Every message carries the caller's Message-ID (stable per alert, so a receiver can drop the duplicate
//! when a crash makes us send twice), Date, From, To, `Auto-Submitted: auto-generated` (RFC 3834, so
//! partners' auto-responders stay quiet), the subject encoded per RFC 2047 when it is not ASCII, and a
//! `text/plain; charset=utf-8` body in quoted-printable or base64, whichever lettre finds shorter.
//!
//! Failures are split into [`SendError::Transient`] (retry later) and [`SendError::Permanent`] (retrying
//! cannot help) for the outbox's retry policy. Error texts never hold an email address.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::response::Code;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::redact;

/// The `[mail]` settings section: which transport, who the mail is from, and how to reach the server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// SMTP for production; a directory of `.eml` files for the embedded default and demos.
    pub transport: Transport,
    /// The hotline's mailbox, e.g. `JMA Cyber Hotline <hotline@example.jp>`; partners reply to it.
    pub from: String,
    /// Used when `transport = "smtp"`.
    #[serde(default)]
    pub smtp: SmtpSettings,
    /// Used when `transport = "file"`.
    #[serde(default)]
    pub file: FileSettings,
}

/// Where messages go, so a deployment without a mail server still keeps every alert (as files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// A real SMTP server (submission or relay).
    Smtp,
    /// One `.eml` file per message in `file.dir`.
    File,
}

/// How to reach the SMTP server; the password is kept out of Debug output and logs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// Server host name (also the TLS server name).
    pub host: String,
    /// Server port: usually 587 with STARTTLS, 465 with implicit TLS, 25 for a local relay.
    pub port: u16,
    /// Transport security.
    pub tls: SmtpTls,
    /// Login for SMTP AUTH; set together with `password`, or neither.
    #[serde(default)]
    pub username: Option<String>,
    /// Secret for SMTP AUTH; Debug prints it redacted.
    #[serde(default)]
    pub password: Option<SecretString>,
    /// Seconds one network step (connect, a reply) may take, so a dead server fails the try quickly.
    pub timeout_seconds: u64,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: "localhost".to_owned(),
            port: 587,
            tls: SmtpTls::Starttls,
            username: None,
            password: None,
            timeout_seconds: 30,
        }
    }
}

/// Transport security on the SMTP connection, so a plain local relay and a public submission port both work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text: only for a relay on the same host or a test server.
    None,
    /// Upgrade with STARTTLS, which is required (no silent fall-back to plain text).
    Starttls,
    /// Implicit TLS from the first byte (SMTPS, usually port 465).
    Tls,
}

/// Where the file transport writes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    /// Directory for the `.eml` files; created at start-up.
    pub dir: PathBuf,
}

impl Default for FileSettings {
    fn default() -> Self {
        Self { dir: PathBuf::from("data/mail") }
    }
}

/// One email to send, as the outbox stores it: already rendered, addressed and identified.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    /// Message-ID without angle brackets, e.g. `0190f3c1-…@hotline`; the same on every retry.
    pub message_id: String,
    /// Recipient mailbox, `name <addr>` or a bare address.
    pub to: String,
    /// One-line subject; newlines are folded into spaces.
    pub subject: String,
    /// UTF-8 plain text.
    pub body: String,
}

impl fmt::Debug for OutgoingEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only the id: the rest is personal data and must not end up in a log through `{:?}`.
        f.debug_struct("OutgoingEmail").field("message_id", &self.message_id).finish_non_exhaustive()
    }
}

/// Why the mailer could not be set up: a start-up error, so configuration mistakes stop the service early.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// `mail.from` must parse as a mailbox.
    #[error("mail.from is not a valid mailbox (expected e.g. \"JMA Cyber Hotline <hotline@example.jp>\")")]
    InvalidFrom,
    /// The SMTP settings are inconsistent or the TLS set-up failed.
    #[error("mail.smtp: {0}")]
    InvalidSmtp(String),
    /// The file transport's directory could not be created.
    #[error("mail.file.dir {}: cannot create the directory: {source}", dir.display())]
    CreateDir {
        /// The configured directory.
        dir: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// The SMTP connection pool runs a background task, so it needs a tokio runtime at construction.
    #[error("the SMTP mailer must be created inside a tokio runtime")]
    NoRuntime,
}

/// Why one send failed, split so the retry policy knows whether another try can succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth retrying: connection refused or reset, a timeout, a 4xx reply, a full disk.
    #[error("transient: {0}")]
    Transient(String),
    /// Retrying cannot help: a 5xx reply (other than an authentication failure) or an invalid address.
    #[error("permanent: {0}")]
    Permanent(String),
}

impl SendError {
    /// True when retrying cannot help, as the store's retry policy wants to know.
    pub fn is_permanent(&self) -> bool {
        matches!(self, SendError::Permanent(_))
    }
}

/// Sends alerts through the configured transport; cheap to share behind an `Arc`.
pub struct Mailer {
    transport: Inner,
    from: Mailbox,
    send_timeout: Duration,
}

enum Inner {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let transport = match self.transport {
            Inner::Smtp(_) => "smtp",
            Inner::File(_) => "file",
        };
        f.debug_struct("Mailer").field("transport", &transport).finish_non_exhaustive()
    }
}

/// How long the file transport may take for one message before the try counts as failed.
const FILE_SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// SMTP's timeout bounds each network step; a whole send has several (connect, greeting, EHLO, TLS, AUTH,
/// MAIL, RCPT, DATA), so one message may take a few of them before it is given up.
const SMTP_STEPS_PER_SEND: u32 = 4;

impl Mailer {
    /// Builds the transport, so bad settings fail at start-up (SMTP: call inside a tokio runtime).
    pub fn new(settings: &MailSettings) -> Result<Mailer, MailError> {
        let from: Mailbox = settings.from.parse().map_err(|_| MailError::InvalidFrom)?;
        match settings.transport {
            Transport::Smtp => {
                let smtp = &settings.smtp;
                if smtp.timeout_seconds == 0 {
                    return Err(MailError::InvalidSmtp("timeout_seconds must be at least 1".to_owned()));
                }
                if smtp.host.trim().is_empty() {
                    return Err(MailError::InvalidSmtp("host must not be empty".to_owned()));
                }
                tokio::runtime::Handle::try_current().map_err(|_| MailError::NoRuntime)?;
                let timeout = Duration::from_secs(smtp.timeout_seconds);
                let builder = match smtp.tls {
                    SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
                    SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
                        .map_err(|e| MailError::InvalidSmtp(format!("STARTTLS set-up failed: {e}")))?,
                    SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
                        .map_err(|e| MailError::InvalidSmtp(format!("TLS set-up failed: {e}")))?,
                };
                let mut builder = builder.port(smtp.port).timeout(Some(timeout));
                match (&smtp.username, &smtp.password) {
                    (Some(user), Some(password)) => {
                        builder = builder
                            .credentials(Credentials::new(user.clone(), password.expose_secret().to_owned()));
                    }
                    (None, None) => {}
                    _ => {
                        return Err(MailError::InvalidSmtp(
                            "username and password must be set together, or neither".to_owned(),
                        ));
                    }
                }
                Ok(Mailer {
                    transport: Inner::Smtp(builder.build()),
                    from,
                    send_timeout: timeout * SMTP_STEPS_PER_SEND,
                })
            }
            Transport::File => {
                let dir = &settings.file.dir;
                std::fs::create_dir_all(dir)
                    .map_err(|source| MailError::CreateDir { dir: dir.clone(), source })?;
                Ok(Mailer {
                    transport: Inner::File(AsyncFileTransport::new(dir)),
                    from,
                    send_timeout: FILE_SEND_TIMEOUT,
                })
            }
        }
    }

    /// Sends one message, and says whether a failure is worth retrying.
    pub async fn send(&self, email: &OutgoingEmail) -> Result<(), SendError> {
        let message = self.build(email)?;
        match &self.transport {
            Inner::Smtp(transport) => transport.send(message).await.map(|_| ()).map_err(classify_smtp),
            Inner::File(transport) => transport.send(message).await.map(|_| ()).map_err(|e| {
                SendError::Transient(redact::addresses(&format!("cannot write the .eml file: {e}")))
            }),
        }
    }

    /// Checks the SMTP server answers (connect, TLS, AUTH, NOOP) for readiness; files are always ready.
    pub async fn check(&self) -> Result<(), SendError> {
        match &self.transport {
            Inner::Smtp(transport) => match transport.test_connection().await {
                Ok(true) => Ok(()),
                Ok(false) => Err(SendError::Transient("the SMTP server did not answer NOOP".to_owned())),
                Err(e) => Err(classify_smtp(e)),
            },
            Inner::File(_) => Ok(()),
        }
    }

    /// Upper bound for one send, so a server that stops answering cannot hold a message past its lease.
    pub fn send_timeout(&self) -> Duration {
        self.send_timeout
    }

    fn build(&self, email: &OutgoingEmail) -> Result<Message, SendError> {
        check_message_id(&email.message_id)?;
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|_| SendError::Permanent("the recipient is not a valid email address".to_owned()))?;
        let mut body = email.body.clone();
        if !body.ends_with('\n') {
            body.push('\n');
        }
        Message::builder()
            .message_id(Some(format!("<{}>", email.message_id)))
            .date_now()
            .from(self.from.clone())
            .to(to)
            .subject(one_line(&email.subject))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".to_owned(),
            ))
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| SendError::Permanent(redact::addresses(&format!("cannot build the message: {e}"))))
    }
}

/// A Message-ID must be `left@right` in printable ASCII without spaces or brackets (RFC 5322 msg-id).
fn check_message_id(id: &str) -> Result<(), SendError> {
    let valid = id
        .split_once('@')
        .is_some_and(|(left, right)| !left.is_empty() && !right.is_empty() && !right.contains('@'))
        && id.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"' | b'\\' | b'(' | b')'));
    if valid {
        Ok(())
    } else {
        Err(SendError::Permanent(format!(
            "invalid Message-ID {id:?}: expected left@right in printable ASCII without angle brackets"
        )))
    }
}

/// Folds line breaks and other control characters into single spaces: a header is one line.
fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_control())
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Replies that mean "your login is wrong or missing": a configuration fault of ours that an operator will
/// fix, so retrying must stay possible instead of failing every pending alert for good.
fn is_auth_failure(code: Code) -> bool {
    matches!(u16::from(code), 530 | 534 | 535 | 538)
}

/// 5xx replies are permanent, except authentication failures; everything else (4xx, connection, timeout,
/// TLS, a garbled reply) is transient.
fn classify_smtp(error: lettre::transport::smtp::Error) -> SendError {
    let text = redact::addresses(&error.to_string());
    match error.status() {
        Some(code) if error.is_permanent() && is_auth_failure(code) => SendError::Transient(format!(
            "SMTP authentication failed, check mail.smtp.username/password: {text}"
        )),
        Some(_) if error.is_permanent() => SendError::Permanent(text),
        _ if error.is_timeout() => SendError::Transient(format!("timed out: {text}")),
        _ => SendError::Transient(text),
    }
}

#[cfg(test)]
mod tests {
    use super::{check_message_id, one_line};

    #[test]
    fn message_ids_need_one_at_and_no_brackets() {
        assert!(check_message_id("0190f3c1-7a2b@hotline").is_ok());
        assert!(check_message_id("<0190f3c1@hotline>").is_err());
        assert!(check_message_id("no-at-sign").is_err());
        assert!(check_message_id("a@b@c").is_err());
        assert!(check_message_id("has space@hotline").is_err());
        assert!(check_message_id("@hotline").is_err());
    }

    #[test]
    fn subject_line_breaks_become_single_spaces() {
        assert_eq!(one_line("【窓口】ご依頼\r\n  HL-2026-000123\n"), "【窓口】ご依頼 HL-2026-000123");
    }
}
