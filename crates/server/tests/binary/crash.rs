// kill -9 in the middle of a burst of calls: desks retry every unanswered call with its
// Idempotency-Key until it is answered, while the `hotline` process is SIGKILLed and restarted three
// times. Every call ends up acknowledged exactly once: no call lost, none doubled, references gap-free.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::*;

/// Desks logging calls at once, and calls each.
const DESKS: usize = 4;
const CALLS_PER_DESK: usize = 15;
/// SIGKILLs during the burst.
const KILLS: usize = 3;

/// `POST /v1/calls` with an Idempotency-Key; the status and body, or the connection's error.
fn post_call(port: u16, token: &str, key: &str, body: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "POST /v1/calls HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n\
         Idempotency-Key: {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").ok_or_else(|| std::io::Error::other("cut off"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    Ok((status, body.to_owned()))
}

/// A call that started at the latest 10:00 in Tokyo, inside the service window whenever the test runs.
fn call_body(n: usize) -> String {
    use chrono::{Duration as Days, FixedOffset, NaiveTime, Utc};
    let jst = FixedOffset::east_opt(9 * 3600).expect("+09:00");
    let now = Utc::now().with_timezone(&jst);
    let ten = NaiveTime::from_hms_opt(10, 0, 0).expect("10:00");
    let day = if now.time() >= ten { now.date_naive() } else { now.date_naive() - Days::days(1) };
    let started = day.and_time(ten).and_local_timezone(jst).single().expect("a JST instant");
    serde_json::json!({
        "started_at": started.to_rfc3339(),
        "caller_name": "山田 太郎",
        "caller_role": "member",
        "callback_phone": "03-3946-2121",
        "institution": { "name": "本駒込クリニック", "address": "東京都文京区本駒込2-28-16", "prefecture": "13" },
        "identifier": { "kind": "registration_number", "value": "123456" },
        "summary": format!("攻撃の波の着信 {n}"),
    })
    .to_string()
}

/// `hotline serve` on `port` for `database_url`; returns once `/readyz` answers 200.
fn serve(sandbox: &Sandbox, database_url: &str, port: u16, run: usize) -> Running {
    let log_path = sandbox.path().join(format!("serve-{run}.log"));
    let log = std::fs::File::create(&log_path).expect("a log file");
    let mut serve = sandbox.hotline(&["serve"]);
    serve
        .env("HOTLINE__DATABASE__URL", database_url)
        .env("HOTLINE__SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("HOTLINE__SERVER__WORKERS", "2")
        .env("HOTLINE__LOG__FILTER", "warn")
        .stdout(Stdio::null())
        .stderr(log);
    let mut server = Running(serve.spawn().expect("hotline serve starts"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !matches!(http_get(port, "/readyz", None), Ok((200, _))) {
        if let Some(status) = server.0.try_wait().expect("process status") {
            panic!("exited with {status}:\n{}", std::fs::read_to_string(&log_path).unwrap_or_default());
        }
        assert!(
            Instant::now() < deadline,
            "not ready:\n{}",
            std::fs::read_to_string(&log_path).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    server
}

fn kill_9_during_a_burst_loses_and_doubles_nothing(sandbox: &Sandbox, database_url: &str) {
    let mut create = sandbox.hotline(&["token", "create", "--name", "desk", "--role", "operator"]);
    create.env("HOTLINE__DATABASE__URL", database_url).env("HOTLINE__LOG__FILTER", "warn");
    let output = run(create);
    let token = String::from_utf8(output.stdout).expect("UTF-8").trim().to_owned();
    let port = free_port();
    let mut server = serve(sandbox, database_url, port, 0);

    // key → (reference, ticket id) of every acknowledged call.
    let acknowledged: Mutex<BTreeMap<String, (String, String)>> = Mutex::new(BTreeMap::new());
    let attempts = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for desk in 0..DESKS {
            let (token, acknowledged, attempts) = (&token, &acknowledged, &attempts);
            scope.spawn(move || {
                for n in 0..CALLS_PER_DESK {
                    let key = format!("crash-desk-{desk}-call-{n}");
                    let body = call_body(desk * CALLS_PER_DESK + n);
                    let give_up = Instant::now() + Duration::from_secs(60);
                    loop {
                        attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        match post_call(port, token, &key, &body) {
                            Ok((201, text)) => {
                                let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
                                let ticket = &value["ticket"];
                                let entry = (
                                    ticket["reference"].as_str().expect("reference").to_owned(),
                                    ticket["id"].as_str().expect("id").to_owned(),
                                );
                                let earlier =
                                    acknowledged.lock().expect("lock").insert(key.clone(), entry.clone());
                                assert!(
                                    earlier.is_none_or(|earlier| earlier == entry),
                                    "{key} answered twice differently"
                                );
                                break;
                            }
                            // Refused, cut off, or 503 while the process starts: the desk retries.
                            Ok((status, text)) => assert!(status >= 500, "{key}: {status} {text}"),
                            Err(_) => {}
                        }
                        assert!(Instant::now() < give_up, "{key} was never acknowledged");
                        std::thread::sleep(Duration::from_millis(30));
                    }
                }
            });
        }
        for kill in 1..=KILLS {
            // Let some calls through, then kill the process mid-burst and start it again.
            let target = kill * DESKS * CALLS_PER_DESK / (KILLS + 1);
            let give_up = Instant::now() + Duration::from_secs(60);
            while acknowledged.lock().expect("lock").len() < target {
                if Instant::now() > give_up {
                    // A desk thread failed; stop the server so the scope ends and reports it.
                    let _ = server.0.kill();
                    panic!("the calls stopped being acknowledged before kill {kill}");
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            server.0.kill().expect("SIGKILL");
            server.0.wait().expect("reaped");
            server = serve(sandbox, database_url, port, kill);
        }
    });

    let acknowledged = acknowledged.into_inner().expect("lock");
    assert_eq!(acknowledged.len(), DESKS * CALLS_PER_DESK, "every call acknowledged");
    let mut numbers: Vec<i64> = acknowledged
        .values()
        .map(|(reference, _)| {
            reference.rsplit('-').next().and_then(|n| n.parse().ok()).expect("HL-YYYY-NNNNNN")
        })
        .collect();
    numbers.sort_unstable();
    let expected: Vec<i64> = (1..=i64::try_from(DESKS * CALLS_PER_DESK).expect("small")).collect();
    assert_eq!(numbers, expected, "one ticket per call, references gap-free");

    // The database agrees: exactly one ticket per call, none orphaned by a crash.
    let storage =
        hotline_storage::Storage::connect(database_url, hotline_storage::PoolOptions::default()).expect("db");
    let tickets: i64 = storage
        .read(|conn| {
            use diesel::prelude::*;
            Ok(hotline_storage::schema::tickets::table.count().get_result(conn)?)
        })
        .expect("count");
    assert_eq!(
        tickets,
        i64::try_from(DESKS * CALLS_PER_DESK).expect("small"),
        "no duplicate, no lost ticket"
    );
    println!(
        "{} calls, {} attempts, {KILLS} SIGKILLs: every call acknowledged once",
        acknowledged.len(),
        attempts.into_inner()
    );
    drop(server);
}

#[test]
fn sqlite_kill_9_during_a_burst_of_calls_loses_and_doubles_nothing() {
    let sandbox = Sandbox::new();
    let url = format!("sqlite://{}", sandbox.database_file().display());
    kill_9_during_a_burst_loses_and_doubles_nothing(&sandbox, &url);
}

#[test]
fn postgres_kill_9_during_a_burst_of_calls_loses_and_doubles_nothing() {
    use hotline_storage::test_support::{PgSchema, SKIP_MESSAGE, postgres_base_url};
    let Some(base) = postgres_base_url() else {
        println!("{SKIP_MESSAGE}");
        return;
    };
    let schema = PgSchema::create(&base).expect("a PostgreSQL test schema");
    let sandbox = Sandbox::new();
    kill_9_during_a_burst_loses_and_doubles_nothing(&sandbox, &schema.url);
}
