//! The database fails while desks keep working: PostgreSQL refused, then stalled (through the fault
//! proxy), then back; a SQLite file made read-only, then writable again. Every request is answered
//! within the deadline (503 problem+json with Retry-After while the database cannot serve it),
//! `/readyz` within a second and truthfully, writes succeed again within seconds of the database's
//! return without a restart, and no acknowledged write is lost or doubled (desks retry with their
//! Idempotency-Key).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use futures_util::future::join_all;
use hotline_storage::test_support::{self, ReadOnlyEpisode};
use hotline_storage::{StorageError, schema};
use hotline_tests::proxy::{FaultProxy, Mode};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{AppOptions, TestApp, sample_call_body, with};

/// `api.request_timeout_ms` of the test apps (the default).
const DEADLINE: Duration = Duration::from_millis(2000);
/// What a client may see on top of the server's bound: scheduling on a busy 2-core machine.
const SLACK: Duration = Duration::from_millis(300);
/// `/readyz` answers within a second.
const READYZ_BOUND: Duration = Duration::from_millis(1000);
/// After the database is back, a write succeeds within this long.
const RECOVERY_BOUND: Duration = Duration::from_secs(5);

/// The desks' view of the run: every call they tried, by Idempotency-Key, and which were acknowledged.
#[derive(Default)]
struct Desks {
    /// key → ticket id, once acknowledged (201).
    acknowledged: BTreeMap<String, String>,
    /// Keys answered 503, to retry after the fault.
    unanswered: Vec<String>,
    next: usize,
    /// The slowest API answer and the slowest `/readyz` seen during faults.
    slowest: Duration,
    slowest_readyz: Duration,
}

impl Desks {
    fn new_key(&mut self) -> String {
        self.next += 1;
        format!("fault-desk-call-{:04}", self.next)
    }
}

fn call_body(key: &str) -> serde_json::Value {
    with(sample_call_body(), "/summary", json!(format!("障害中の着信 {key}")))
}

/// One round of what desks and the load balancer do at once: two calls logged, a ticket read, the
/// readiness probe. Checks every answer's time bound; returns the readiness status.
async fn round(app: &TestApp, desks: &mut Desks, ticket: &str) -> u16 {
    let keys = [desks.new_key(), desks.new_key()];
    let posts = keys.iter().map(|key| {
        let request = app
            .request(Method::POST, "/v1/calls")
            .bearer_auth(&app.operator.secret)
            .header("content-type", "application/json")
            .header("idempotency-key", key.as_str())
            .body(call_body(key).to_string());
        app.send_timed(request)
    });
    let read = app.send_timed(
        app.request(Method::GET, &format!("/v1/tickets/{ticket}")).bearer_auth(&app.operator.secret),
    );
    let ready = app.send_timed(app.request(Method::GET, "/readyz"));
    let (posted, read, ready) = tokio::join!(join_all(posts), read, ready);

    for (key, (response, took)) in keys.iter().zip(posted) {
        desks.slowest = desks.slowest.max(took);
        assert!(took <= DEADLINE + SLACK, "POST /v1/calls took {took:?}: {}", response.text);
        match response.status.as_u16() {
            201 => {
                let id = response.json()["ticket"]["id"].as_str().expect("ticket id").to_owned();
                desks.acknowledged.insert(key.clone(), id);
            }
            503 => desks.unanswered.push(key.clone()),
            other => panic!("POST /v1/calls: unexpected {other}: {}", response.text),
        }
    }
    let (response, took) = read;
    desks.slowest = desks.slowest.max(took);
    assert!(took <= DEADLINE + SLACK, "GET /v1/tickets/{{id}} took {took:?}");
    assert!(matches!(response.status.as_u16(), 200 | 503), "{}: {}", response.status, response.text);
    let (response, took) = ready;
    desks.slowest_readyz = desks.slowest_readyz.max(took);
    assert!(took <= READYZ_BOUND + SLACK, "/readyz took {took:?}");
    response.status.as_u16()
}

