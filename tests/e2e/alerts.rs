//! Partner alerts end to end, against a real SMTP server on 127.0.0.1 (`hotline_notify::test_support`):
//! referrals made over HTTP go through the outbox and arrive as Japanese emails, one per partner address,
//! exactly once — also when the mail server was down for a while, refused the message, or the app was
//! stopped with an alert pending, and when two apps share one PostgreSQL database.
//!
//! The outbox's retry times and leases follow the app's test clock: a scenario moves the clock on to make
//! a retry due.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use hotline_notify::test_support::{Behaviour, Received, SmtpSink, reserve_port};
use serde_json::{Value, json};

use crate::helpers::{
    AppOptions, Backend, DEFAULT_NOW, SMTP_MAX_RETRY_DELAY_SECONDS, TestApp, at, consent,
    create_forensic_partner, give_desk_an_email, open_ticket, police_desk, ransomware_triage, text,
};

on_both_backends_with_own_apps!(
    an_escalation_over_http_sends_one_encoded_japanese_email_per_partner_address_without_caller_data,
    with_the_smtp_server_down_the_alert_stays_pending_with_its_error_and_is_delivered_once_when_it_returns,
    a_550_rejection_fails_the_alert_for_supervisors_to_see_and_their_retry_delivers_it_once,
    cancelling_a_referral_sends_the_partner_a_cancellation_alert,
    an_alert_pending_when_the_app_stops_is_delivered_once_by_the_next_app_on_the_same_database,
    escalations_while_the_smtp_server_is_down_are_each_delivered_exactly_once_when_it_returns,
);

/// How long an alert may take to reach the sink, or to show as delivered.
const WAIT: Duration = Duration::from_secs(15);

/// Long enough for several outbox polls (every 50 ms): a duplicate would have arrived by then.
const A_FEW_POLLS: Duration = Duration::from_millis(400);

/// What the fixture call holds about the caller, which no alert may carry.
const CALLER_DATA: [&str; 4] = ["山田 太郎", "山田", "03-3946-2121", "123456"];

const INSTITUTION: &str = "本駒込クリニック";
const HOTLINE_NAME: &str = "日本医師会サイバーセキュリティ緊急相談窓口";
const HOTLINE_PHONE: &str = "0120-179-066";

/// A vendor with two addresses: each gets its own email.
async fn create_vendor_with_two_addresses(app: &TestApp) -> Value {
    let body = json!({
        "kind": "forensic",
        "name": "東京フォレンジック株式会社",
        "emails": ["ir@forensic.example.co.jp", "soc@forensic.example.co.jp"],
        "phone": "03-1234-5678",
        "prefectures": ["13"],
    });
    app.post_json("/v1/partners", &app.supervisor.secret, &body, None).await.expect(201)
}

/// A triaged ticket (version 2) of the fixture call at `now`, which the clock is set to.
async fn triaged_ticket(app: &TestApp, now: &str) -> Value {
    app.set_clock(now);
    let id = open_ticket(app, now).await;
    app.change(&format!("/v1/tickets/{id}/triage"), &app.operator.secret, Some(1), Some(&ransomware_triage()))
        .await
        .expect_change(200, 2)
}

/// Requests a referral on the ticket at `version`; the ticket afterwards (the referral in `referral`).
async fn refer(app: &TestApp, ticket_id: &str, version: i64, request: &Value) -> Value {
    app.change(
        &format!("/v1/tickets/{ticket_id}/referrals"),
        &app.operator.secret,
        Some(version),
        Some(request),
    )
    .await
    .expect_change(201, version + 1)
}

fn forensic_request(partner_id: &str, now: &str) -> Value {
    json!({ "kind": "forensic", "partner_id": partner_id, "consent": consent(now), "note": "ログ保全を依頼" })
}

/// A ticket escalated to a new one-address vendor at the default time: (ticket id, the ticket).
async fn escalated_ticket(app: &TestApp) -> (String, Value) {
    app.import_fixture_registry().await;
    let vendor = create_forensic_partner(app, &["13"]).await;
    let ticket = triaged_ticket(app, DEFAULT_NOW).await;
    let id = text(&ticket, "/id");
    let escalated = refer(app, &id, 2, &forensic_request(&text(&vendor, "/id"), DEFAULT_NOW)).await;
    (id, escalated)
}

