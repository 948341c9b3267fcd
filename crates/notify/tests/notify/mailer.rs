//! The mailer against a real SMTP conversation on 127.0.0.1, and the file transport.

use std::time::Duration;

use hotline_notify::{MailError, MailSettings, Mailer, OutgoingEmail, SendError};
use mail_parser::{MessageParser, MimeHeaders};

use crate::support::{TO, TO_ADDRESS, file_mailer, japanese_email, raw_header, smtp_mailer, smtp_settings};
use hotline_notify::test_support::{Behaviour, SmtpSink, free_addr};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn japanese_alert_arrives_with_rfc2047_subject_utf8_body_and_the_given_message_id() {
    let sink = SmtpSink::start().await;
    let mailer = smtp_mailer(sink.addr());
    let email = japanese_email("0190f3c1-7a2b-7c3d-8e4f-5a6b7c8d9e0f@hotline");

    mailer.send(&email).await.expect("delivered");

    let received = sink.wait_for(1, WAIT).await;
    assert_eq!(received.len(), 1);
    let message = &received[0];
    assert_eq!(message.rcpt_to, vec![TO_ADDRESS.to_owned()]);
    assert_eq!(message.mail_from, "hotline@example.jp");
    let raw = &message.raw;
    assert!(raw.is_ascii(), "a 7-bit message: non-ASCII only inside encoded words and the encoded body");

    let subject = raw_header(raw, "Subject").expect("Subject header");
    assert!(subject.to_ascii_lowercase().starts_with("=?utf-8?"), "RFC 2047 encoded subject: {subject}");
    assert_eq!(
        raw_header(raw, "Message-ID").as_deref(),
        Some("<0190f3c1-7a2b-7c3d-8e4f-5a6b7c8d9e0f@hotline>")
    );
    assert!(raw_header(raw, "Date").is_some(), "Date header");
    assert_eq!(raw_header(raw, "Auto-Submitted").as_deref(), Some("auto-generated"));
    let content_type = raw_header(raw, "Content-Type").expect("Content-Type").to_ascii_lowercase();
    assert_eq!(content_type.replace(' ', ""), "text/plain;charset=utf-8");
    let encoding =
        raw_header(raw, "Content-Transfer-Encoding").expect("transfer encoding").to_ascii_lowercase();
    assert!(encoding == "base64" || encoding == "quoted-printable", "transfer encoding {encoding}");

    let parsed = MessageParser::default().parse(raw).expect("parsable message");
    assert_eq!(parsed.subject(), Some(email.subject.as_str()), "subject decodes back to the Japanese text");
    assert_eq!(parsed.message_id(), Some(email.message_id.as_str()));
    let from = parsed.from().and_then(|from| from.first()).expect("From");
    assert_eq!(from.address(), Some("hotline@example.jp"));
    assert_eq!(from.name(), Some("JMA Cyber Hotline"));
    let to = parsed.to().and_then(|to| to.first()).expect("To");
    assert_eq!(to.address(), Some(TO_ADDRESS));
    assert_eq!(to.name(), Some("担当者"));
    assert_eq!(parsed.content_type().and_then(|ct| ct.attribute("charset")), Some("utf-8"));
    let body = parsed.body_text(0).expect("text body").replace("\r\n", "\n");
    assert_eq!(body, email.body, "body decodes back to the UTF-8 text, lines starting with dots included");
}

#[tokio::test]
async fn one_connection_carries_several_messages_each_with_its_own_id() {
    let sink = SmtpSink::start().await;
    let mailer = smtp_mailer(sink.addr());
    for n in 0..3 {
        mailer.send(&japanese_email(&format!("msg-{n}@hotline"))).await.expect("delivered");
    }
    let received = sink.wait_for(3, WAIT).await;
    let ids: Vec<_> = received.iter().filter_map(|m| raw_header(&m.raw, "Message-ID")).collect();
    assert_eq!(ids, ["<msg-0@hotline>", "<msg-1@hotline>", "<msg-2@hotline>"]);
}

#[tokio::test]
async fn connection_refused_is_transient() {
    let mailer = smtp_mailer(free_addr());
    let error = mailer.send(&japanese_email("refused@hotline")).await.expect_err("nobody listens");
    assert!(matches!(error, SendError::Transient(_)), "{error:?}");
    assert!(!error.is_permanent());
}

