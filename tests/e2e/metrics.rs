//! `GET /metrics`: the Prometheus text exposition format, with an admin token. A careful parser checks
//! every line (HELP, TYPE, samples with labels and values, each sample of a declared family), then the
//! request counter moves with requests, routes are labelled by pattern (never by path) and the gauges
//! read from the database match it.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;

use crate::helpers::{TestApp, open_ticket};

/// One sample: its metric name, labels and value.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Reads `{a="1",b="x\"y"}` (after the opening brace); the labels and the rest of the line.
fn labels(mut rest: &str, line: &str) -> (BTreeMap<String, String>, String) {
    let mut labels = BTreeMap::new();
    loop {
        rest = rest.trim_start_matches(',');
        if let Some(after) = rest.strip_prefix('}') {
            return (labels, after.to_owned());
        }
        let (name, after) = rest.split_once("=\"").unwrap_or_else(|| panic!("a label in {line:?}"));
        assert!(is_metric_name(name) && !name.contains(':'), "label name {name:?} in {line:?}");
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c @ ('\\' | '"'))) => value.push(c),
                    other => panic!("bad escape {other:?} in {line:?}"),
                },
                Some((i, '"')) => break i,
                Some((_, c)) => value.push(c),
                None => panic!("unterminated label value in {line:?}"),
            }
        };
        assert!(labels.insert(name.to_owned(), value).is_none(), "label {name} twice in {line:?}");
        rest = &after[end + 1..];
    }
}

/// Parses the text exposition format strictly; panics on any line that is not HELP, TYPE, a sample of
/// a declared family, or blank.
fn parse(text: &str) -> Vec<Sample> {
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix("# ") {
            let mut parts = comment.splitn(3, ' ');
            let (keyword, name, rest) = (parts.next(), parts.next(), parts.next());
            let name = name.unwrap_or_else(|| panic!("a metric name in {line:?}"));
            assert!(is_metric_name(name), "{line:?}");
            match keyword {
                Some("HELP") => assert!(rest.is_some_and(|help| !help.is_empty()), "{line:?}"),
                Some("TYPE") => {
                    let kind = rest.unwrap_or_default();
                    assert!(
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                        "{line:?}"
                    );
                    assert!(types.insert(name.to_owned(), kind.to_owned()).is_none(), "TYPE twice: {line:?}");
                }
                other => panic!("unknown comment {other:?}: {line:?}"),
            }
            continue;
        }
        let name_end = line.find(['{', ' ']).unwrap_or_else(|| panic!("a sample: {line:?}"));
        let name = &line[..name_end];
        assert!(is_metric_name(name), "{line:?}");
        let (labels, rest) = match line[name_end..].strip_prefix('{') {
            Some(rest) => labels(rest, line),
            None => (BTreeMap::new(), line[name_end..].to_owned()),
        };
        let value = rest.trim();
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            "NaN" => f64::NAN,
            number => number.parse().unwrap_or_else(|_| panic!("a value in {line:?}")),
        };
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                name.strip_suffix(suffix).filter(|base| types.get(*base).is_some_and(|t| t == "histogram"))
            })
            .unwrap_or(name);
        assert!(types.contains_key(family), "sample of an undeclared family: {line:?}");
        if name.ends_with("_bucket") {
            assert!(labels.contains_key("le"), "a bucket has le: {line:?}");
        }
        samples.push(Sample { name: name.to_owned(), labels, value });
    }
    assert!(!samples.is_empty(), "no samples in {text}");
    samples
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && s.labels.len() == labels.len()
                && labels.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
}

async fn scrape(app: &TestApp) -> Vec<Sample> {
    let response = app.get("/metrics", &app.admin.secret).await;
    assert_eq!(response.status.as_u16(), 200, "{}", response.text);
    assert_eq!(response.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    parse(&response.text)
}

const STATUS_200: [(&str, &str); 3] = [("method", "GET"), ("route", "/v1/hotline/status"), ("status", "200")];

async fn the_metrics_parse_and_count_requests(app: TestApp) {
    let before = scrape(&app).await;
    let counted = value(&before, "hotline_http_requests_total", &STATUS_200).unwrap_or(0.0);
    for _ in 0..3 {
        app.get("/v1/hotline/status", &app.operator.secret).await.expect(200);
    }
    app.get("/v1/tickets/HL-2026-999999", &app.operator.secret).await.expect_problem(404, "not-found");
    let request = app.request(Method::GET, "/no/such/path");
    app.send(request).await;
    open_ticket(&app, "2026-11-20T10:00:00+09:00").await;

    let after = scrape(&app).await;
    assert_eq!(value(&after, "hotline_http_requests_total", &STATUS_200), Some(counted + 3.0));
    let by_pattern = [("method", "GET"), ("route", "/v1/tickets/{id}"), ("status", "404")];
    assert_eq!(value(&after, "hotline_http_requests_total", &by_pattern), Some(1.0));
    let unmatched = [("method", "GET"), ("route", "unmatched"), ("status", "404")];
    assert_eq!(value(&after, "hotline_http_requests_total", &unmatched), Some(1.0));
    // The latency histogram counted the same requests.
    let latency = [("method", "GET"), ("route", "/v1/hotline/status")];
    assert_eq!(value(&after, "hotline_http_request_duration_seconds_count", &latency), Some(counted + 3.0));
    let inf = [("method", "GET"), ("route", "/v1/hotline/status"), ("le", "+Inf")];
    assert_eq!(value(&after, "hotline_http_request_duration_seconds_bucket", &inf), Some(counted + 3.0));
    // Routes are patterns: no path, reference or query string in any label.
    let routes: BTreeSet<&str> =
        after.iter().filter_map(|s| s.labels.get("route")).map(String::as_str).collect();
    assert!(routes.iter().all(|r| !r.contains("HL-") && !r.contains("no/such")), "{routes:?}");
    assert!(routes.contains("/v1/calls"), "{routes:?}");

    // Gauges from the database: one new ticket, no alert waiting, the pool in use.
    assert_eq!(value(&after, "hotline_tickets", &[("status", "new")]), Some(1.0));
    assert_eq!(value(&after, "hotline_tickets", &[("status", "closed")]), Some(0.0));
    assert_eq!(value(&after, "hotline_outbox_alerts", &[("status", "failed")]), Some(0.0));
    assert_eq!(value(&after, "hotline_outbox_oldest_pending_age_seconds", &[]), Some(0.0));
    assert!(value(&after, "hotline_db_pool_max_connections", &[]).is_some_and(|max| max >= 1.0));
    assert!(value(&after, "hotline_db_pool_connections", &[]).is_some_and(|open| open >= 1.0));
}

async fn the_metrics_need_an_admin_token(app: TestApp) {
    app.send(app.request(Method::GET, "/metrics")).await.expect_problem(401, "unauthorized");
    app.get("/metrics", &app.supervisor.secret).await.expect_problem(403, "forbidden");
    app.get("/metrics", &app.operator.secret).await.expect_problem(403, "forbidden");
}

on_both_backends!(the_metrics_parse_and_count_requests, the_metrics_need_an_admin_token);
