//! The `hotline` binary as an operator runs it: create a token and import the registry from the command
//! line, serve until SIGTERM, and refuse to start on a bad setting. HTTP is spoken over a plain
//! `TcpStream`, so this test needs no HTTP client.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `山田` percent-encoded, for a member search in a request line.
const YAMADA_QUERY: &str = "%E5%B1%B1%E7%94%B0";

const REGISTRY_CSV: &str = "member_number,registration_number,member_name,member_kana,member_class,\
institution_key,institution_name,institution_kind,prefecture,postal_code,address,phone,institution_code,role
0000012345,123456,山田 太郎,ヤマダ タロウ,A1,1312345678,本駒込クリニック,clinic,13,113-8621,東京都文京区本駒込2-28-16,03-3946-2121,1312345678,founder
0000023456,45678,佐藤 花子,サトウ ハナコ,B,0111111111,札幌内科,clinic,01,060-0001,北海道札幌市中央区北1条西1,011-123-4567,,founder
";

/// A temporary directory holding the database (and anything else the process writes).
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::Builder::new().prefix("hotline-bin-").tempdir().expect("a temporary directory"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn database_file(&self) -> PathBuf {
        self.path().join("h.db")
    }

    /// `hotline ARGS` with this sandbox's database, the repository's config directory, and nothing
    /// inherited from the developer's own HOTLINE_* environment.
    fn hotline(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_hotline"));
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("HOTLINE") || name == "RUST_LOG" {
                command.env_remove(name);
            }
        }
        command
            .args(args)
            .current_dir(self.path())
            .env("HOTLINE_CONFIG_DIR", config_dir())
            .env("HOTLINE__DATABASE__URL", format!("sqlite://{}", self.database_file().display()))
            .stdin(Stdio::null());
        command
    }
}

fn config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config")
}

fn run(mut command: Command) -> Output {
    let output = command.output().expect("hotline runs");
    assert!(
        output.status.success(),
        "{command:?} failed with {}:\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A port that was free a moment ago (bound to port 0, then released).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    listener.local_addr().expect("local address").port()
}

/// A minimal HTTP/1.1 GET: status and body.
fn http_get(port: u16, path: &str, token: Option<&str>) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let authorization = token.map(|token| format!("Authorization: Bearer {token}\r\n")).unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{authorization}Connection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status line in {response:?}")))?;
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    Ok((status, body))
}

/// Kills the server if the test fails before it is stopped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn token_create_registry_import_serve_and_sigterm_work_end_to_end() {
    let sandbox = Sandbox::new();

    let output = run(sandbox.hotline(&["token", "create", "--name", "admin", "--role", "admin"]));
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 stdout");
    let token = stdout.strip_suffix('\n').expect("one line");
    let hex = token.strip_prefix("hl_").unwrap_or_else(|| panic!("stdout is just the token: {stdout:?}"));
    assert!(hex.len() == 64 && hex.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')), "{stdout:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("shown only once"));

    let csv = sandbox.path().join("registry.csv");
    std::fs::write(&csv, REGISTRY_CSV).expect("write the registry file");
    let output = run(sandbox.hotline(&["registry", "import", csv.to_str().expect("UTF-8 path")]));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("\"created\": 2"), "{stdout}");

    let port = free_port();
    let log_path = sandbox.path().join("serve.log");
    let log = std::fs::File::create(&log_path).expect("a log file");
    let mut serve = sandbox.hotline(&["serve"]);
    serve
        .env("HOTLINE__SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("HOTLINE__SERVER__WORKERS", "1")
        .env("HOTLINE__SERVER__SHUTDOWN_TIMEOUT_SECONDS", "5")
        .stdout(Stdio::null())
        .stderr(log);
    let mut server = Running(serve.spawn().expect("hotline serve starts"));
    let server_log = || std::fs::read_to_string(&log_path).unwrap_or_default();

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok((200, _)) = http_get(port, "/readyz", None) {
            break;
        }
        if let Some(status) = server.0.try_wait().expect("process status") {
            panic!("hotline serve exited with {status} before it was ready:\n{}", server_log());
        }
        assert!(Instant::now() < deadline, "not ready within 30 s:\n{}", server_log());
        std::thread::sleep(Duration::from_millis(100));
    }

    let (status, body) =
        http_get(port, &format!("/v1/members?q={YAMADA_QUERY}"), Some(token)).expect("a search");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("0000012345") && body.contains("本駒込クリニック"), "{body}");
    let (status, _) = http_get(port, "/v1/hotline/status", None).expect("an unauthenticated request");
    assert_eq!(status, 401);

    let pid = server.0.id().to_string();
    let kill = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(5 + 10);
    let exit = loop {
        if let Some(status) = server.0.try_wait().expect("process status") {
            break status;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM:\n{}", server_log());
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "SIGTERM is a clean stop, got {exit}:\n{}", server_log());
    let log = server_log();
    assert!(log.contains("listening") && log.contains("stopped"), "{log}");
    assert!(!log.contains("山田") && !log.contains(YAMADA_QUERY), "the search text is not logged:\n{log}");
}

