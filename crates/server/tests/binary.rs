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
