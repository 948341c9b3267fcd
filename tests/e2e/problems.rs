//! Every refusal is an RFC 9457 problem with a stable `type`, never a 5xx, and writes nothing.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

use crate::helpers::{TestApp, sample_call_body, with, without};

on_both_backends!(
    unreadable_bodies_are_400_malformed_body,
    body_over_the_limit_is_413_payload_too_large,
    body_that_is_not_json_is_415_unsupported_media_type,
    invalid_call_fields_are_422_naming_every_field,
    missing_unknown_and_revoked_tokens_are_401_with_www_authenticate,
    roles_below_the_route_are_403_forbidden,
    unknown_resources_and_paths_are_404_problems,
    wrong_method_is_405_problem,
    malformed_idempotency_key_is_400,
    a_json_array_is_not_a_body_even_where_every_field_is_optional,
    null_for_a_partner_member_that_cannot_be_cleared_is_422,
);

async fn unreadable_bodies_are_400_malformed_body(app: TestApp) {
    app.import_fixture_registry().await;
    let empty = app.row_counts().await;
    let truncated = sample_call_body().to_string();
    let truncated = &truncated[..truncated.len() / 2];
    let trailing = format!("{} {{}}", sample_call_body());
    let mut not_utf8 = br#"{"caller_name": ""#.to_vec();
    not_utf8.extend_from_slice(b"\xff\xfe\x80");
    not_utf8.extend_from_slice(br#""}"#);
    let bodies: [Vec<u8>; 9] = [
        b"{\"caller_name\": ".to_vec(),
        truncated.as_bytes().to_vec(),
        trailing.into_bytes(),
        not_utf8,
        Vec::new(),
        b"[]".to_vec(),
        b"null".to_vec(),
        b"\"a call\"".to_vec(),
        b"42".to_vec(),
    ];
    for body in bodies {
        let request = app
            .request(Method::POST, "/v1/calls")
            .bearer_auth(&app.operator.secret)
            .header("content-type", "application/json")
            .body(body.clone());
        let response = app.send(request).await;
        let problem = response.expect_problem(400, "malformed-body");
        assert!(problem.get("errors").is_none(), "{problem}");
    }
    assert_eq!(app.row_counts().await, empty);
}

async fn body_over_the_limit_is_413_payload_too_large(app: TestApp) {
    app.import_fixture_registry().await;
    let empty = app.row_counts().await;
    let two_megabytes = with(sample_call_body(), "/summary", json!("あ".repeat(700 * 1024)));
    assert!(two_megabytes.to_string().len() > 2_000_000);
    let problem = app.post_call(&two_megabytes).await.expect_problem(413, "payload-too-large");
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains("1048576")), "{problem}");
    assert_eq!(app.row_counts().await, empty);

    // Without Content-Length (chunked), the limit holds while the body is read.
    let response = post_chunked(&app, "/v1/calls", &app.operator.secret, 2 << 20).await;
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(response.contains("/problems/payload-too-large"), "{response}");
    assert_eq!(app.row_counts().await, empty);

    let big_token_request =
        with(json!({ "name": "x", "role": "operator" }), "/name", json!("x".repeat(2 << 20)));
    app.post_json("/v1/tokens", &app.admin.secret, &big_token_request, None)
        .await
        .expect_problem(413, "payload-too-large");
    assert_eq!(app.row_counts().await, empty);
}