/// One-shot commands on PostgreSQL exit cleanly, run after run. With libpq's default `sslmode=prefer`
/// against a server with TLS on (as on the CI machine), a pool still opening a connection in the
/// background when the command returned crashed the process at exit (SIGSEGV in OpenSSL's clean-up)
/// about one run in ten; thirty runs without a crash make that bug very unlikely to pass unseen.
#[test]
fn postgres_one_shot_commands_exit_cleanly_run_after_run() {
    use hotline_storage::test_support::{PgSchema, SKIP_MESSAGE, postgres_base_url};
    let Some(base) = postgres_base_url() else {
        println!("{SKIP_MESSAGE}");
        return;
    };
    let schema = PgSchema::create(&base).expect("a PostgreSQL test schema");
    let sandbox = Sandbox::new();
    let csv = sandbox.path().join("registry.csv");
    std::fs::write(&csv, REGISTRY_CSV).expect("write the registry file");
    for n in 0..30 {
        let name = format!("desk {n}");
        let mut command = if n % 3 == 2 {
            sandbox.hotline(&["registry", "import", csv.to_str().expect("UTF-8 path")])
        } else {
            sandbox.hotline(&["token", "create", "--name", &name, "--role", "operator"])
        };
        command.env("HOTLINE__DATABASE__URL", &schema.url).env("HOTLINE__LOG__FILTER", "warn");
        run(command);
    }
}

#[test]
fn migrate_with_a_missing_config_dir_uses_the_compiled_in_defaults() {
    let sandbox = Sandbox::new();
    let mut migrate = sandbox.hotline(&["--config", "/nonexistent-dir", "migrate"]);
    migrate.env_remove("HOTLINE_CONFIG_DIR");
    let stdout = String::from_utf8(run(migrate).stdout).expect("UTF-8 stdout");
    assert!(stdout.starts_with("applied ") && !stdout.starts_with("applied 0 "), "{stdout}");
    assert!(sandbox.database_file().exists());

    let mut again = sandbox.hotline(&["--config", "/nonexistent-dir", "migrate"]);
    again.env_remove("HOTLINE_CONFIG_DIR");
    let stdout = String::from_utf8(run(again).stdout).expect("UTF-8 stdout");
    assert_eq!(stdout, "applied 0 migration(s)\n");
}

#[test]
fn a_snapshot_import_from_the_command_line_dry_runs_is_refused_over_the_share_and_ends_when_forced() {
    let sandbox = Sandbox::new();
    let full = sandbox.path().join("full.csv");
    std::fs::write(&full, REGISTRY_CSV).expect("write the registry file");
    run(sandbox.hotline(&["registry", "import", full.to_str().expect("UTF-8 path")]));
    // Without 佐藤 花子: one of two members (50 %, above the default 10 %).
    let part = sandbox.path().join("part.csv");
    let without: String =
        REGISTRY_CSV.lines().filter(|line| !line.contains("佐藤")).map(|line| format!("{line}\n")).collect();
    std::fs::write(&part, without).expect("write the snapshot");
    let part = part.to_str().expect("UTF-8 path");

    let dry = run(sandbox.hotline(&["registry", "import", "--snapshot", "--dry-run", "--force", part]));
    let report: serde_json::Value = serde_json::from_slice(&dry.stdout).expect("a JSON report");
    assert_eq!(report["dry_run"], true, "{report}");
    assert_eq!(report["members"]["ended"], 1, "{report}");

    let refused =
        sandbox.hotline(&["registry", "import", "--snapshot", part]).output().expect("hotline runs");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(stderr.contains("would end 1 of 2") && stderr.contains("--force"), "{stderr}");

    let forced = run(sandbox.hotline(&["registry", "import", "--snapshot", "--force", part]));
    let report: serde_json::Value = serde_json::from_slice(&forced.stdout).expect("a JSON report");
    assert_eq!((report["members"]["ended"].clone(), report["dry_run"].clone()), (1.into(), false.into()));
    let again = run(sandbox.hotline(&["registry", "import", "--snapshot", part]));
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).expect("a JSON report");
    assert_eq!(report["members"]["ended"], 0, "ended once: {report}");
}

