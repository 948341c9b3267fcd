//! API tokens: created by admins, shown once, listed without secrets, revoked at once.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{AppOptions, Backend, DEFAULT_NOW, TestApp, TestResponse, at};

on_both_backends!(
    admin_creates_an_operator_token_that_works_and_a_replay_hides_the_secret,
    token_list_shows_no_secret_or_hash,
    revoked_token_is_refused_with_401_at_once,
    invalid_token_requests_are_422_naming_the_field,
);

mod across_processes {
    on_both_backends_with_own_apps!(a_revocation_reaches_another_process_within_the_token_cache_time,);

    use super::*;
}

async fn create_desk_token(app: &TestApp, key: Option<&str>) -> (TestResponse, Value) {
    let response = app
        .post_json("/v1/tokens", &app.admin.secret, &json!({ "name": "desk-7", "role": "operator" }), key)
        .await;
    let body = response.expect(201);
    (response, body)
}

fn secret_of(created: &Value) -> String {
    let secret =
        created["token"].as_str().unwrap_or_else(|| panic!("a fresh token shows its secret: {created}"));
    let hex = secret.strip_prefix("hl_").unwrap_or_else(|| panic!("secret starts with hl_: {secret}"));
    assert_eq!(hex.len(), 64, "{secret}");
    assert!(hex.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{secret}");
    secret.to_owned()
}

async fn admin_creates_an_operator_token_that_works_and_a_replay_hides_the_secret(app: TestApp) {
    let (response, created) = create_desk_token(&app, Some("create-desk-7")).await;
    let secret = secret_of(&created);
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(created["name"], "desk-7");
    assert_eq!(created["role"], "operator");
    assert_eq!(created["created_by"], json!(app.admin.id));
    assert_eq!(created["created_at"], "2026-11-20T10:00:00+09:00");
    assert_eq!(created["revoked_at"], Value::Null);
    assert_eq!(response.header("location"), Some(format!("/v1/tokens/{id}").as_str()));

    let status = app.get("/v1/hotline/status", &secret).await.expect(200);
    assert_eq!(status["open"], true);
    app.get("/v1/members?q=%E5%B1%B1%E7%94%B0", &secret).await.expect(200);
    app.get("/v1/tokens", &secret).await.expect_problem(403, "forbidden");

    let replay = app
        .post_json(
            "/v1/tokens",
            &app.admin.secret,
            &json!({ "name": "desk-7", "role": "operator" }),
            Some("create-desk-7"),
        )
        .await;
    let replayed = replay.expect(201);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replayed["token"], Value::Null, "the secret is shown only once: {replayed}");
    assert_eq!(replayed["id"], json!(id));
    assert!(!replay.text.contains(&secret));
    // Three seeded tokens, the one created here, and the built-in actors (acknowledgement link, deadline
    // reminder, data retention).
    assert_eq!(app.row_counts().await.api_tokens, 7);
}

async fn token_list_shows_no_secret_or_hash(app: TestApp) {
    let (_, created) = create_desk_token(&app, None).await;
    let secret = secret_of(&created);
    let response = app.get("/v1/tokens", &app.admin.secret).await;
    let list = response.expect(200);
    let tokens = list["tokens"].as_array().expect("tokens[]");
    let mut names: Vec<&str> = tokens.iter().map(|t| t["name"].as_str().expect("name")).collect();
    names.sort_unstable();
    assert_eq!(names, ["admin", "desk-7", "operator desk 1", "supervisor"]);
    for token in tokens {
        let mut keys: Vec<&str> = token.as_object().expect("object").keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["created_at", "created_by", "id", "name", "revoked_at", "role"], "{token}");
    }
    for known in [&secret, &app.admin.secret, &app.operator.secret, &app.supervisor.secret] {
        assert!(!response.text.contains(known.as_str()), "a secret is listed");
        let hash = hotline_api::auth::hash_token(known);
        assert!(!response.text.contains(&hash), "a token hash is listed");
    }
}

async fn revoked_token_is_refused_with_401_at_once(app: TestApp) {
    let (_, created) = create_desk_token(&app, None).await;
    let secret = secret_of(&created);
    let id = created["id"].as_str().expect("id").to_owned();
    app.get("/v1/hotline/status", &secret).await.expect(200);

    app.set_clock("2026-11-20T11:00:00+09:00");
    let path = format!("/v1/tokens/{id}");
    let revoked =
        app.send(app.request(Method::DELETE, &path).bearer_auth(&app.admin.secret)).await.expect(200);
    assert_eq!(revoked["revoked_at"], "2026-11-20T11:00:00+09:00");
    app.get("/v1/hotline/status", &secret).await.expect_problem(401, "unauthorized");

    app.set_clock("2026-11-20T12:00:00+09:00");
    let again = app.send(app.request(Method::DELETE, &path).bearer_auth(&app.admin.secret)).await.expect(200);
    assert_eq!(again["revoked_at"], "2026-11-20T11:00:00+09:00", "the first revocation time is kept");
    let list = app.get("/v1/tokens", &app.admin.secret).await.expect(200);
    let listed = list["tokens"].as_array().expect("tokens[]").iter().find(|t| t["id"] == json!(id)).cloned();
    assert_eq!(listed.map(|t| t["revoked_at"].clone()), Some(json!("2026-11-20T11:00:00+09:00")));
    app.get("/v1/hotline/status", &app.operator.secret).await.expect(200);
}

async fn invalid_token_requests_are_422_naming_the_field(app: TestApp) {
    let empty = app.row_counts().await;
    let cases = [
        (json!({ "name": "desk-8", "role": "root" }), "role"),
        (json!({ "name": "desk-8", "role": "Operator" }), "role"),
        (json!({ "name": "  ", "role": "operator" }), "name"),
        (json!({ "name": "x".repeat(101), "role": "operator" }), "name"),
        (json!({ "name": "desk-8" }), "role"),
        (json!({ "name": "desk-8", "role": "operator", "secret": "hl_mine" }), "secret"),
    ];
    for (body, field) in cases {
        app.post_json("/v1/tokens", &app.admin.secret, &body, None).await.expect_invalid_fields(&[field]);
    }
    assert_eq!(app.row_counts().await, empty);
}

/// Tokens are remembered for `api.token_cache_seconds` (10 by default): the process that revokes a token
/// refuses it at once, another process on the same database once its entry is that old.
async fn a_revocation_reaches_another_process_within_the_token_cache_time(backend: Backend) {
    let Some(first) = backend.spawn(AppOptions::default()).await else { return };
    let second = first.spawn_on_same_database(AppOptions::default()).await;
    let (_, created) = create_desk_token(&first, None).await;
    let secret = secret_of(&created);
    first.get("/v1/hotline/status", &secret).await.expect(200);
    second.get("/v1/hotline/status", &secret).await.expect(200);

    let path = format!("/v1/tokens/{}", created["id"].as_str().expect("id"));
    first.send(first.request(Method::DELETE, &path).bearer_auth(&first.admin.secret)).await.expect(200);

    first.get("/v1/hotline/status", &secret).await.expect_problem(401, "unauthorized");
    second.get("/v1/hotline/status", &secret).await.expect(200);
    let ttl_later = (at(DEFAULT_NOW) + chrono::Duration::seconds(10)).to_rfc3339();
    second.set_clock(&ttl_later);
    second.get("/v1/hotline/status", &secret).await.expect_problem(401, "unauthorized");
}
