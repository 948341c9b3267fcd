//! Signed webhooks to the desk software, end to end: ticket events written over HTTP reach a real HTTP
//! receiver, signed per Standard Webhooks (checked here with an independent HMAC), once each, without
//! caller data; an outage is retried and delivered once; subscriptions filter; an endpoint removed from
//! the configuration fails its pending deliveries visibly and gets no new ones.

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{
    AppOptions, Backend, DEFAULT_NOW, SMTP_MAX_RETRY_DELAY_SECONDS, TestApp, WebhookTarget, at, open_ticket,
    text, triaged_ransomware_ticket,
};
use crate::webhook_sink::{Received, WebhookSink};

const WAIT: Duration = Duration::from_secs(15);

/// Long enough for several outbox polls (every 50 ms): a duplicate would have arrived by then.
const A_FEW_POLLS: Duration = Duration::from_millis(400);

/// What the fixture call holds about the caller, which no webhook may carry.
const CALLER_DATA: [&str; 5] = ["山田", "03-3946-2121", "123456", "本駒込", "暗号化"];

/// A `whsec_` secret (32 bytes, base64), as a deployment would configure it.
const SECRET: &str = "whsec_c2VjcmV0LWtleS1mb3ItdGhlLWRlc2stc29mdHdhcmUhIQ==";

fn target(sink: &WebhookSink, name: &str, events: &[&str]) -> WebhookTarget {
    WebhookTarget {
        name: name.to_owned(),
        url: sink.url(&format!("/hooks/{name}")),
        secret: SECRET.to_owned(),
        events: events.iter().map(|e| (*e).to_owned()).collect(),
    }
}

