//! The harness every scenario uses: the real server (`Application::build`, as `hotline serve` starts it)
//! on 127.0.0.1:0 inside the test's runtime, a clock the test sets, a database of its own (a SQLite file
//! in a temporary directory, or a PostgreSQL schema), and three seeded tokens. Requests go over HTTP;
//! every response is checked for a request id and for never being a 5xx.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use chrono::{DateTime, FixedOffset, Utc};
use diesel::prelude::*;
use hotline_api::Clock;
use hotline_domain::role::Role;
use hotline_server::Application;
use hotline_server::settings::Settings;
use hotline_storage::queries::tokens::{self, NewToken};
use hotline_storage::test_support::{self, PgSchema};
use hotline_storage::{Storage, StorageError, schema};
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

/// Writes each scenario's two tests: `sqlite::<name>` and `postgres::<name>`. A scenario is an
/// `async fn(TestApp)` in the invoking module; the PostgreSQL test skips itself (with a message) when
/// no test server is configured, except in CI.
macro_rules! on_both_backends {
    ($($scenario:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario($crate::helpers::TestApp::sqlite().await).await;
                }
            )+
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    if let Some(app) = $crate::helpers::TestApp::postgres().await {
                        super::$scenario(app).await;
                    }
                }
            )+
        }
    };
}

/// Writes each scenario's two tests like `on_both_backends!`, for scenarios that build their own
/// app(s) (with [`AppOptions`], or two apps on one database): each is an `async fn(Backend)`, and
/// [`Backend::spawn`] gives `None` for PostgreSQL when no test server is configured (the scenario then
/// returns at once).
macro_rules! on_both_backends_with_own_apps {
    ($($scenario:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario($crate::helpers::Backend::Sqlite).await;
                }
            )+
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario($crate::helpers::Backend::Postgres).await;
                }
            )+
        }
    };
}

/// "Now" for a new test app: a Friday morning inside the 09:00–21:00 JST window.
pub const DEFAULT_NOW: &str = "2026-11-20T10:00:00+09:00";

/// An RFC 3339 instant, e.g. `2026-11-20T10:00:00+09:00`.
pub fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|error| panic!("bad instant {rfc3339:?} in a test: {error}"))
        .with_timezone(&Utc)
}

/// The hotline's clock, set by the test.
#[derive(Debug)]
pub struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    /// Moves the clock to `rfc3339`.
    pub fn set(&self, rfc3339: &str) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = at(rfc3339);
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A seeded token: its row id, name and secret.
#[derive(Debug, Clone)]
pub struct TestToken {
    pub id: Uuid,
    pub name: String,
    pub secret: String,
}

/// Keeps the test database alive; dropped after the server and every pool of every app using it.
#[derive(Debug)]
enum DbGuard {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(#[allow(dead_code)] PgSchema),
}

/// Row counts of the tables a refused write must leave alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowCounts {
    pub tickets: i64,
    pub calls: i64,
    pub ticket_events: i64,
    pub members: i64,
    pub institutions: i64,
    pub api_tokens: i64,
    pub idempotency_keys: i64,
}

/// A response, read in full.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl TestResponse {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|error| panic!("body is not JSON ({error}): {}", self.text))
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Asserts the status, for a non-problem response, and returns the JSON body.
    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text);
        self.json()
    }

    /// Asserts an RFC 9457 problem of the given status and type slug with a title and detail, and
    /// returns it for further checks.
    pub fn expect_problem(&self, status: u16, slug: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "a problem must be application/problem+json; body: {}",
            self.text
        );
        let problem = self.json();
        assert_eq!(problem["type"], json!(format!("/problems/{slug}")), "{problem}");
        assert_eq!(problem["status"], json!(status), "{problem}");
        assert!(problem["title"].as_str().is_some_and(|title| !title.is_empty()), "{problem}");
        assert!(problem["detail"].as_str().is_some_and(|detail| !detail.is_empty()), "{problem}");
        problem
    }

    /// Asserts a 409 problem about the state of a ticket or a referral (`ticket-not-open`,
    /// `invalid-transition`, `invalid-referral-transition`) naming that state in `member`
    /// (`ticket_status` or `referral_status`), and returns it.
    pub fn expect_state_problem(&self, slug: &str, member: &str, state: &str) -> Value {
        let problem = self.expect_problem(409, slug);
        assert_eq!(problem[member], json!(state), "{problem}");
        problem
    }

    /// Asserts a 422 validation problem whose `errors[]` names exactly `fields`, in any order.
    pub fn expect_invalid_fields(&self, fields: &[&str]) -> Value {
        let problem = self.expect_problem(422, "validation-error");
        let mut named: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("a validation problem lists errors[]: {problem}"))
            .iter()
            .map(|error| {
                assert!(error["detail"].as_str().is_some_and(|d| !d.is_empty()), "{problem}");
                error["field"].as_str().unwrap_or_else(|| panic!("errors[].field: {problem}"))
            })
            .collect();
        named.sort_unstable();
        let mut expected = fields.to_vec();
        expected.sort_unstable();
        assert_eq!(named, expected, "{problem}");
        problem
    }
}

