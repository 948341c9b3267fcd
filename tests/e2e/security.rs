//! Response hardening on every route, and failed authentications throttled per client address without
//! ever holding back a valid token.

use base64::Engine;
use reqwest::Method;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::helpers::{AppOptions, Backend, TestApp, TestResponse};

on_both_backends!(every_route_answers_with_the_security_headers);

/// Every route of crates/api/src/routes/mod.rs, plus what actix answers itself (an unknown path, a
/// wrong method). `{id}` is a UUID that names nothing.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("HEAD", "/healthz"),
    ("GET", "/readyz"),
    ("HEAD", "/readyz"),
    ("GET", "/openapi.json"),
    ("GET", "/ack/not-a-token"),
    ("POST", "/ack/not-a-token"),
    ("GET", "/v1/hotline/status"),
    ("POST", "/v1/calls"),
    ("GET", "/v1/calls/{id}"),
    ("GET", "/v1/tickets"),
    ("GET", "/v1/tickets/{id}"),
    ("GET", "/v1/tickets/{id}/events"),
    ("POST", "/v1/tickets/{id}/triage"),
    ("POST", "/v1/tickets/{id}/start"),
    ("POST", "/v1/tickets/{id}/assign"),
    ("POST", "/v1/tickets/{id}/take"),
    ("POST", "/v1/tickets/{id}/notes"),
    ("POST", "/v1/tickets/{id}/resolve"),
    ("POST", "/v1/tickets/{id}/close"),
    ("POST", "/v1/tickets/{id}/decline"),
    ("POST", "/v1/tickets/{id}/reopen"),
    ("POST", "/v1/tickets/{id}/confirm-caller"),
    ("POST", "/v1/tickets/{id}/callbacks"),
    ("POST", "/v1/tickets/{id}/referrals"),
    ("POST", "/v1/referrals/{id}/accept"),
    ("GET", "/v1/callbacks"),
    ("GET", "/v1/partners"),
    ("POST", "/v1/partners"),
    ("PATCH", "/v1/partners/{id}"),
    ("DELETE", "/v1/partners/{id}"),
    ("GET", "/v1/notifications"),
    ("POST", "/v1/notifications/{id}/retry"),
    ("GET", "/v1/members"),
    ("POST", "/v1/registry/imports"),
    ("GET", "/v1/tokens"),
    ("POST", "/v1/tokens"),
    ("DELETE", "/v1/tokens/{id}"),
    ("GET", "/v1/no-such-route"),
    ("PUT", "/v1/calls"),
    ("GET", "/no-such-page"),
];

fn assert_hardened(response: &TestResponse, what: &str) {
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"), "{what}");
    assert_eq!(response.header("cache-control"), Some("no-store"), "{what}");
    assert_eq!(response.header("x-frame-options"), Some("DENY"), "{what}");
    assert_eq!(response.header("referrer-policy"), Some("no-referrer"), "{what}");
    let csp = response.header("content-security-policy").unwrap_or_else(|| panic!("{what}: no CSP"));
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"), "{what}: {csp}");
}

async fn every_route_answers_with_the_security_headers(app: TestApp) {
    let id = uuid::Uuid::now_v7().to_string();
    for (method, path) in ROUTES {
        let path = path.replace("{id}", &id);
        let method = Method::from_bytes(method.as_bytes()).expect("a method");
        for token in [Some(&app.admin.secret), None] {
            let mut request = app.request(method.clone(), &path);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if method == Method::POST || method == Method::PATCH {
                request = request.header("content-type", "application/json").body(json!({}).to_string());
            }
            let response = app.send(request).await;
            let what = format!(
                "{method} {path} ({}) → {}",
                if token.is_some() { "admin" } else { "no token" },
                response.status
            );
            assert_hardened(&response, &what);
        }
    }

    // The partner page's policy allows exactly its own inline style, by hash, and its form.
    let page = app.send(app.request(Method::GET, "/ack/not-a-token")).await;
    assert_eq!(page.status, 403);
    let csp = page.header("content-security-policy").expect("a CSP");
    let style =
        page.text.split_once("<style>").and_then(|(_, rest)| rest.split_once("</style>")).expect("a style").0;
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(style.as_bytes()));
    assert!(csp.contains(&format!("style-src 'sha256-{hash}'")), "{csp}");
    assert!(csp.contains("form-action 'self'") && !csp.contains("script-src"), "{csp}");
    // A problem from the API itself carries the API's policy.
    let problem = app.get("/v1/tickets/not-a-uuid", &app.operator.secret).await;
    assert!(problem.header("content-security-policy").is_some_and(|csp| csp.contains("form-action 'none'")));
}

/// Scenarios with an app of their own (the product's default allowance).
mod throttling {
    use super::*;

    on_both_backends_with_own_apps!(
        twenty_failed_authentications_in_a_second_get_429_while_a_valid_token_works
    );

    async fn twenty_failed_authentications_in_a_second_get_429_while_a_valid_token_works(backend: Backend) {
        let options = AppOptions { auth_failures_per_minute: Some(10), ..AppOptions::default() };
        let Some(app) = backend.spawn(options).await else { return };
        let wrong = hotline_api::auth::generate_token().secret;

        let started = std::time::Instant::now();
        let mut statuses = Vec::new();
        for _ in 0..20 {
            let failed = app.get("/v1/hotline/status", &wrong).await;
            statuses.push(failed.status.as_u16());
            if failed.status == 429 {
                let problem = failed.expect_problem(429, "too-many-requests");
                let retry_after: u64 =
                    failed.header("retry-after").expect("Retry-After").parse().expect("seconds");
                assert!((1..=6).contains(&retry_after), "{retry_after}");
                assert_eq!(problem["retry_after_seconds"], json!(retry_after));
            } else {
                failed.expect_problem(401, "unauthorized");
            }
            // The desk next to the attacker, from the same address, is never held back.
            app.get("/v1/hotline/status", &app.operator.secret).await.expect(200);
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "took {:?}", started.elapsed());

        assert_eq!(statuses[..10], [401; 10], "the first ten failures are answered 401: {statuses:?}");
        assert_eq!(statuses[10..], [429; 10], "then 429: {statuses:?}");
        // A request without any token counts as a failed authentication too.
        app.send(app.request(Method::GET, "/v1/hotline/status"))
            .await
            .expect_problem(429, "too-many-requests");
        app.get("/v1/tickets", &app.supervisor.secret).await.expect(200);
    }
}
