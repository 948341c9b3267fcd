//! What the HTTP layer answers before routing (a request line too long, a head too large, bytes that
//! are not HTTP, a head that never finishes) is a problem+json with an `X-Request-Id` that is logged,
//! like every other answer. Raw bytes over TCP, since no HTTP client sends such requests.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use uuid::Uuid;

use crate::helpers::TestApp;

on_both_backends!(
    request_line_of_70_kib_is_414_problem,
    request_target_over_8_kib_is_414_problem,
    head_of_200_kib_or_too_many_fields_is_431_problem,
    bytes_that_are_not_http_are_400_problem,
    a_bad_head_after_a_good_request_on_one_connection_answers_both_in_order,
    head_that_never_finishes_is_408_problem,
    wrong_method_is_405_with_allow,
);

/// One HTTP/1.1 response as read off the socket.
#[derive(Debug)]
struct RawResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }

    /// Asserts a problem+json of `status` and `slug` with a UUID v7 request id that the log names, and
    /// returns the problem.
    fn expect_problem(&self, status: u16, slug: &str) -> Value {
        let body = String::from_utf8_lossy(&self.body);
        assert_eq!(self.status, status, "{self:?} {body}");
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{self:?}");
        let problem: Value =
            serde_json::from_slice(&self.body).unwrap_or_else(|error| panic!("not JSON ({error}): {body}"));
        assert_eq!(problem["type"], json!(format!("/problems/{slug}")), "{problem}");
        assert_eq!(problem["status"], json!(status), "{problem}");
        assert!(problem["title"].as_str().is_some_and(|title| !title.is_empty()), "{problem}");
        assert!(problem["detail"].as_str().is_some_and(|detail| !detail.is_empty()), "{problem}");
        let id = self.header("x-request-id").unwrap_or_else(|| panic!("no X-Request-Id: {self:?}"));
        let id = Uuid::parse_str(id).unwrap_or_else(|error| panic!("X-Request-Id {id:?}: {error}"));
        assert_eq!(id.get_version_num(), 7, "a UUID v7 like routed requests get");
        let logs = crate::logging::captured_logs().text();
        assert!(logs.contains(&id.to_string()), "the request id {id} is logged:\n{logs}");
        problem
    }
}

/// Writes `bytes` (the server may answer and close before it has read them all) and reads every
/// response until the server closes the connection.
async fn exchange(app: &TestApp, bytes: &[u8]) -> Vec<RawResponse> {
    // Logs are captured, so the request ids they hold can be checked.
    crate::logging::captured_logs();
    let mut stream = TcpStream::connect(app.address).await.expect("connect");
    let (mut reader, mut writer) = stream.split();
    let write = async {
        for chunk in bytes.chunks(16 * 1024) {
            if writer.write_all(chunk).await.is_err() {
                break;
            }
        }
    };
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), reader.read_to_end(&mut received));
    let ((), read) = tokio::join!(write, read);
    // A reset after the answer (the server closes with our bytes unread) is fine; the answer is here.
    let _ = read.expect("the server answers and closes within 30 s");
    parse_responses(&received)
}

/// Splits what the server sent into responses (each with a Content-Length, as ours all have).
fn parse_responses(mut bytes: &[u8]) -> Vec<RawResponse> {
    let mut responses = Vec::new();
    while !bytes.is_empty() {
        let end = bytes
            .windows(4)
            .position(|window| window == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("an incomplete head: {}", String::from_utf8_lossy(bytes)));
        let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("status line {status_line:?}"));
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(name, _)| name == "content-length")
            .and_then(|(_, value)| value.parse().ok())
            .unwrap_or_else(|| panic!("a Content-Length in {head}"));
        let body = bytes[end + 4..end + 4 + length].to_vec();
        bytes = &bytes[end + 4 + length..];
        responses.push(RawResponse { status, headers, body });
    }
    responses
}

/// The one response to `bytes`.
async fn only_response(app: &TestApp, bytes: &[u8]) -> RawResponse {
    let mut responses = exchange(app, bytes).await;
    assert_eq!(responses.len(), 1, "{responses:?}");
    responses.remove(0)
}

fn get(target: &str, extra_headers: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: hotline.test\r\n{extra_headers}\r\n").into_bytes()
}

async fn request_line_of_70_kib_is_414_problem(app: TestApp) {
    let target = format!("/v1/members?q={}", "a".repeat(70 * 1024));
    let response = only_response(&app, &get(&target, "")).await;
    let problem = response.expect_problem(414, "uri-too-long");
    assert!(problem["detail"].as_str().is_some_and(|detail| detail.contains("8192")), "{problem}");
    assert_eq!(response.header("connection"), Some("close"));
    // Longer than actix-http's whole head buffer (128 KiB) with no line end yet: still the target.
    let target = format!("/{}", "b".repeat(200 * 1024));
    only_response(&app, &get(&target, "")).await.expect_problem(414, "uri-too-long");
}