/// The running service as a test sees it. The database guard is the last field, so it is dropped
/// after the server has stopped and the last pool handle is gone.
pub struct TestApp {
    pub address: SocketAddr,
    pub base_url: String,
    pub client: reqwest::Client,
    pub clock: Arc<TestClock>,
    pub admin: TestToken,
    pub supervisor: TestToken,
    pub operator: TestToken,
    pub storage: Storage,
    server: ServerHandle,
    /// The served application (HTTP server, then the outbox worker), until [`TestApp::stop`] awaits it.
    running: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    /// The database URL, for a second app on the same database.
    database_url: String,
    /// Where the default file transport writes alerts (one .eml per message); kept until the app drops.
    #[allow(dead_code)]
    mail_dir: tempfile::TempDir,
    #[allow(dead_code)]
    db: Arc<DbGuard>,
}

/// How a test app differs from the defaults.
#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    /// Send alerts over SMTP to 127.0.0.1 on this port (plain text, 2 s timeout) instead of writing
    /// `.eml` files, with a quick outbox: polled every 50 ms, one alert per claim, retries 1–2 s apart
    /// (by the test clock), 3 attempts.
    pub smtp_port: Option<u16>,
    /// Webhook endpoints (2 s timeout), with the same quick outbox, and deadlines falling due announced
    /// every second.
    pub webhooks: Vec<WebhookTarget>,
    /// `api.auth_failures_per_minute`; test apps allow 1,000 unless told otherwise, since many
    /// scenarios send bad tokens in quick succession on purpose.
    pub auth_failures_per_minute: Option<u32>,
    /// Changes to the settings after the harness's own (e.g. the timeouts of a fault scenario).
    pub tweak: Option<fn(&mut Settings)>,
    /// PostgreSQL only: the server reaches the database through this address (a fault proxy) instead
    /// of the host and port of the test server's URL.
    pub postgres_through: Option<SocketAddr>,
}

/// A webhook endpoint configured in a test app.
#[derive(Debug, Clone)]
pub struct WebhookTarget {
    /// Endpoint name.
    pub name: String,
    /// Where deliveries go.
    pub url: String,
    /// Signing secret as configured.
    pub secret: String,
    /// Event patterns.
    pub events: Vec<String>,
}

impl AppOptions {
    /// Alerts go to the SMTP server (e.g. a `hotline_notify::test_support::SmtpSink`) on `port`.
    pub fn smtp(port: u16) -> AppOptions {
        AppOptions { smtp_port: Some(port), ..AppOptions::default() }
    }

    /// Ticket events are POSTed to these webhook endpoints.
    pub fn webhooks(targets: Vec<WebhookTarget>) -> AppOptions {
        AppOptions { webhooks: targets, ..AppOptions::default() }
    }
}

/// `url` (`postgres://user@host:port/db?…`) with `host:port` replaced by `proxy`.
fn through(url: &str, proxy: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let (user, rest) = rest.split_once('@').map_or(("", rest), |(user, rest)| (user, rest));
    let path = rest.find('/').map_or("", |slash| &rest[slash..]);
    let user = if user.is_empty() { String::new() } else { format!("{user}@") };
    format!("{scheme}://{user}{proxy}{path}")
}

/// The outbox's retry delay in [`AppOptions::smtp`] apps is at most this long (test-clock time).
pub const SMTP_MAX_RETRY_DELAY_SECONDS: i64 = 2;