#[test]
fn anonymise_runs_once_dry_or_not_and_refuses_a_zero_retention() {
    let sandbox = Sandbox::new();
    let dry = run(sandbox.hotline(&["anonymise", "--dry-run"]));
    let report: serde_json::Value = serde_json::from_slice(&dry.stdout).expect("a JSON report");
    assert_eq!(
        report,
        serde_json::json!({ "dry_run": true, "caller_contact_days": 365, "tickets": [], "calls": 0, "referrals": 0,
            "free_text_days": 1095, "free_text_tickets": [] })
    );
    let mut shorter = sandbox.hotline(&["anonymise"]);
    shorter.env("HOTLINE__PRIVACY__RETENTION__CALLER_CONTACT_DAYS", "30");
    let report: serde_json::Value = serde_json::from_slice(&run(shorter).stdout).expect("a JSON report");
    assert_eq!((report["dry_run"].clone(), report["caller_contact_days"].clone()), (false.into(), 30.into()));

    let output = sandbox
        .hotline(&["anonymise"])
        .env("HOTLINE__PRIVACY__RETENTION__CALLER_CONTACT_DAYS", "0")
        .output()
        .expect("hotline runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("privacy.retention.caller_contact_days must be 1–36500, got 0"), "{stderr}");
}

#[test]
fn invalid_setting_stops_the_process_with_a_message_naming_it() {
    let sandbox = Sandbox::new();
    for args in [&["migrate"][..], &["serve"][..]] {
        let output = sandbox
            .hotline(args)
            .env("HOTLINE__SERVER__SHUTDOWN_TIMEOUT_SECONDS", "abc")
            .env("HOTLINE__SERVER__LISTEN", "127.0.0.1:0")
            .output()
            .expect("hotline runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} accepted an invalid setting:\n{stderr}");
        assert!(stderr.contains("shutdown_timeout_seconds"), "the message names the setting:\n{stderr}");
        assert!(!sandbox.database_file().exists(), "nothing is opened before the settings are valid");
    }
    let output = sandbox.hotline(&["--environment", "nowhere", "migrate"]).output().expect("hotline runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("nowhere.toml"));
}

#[test]
fn a_broken_support_payment_rule_file_stops_the_start_naming_the_file_and_the_line() {
    let sandbox = Sandbox::new();
    let config = sandbox.path().join("config");
    std::fs::create_dir_all(config.join("support-payments")).expect("rules directory");
    let shipped = std::fs::read_to_string(config_dir().join("support-payments/2022-06-01.toml"))
        .expect("shipped rules");
    let broken = shipped
        .replace("effective_from = \"2022-06-01\"", "effective_from = \"2023-06-01\"")
        .replace("requirements = [\"mhlw_notified\"]", "requirements = [\"mhlw_notifed\"]");
    let line = broken.lines().position(|l| l.contains("mhlw_notifed")).expect("the typo") + 1;
    std::fs::write(config.join("support-payments/2023-06-01.toml"), broken).expect("write the rule file");
    let config_arg = config.display().to_string();
    for command in ["serve", "migrate"] {
        let output = sandbox
            .hotline(&["--config", &config_arg, command])
            .env("HOTLINE__SERVER__LISTEN", "127.0.0.1:0")
            .output()
            .expect("hotline runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{command} started with a broken rule file:\n{stderr}");
        assert!(
            stderr.contains("2023-06-01.toml") && stderr.contains(&format!("line {line}: ")),
            "the message names the file and the line:\n{stderr}"
        );
        assert!(!sandbox.database_file().exists(), "nothing is opened before the rules are valid");
    }
}

// ------------------------------------------------------------------------------------------------
// Partner alerts survive a crash: the process is SIGKILLed with an alert pending, and the next one
// delivers it, once, to a real SMTP server (hotline_notify::test_support).

/// An HTTP/1.1 request with a bearer token, an optional If-Match version and an optional JSON body;
/// the status and the body.
fn http(
    port: u16,
    method: &str,
    path: &str,
    token: &str,
    if_match: Option<i64>,
    body: Option<&serde_json::Value>,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let body = body.map(serde_json::Value::to_string).unwrap_or_default();
    let if_match = if_match.map(|version| format!("If-Match: \"{version}\"\r\n")).unwrap_or_default();
    let content_type = if body.is_empty() { "" } else { "Content-Type: application/json\r\n" };
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n{if_match}\
         {content_type}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let response = String::from_utf8(response).map_err(std::io::Error::other)?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("no header end in {response:?}")))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status line in {response:?}")))?;
    let chunked = head.to_ascii_lowercase().contains("transfer-encoding: chunked");
    Ok((status, if chunked { dechunk(body) } else { body.to_owned() }))
}