async fn body_that_is_not_json_is_415_unsupported_media_type(app: TestApp) {
    app.import_fixture_registry().await;
    let empty = app.row_counts().await;
    for content_type in [Some("text/plain"), Some("application/x-www-form-urlencoded"), None] {
        let mut request = app
            .request(Method::POST, "/v1/calls")
            .bearer_auth(&app.operator.secret)
            .body(sample_call_body().to_string());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let problem = app.send(request).await.expect_problem(415, "unsupported-media-type");
        assert!(problem["detail"].as_str().is_some_and(|d| d.contains("application/json")), "{problem}");
    }
    // A compressed body is refused, not misread as broken JSON.
    let request = app
        .request(Method::POST, "/v1/calls")
        .bearer_auth(&app.operator.secret)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(
            b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xab\xae\x05\x00\x43\xbf\xa6\xa3\x02\x00\x00\x00"
                .to_vec(),
        );
    let problem = app.send(request).await.expect_problem(415, "unsupported-media-type");
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains("Content-Encoding")), "{problem}");
    // The registry takes CSV only.
    let request = app
        .request(Method::POST, "/v1/registry/imports")
        .bearer_auth(&app.admin.secret)
        .header("content-type", "application/json")
        .body("{}");
    app.send(request).await.expect_problem(415, "unsupported-media-type");
    // A charset parameter is fine.
    let request = app
        .request(Method::POST, "/v1/calls")
        .bearer_auth(&app.operator.secret)
        .header("content-type", "application/json; charset=utf-8")
        .body(sample_call_body().to_string());
    assert_eq!(app.send(request).await.status, 201);
    assert_eq!(app.row_counts().await.tickets, empty.tickets + 1);
}

async fn invalid_call_fields_are_422_naming_every_field(app: TestApp) {
    app.import_fixture_registry().await;
    let empty = app.row_counts().await;
    let cases = [
        (without(sample_call_body(), "/summary"), vec!["summary"]),
        (without(sample_call_body(), "/institution/address"), vec!["institution.address"]),
        (with(sample_call_body(), "/caller_name", json!(5)), vec!["caller_name"]),
        (with(sample_call_body(), "/ticket_id", json!("not-a-uuid")), vec!["ticket_id"]),
        (with(sample_call_body(), "/started_at", json!("tomorrow")), vec!["started_at"]),
        (with(sample_call_body(), "/favourite_colour", json!("blue")), vec!["favourite_colour"]),
        (with(sample_call_body(), "/institution/fax", json!("03-0000-0000")), vec!["institution.fax"]),
        (with(sample_call_body(), "/identifier/value", json!("1234567")), vec!["identifier.value"]),
        (with(sample_call_body(), "/identifier/kind", json!("passport")), vec!["identifier.kind"]),
        (with(sample_call_body(), "/institution/prefecture", json!(48)), vec!["institution.prefecture"]),
        (with(sample_call_body(), "/institution/prefecture", json!("48")), vec!["institution.prefecture"]),
        (with(sample_call_body(), "/summary", json!("   ")), vec!["summary"]),
        (with(sample_call_body(), "/started_at", json!("2026-11-20T10:00:00")), vec!["started_at"]),
        (with(sample_call_body(), "/institution/prefecture", json!(-13)), vec!["institution.prefecture"]),
        (with(sample_call_body(), "/institution", json!("本駒込クリニック")), vec!["institution"]),
        (
            with(
                with(
                    with(sample_call_body(), "/caller_role", json!("nurse")),
                    "/callback_phone",
                    json!("123"),
                ),
                "/institution/prefecture",
                json!("00"),
            ),
            vec!["caller_role", "callback_phone", "institution.prefecture"],
        ),
        (with(sample_call_body(), "/caller_role", json!("staff")), vec!["member_name"]),
    ];
    for (body, fields) in cases {
        let problem = app.post_call(&body).await.expect_invalid_fields(&fields);
        let detail = problem["detail"].as_str().expect("detail");
        for field in &fields {
            assert!(detail.contains(field), "the detail names {field}: {problem}");
        }
    }
    // A key given twice is named too.
    let twice = sample_call_body().to_string().replacen('{', r#"{"summary": "一度目","#, 1);
    let request = app
        .request(Method::POST, "/v1/calls")
        .bearer_auth(&app.operator.secret)
        .header("content-type", "application/json")
        .body(twice);
    app.send(request).await.expect_invalid_fields(&["summary"]);

    let problem = app
        .post_call(&with(sample_call_body(), "/institution/prefecture", json!(48)))
        .await
        .expect_invalid_fields(&["institution.prefecture"]);
    assert!(problem["errors"][0]["detail"].as_str().is_some_and(|d| d.contains("01–47") && d.contains("48")));
    assert_eq!(app.row_counts().await, empty);
}

async fn missing_unknown_and_revoked_tokens_are_401_with_www_authenticate(app: TestApp) {
    app.import_fixture_registry().await;
    let empty = app.row_counts().await;
    let unknown = hotline_api::auth::generate_token().secret;
    let authorizations = [
        None,
        Some(format!("Bearer {unknown}")),
        Some("Bearer ".to_owned()),
        Some(format!("Basic {}", app.operator.secret)),
        Some(app.operator.secret.clone()),
    ];
    for authorization in authorizations {
        for (method, path) in [(Method::GET, "/v1/hotline/status"), (Method::POST, "/v1/calls")] {
            let mut request = app
                .request(method, path)
                .header("content-type", "application/json")
                .body(sample_call_body().to_string());
            if let Some(authorization) = &authorization {
                request = request.header("authorization", authorization);
            }
            let response = app.send(request).await;
            response.expect_problem(401, "unauthorized");
            assert_eq!(response.header("www-authenticate"), Some("Bearer"), "{authorization:?}");
        }
    }
    assert_eq!(app.row_counts().await, empty);

    app.get("/v1/hotline/status", &app.supervisor.secret).await.expect(200);
    let path = format!("/v1/tokens/{}", app.supervisor.id);
    let request = app.request(Method::DELETE, &path).bearer_auth(&app.admin.secret);
    app.send(request).await.expect(200);
    let response = app.get("/v1/hotline/status", &app.supervisor.secret).await;
    response.expect_problem(401, "unauthorized");
    assert_eq!(response.header("www-authenticate"), Some("Bearer"));
    let response = app.post_json("/v1/calls", &app.supervisor.secret, &sample_call_body(), None).await;
    response.expect_problem(401, "unauthorized");
    assert_eq!(app.row_counts().await, empty);
}

async fn roles_below_the_route_are_403_forbidden(app: TestApp) {
    let empty = app.row_counts().await;
    let problem = app.get("/v1/tokens", &app.operator.secret).await.expect_problem(403, "forbidden");
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains("admin") && d.contains("operator")));
    app.get("/v1/tokens", &app.supervisor.secret).await.expect_problem(403, "forbidden");
    let new_token = json!({ "name": "desk-9", "role": "admin" });
    app.post_json("/v1/tokens", &app.supervisor.secret, &new_token, None)
        .await
        .expect_problem(403, "forbidden");
    let request = app
        .request(Method::POST, "/v1/registry/imports")
        .bearer_auth(&app.operator.secret)
        .header("content-type", "text/csv")
        .body(crate::helpers::REGISTRY_CSV);
    app.send(request).await.expect_problem(403, "forbidden");
    let path = format!("/v1/tokens/{}", app.admin.id);
    let request = app.request(Method::DELETE, &path).bearer_auth(&app.operator.secret);
    app.send(request).await.expect_problem(403, "forbidden");
    assert_eq!(app.row_counts().await, empty);
    app.get("/v1/tokens", &app.admin.secret).await.expect(200);
}