/// The database backend of a scenario that builds its own apps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// A fresh database of this backend with an app on it; `None` for PostgreSQL when no test server is
    /// configured (after saying so).
    pub async fn spawn(self, options: AppOptions) -> Option<TestApp> {
        match self {
            Backend::Sqlite => Some(TestApp::sqlite_with(options).await),
            Backend::Postgres => TestApp::postgres_with(options).await,
        }
    }
}

impl TestApp {
    /// The service on a fresh SQLite file.
    pub async fn sqlite() -> TestApp {
        Self::sqlite_with(AppOptions::default()).await
    }

    /// The service on a fresh PostgreSQL schema, or `None` (after saying so) when no server is set.
    pub async fn postgres() -> Option<TestApp> {
        Self::postgres_with(AppOptions::default()).await
    }

    /// [`TestApp::sqlite`] with options.
    pub async fn sqlite_with(options: AppOptions) -> TestApp {
        let (dir, url) = test_support::sqlite_temp();
        Self::spawn(url, Arc::new(DbGuard::Sqlite(dir)), options).await
    }

    /// [`TestApp::postgres`] with options.
    pub async fn postgres_with(options: AppOptions) -> Option<TestApp> {
        let Some(base_url) = test_support::postgres_base_url() else {
            println!("{}", test_support::SKIP_MESSAGE);
            return None;
        };
        let schema = tokio::task::spawn_blocking(move || PgSchema::create(&base_url))
            .await
            .expect("schema task")
            .expect("create a PostgreSQL test schema");
        let url = schema.url.clone();
        Some(Self::spawn(url, Arc::new(DbGuard::Postgres(schema)), options).await)
    }

    /// A second server process, as it were, on this app's database (kept alive until both apps are
    /// gone): its own clock (at [`DEFAULT_NOW`]), HTTP listener, outbox worker and seeded tokens.
    pub async fn spawn_on_same_database(&self, options: AppOptions) -> TestApp {
        Self::spawn(self.database_url.clone(), Arc::clone(&self.db), options).await
    }

    async fn spawn(database_url: String, db: Arc<DbGuard>, options: AppOptions) -> TestApp {
        // The compiled-in defaults (no config directory), then what a test needs.
        let mut settings = Settings::load(Path::new("/nonexistent-hotline-test-config"), None)
            .expect("the default settings load");
        settings.server.listen = "127.0.0.1:0".to_owned();
        settings.server.workers = 2;
        settings.server.shutdown_timeout_seconds = 5;
        settings.database.url = match options.postgres_through {
            Some(proxy) => through(&database_url, proxy),
            None => database_url.clone(),
        };
        settings.database.connect_timeout_seconds = 15;
        // Scenarios run in parallel on a small, busy machine: bursts (fifty calls at once) must not
        // time out. The fault scenarios set the product's own deadlines back (`AppOptions::tweak`).
        settings.database.checkout_timeout_ms = 5000;
        settings.api.request_timeout_ms = 10_000;
        let mail_dir = tempfile::tempdir().expect("a temporary mail directory");
        settings.mail.file.dir = mail_dir.path().to_path_buf();
        if let Some(port) = options.smtp_port {
            settings.mail.transport = hotline_notify::Transport::Smtp;
            settings.mail.smtp = hotline_notify::SmtpSettings {
                host: "127.0.0.1".to_owned(),
                port,
                tls: hotline_notify::SmtpTls::None,
                username: None,
                password: None,
                timeout_seconds: 2,
            };
        }
        settings.api.auth_failures_per_minute = options.auth_failures_per_minute.unwrap_or(1000);
        settings.webhooks.timeout_seconds = 2;
        settings.webhooks.endpoints = options
            .webhooks
            .iter()
            .map(|target| hotline_server::settings::WebhookEndpointSettings {
                name: target.name.clone(),
                url: target.url.clone(),
                secret: Some(target.secret.clone()),
                secret_env: None,
                events: target.events.clone(),
                max_attempts: None,
            })
            .collect();
        if options.smtp_port.is_some() || !options.webhooks.is_empty() {
            settings.outbox.poll_interval_ms = 50;
            // One alert per claim: a backlog takes many claims, so two apps' workers interleave.
            settings.outbox.batch = 1;
            settings.outbox.base_delay_seconds = 1;
            settings.outbox.max_delay_seconds = u32::try_from(SMTP_MAX_RETRY_DELAY_SECONDS).expect("small");
            settings.outbox.max_attempts = 3;
            settings.outbox.lease_seconds = 30;
            // Deadlines that fall due are announced within a second.
            settings.deadlines.announce_interval_seconds = 1;
        }
        if let Some(tweak) = options.tweak {
            tweak(&mut settings);
        }
        let clock = Arc::new(TestClock(Mutex::new(at(DEFAULT_NOW))));
        let application = Application::build(settings, Arc::clone(&clock) as Arc<dyn Clock>)
            .await
            .expect("the application starts");
        let address = application.address();
        let storage = application.storage().clone();
        let server = application.handle();
        let running = tokio::spawn(application.run_until_stopped());

        let seeding = storage.clone();
        let now = clock.now();
        let [admin, supervisor, operator] = tokio::task::spawn_blocking(move || {
            [(Role::Admin, "admin"), (Role::Supervisor, "supervisor"), (Role::Operator, "operator desk 1")]
                .map(|(role, name)| seed_token(&seeding, role, name, now))
        })
        .await
        .expect("seeding task");

        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("an HTTP client");
        TestApp {
            address,
            base_url: format!("http://{address}"),
            client,
            clock,
            admin,
            supervisor,
            operator,
            storage,
            server,
            running: Some(running),
            database_url,
            mail_dir,
            db,
        }
    }