/// The ticket's `alerts[]` as the operator sees them.
async fn alerts_of(app: &TestApp, ticket_id: &str) -> Vec<Value> {
    let ticket = app.ticket(ticket_id, &app.operator.secret).await;
    ticket["alerts"].as_array().cloned().unwrap_or_else(|| panic!("alerts[]: {ticket}"))
}

/// Polls the ticket until its alerts satisfy `done` (bounded by [`WAIT`]), and returns them.
async fn wait_for_alerts(
    app: &TestApp,
    ticket_id: &str,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let alerts = alerts_of(app, ticket_id).await;
        if done(&alerts) {
            return alerts;
        }
        assert!(tokio::time::Instant::now() < deadline, "alerts never became {what}: {alerts:#?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn all_sent(alerts: &[Value]) -> bool {
    !alerts.is_empty() && alerts.iter().all(|alert| alert["status"] == "sent")
}

/// One pending alert that has been tried and failed at least once.
fn tried_and_pending(alerts: &[Value]) -> bool {
    alerts.len() == 1
        && alerts[0]["status"] == "pending"
        && alerts[0]["attempts"].as_i64().is_some_and(|n| n >= 1)
        && alerts[0]["last_error"].is_string()
}

/// `rfc3339` moved on by `seconds`, in Japan time.
fn plus_seconds(rfc3339: &str, seconds: i64) -> String {
    let jst = chrono::FixedOffset::east_opt(9 * 3600).expect("JST");
    (at(rfc3339) + chrono::Duration::seconds(seconds)).with_timezone(&jst).to_rfc3339()
}

/// Later than any retry of an alert that failed at `rfc3339`.
fn past_the_retry_delay(rfc3339: &str) -> String {
    plus_seconds(rfc3339, SMTP_MAX_RETRY_DELAY_SECONDS + 1)
}

/// Asserts the sink got exactly `count` messages and no more arrive over a few more worker polls.
async fn assert_exactly(sink: &SmtpSink, count: usize) -> Vec<Received> {
    sink.wait_for(count, WAIT).await;
    tokio::time::sleep(A_FEW_POLLS).await;
    let messages = sink.messages();
    assert_eq!(
        messages.len(),
        count,
        "exactly {count} message(s), no duplicate: {:#?}",
        message_ids(&messages)
    );
    messages
}

fn message_ids(messages: &[Received]) -> Vec<String> {
    messages.iter().map(|m| m.message_id().unwrap_or_else(|| "(none)".to_owned())).collect()
}

/// Checks what every alert email must be: RFC 2047 Japanese subject naming the ticket, UTF-8 body
/// with the ticket, institution and hotline contact, and nothing about the caller.
fn assert_alert_email(message: &Received, reference: &str) {
    let raw_subject = message.raw_header("Subject").expect("a Subject header");
    assert!(
        raw_subject.to_ascii_lowercase().starts_with("=?utf-8?"),
        "the subject is RFC 2047 encoded: {raw_subject}"
    );
    assert!(message.raw.is_ascii(), "7-bit on the wire: non-ASCII only inside encoded words and the body");
    let subject = message.subject().expect("a decodable subject");
    assert!(subject.contains(reference) && subject.contains(HOTLINE_NAME), "{subject}");
    assert_eq!(message.charset().as_deref(), Some("utf-8"));
    let body = message.body().expect("a text body");
    for needed in [reference, INSTITUTION, HOTLINE_PHONE] {
        assert!(body.contains(needed), "the body lacks {needed}:\n{body}");
    }
    for personal in CALLER_DATA {
        assert!(
            !body.contains(personal) && !subject.contains(personal),
            "{personal} leaked:\n{subject}\n{body}"
        );
    }
}

async fn an_escalation_over_http_sends_one_encoded_japanese_email_per_partner_address_without_caller_data(
    backend: Backend,
) {
    let sink = SmtpSink::start().await;
    let Some(app) = backend.spawn(AppOptions::smtp(sink.port())).await else { return };
    app.import_fixture_registry().await;
    let vendor = create_vendor_with_two_addresses(&app).await;
    let desk_id = text(&police_desk(&app, "13").await, "/id");
    give_desk_an_email(&app, &desk_id).await;

    // Sunday evening: the police desk is closed until Monday 08:30.
    let sunday = "2026-11-29T18:30:00+09:00";
    let ticket = triaged_ticket(&app, sunday).await;
    let id = text(&ticket, "/id");
    let reference = text(&ticket, "/reference");
    refer(&app, &id, 2, &forensic_request(&text(&vendor, "/id"), sunday)).await;
    let police = json!({ "kind": "police", "consent": consent(sunday), "note": "被害相談" });
    refer(&app, &id, 3, &police).await;

    let messages = assert_exactly(&sink, 3).await;
    let alerts = wait_for_alerts(&app, &id, "sent", all_sent).await;
    assert_eq!(alerts.len(), 3, "one alert per partner address: {alerts:#?}");
    let by_recipient: BTreeMap<String, &Value> =
        alerts.iter().map(|alert| (text(alert, "/recipient"), alert)).collect();
    let recipients: Vec<&str> = by_recipient.keys().map(String::as_str).collect();
    assert_eq!(
        recipients,
        ["cyber-soudan@police.example.jp", "ir@forensic.example.co.jp", "soc@forensic.example.co.jp"]
    );
    for alert in &alerts {
        assert_eq!(alert["attempts"], 1, "{alert}");
        assert!(alert["sent_at"].is_string(), "{alert}");
        assert_eq!(alert["last_error"], Value::Null, "{alert}");
    }

    let mut delivered = BTreeSet::new();
    for message in &messages {
        assert_eq!(message.rcpt_to.len(), 1, "one recipient per message: {:?}", message.rcpt_to);
        let recipient = &message.rcpt_to[0];
        assert!(delivered.insert(recipient.clone()), "{recipient} got two messages");
        let alert = by_recipient.get(recipient).unwrap_or_else(|| panic!("mail to {recipient}, no alert"));
        assert_eq!(message.to_addresses(), std::slice::from_ref(recipient));
        assert_eq!(message.message_id().as_deref(), alert["message_id"].as_str(), "the alert's Message-ID");
        assert_alert_email(message, &reference);
        let body = message.body().expect("a text body");
        if alert["kind"] == "police_handoff" {
            assert!(body.contains("覚書"), "the police alert gives the memorandum's context:\n{body}");
            assert!(
                body.contains("受付時間外") && body.contains("2026-11-30 08:30"),
                "the desk is closed on Sunday and opens Monday 08:30:\n{body}"
            );
        } else {
            assert_eq!(alert["kind"], "referral_requested", "{alert}");
            assert!(body.contains("フォレンジック") && !body.contains("覚書"), "{body}");
        }
    }
}

async fn with_the_smtp_server_down_the_alert_stays_pending_with_its_error_and_is_delivered_once_when_it_returns(
    backend: Backend,
) {
    let port = reserve_port();
    let Some(app) = backend.spawn(AppOptions::smtp(port)).await else { return };
    let (id, _) = escalated_ticket(&app).await;

    let alerts = wait_for_alerts(&app, &id, "tried and pending", tried_and_pending).await;
    let alert = &alerts[0];
    let error = text(alert, "/last_error");
    assert!(error.starts_with("transient"), "{error}");
    assert!(!error.contains('@'), "no address in the recorded error: {error}");
    assert!(alert["next_attempt_at"].is_string(), "{alert}");
    assert_eq!(alert["sent_at"], Value::Null);

    // The server comes back; once the retry is due the alert goes out, once.
    let sink = SmtpSink::start_on(port).await;
    app.set_clock(&past_the_retry_delay(DEFAULT_NOW));
    let messages = assert_exactly(&sink, 1).await;
    let alerts = wait_for_alerts(&app, &id, "sent", all_sent).await;
    assert_eq!(alerts.len(), 1);
    let alert = &alerts[0];
    assert_eq!(message_ids(&messages), [text(alert, "/message_id")]);
    assert!(alert["attempts"].as_i64().is_some_and(|n| n >= 2), "{alert}");
    assert!(alert["sent_at"].is_string(), "{alert}");
    assert_eq!(alert["last_error"], Value::Null, "{alert}");
    assert_eq!(alert["next_attempt_at"], Value::Null, "{alert}");
}

async fn escalations_while_the_smtp_server_is_down_are_each_delivered_exactly_once_when_it_returns(
    backend: Backend,
) {
    const ESCALATIONS: usize = 4;
    let port = reserve_port();
    let Some(app) = backend.spawn(AppOptions::smtp(port)).await else { return };
    app.import_fixture_registry().await;
    let vendor = create_forensic_partner(&app, &["13"]).await;
    let mut tickets = Vec::new();
    for _ in 0..ESCALATIONS {
        let ticket = triaged_ticket(&app, DEFAULT_NOW).await;
        let id = text(&ticket, "/id");
        refer(&app, &id, 2, &forensic_request(&text(&vendor, "/id"), DEFAULT_NOW)).await;
        tickets.push(id);
    }
    // Every alert has been tried against the dead server and waits for its retry.
    for id in &tickets {
        wait_for_alerts(&app, id, "tried and pending", tried_and_pending).await;
    }

    let sink = SmtpSink::start_on(port).await;
    app.set_clock(&past_the_retry_delay(DEFAULT_NOW));
    let messages = assert_exactly(&sink, ESCALATIONS).await;
    let mut expected = Vec::new();
    for id in &tickets {
        let alerts = wait_for_alerts(&app, id, "sent", all_sent).await;
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        expected.push(text(&alerts[0], "/message_id"));
    }
    let mut delivered = message_ids(&messages);
    delivered.sort();
    expected.sort();
    assert_eq!(delivered, expected, "each escalation's alert arrived exactly once");
}

async fn a_550_rejection_fails_the_alert_for_supervisors_to_see_and_their_retry_delivers_it_once(
    backend: Backend,
) {
    let sink = SmtpSink::start_with(0, Behaviour::rejecting(550)).await;
    let Some(app) = backend.spawn(AppOptions::smtp(sink.port())).await else { return };
    let (id, _) = escalated_ticket(&app).await;

    let failed = |alerts: &[Value]| alerts.len() == 1 && alerts[0]["status"] == "failed";
    let alerts = wait_for_alerts(&app, &id, "failed", failed).await;
    let alert_id = text(&alerts[0], "/id");
    assert_eq!(alerts[0]["attempts"], 1, "a 550 is permanent: no retry: {}", alerts[0]);
    let error = text(&alerts[0], "/last_error");
    assert!(error.starts_with("permanent") && error.contains("550"), "{error}");
    assert!(!error.contains("forensic.example.co.jp"), "no address in the recorded error: {error}");
    assert_eq!(sink.count(), 0);

    // Supervisors see the failed alert; operators may not look.
    let listed = app.get("/v1/notifications?status=failed", &app.supervisor.secret).await.expect(200);
    let notifications = listed["notifications"].as_array().unwrap_or_else(|| panic!("{listed}"));
    assert_eq!(notifications.len(), 1, "{listed}");
    assert_eq!(notifications[0]["id"], json!(alert_id));
    assert_eq!(notifications[0]["ticket_id"], json!(id));
    assert_eq!(notifications[0]["last_error"], json!(error));
    app.get("/v1/notifications?status=failed", &app.operator.secret).await.expect_problem(403, "forbidden");
    let retry = format!("/v1/notifications/{alert_id}/retry");
    app.change(&retry, &app.operator.secret, None, None).await.expect_problem(403, "forbidden");

    // The partner's server accepts again; the supervisor's retry delivers the alert once.
    sink.set_behaviour(Behaviour::default());
    let retried =
        app.post_json(&retry, &app.supervisor.secret, &json!({}), Some("retry-550")).await.expect(200);
    assert_eq!(retried["status"], "pending", "{retried}");
    assert_eq!(retried["max_attempts"], 1 + 3, "a fresh set of the configured attempts: {retried}");
    let messages = assert_exactly(&sink, 1).await;
    let alerts = wait_for_alerts(&app, &id, "sent", all_sent).await;
    assert_eq!(message_ids(&messages), [text(&alerts[0], "/message_id")]);
    assert_eq!(alerts[0]["attempts"], 2, "{}", alerts[0]);
    let listed = app.get("/v1/notifications?status=failed", &app.supervisor.secret).await.expect(200);
    assert_eq!(listed["notifications"], json!([]), "{listed}");

    // The desk repeats its request (its answer was lost): the first answer again, nothing resent.
    let replay = app.post_json(&retry, &app.supervisor.secret, &json!({}), Some("retry-550")).await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.expect(200), retried);

    // A sent alert cannot be retried.
    let problem =
        app.change(&retry, &app.supervisor.secret, None, None).await.expect_problem(409, "alert-not-failed");
    assert_eq!(problem["alert_status"], "sent", "{problem}");
    tokio::time::sleep(A_FEW_POLLS).await;
    assert_eq!(sink.count(), 1);
}