/// The payload of a chunked HTTP/1.1 body.
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// A request that must answer `status`; its JSON body.
fn expect_json(
    port: u16,
    method: &str,
    path: &str,
    token: &str,
    if_match: Option<i64>,
    body: Option<&serde_json::Value>,
    status: u16,
) -> serde_json::Value {
    let (got, text) = http(port, method, path, token, if_match, body)
        .unwrap_or_else(|error| panic!("{method} {path}: {error}"));
    assert_eq!(got, status, "{method} {path}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{method} {path}: not JSON ({error}): {text}"))
}

/// `hotline serve` on `port` with alerts going over plain SMTP to 127.0.0.1:`smtp_port`, a quick
/// outbox (polled every 100 ms, first retry after about a second) and its log in `log_path`; returns
/// once `/readyz` answers.
fn serve_with_smtp(sandbox: &Sandbox, port: u16, smtp_port: u16, log_path: &Path) -> Running {
    let log = std::fs::File::create(log_path).expect("a log file");
    let mut serve = sandbox.hotline(&["serve"]);
    serve
        .env("HOTLINE__SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("HOTLINE__SERVER__WORKERS", "1")
        .env("HOTLINE__SERVER__SHUTDOWN_TIMEOUT_SECONDS", "5")
        .env("HOTLINE__MAIL__TRANSPORT", "smtp")
        .env("HOTLINE__MAIL__SMTP__HOST", "127.0.0.1")
        .env("HOTLINE__MAIL__SMTP__PORT", smtp_port.to_string())
        .env("HOTLINE__MAIL__SMTP__TLS", "none")
        .env("HOTLINE__MAIL__SMTP__TIMEOUT_SECONDS", "2")
        .env("HOTLINE__OUTBOX__POLL_INTERVAL_MS", "100")
        .env("HOTLINE__OUTBOX__BASE_DELAY_SECONDS", "1")
        .env("HOTLINE__OUTBOX__MAX_DELAY_SECONDS", "2")
        // Were the process killed mid-send, its claim would lapse after this long.
        .env("HOTLINE__OUTBOX__LEASE_SECONDS", "10")
        .stdout(Stdio::null())
        .stderr(log);
    let mut server = Running(serve.spawn().expect("hotline serve starts"));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok((200, _)) = http_get(port, "/readyz", None) {
            return server;
        }
        if let Some(status) = server.0.try_wait().expect("process status") {
            panic!(
                "hotline serve exited with {status} before it was ready:\n{}",
                std::fs::read_to_string(log_path).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "not ready within 30 s:\n{}",
            std::fs::read_to_string(log_path).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The alerts of a ticket, polled until `done` holds (at most `within`).
fn wait_for_alerts(
    port: u16,
    token: &str,
    ticket_id: &str,
    within: Duration,
    done: impl Fn(&[serde_json::Value]) -> bool,
) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + within;
    loop {
        let ticket = expect_json(port, "GET", &format!("/v1/tickets/{ticket_id}"), token, None, None, 200);
        let alerts = ticket["alerts"].as_array().cloned().unwrap_or_else(|| panic!("alerts[]: {ticket}"));
        if done(&alerts) {
            return alerts;
        }
        assert!(Instant::now() < deadline, "alerts not as expected within {within:?}: {alerts:#?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_alert_pending_when_the_process_is_killed_is_delivered_once_after_the_restart() {
    use serde_json::json;

    let sandbox = Sandbox::new();
    let output = run(sandbox.hotline(&["token", "create", "--name", "admin", "--role", "admin"]));
    let token = String::from_utf8(output.stdout).expect("UTF-8 stdout").trim().to_owned();
    let registry = config_dir().join("../docs/sample-registry.csv");
    run(sandbox.hotline(&["registry", "import", registry.to_str().expect("UTF-8 path")]));

    // The mail server is down: nothing listens on its port yet.
    let smtp_port = hotline_notify::test_support::reserve_port();
    let port = free_port();
    let first_log = sandbox.path().join("serve-1.log");
    let mut server = serve_with_smtp(&sandbox, port, smtp_port, &first_log);

    // A verified caller's call yesterday at 10:00 JST, triage, and a referral to a forensic vendor.
    let jst = chrono::FixedOffset::east_opt(9 * 3600).expect("JST");
    let yesterday = chrono::Utc::now().with_timezone(&jst).date_naive() - chrono::Days::new(1);
    let started_at = format!("{yesterday}T10:00:00+09:00");
    let vendor = json!({
        "kind": "forensic",
        "name": "東京フォレンジック株式会社",
        "emails": ["ir@forensic.example.co.jp"],
        "phone": "03-1234-5678",
        "prefectures": ["13"],
    });
    let vendor = expect_json(port, "POST", "/v1/partners", &token, None, Some(&vendor), 201);
    let call = json!({
        "started_at": started_at,
        "caller_name": "佐藤 健一",
        "caller_role": "member",
        "callback_phone": "03-3812-0471",
        "institution": { "name": "本郷さくらクリニック", "address": "東京都文京区本郷3丁目14番5号", "prefecture": "13" },
        "identifier": { "kind": "registration_number", "value": "412345" },
        "summary": "電子カルテのサーバが暗号化され、診療を停止している",
    });
    let logged = expect_json(port, "POST", "/v1/calls", &token, None, Some(&call), 201);
    assert_eq!(logged["call"]["verification"]["outcome"], "verified", "{logged}");
    let ticket_id =
        logged["ticket"]["id"].as_str().unwrap_or_else(|| panic!("ticket id: {logged}")).to_owned();
    let triage = json!({
        "category": "serious_incident",
        "incident_kind": "ransomware",
        "facts": { "emr_unusable": true, "care_suspended": true },
    });
    let path = |action: &str| format!("/v1/tickets/{ticket_id}/{action}");
    expect_json(port, "POST", &path("triage"), &token, Some(1), Some(&triage), 200);
    let given_at = (chrono::Utc::now() - chrono::Duration::minutes(1)).with_timezone(&jst).to_rfc3339();
    let referral = json!({
        "kind": "forensic",
        "partner_id": vendor["id"],
        "consent": { "given_by": "member", "name": "佐藤 健一", "given_at": given_at },
    });
    expect_json(port, "POST", &path("referrals"), &token, Some(2), Some(&referral), 201);

    // Tried, refused by the dead server, pending: then the process is killed outright.
    let pending = wait_for_alerts(port, &token, &ticket_id, Duration::from_secs(15), |alerts| {
        alerts.len() == 1
            && alerts[0]["status"] == "pending"
            && alerts[0]["attempts"].as_i64().is_some_and(|n| n >= 1)
            && alerts[0]["last_error"].is_string()
    });
    let message_id = pending[0]["message_id"].as_str().expect("message_id").to_owned();
    let pid = server.0.id().to_string();
    assert!(Command::new("kill").args(["-KILL", &pid]).status().expect("kill runs").success());
    let exit = server.0.wait().expect("the killed process is reaped");
    assert!(!exit.success(), "SIGKILL is no clean exit: {exit}");

    // The mail server comes back, and so does the service, on the same database.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime for the SMTP sink");
    let sink = runtime.block_on(hotline_notify::test_support::SmtpSink::start_on(smtp_port));
    let second_log = sandbox.path().join("serve-2.log");
    let _server = serve_with_smtp(&sandbox, port, smtp_port, &second_log);

    let deadline = Instant::now() + Duration::from_secs(30);
    while sink.count() == 0 {
        assert!(
            Instant::now() < deadline,
            "the alert was not delivered within 30 s of the restart:\n{}",
            std::fs::read_to_string(&second_log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let sent = wait_for_alerts(port, &token, &ticket_id, Duration::from_secs(10), |alerts| {
        alerts.len() == 1 && alerts[0]["status"] == "sent"
    });
    // A few more polls: a duplicate would have arrived by now.
    std::thread::sleep(Duration::from_millis(500));
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "delivered exactly once");
    assert_eq!(messages[0].message_id().as_deref(), Some(message_id.as_str()));
    assert_eq!(messages[0].rcpt_to, ["ir@forensic.example.co.jp"]);
    assert_eq!(sent[0]["message_id"], json!(message_id));
    let subject = messages[0].subject().expect("a subject");
    assert!(subject.contains(logged["ticket"]["reference"].as_str().expect("reference")), "{subject}");
}

#[path = "binary/crash.rs"]
mod crash;