    /// Stops the app as `hotline serve` stops on SIGTERM (in-flight requests finish, then the outbox
    /// worker finishes the alert in hand) and waits until both are done; the database stays.
    pub async fn stop(&mut self) {
        self.server.stop(true).await;
        if let Some(running) = self.running.take() {
            tokio::time::timeout(Duration::from_secs(15), running)
                .await
                .expect("the app stops within 15 s")
                .expect("the app's task")
                .expect("the app served without an error");
        }
    }

    /// A request to `path` with nothing set yet.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base_url))
    }

    /// Sends a request and reads the whole response. Every response carries a request id and none is
    /// ever a server error.
    pub async fn send(&self, request: RequestBuilder) -> TestResponse {
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a readable body");
        assert!(!status.is_server_error(), "server error {status}: {text}");
        assert!(
            headers.get("x-request-id").is_some_and(|id| !id.is_empty()),
            "every response carries x-request-id ({status}: {text})"
        );
        TestResponse { status, headers, text }
    }

    /// Sends a request during a fault and times it: like [`TestApp::send`], except that 503
    /// `service-unavailable` (problem+json, with `Retry-After`) is an allowed answer.
    pub async fn send_timed(&self, request: RequestBuilder) -> (TestResponse, Duration) {
        let started = std::time::Instant::now();
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a readable body");
        let took = started.elapsed();
        let response = TestResponse { status, headers, text };
        assert!(
            response.headers.get("x-request-id").is_some_and(|id| !id.is_empty()),
            "every response carries x-request-id ({status}: {})",
            response.text
        );
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.expect_problem(503, "service-unavailable");
            assert!(response.header("retry-after").is_some(), "a 503 says when to retry: {}", response.text);
        } else {
            assert!(!status.is_server_error(), "server error {status}: {}", response.text);
        }
        (response, took)
    }

    /// The database URL the app runs on (its own SQLite file or PostgreSQL schema).
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// The SQLite database file of this app, if it runs on SQLite.
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        let url = &self.database_url;
        url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).map(std::path::PathBuf::from)
    }

    /// `GET path` with a bearer token.
    pub async fn get(&self, path: &str, token: &str) -> TestResponse {
        self.send(self.request(Method::GET, path).bearer_auth(token)).await
    }

    /// `POST path` with a JSON body, a bearer token and optionally an Idempotency-Key.
    pub async fn post_json(
        &self,
        path: &str,
        token: &str,
        body: &Value,
        idempotency_key: Option<&str>,
    ) -> TestResponse {
        let mut request = self
            .request(Method::POST, path)
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        self.send(request).await
    }

    /// `POST /v1/calls` as the operator, without a key.
    pub async fn post_call(&self, body: &Value) -> TestResponse {
        self.post_json("/v1/calls", &self.operator.secret, body, None).await
    }

    /// Logs a call that must be accepted and returns the response body.
    pub async fn log_call(&self, body: &Value) -> Value {
        self.post_call(body).await.expect(201)
    }

    /// `POST /v1/registry/imports` as the admin with a CSV body.
    pub async fn import_registry(&self, csv: impl Into<Vec<u8>>) -> TestResponse {
        let request = self
            .request(Method::POST, "/v1/registry/imports")
            .bearer_auth(&self.admin.secret)
            .header("content-type", "text/csv")
            .body(csv.into());
        self.send(request).await
    }

    /// Imports [`REGISTRY_CSV`], which must succeed.
    pub async fn import_fixture_registry(&self) -> Value {
        self.import_registry(REGISTRY_CSV).await.expect(200)
    }

    /// `GET /v1/members?q=…` as the operator; the members found.
    pub async fn search_members(&self, q: &str) -> Vec<Value> {
        let request =
            self.request(Method::GET, "/v1/members").query(&[("q", q)]).bearer_auth(&self.operator.secret);
        let body = self.send(request).await.expect(200);
        body["members"].as_array().cloned().unwrap_or_else(|| panic!("members[]: {body}"))
    }

    /// Sets the hotline's clock.
    pub fn set_clock(&self, rfc3339: &str) {
        self.clock.set(rfc3339);
    }

    /// Counts rows straight in the database.
    pub async fn row_counts(&self) -> RowCounts {
        let storage = self.storage.clone();
        tokio::task::spawn_blocking(move || {
            storage.read(|conn| {
                Ok::<_, StorageError>(RowCounts {
                    tickets: schema::tickets::table.count().get_result(conn)?,
                    calls: schema::calls::table.count().get_result(conn)?,
                    ticket_events: schema::ticket_events::table.count().get_result(conn)?,
                    members: schema::members::table.count().get_result(conn)?,
                    institutions: schema::institutions::table.count().get_result(conn)?,
                    api_tokens: schema::api_tokens::table.count().get_result(conn)?,
                    idempotency_keys: schema::idempotency_keys::table.count().get_result(conn)?,
                })
            })
        })
        .await
        .expect("count task")
        .expect("counting rows")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command at once; waits for the graceful stop unless the test is panicking.
        let stopped = self.server.stop(true);
        if std::thread::panicking() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            tokio::task::block_in_place(|| {
                let _ = runtime.block_on(tokio::time::timeout(Duration::from_secs(10), stopped));
            });
        }
    }
}