async fn cancelling_a_referral_sends_the_partner_a_cancellation_alert(backend: Backend) {
    let sink = SmtpSink::start().await;
    let Some(app) = backend.spawn(AppOptions::smtp(sink.port())).await else { return };
    let (id, escalated) = escalated_ticket(&app).await;
    let reference = text(&escalated, "/reference");
    sink.wait_for(1, WAIT).await;

    let referral_id = text(&escalated, "/referral/id");
    app.change(
        &format!("/v1/referrals/{referral_id}/cancel"),
        &app.operator.secret,
        Some(3),
        Some(&json!({ "note": "会員が自力で復旧" })),
    )
    .await
    .expect_change(200, 4);

    let messages = assert_exactly(&sink, 2).await;
    let alerts = wait_for_alerts(&app, &id, "sent", |alerts| alerts.len() == 2 && all_sent(alerts)).await;
    let kinds: Vec<String> = alerts.iter().map(|alert| text(alert, "/kind")).collect();
    assert_eq!(kinds, ["referral_requested", "referral_cancelled"]);
    let cancellation = messages
        .iter()
        .find(|m| m.message_id().as_deref() == alerts[1]["message_id"].as_str())
        .unwrap_or_else(|| panic!("no email for {}", alerts[1]));
    assert_eq!(cancellation.rcpt_to, ["ir@forensic.example.co.jp"]);
    assert_alert_email(cancellation, &reference);
    let subject = cancellation.subject().expect("subject");
    assert!(subject.contains("取り消し"), "{subject}");
    let body = cancellation.body().expect("body");
    assert!(body.contains("取り消され") && body.contains("会員が自力で復旧"), "{body}");
    assert_ne!(alerts[0]["message_id"], alerts[1]["message_id"]);
}