/// Runs rounds for `length`; every `/readyz` after the first `settle` must say 503.
async fn fault_phase(app: &TestApp, desks: &mut Desks, ticket: &str, length: Duration) -> usize {
    let settle = Duration::from_millis(300);
    let started = Instant::now();
    let mut rounds = 0;
    while started.elapsed() < length {
        let before = started.elapsed();
        let ready = round(app, desks, ticket).await;
        if before >= settle {
            assert_eq!(ready, 503, "/readyz must say 503 while the database cannot take a write");
        }
        rounds += 1;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    rounds
}

/// After the fault: a new write succeeds within [`RECOVERY_BOUND`], `/readyz` says 200, every call
/// answered 503 is retried with its key, and the database holds exactly one ticket per acknowledged
/// key, with gap-free references.
async fn recover(app: &TestApp, desks: &mut Desks) {
    let back = Instant::now();
    loop {
        let key = desks.new_key();
        let request = app
            .request(Method::POST, "/v1/calls")
            .bearer_auth(&app.operator.secret)
            .header("content-type", "application/json")
            .header("idempotency-key", key.as_str())
            .body(call_body(&key).to_string());
        let (response, _) = app.send_timed(request).await;
        if response.status == 201 {
            desks.acknowledged.insert(key, response.json()["ticket"]["id"].as_str().expect("id").to_owned());
            break;
        }
        desks.unanswered.push(key);
        assert!(
            back.elapsed() < RECOVERY_BOUND,
            "no write succeeded within {RECOVERY_BOUND:?} of the return"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("first write after the return succeeded after {:?}", back.elapsed());
    let (ready, _) = app.send_timed(app.request(Method::GET, "/readyz")).await;
    assert_eq!(ready.status, 200, "{}", ready.text);

    for key in std::mem::take(&mut desks.unanswered) {
        let request = app
            .request(Method::POST, "/v1/calls")
            .bearer_auth(&app.operator.secret)
            .header("content-type", "application/json")
            .header("idempotency-key", key.as_str())
            .body(call_body(&key).to_string());
        let response = app.send(request).await;
        assert_eq!(response.status, 201, "the retry of {key}: {}", response.text);
        let id = response.json()["ticket"]["id"].as_str().expect("id").to_owned();
        if let Some(earlier) = desks.acknowledged.insert(key.clone(), id.clone()) {
            assert_eq!(earlier, id, "{key} was acknowledged twice with different tickets");
        }
    }
    for id in desks.acknowledged.values() {
        app.get(&format!("/v1/tickets/{id}"), &app.operator.secret).await.expect(200);
    }
    let storage = app.storage.clone();
    let mut numbers: Vec<i64> = tokio::task::spawn_blocking(move || {
        storage.read(|conn| {
            Ok::<_, StorageError>(schema::tickets::table.select(schema::tickets::ref_seq).load(conn)?)
        })
    })
    .await
    .expect("read task")
    .expect("ticket numbers");
    numbers.sort_unstable();
    assert_eq!(
        numbers.len(),
        desks.acknowledged.len(),
        "one ticket per acknowledged key, none lost or doubled"
    );
    assert_eq!(numbers, (1..=i64::try_from(numbers.len()).expect("small")).collect::<Vec<_>>(), "gap-free");
}

/// The deadlines of config/default.toml (the harness relaxes them for scenarios that are not about time).
fn product_deadlines(settings: &mut hotline_server::settings::Settings) {
    let defaults = hotline_server::settings::Settings::load(std::path::Path::new("/nonexistent"), None)
        .expect("the default settings load");
    settings.api.request_timeout_ms = defaults.api.request_timeout_ms;
    settings.database.checkout_timeout_ms = defaults.database.checkout_timeout_ms;
    assert_eq!(Duration::from_millis(settings.api.request_timeout_ms), DEADLINE);
}

/// The test server's host and port, from `HOTLINE_TEST_DATABASE_URL`.
async fn postgres_address(base: &str) -> SocketAddr {
    let rest = base.split_once("://").map_or(base, |(_, rest)| rest);
    let rest = rest.split_once('@').map_or(rest, |(_, rest)| rest);
    let host_port = rest.split(['/', '?']).next().unwrap_or(rest);
    let host_port = if host_port.contains(':') { host_port.to_owned() } else { format!("{host_port}:5432") };
    tokio::net::lookup_host(host_port).await.expect("resolve").next().expect("an address")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_refused_then_stalled_then_back_answers_in_time_and_recovers_without_restart() {
    let Some(base) = test_support::postgres_base_url() else {
        println!("{}", test_support::SKIP_MESSAGE);
        return;
    };
    let proxy = FaultProxy::start(postgres_address(&base).await).await.expect("the fault proxy starts");
    let options = AppOptions {
        postgres_through: Some(proxy.address()),
        tweak: Some(|settings| {
            product_deadlines(settings);
            settings.database.connect_timeout_seconds = 3;
        }),
        ..AppOptions::default()
    };
    let app = TestApp::postgres_with(options).await.expect("configured");
    app.import_fixture_registry().await;
    let mut desks = Desks::default();
    let ticket =
        app.log_call(&call_body("before the fault")).await["ticket"]["id"].as_str().expect("id").to_owned();
    desks.acknowledged.insert("before the fault (no key)".to_owned(), ticket.clone());
    assert_eq!(app.send_timed(app.request(Method::GET, "/readyz")).await.0.status, 200);

    proxy.set(Mode::Refuse);
    let refused = fault_phase(&app, &mut desks, &ticket, Duration::from_millis(2500)).await;
    proxy.set(Mode::Pass);
    recover(&app, &mut desks).await;

    proxy.set(Mode::Stall);
    let stalled = fault_phase(&app, &mut desks, &ticket, Duration::from_millis(4000)).await;
    proxy.set(Mode::Pass);
    recover(&app, &mut desks).await;

    println!(
        "{refused} rounds refused, {stalled} rounds stalled, {} calls acknowledged; slowest answer {:?}, \
         slowest /readyz {:?}",
        desks.acknowledged.len(),
        desks.slowest,
        desks.slowest_readyz
    );
    assert!(refused >= 3 && stalled >= 2, "each fault was exercised ({refused}, {stalled} rounds)");
    drop(app);
    drop(proxy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_read_only_episode_is_answered_in_time_and_writes_resume_without_restart() {
    let app =
        TestApp::sqlite_with(AppOptions { tweak: Some(product_deadlines), ..AppOptions::default() }).await;
    app.import_fixture_registry().await;
    let mut desks = Desks::default();
    let ticket =
        app.log_call(&call_body("before the fault")).await["ticket"]["id"].as_str().expect("id").to_owned();
    desks.acknowledged.insert("before the fault (no key)".to_owned(), ticket.clone());
    let file = app.sqlite_file().expect("a SQLite app");

    let episode = ReadOnlyEpisode::begin(&file);
    let rounds = fault_phase(&app, &mut desks, &ticket, Duration::from_millis(2000)).await;
    episode.end();

    // The very next write succeeds.
    let key = desks.new_key();
    let response = app.post_json("/v1/calls", &app.operator.secret, &call_body(&key), Some(&key)).await;
    assert_eq!(response.status, 201, "the first write after the restore: {}", response.text);
    desks.acknowledged.insert(key, response.json()["ticket"]["id"].as_str().expect("id").to_owned());
    recover(&app, &mut desks).await;
    assert!(rounds >= 3, "the episode was exercised ({rounds} rounds)");
    println!(
        "{rounds} rounds read-only; slowest answer {:?}, slowest /readyz {:?}",
        desks.slowest, desks.slowest_readyz
    );
}