/// Checks a delivery's Standard Webhooks signature with the configured secret, independently of the
/// server's code: `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")).
fn assert_signed(delivery: &Received) {
    let key = STANDARD.decode(SECRET.trim_start_matches("whsec_")).expect("the test secret is base64");
    let id = delivery.header("webhook-id");
    let timestamp = delivery.header("webhook-timestamp");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(format!("{id}.{timestamp}.{}", delivery.body).as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    assert_eq!(delivery.header("webhook-signature"), expected, "signature of {delivery:#?}");
    // The timestamp is the wall-clock time of the attempt (receivers refuse old ones), not the app's
    // test clock.
    let sent: u64 = timestamp.parse().expect("webhook-timestamp is Unix seconds");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs();
    assert!(now.abs_diff(sent) < 300, "webhook-timestamp {sent} is not now ({now})");
    assert_eq!(delivery.header("content-type"), "application/json");
    assert!(delivery.header("user-agent").starts_with("hotline/"), "{delivery:#?}");
}

/// The deliveries' event types in arrival order.
fn types(deliveries: &[Received]) -> Vec<String> {
    deliveries.iter().map(|d| text(&d.json(), "/type")).collect()
}

/// The webhook rows as supervisors see them.
async fn webhook_notifications(app: &TestApp, query: &str) -> Vec<Value> {
    let listed = app
        .get(&format!("/v1/notifications?channel=webhook{query}"), &app.supervisor.secret)
        .await
        .expect(200);
    listed["notifications"].as_array().cloned().unwrap_or_else(|| panic!("{listed}"))
}

async fn wait_for_notifications(
    app: &TestApp,
    query: &str,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let rows = webhook_notifications(app, query).await;
        if done(&rows) {
            return rows;
        }
        assert!(tokio::time::Instant::now() < deadline, "webhook rows never became {what}: {rows:#?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A ticket logged and triaged over HTTP: (ticket id, reference).
async fn logged_and_triaged(app: &TestApp) -> (String, String) {
    let id = triaged_ransomware_ticket(app).await;
    let ticket = app.ticket(&id, &app.operator.secret).await;
    (id, text(&ticket, "/reference"))
}

async fn ticket_events_reach_the_desk_signed_once_each_without_caller_data(backend: Backend) {
    let sink = WebhookSink::start().await;
    let options = AppOptions::webhooks(vec![target(&sink, "desk", &["*"])]);
    let Some(app) = backend.spawn(options).await else { return };
    let (id, reference) = logged_and_triaged(&app).await;

    sink.wait_until("two deliveries", WAIT, |r| r.len() >= 2).await;
    tokio::time::sleep(A_FEW_POLLS).await;
    let received = sink.received();
    assert_eq!(types(&received), ["ticket.opened", "ticket.triaged"], "{received:#?}");
    let ids: HashSet<&str> = received.iter().map(|d| d.header("webhook-id")).collect();
    assert_eq!(ids.len(), 2, "one delivery id per event");
    for delivery in &received {
        assert_eq!(delivery.request_line, "POST /hooks/desk");
        assert_signed(delivery);
        let payload = delivery.json();
        assert_eq!(delivery.header("hotline-event"), text(&payload, "/type"));
        assert_eq!(payload["data"]["ticket_id"], json!(id));
        assert_eq!(payload["data"]["ticket_reference"], json!(reference));
        assert!(payload["data"]["event_id"].is_string(), "{payload}");
        assert!(payload["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')), "{payload}");
        for private in CALLER_DATA {
            assert!(!delivery.body.contains(private), "{private:?} in {}", delivery.body);
        }
    }
    let opened = received[0].json();
    assert_eq!(opened["data"]["ticket_status"], json!({ "before": null, "after": "new" }));
    assert!(opened["data"]["call_id"].is_string(), "{opened}");
    let triaged = received[1].json();
    assert_eq!(triaged["data"]["ticket_status"]["after"], "triaged", "{triaged}");
    // The audit trail and the webhooks tell the same story, event for event.
    let events = app.events(&id).await;
    let event_ids: Vec<&Value> = events.iter().map(|e| &e["id"]).collect();
    assert_eq!(event_ids, [&opened["data"]["event_id"], &triaged["data"]["event_id"]]);

    // Supervisors see the deliveries as sent, with the delivery ids the desk got; the ticket's alerts
    // to partners do not list them.
    let rows = wait_for_notifications(&app, "", "sent", |rows| {
        rows.len() == 2 && rows.iter().all(|row| row["status"] == "sent")
    })
    .await;
    let row_ids: HashSet<String> = rows.iter().map(|row| text(row, "/message_id")).collect();
    assert_eq!(row_ids, ids.iter().map(|id| (*id).to_owned()).collect::<HashSet<_>>());
    assert!(rows.iter().all(|row| row["webhook_endpoint"] == "desk" && row["channel"] == "webhook"));
    let ticket = app.ticket(&id, &app.operator.secret).await;
    assert_eq!(ticket["alerts"], json!([]), "{ticket}");
}

async fn a_receiver_outage_is_retried_and_each_event_is_delivered_once(backend: Backend) {
    let sink = WebhookSink::start().await;
    sink.answer_with(503);
    let Some(app) = backend.spawn(AppOptions::webhooks(vec![target(&sink, "desk", &["*"])])).await else {
        return;
    };
    app.import_fixture_registry().await;
    open_ticket(&app, DEFAULT_NOW).await;

    let rows = wait_for_notifications(&app, "", "tried and pending", |rows| {
        rows.len() == 1
            && rows[0]["status"] == "pending"
            && rows[0]["attempts"].as_i64().is_some_and(|n| n >= 1)
            && rows[0]["last_error"].is_string()
    })
    .await;
    let error = text(&rows[0], "/last_error");
    assert!(error.contains("503"), "{error}");
    assert!(!error.contains("127.0.0.1"), "no URL in the recorded error: {error}");

    // The desk comes back; once the retry is due the event goes out, once.
    sink.answer_with(204);
    let later = at(DEFAULT_NOW) + chrono::Duration::seconds(SMTP_MAX_RETRY_DELAY_SECONDS + 1);
    app.set_clock(&later.to_rfc3339());
    sink.wait_until("a delivery", WAIT, |r| r.iter().any(|d| d.answered == 204)).await;
    tokio::time::sleep(A_FEW_POLLS).await;
    let delivered = sink.delivered();
    assert_eq!(delivered.len(), 1, "{delivered:#?}");
    let refused: Vec<Received> = sink.received().into_iter().filter(|r| r.answered == 503).collect();
    assert!(!refused.is_empty());
    // Every attempt carried the same delivery id and body, each freshly signed.
    for attempt in refused.iter().chain(&delivered) {
        assert_eq!(attempt.header("webhook-id"), delivered[0].header("webhook-id"));
        assert_eq!(attempt.body, delivered[0].body);
        assert_signed(attempt);
    }
    let rows =
        wait_for_notifications(&app, "", "sent", |rows| rows.len() == 1 && rows[0]["status"] == "sent").await;
    assert!(rows[0]["attempts"].as_i64().is_some_and(|n| n >= 2), "{rows:#?}");
    assert_eq!(rows[0]["last_error"], Value::Null);
}

async fn each_endpoint_receives_only_the_events_it_subscribes_to(backend: Backend) {
    let sink = WebhookSink::start().await;
    let options = AppOptions::webhooks(vec![
        target(&sink, "everything", &["*"]),
        target(&sink, "triage-board", &["ticket.triaged"]),
        target(&sink, "referrals", &["referral.*"]),
    ]);
    let Some(app) = backend.spawn(options).await else { return };
    logged_and_triaged(&app).await;

    sink.wait_until("three deliveries", WAIT, |r| r.len() >= 3).await;
    tokio::time::sleep(A_FEW_POLLS).await;
    let received = sink.received();
    let by_path = |path: &str| -> Vec<String> {
        types(
            &received
                .iter()
                .filter(|d| d.request_line == format!("POST {path}"))
                .cloned()
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(by_path("/hooks/everything"), ["ticket.opened", "ticket.triaged"]);
    assert_eq!(by_path("/hooks/triage-board"), ["ticket.triaged"]);
    assert_eq!(by_path("/hooks/referrals"), Vec::<String>::new());
    assert_eq!(received.len(), 3, "{received:#?}");
}

async fn an_endpoint_removed_from_the_configuration_fails_its_pending_deliveries_and_gets_no_new_ones(
    backend: Backend,
) {
    let sink = WebhookSink::start().await;
    sink.answer_with(503);
    let Some(mut first) = backend.spawn(AppOptions::webhooks(vec![target(&sink, "desk", &["*"])])).await
    else {
        return;
    };
    first.import_fixture_registry().await;
    open_ticket(&first, DEFAULT_NOW).await;
    wait_for_notifications(&first, "&status=pending", "tried", |rows| {
        rows.len() == 1 && rows[0]["attempts"].as_i64().is_some_and(|n| n >= 1)
    })
    .await;
    first.stop().await;

    // The next start has no webhooks configured: the endpoint is deactivated, its pending delivery fails
    // (visibly, with the reason), and later events are not written for it at all.
    let second = first.spawn_on_same_database(AppOptions::default()).await;
    second.set_clock(
        &(at(DEFAULT_NOW) + chrono::Duration::seconds(SMTP_MAX_RETRY_DELAY_SECONDS + 1)).to_rfc3339(),
    );
    let failed = wait_for_notifications(&second, "&status=failed", "failed", |rows| rows.len() == 1).await;
    let error = text(&failed[0], "/last_error");
    assert!(error.contains("desk") && error.contains("not configured"), "{error}");
    let ticket = second.log_call(&crate::helpers::sample_call_body()).await;
    assert!(ticket["ticket"]["id"].is_string(), "{ticket}");
    tokio::time::sleep(A_FEW_POLLS).await;
    assert_eq!(webhook_notifications(&second, "").await.len(), 1, "no delivery for a removed endpoint");
    assert!(sink.delivered().is_empty());
}

on_both_backends_with_own_apps!(
    ticket_events_reach_the_desk_signed_once_each_without_caller_data,
    a_receiver_outage_is_retried_and_each_event_is_delivered_once,
    each_endpoint_receives_only_the_events_it_subscribes_to,
    an_endpoint_removed_from_the_configuration_fails_its_pending_deliveries_and_gets_no_new_ones,
);