fn seed_token(storage: &Storage, role: Role, name: &str, now: DateTime<Utc>) -> TestToken {
    let generated = hotline_api::auth::generate_token();
    let token = NewToken {
        id: Uuid::now_v7(),
        name: name.to_owned(),
        role,
        token_hash: generated.hash,
        created_at: now,
        created_by: None,
    };
    let created = storage.write(|conn| tokens::create(conn, &token)).expect("seed a token");
    TestToken { id: created.id, name: created.name, secret: generated.secret }
}

/// Header of the registry CSV, in the documented column order.
pub const REGISTRY_HEADER: &str = "member_number,registration_number,member_name,member_kana,member_class,\
institution_key,institution_name,institution_kind,prefecture,postal_code,address,phone,institution_code,role";

/// The registry fixture: 山田 太郎 (A①) runs two institutions, 佐藤 花子 is a class-B member, 鈴木 一郎 (A①)
/// manages one clinic; names carry kana.
pub const REGISTRY_CSV: &str = "member_number,registration_number,member_name,member_kana,member_class,\
institution_key,institution_name,institution_kind,prefecture,postal_code,address,phone,institution_code,role
0000012345,123456,山田 太郎,ヤマダ タロウ,A1,1312345678,本駒込クリニック,clinic,13,113-8621,東京都文京区本駒込2-28-16,03-3946-2121,1312345678,founder
0000012345,123456,山田 太郎,ヤマダ タロウ,A1,2712345678,梅田中央病院,hospital,27,530-0001,大阪府大阪市北区梅田1-1-1,06-6345-0001,2712345678,manager
0000023456,45678,佐藤 花子,サトウ ハナコ,B,0111111111,札幌内科,clinic,01,060-0001,北海道札幌市中央区北1条西1,011-123-4567,,founder
0000034567,7890,鈴木 一郎,スズキ イチロウ,A①,1412345678,横浜みなと医院,clinic,14,231-0001,神奈川県横浜市中区新港1-1-1,045-123-4567,,manager
";

