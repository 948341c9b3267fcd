//! Idempotency-Key: a retried POST gets the first answer and creates nothing; a key is per token and
//! may not be reused for another request.

use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::{TestApp, sample_call_body, with};

on_both_backends!(
    retry_with_the_same_key_replays_the_first_response_and_creates_one_ticket,
    same_key_with_another_body_is_422_idempotency_key_reused,
    the_same_key_from_another_token_is_independent,
    concurrent_retries_with_one_key_create_one_ticket,
    a_call_logged_at_20_59_and_retried_after_closing_is_replayed_not_refused,
);

async fn a_call_logged_at_20_59_and_retried_after_closing_is_replayed_not_refused(app: TestApp) {
    app.import_fixture_registry().await;
    app.set_clock("2026-11-20T20:59:00+09:00");
    let body = crate::helpers::without(sample_call_body(), "/started_at");
    let key = "desk-1-late-call";
    let first = app.post_json("/v1/calls", &app.operator.secret, &body, Some(key)).await;
    assert_eq!(first.status, 201, "{}", first.text);

    // The response was lost; the desk retries after the line has closed. The call was logged in time,
    // so the retry gets the original answer instead of an outside-service-window refusal.
    app.set_clock("2026-11-20T21:01:00+09:00");
    let retry = app.post_json("/v1/calls", &app.operator.secret, &body, Some(key)).await;
    assert_eq!(retry.status, 201, "{}", retry.text);
    assert_eq!(retry.text, first.text);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));

    // A new call without the key at 21:01 is still refused.
    app.post_json("/v1/calls", &app.operator.secret, &body, None)
        .await
        .expect_problem(422, "outside-service-window");
    assert_eq!(app.row_counts().await.tickets, 1);
}

async fn retry_with_the_same_key_replays_the_first_response_and_creates_one_ticket(app: TestApp) {
    app.import_fixture_registry().await;
    let key = "desk-1-call-0001";
    let first = app.post_json("/v1/calls", &app.operator.secret, &sample_call_body(), Some(key)).await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.header("idempotent-replayed"), None);

    // The desk lost the response and retries later; the clock moved on meanwhile.
    app.set_clock("2026-11-20T10:02:00+09:00");
    let retry = app.post_json("/v1/calls", &app.operator.secret, &sample_call_body(), Some(key)).await;
    assert_eq!(retry.status, first.status);
    assert_eq!(retry.text, first.text, "a replay answers byte for byte the same");
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.header("location"), first.header("location"));
    assert_eq!(retry.header("content-type"), Some("application/json"));

    let counts = app.row_counts().await;
    assert_eq!((counts.tickets, counts.calls, counts.ticket_events, counts.idempotency_keys), (1, 1, 1, 1));
    let again = app.post_json("/v1/calls", &app.operator.secret, &sample_call_body(), Some(key)).await;
    assert_eq!(again.text, first.text);
    assert_eq!(app.row_counts().await, counts);

    // Without a key, the same body is a new call.
    app.post_json("/v1/calls", &app.operator.secret, &sample_call_body(), None).await.expect(201);
    assert_eq!(app.row_counts().await.tickets, 2);
}

async fn same_key_with_another_body_is_422_idempotency_key_reused(app: TestApp) {
    app.import_fixture_registry().await;
    let key = "desk-1-call-0002";
    app.post_json("/v1/calls", &app.operator.secret, &sample_call_body(), Some(key)).await.expect(201);
    let after_first = app.row_counts().await;

    let other = with(sample_call_body(), "/summary", json!("別の相談内容"));
    let problem = app
        .post_json("/v1/calls", &app.operator.secret, &other, Some(key))
        .await
        .expect_problem(422, "idempotency-key-reused");
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains("new key")), "{problem}");
    // The same key on another route is another request too.
    let token_request = json!({ "name": "desk-2", "role": "operator" });
    app.post_json("/v1/tokens", &app.admin.secret, &token_request, Some("admin-key")).await.expect(201);
    let after_token = app.row_counts().await;
    let problem = app
        .post_json(
            "/v1/tokens",
            &app.admin.secret,
            &json!({ "name": "desk-3", "role": "operator" }),
            Some("admin-key"),
        )
        .await;
    problem.expect_problem(422, "idempotency-key-reused");
    assert_eq!(app.row_counts().await, after_token);
    assert_eq!(after_token.tickets, after_first.tickets);
}

async fn the_same_key_from_another_token_is_independent(app: TestApp) {
    app.import_fixture_registry().await;
    let key = "shared-key-0001";
    let operator = app.post_json("/v1/calls", &app.operator.secret, &sample_call_body(), Some(key)).await;
    let by_operator = operator.expect(201);
    let supervisor = app.post_json("/v1/calls", &app.supervisor.secret, &sample_call_body(), Some(key)).await;
    let by_supervisor = supervisor.expect(201);
    assert_eq!(supervisor.header("idempotent-replayed"), None);
    assert_eq!(by_operator["ticket"]["reference"], "HL-2026-000001");
    assert_eq!(by_supervisor["ticket"]["reference"], "HL-2026-000002");
    assert_eq!(by_supervisor["call"]["created_by"], json!(app.supervisor.id));

    let replay = app.post_json("/v1/calls", &app.operator.secret, &sample_call_body(), Some(key)).await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.text, operator.text);
    let counts = app.row_counts().await;
    assert_eq!((counts.tickets, counts.idempotency_keys), (2, 2));
}

async fn concurrent_retries_with_one_key_create_one_ticket(app: TestApp) {
    app.import_fixture_registry().await;
    let key = "impatient-desk-0001";
    let body = sample_call_body();
    let responses =
        join_all((0..8).map(|_| app.post_json("/v1/calls", &app.operator.secret, &body, Some(key)))).await;
    let first = &responses[0];
    for response in &responses {
        assert_eq!(response.status, 201, "{}", response.text);
        assert_eq!(response.text, first.text, "every retry gets the one answer");
    }
    let fresh = responses.iter().filter(|response| response.header("idempotent-replayed").is_none()).count();
    assert_eq!(fresh, 1, "exactly one request did the work");
    let counts = app.row_counts().await;
    assert_eq!((counts.tickets, counts.calls, counts.idempotency_keys), (1, 1, 1));
    // The losers' numbers were given back: the next ticket is 000002.
    let next = app.log_call(&with(sample_call_body(), "/summary", json!("次の相談"))).await;
    assert_eq!(next["ticket"]["reference"], "HL-2026-000002");
}