async fn an_alert_pending_when_the_app_stops_is_delivered_once_by_the_next_app_on_the_same_database(
    backend: Backend,
) {
    let port = reserve_port();
    let Some(mut first) = backend.spawn(AppOptions::smtp(port)).await else { return };
    let (id, _) = escalated_ticket(&first).await;
    wait_for_alerts(&first, &id, "tried and pending", tried_and_pending).await;

    first.stop().await;
    let sink = SmtpSink::start_on(port).await;
    let second = first.spawn_on_same_database(AppOptions::smtp(port)).await;
    second.set_clock(&past_the_retry_delay(DEFAULT_NOW));

    let messages = assert_exactly(&sink, 1).await;
    let alerts = wait_for_alerts(&second, &id, "sent", all_sent).await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(message_ids(&messages), [text(&alerts[0], "/message_id")]);
    assert_eq!(messages[0].rcpt_to, ["ir@forensic.example.co.jp"]);
}

mod postgres_only {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_two_apps_on_one_database_send_each_of_ten_alerts_exactly_once() {
        two_apps_on_one_database_send_each_of_ten_alerts_exactly_once().await;
    }
}

async fn two_apps_on_one_database_send_each_of_ten_alerts_exactly_once() {
    // The mail server is down while the tickets are escalated, so both workers find a backlog of ten
    // due alerts at the same moment once it is back.
    let port = reserve_port();
    let Some(first) = TestApp::postgres_with(AppOptions::smtp(port)).await else { return };
    let second = first.spawn_on_same_database(AppOptions::smtp(port)).await;
    let apps = [&first, &second];
    first.import_fixture_registry().await;
    let vendor_id = text(&create_forensic_partner(&first, &["13"]).await, "/id");

    let mut tickets = Vec::new();
    for n in 0..10 {
        let app = apps[n % 2];
        let ticket = triaged_ticket(app, DEFAULT_NOW).await;
        let id = text(&ticket, "/id");
        refer(app, &id, 2, &forensic_request(&vendor_id, DEFAULT_NOW)).await;
        tickets.push(id);
    }
    for id in &tickets {
        wait_for_alerts(&first, id, "tried and pending", tried_and_pending).await;
    }

    let sink = SmtpSink::start_on(port).await;
    let later = past_the_retry_delay(DEFAULT_NOW);
    first.set_clock(&later);
    second.set_clock(&later);

    let messages = assert_exactly(&sink, 10).await;
    let ids: BTreeSet<String> = message_ids(&messages).into_iter().collect();
    assert_eq!(ids.len(), 10, "ten distinct Message-IDs: {ids:?}");
    let mut alert_ids = BTreeSet::new();
    for id in &tickets {
        let alerts = wait_for_alerts(&first, id, "sent", all_sent).await;
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        alert_ids.insert(text(&alerts[0], "/message_id"));
    }
    assert_eq!(alert_ids, ids, "each alert's Message-ID arrived once");
    for message in &messages {
        assert_eq!(message.rcpt_to, ["ir@forensic.example.co.jp"]);
    }
}