async fn unknown_resources_and_paths_are_404_problems(app: TestApp) {
    let operator = &app.operator.secret;
    let missing = Uuid::now_v7();
    for path in [
        "/v1/tickets/HL-2026-999999".to_owned(),
        "/v1/tickets/HL-2026-999999/events".to_owned(),
        format!("/v1/tickets/{missing}"),
        format!("/v1/tickets/{missing}/events"),
        "/v1/tickets/not-a-ticket".to_owned(),
        format!("/v1/calls/{missing}"),
        "/v1/calls/42".to_owned(),
        "/v1/no-such-resource".to_owned(),
        "/no-such-path".to_owned(),
        "/".to_owned(),
    ] {
        app.get(&path, operator).await.expect_problem(404, "not-found");
    }
    let request =
        app.request(Method::DELETE, &format!("/v1/tokens/{missing}")).bearer_auth(&app.admin.secret);
    app.send(request).await.expect_problem(404, "not-found");
    // Without a token, a path under /v1 does not reveal whether it exists.
    let request = app.request(Method::GET, "/v1/no-such-resource");
    app.send(request).await.expect_problem(401, "unauthorized");
}

async fn wrong_method_is_405_problem(app: TestApp) {
    let empty = app.row_counts().await;
    for (method, path) in [
        (Method::DELETE, "/v1/calls"),
        (Method::GET, "/v1/calls"),
        (Method::PUT, "/v1/tokens"),
        (Method::GET, "/v1/registry/imports"),
        (Method::POST, "/v1/hotline/status"),
        (Method::POST, "/healthz"),
    ] {
        let request = app.request(method.clone(), path).bearer_auth(&app.admin.secret);
        app.send(request).await.expect_problem(405, "method-not-allowed");
    }
    assert_eq!(app.row_counts().await, empty);
}