/// A call from 山田 太郎 about 本駒込クリニック at 10:00 JST that verifies.
pub fn sample_call_body() -> Value {
    json!({
        "started_at": "2026-11-20T10:00:00+09:00",
        "caller_name": "山田 太郎",
        "caller_role": "member",
        "callback_phone": "03-3946-2121",
        "institution": {
            "name": "本駒込クリニック",
            "address": "東京都文京区本駒込2-28-16",
            "prefecture": "13",
        },
        "identifier": { "kind": "registration_number", "value": "123456" },
        "summary": "電子カルテの端末が暗号化され、身代金を要求する画面が出ている",
    })
}

/// `body` with the value at a JSON pointer replaced (the parent must exist).
pub fn with(mut body: Value, pointer: &str, value: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("a JSON pointer");
    body.pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {parent:?}"))
        .insert(key.to_owned(), value);
    body
}

/// `body` without the value at a JSON pointer.
pub fn without(mut body: Value, pointer: &str) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("a JSON pointer");
    body.pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {parent:?}"))
        .remove(key);
    body
}

/// Asserts that every timestamp in `value` is shown in Japan time (+09:00), and that there is one.
pub fn assert_timestamps_in_jst(value: &Value) {
    fn walk(value: &Value, found: &mut Vec<DateTime<FixedOffset>>) {
        match value {
            Value::String(text) => {
                if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
                    assert!(text.ends_with("+09:00"), "timestamp {text:?} is not shown in +09:00");
                    found.push(instant);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, found)),
            Value::Object(fields) => fields.values().for_each(|item| walk(item, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(value, &mut found);
    assert!(!found.is_empty(), "no timestamp in {value}");
}

// ------------------------------------------------------------------------------------------------
// Ticket lifecycle: changes with If-Match, and reading a ticket back with its ETag.

impl TestResponse {
    /// The ticket version in the `ETag` header (`"5"`); panics when there is none.
    pub fn etag_version(&self) -> i64 {
        let etag =
            self.header("etag").unwrap_or_else(|| panic!("no ETag header ({}): {}", self.status, self.text));
        etag.strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
            .and_then(|digits| digits.parse().ok())
            .unwrap_or_else(|| panic!("ETag {etag:?} is not a quoted version"))
    }

    /// Asserts a successful ticket change: the status, the new version in both the `ETag` header and
    /// the body, and returns the body.
    pub fn expect_change(&self, status: u16, version: i64) -> Value {
        let body = self.expect(status);
        assert_eq!(self.etag_version(), version, "ETag after the change; body: {body}");
        assert_eq!(body["version"], json!(version), "version after the change: {body}");
        body
    }
}

impl TestApp {
    /// `POST path` as a ticket change: `If-Match: "<version>"` unless `None`, and a JSON body unless
    /// `None` (then no body and no content type at all).
    pub async fn change(
        &self,
        path: &str,
        token: &str,
        if_match: Option<i64>,
        body: Option<&Value>,
    ) -> TestResponse {
        let mut request = self.request(Method::POST, path).bearer_auth(token);
        if let Some(version) = if_match {
            request = request.header("if-match", format!("\"{version}\""));
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        self.send(request).await
    }

    /// `PATCH path` with a JSON body and a bearer token.
    pub async fn patch_json(&self, path: &str, token: &str, body: &Value) -> TestResponse {
        let request = self
            .request(Method::PATCH, path)
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_string());
        self.send(request).await
    }

    /// `GET /v1/tickets/{id}` as `token`, which must succeed with an `ETag` equal to the body's version.
    pub async fn ticket(&self, id: &str, token: &str) -> Value {
        let response = self.get(&format!("/v1/tickets/{id}"), token).await;
        let ticket = response.expect(200);
        assert_eq!(json!(response.etag_version()), ticket["version"], "ETag of {ticket}");
        ticket
    }

    /// `GET /v1/tickets/{id}/events` as the operator: the audit trail, oldest first.
    pub async fn events(&self, id: &str) -> Vec<Value> {
        let events = self.get(&format!("/v1/tickets/{id}/events"), &self.operator.secret).await.expect(200);
        events["events"].as_array().cloned().unwrap_or_else(|| panic!("events[]: {events}"))
    }
}

/// Logs the fixture call (a verified caller of 本駒込クリニック, Tokyo) starting at `started_at`, which
/// must lie inside the service window near the clock, and returns the new ticket's id.
pub async fn open_ticket(app: &TestApp, started_at: &str) -> String {
    let logged = app.log_call(&with(sample_call_body(), "/started_at", json!(started_at))).await;
    assert_eq!(logged["ticket"]["status"], "new", "{logged}");
    assert_eq!(logged["ticket"]["version"], 1, "{logged}");
    logged["ticket"]["id"].as_str().unwrap_or_else(|| panic!("ticket id: {logged}")).to_owned()
}

/// With the fixture registry imported, the fixture call at 10:00 JST triaged as a P1 ransomware attack
/// (version 2); its id.
pub async fn triaged_ransomware_ticket(app: &TestApp) -> String {
    app.import_fixture_registry().await;
    let id = open_ticket(app, "2026-11-20T10:00:00+09:00").await;
    app.change(
        &format!("/v1/tickets/{id}/triage"),
        &app.operator.secret,
        Some(1),
        Some(&ransomware_triage()),
    )
    .await
    .expect_change(200, 2);
    id
}

/// A triage of a ransomware attack that stopped care: the service suggests P1.
pub fn ransomware_triage() -> Value {
    json!({
        "category": "serious_incident",
        "incident_kind": "ransomware",
        "facts": {
            "systems_affected": ["電子カルテ", "レセコン"],
            "emr_unusable": true,
            "care_suspended": true,
            "people_affected": 1200,
        },
    })
}

/// The member's consent to a referral, given at `given_at`.
pub fn consent(given_at: &str) -> Value {
    json!({ "given_by": "member", "name": "山田 太郎", "given_at": given_at })
}

/// Creates (as the supervisor) an active forensic vendor with an e-mail, covering `prefectures`.
pub async fn create_forensic_partner(app: &TestApp, prefectures: &[&str]) -> Value {
    let body = json!({
        "kind": "forensic",
        "name": "東京フォレンジック株式会社",
        "emails": ["ir@forensic.example.co.jp"],
        "phone": "03-1234-5678",
        "prefectures": prefectures,
    });
    let response = app.post_json("/v1/partners", &app.supervisor.secret, &body, None).await;
    let partner = response.expect(201);
    let location = format!("/v1/partners/{}", partner["id"].as_str().expect("partner id"));
    assert_eq!(response.header("location"), Some(location.as_str()));
    partner
}

/// The police desk of a prefecture, as `GET /v1/partners?kind=police&prefecture=…` lists it.
pub async fn police_desk(app: &TestApp, prefecture: &str) -> Value {
    let request = app
        .request(Method::GET, "/v1/partners")
        .query(&[("kind", "police"), ("prefecture", prefecture)])
        .bearer_auth(&app.operator.secret);
    let listed = app.send(request).await.expect(200);
    let partners = listed["partners"].as_array().unwrap_or_else(|| panic!("partners[]: {listed}"));
    assert_eq!(partners.len(), 1, "one desk per prefecture: {listed}");
    partners[0].clone()
}

/// Gives a police desk an e-mail address (as the supervisor), so that handoffs to it are possible.
pub async fn give_desk_an_email(app: &TestApp, desk_id: &str) -> Value {
    let body = json!({ "emails": ["cyber-soudan@police.example.jp"], "phone": "03-3431-8109" });
    let desk =
        app.patch_json(&format!("/v1/partners/{desk_id}"), &app.supervisor.secret, &body).await.expect(200);
    assert_eq!(desk["emails"], json!(["cyber-soudan@police.example.jp"]), "{desk}");
    desk
}

/// The string at a JSON pointer.
pub fn text(value: &Value, pointer: &str) -> String {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {value}"))
        .to_owned()
}