#[tokio::test]
async fn recipient_rejected_with_550_is_permanent_and_the_error_holds_no_address() {
    let sink = SmtpSink::start_with(0, Behaviour::rejecting(550)).await;
    let mailer = smtp_mailer(sink.addr());

    let error = mailer.send(&japanese_email("rejected@hotline")).await.expect_err("550");

    let SendError::Permanent(text) = &error else { panic!("expected a permanent error, got {error:?}") };
    assert!(text.contains("550"), "{text}");
    assert!(!text.contains(TO_ADDRESS) && !text.contains("forensic.example.jp"), "address leaked: {text}");
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn temporary_rejection_451_is_transient() {
    let sink = SmtpSink::start_with(0, Behaviour::rejecting(451)).await;
    let mailer = smtp_mailer(sink.addr());

    let error = mailer.send(&japanese_email("greylisted@hotline")).await.expect_err("451");

    assert!(matches!(&error, SendError::Transient(text) if text.contains("451")), "{error:?}");
}

#[tokio::test]
async fn invalid_recipient_or_message_id_is_permanent_without_a_connection() {
    let sink = SmtpSink::start().await;
    let mailer = smtp_mailer(sink.addr());

    let bad_to = OutgoingEmail { to: "not an address".to_owned(), ..japanese_email("bad-to@hotline") };
    let error = mailer.send(&bad_to).await.expect_err("invalid address");
    assert!(matches!(&error, SendError::Permanent(text) if !text.contains("not an address")), "{error:?}");

    let bad_id = japanese_email("<bracketed@hotline>");
    assert!(mailer.send(&bad_id).await.expect_err("invalid id").is_permanent());

    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn check_passes_against_a_live_server_and_is_transient_when_it_is_down() {
    let sink = SmtpSink::start().await;
    smtp_mailer(sink.addr()).check().await.expect("server answers");

    let error = smtp_mailer(free_addr()).check().await.expect_err("nobody listens");
    assert!(matches!(error, SendError::Transient(_)), "{error:?}");
}

#[tokio::test]
async fn file_transport_writes_one_eml_per_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let outbox = dir.path().join("mail/outbox");
    let mailer = file_mailer(&outbox);
    mailer.check().await.expect("file transport is always ready");

    for id in ["file-1@hotline", "file-2@hotline"] {
        mailer.send(&japanese_email(id)).await.expect("written");
    }

    let mut ids = Vec::new();
    for entry in std::fs::read_dir(&outbox).expect("outbox dir created") {
        let path = entry.expect("entry").path();
        assert_eq!(path.extension().and_then(|e| e.to_str()), Some("eml"), "{}", path.display());
        let raw = std::fs::read(&path).expect("read .eml");
        let parsed = MessageParser::default().parse(&raw).expect("parsable .eml");
        assert_eq!(parsed.subject(), Some(japanese_email("x@y").subject.as_str()));
        ids.push(parsed.message_id().expect("Message-ID").to_owned());
    }
    ids.sort();
    assert_eq!(ids, ["file-1@hotline", "file-2@hotline"]);
}

#[tokio::test]
async fn bad_settings_fail_at_start_up() {
    let mut settings = smtp_settings(free_addr());
    settings.from = "not a mailbox".to_owned();
    assert!(matches!(Mailer::new(&settings), Err(MailError::InvalidFrom)));

    let mut settings = smtp_settings(free_addr());
    settings.smtp.username = Some("hotline".to_owned());
    assert!(matches!(Mailer::new(&settings), Err(MailError::InvalidSmtp(_))));
}

#[test]
fn smtp_mailer_outside_a_runtime_is_an_error_not_a_panic() {
    let error = Mailer::new(&smtp_settings(free_addr())).expect_err("needs a runtime");
    assert!(matches!(error, MailError::NoRuntime), "{error:?}");
}

#[test]
fn settings_deserialize_strictly_and_keep_the_password_out_of_debug() {
    let json = serde_json::json!({
        "transport": "smtp",
        "from": "JMA Cyber Hotline <hotline@example.jp>",
        "smtp": {
            "host": "smtp.example.jp", "port": 587, "tls": "starttls",
            "username": "hotline", "password": "s3cret-pa55", "timeout_seconds": 20
        },
        "file": { "dir": "data/mail" }
    });
    let settings: MailSettings = serde_json::from_value(json.clone()).expect("valid settings");
    assert_eq!(settings.smtp.port, 587);
    let debug = format!("{settings:?}");
    assert!(!debug.contains("s3cret-pa55"), "password in Debug output: {debug}");

    let mut typo = json;
    typo["smtp"]["timeout_secs"] = serde_json::json!(20);
    let error = serde_json::from_value::<MailSettings>(typo).expect_err("unknown field");
    assert!(error.to_string().contains("timeout_secs"), "{error}");
}

#[test]
fn outgoing_email_debug_shows_only_the_message_id() {
    let debug = format!("{:?}", japanese_email("dbg@hotline"));
    assert!(debug.contains("dbg@hotline"));
    assert!(!debug.contains(TO) && !debug.contains("サンプル"), "{debug}");
}