async fn malformed_idempotency_key_is_400(app: TestApp) {
    app.import_fixture_registry().await;
    let empty = app.row_counts().await;
    let too_long = "k".repeat(300);
    for key in [too_long.as_str(), "", "two words", "\"\""] {
        let problem = app
            .post_json("/v1/calls", &app.operator.secret, &sample_call_body(), Some(key))
            .await
            .expect_problem(400, "invalid-idempotency-key");
        assert!(problem["detail"].as_str().is_some_and(|d| d.contains("255")), "{problem}");
    }
    assert_eq!(app.row_counts().await, empty);
    let longest = "k".repeat(255);
    let response =
        app.post_json("/v1/calls", &app.operator.secret, &sample_call_body(), Some(&longest)).await;
    assert_eq!(response.status, 201, "{}", response.text);
}

/// A POST whose body of `total` spaces is sent in 64 KiB chunks, with no Content-Length; the raw
/// response. The server may answer and close before the body is complete, so write errors end the body.
async fn post_chunked(app: &TestApp, path: &str, token: &str, total: usize) -> String {
    let mut stream = tokio::net::TcpStream::connect(app.address).await.expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.address
    );
    stream.write_all(head.as_bytes()).await.expect("send the head");
    let chunk = vec![b' '; 64 * 1024];
    let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
    let mut sent = 0;
    while sent < total {
        if stream.write_all(&frame).await.is_err() {
            break;
        }
        sent += chunk.len();
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response)).await;
    String::from_utf8_lossy(&response).into_owned()
}

/// serde can read a struct from an array; a body of optional fields must still refuse one.
async fn a_json_array_is_not_a_body_even_where_every_field_is_optional(app: TestApp) {
    let ticket = crate::helpers::open_ticket(&app, "2026-11-20T10:00:00+09:00").await;
    let desk = crate::helpers::police_desk(&app, "01").await;
    let desk_path = format!("/v1/partners/{}", crate::helpers::text(&desk, "/id"));
    let before = app.row_counts().await;
    for body in ["[null, null]", "[]", " [\"forensic\"]"] {
        let request = app
            .request(Method::PATCH, &desk_path)
            .bearer_auth(&app.supervisor.secret)
            .header("content-type", "application/json")
            .body(body);
        app.send(request).await.expect_problem(400, "malformed-body");
        let request = app
            .request(Method::POST, &format!("/v1/tickets/{ticket}/start"))
            .bearer_auth(&app.operator.secret)
            .header("if-match", "\"1\"")
            .header("content-type", "application/json")
            .body(body);
        app.send(request).await.expect_problem(400, "malformed-body");
    }
    assert_eq!(crate::helpers::police_desk(&app, "01").await, desk, "the desk is unchanged");
    assert_eq!(app.row_counts().await, before);
}

/// `phone` and `office_hours` may be cleared with `null`; the other members of a partner change may be
/// left out, but `null` is no value for them.
async fn null_for_a_partner_member_that_cannot_be_cleared_is_422(app: TestApp) {
    let desk = crate::helpers::police_desk(&app, "13").await;
    let desk_path = format!("/v1/partners/{}", crate::helpers::text(&desk, "/id"));
    for field in ["kind", "name", "emails", "nationwide", "prefectures", "active"] {
        let body = json!({ field: null });
        app.patch_json(&desk_path, &app.supervisor.secret, &body).await.expect_invalid_fields(&[field]);
    }
    assert_eq!(crate::helpers::police_desk(&app, "13").await, desk, "the desk is unchanged");
    let cleared =
        app.patch_json(&desk_path, &app.supervisor.secret, &json!({ "phone": null })).await.expect(200);
    assert_eq!(cleared["phone"], json!(null), "{cleared}");
}