async fn request_target_over_8_kib_is_414_problem(app: TestApp) {
    let auth = format!("Authorization: Bearer {}\r\n", app.operator.secret);
    let longest = format!("/v1/members?q={}", "a".repeat(8 * 1024 - "/v1/members?q=".len()));
    assert_eq!(longest.len(), 8192);
    let response = only_response(&app, &get(&longest, &format!("{auth}Connection: close\r\n"))).await;
    assert_eq!(response.status, 200, "8 KiB is allowed: {response:?}");
    let over = format!("{longest}a");
    only_response(&app, &get(&over, &format!("{auth}Connection: close\r\n")))
        .await
        .expect_problem(414, "uri-too-long");
    // Refused before authentication: the size is wrong whoever asks.
    only_response(&app, &get(&format!("/v1/tickets?{}", "x".repeat(20_000)), "Connection: close\r\n"))
        .await
        .expect_problem(414, "uri-too-long");
}

async fn head_of_200_kib_or_too_many_fields_is_431_problem(app: TestApp) {
    let big_fields: String = (0..200).map(|n| format!("X-Filler-{n}: {}\r\n", "f".repeat(1024))).collect();
    let response = only_response(&app, &get("/healthz", &big_fields)).await;
    let problem = response.expect_problem(431, "headers-too-large");
    assert!(problem["detail"].as_str().is_some_and(|detail| detail.contains("131072")), "{problem}");
    let many_fields: String = (0..100).map(|n| format!("X-Small-{n}: s\r\n")).collect();
    only_response(&app, &get("/healthz", &many_fields)).await.expect_problem(431, "headers-too-large");
}

async fn bytes_that_are_not_http_are_400_problem(app: TestApp) {
    let garbage: &[&[u8]] = &[
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n",
        b"GET / HTTP/9.9\r\nHost: hotline.test\r\n\r\n",
        b"G\x00T / HTTP/1.1\r\nHost: hotline.test\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad Header Name: x\r\n\r\n",
        // HTTP/1.1 requires Host.
        b"GET /healthz HTTP/1.1\r\n\r\n",
        // A body announced both ways is a smuggling attempt.
        b"POST /v1/calls HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ];
    for bytes in garbage {
        let response = only_response(&app, bytes).await;
        response.expect_problem(400, "bad-request");
        assert_eq!(response.header("connection"), Some("close"), "{response:?}");
    }
}

async fn a_bad_head_after_a_good_request_on_one_connection_answers_both_in_order(app: TestApp) {
    let mut bytes = get("/healthz", "");
    bytes.extend_from_slice(&get("/readyz", ""));
    bytes.extend_from_slice(b"NOT HTTP AT ALL\r\n\r\n");
    let responses = exchange(&app, &bytes).await;
    let statuses: Vec<u16> = responses.iter().map(|response| response.status).collect();
    assert_eq!(statuses, [200, 200, 400], "{responses:?}");
    assert!(responses[..2].iter().all(|response| response.header("x-request-id").is_some()));
    responses[2].expect_problem(400, "bad-request");
}

async fn head_that_never_finishes_is_408_problem(app: TestApp) {
    crate::logging::captured_logs();
    let mut stream = TcpStream::connect(app.address).await.expect("connect");
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: hotl").await.expect("send half a head");
    let mut received = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut received))
        .await
        .expect("the server gives up on the head within 20 s")
        .expect("read the answer");
    let responses = parse_responses(&received);
    assert_eq!(responses.len(), 1, "{responses:?}");
    let problem = responses[0].expect_problem(408, "request-timeout");
    assert!(problem["detail"].as_str().is_some_and(|detail| detail.contains("5 seconds")), "{problem}");
}

async fn wrong_method_is_405_with_allow(app: TestApp) {
    for (method, path, allowed) in [
        ("DELETE", "/v1/calls", "POST"),
        ("PUT", "/v1/tokens", "GET, POST"),
        ("POST", "/healthz", "GET, HEAD"),
        ("GET", "/v1/partners/0190c5b4-0000-7000-8000-000000000000", "PATCH, DELETE"),
    ] {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer {}\r\nContent-Length: 0\r\n\
             Connection: close\r\n\r\n",
            app.admin.secret
        );
        let response = only_response(&app, head.as_bytes()).await;
        response.expect_problem(405, "method-not-allowed");
        let mut listed: Vec<&str> = response
            .header("allow")
            .unwrap_or_else(|| panic!("Allow on {method} {path}"))
            .split(", ")
            .collect();
        listed.sort_unstable();
        let mut expected: Vec<&str> = allowed.split(", ").collect();
        expected.sort_unstable();
        assert_eq!(listed, expected, "{method} {path}");
    }
}
