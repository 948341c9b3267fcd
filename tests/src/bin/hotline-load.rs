//! `hotline-load`: the load generator behind `scripts/bench.sh`. It drives a running hotline server over
//! HTTP with a fixed number of concurrent clients for a fixed time per scenario and prints a Markdown
//! report (requests, errors, throughput, latency percentiles, server memory) with PASS/FAIL against the
//! targets in docs/benchmarks.md. A small Rust binary instead of wrk/oha: nothing to install, and the
//! request bodies are real calls with verified callers from the sample registry.
//!
//! Clients are closed-loop: each sends a request, waits for the answer, and sends the next, so the
//! latencies are service times at that concurrency (no think time, no coordinated-omission correction).
//! Only counts and latencies are printed, never a name, number or body.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{FixedOffset, NaiveTime, SubsecRound, Timelike, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use hdrhistogram::Histogram;
use reqwest::{Client, StatusCode, Url};
use serde::Deserialize;
use serde_json::{Value, json};

/// Longest scenario (and warm-up) accepted: a benchmark stops by itself, within minutes.
const MAX_SECONDS: u64 = 600;
/// Non-2xx answers described in the report, per scenario; the rest are only counted.
const ERRORS_SHOWN: usize = 5;
/// Latencies are recorded in microseconds, up to a minute.
const MAX_LATENCY_US: u64 = 60_000_000;

/// Command line of the load generator.
#[derive(Debug, Parser)]
#[command(name = "hotline-load", about = "Load generator for scripts/bench.sh (loopback only).")]
struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// Subcommands: the script needs a free port and a readiness wait without curl or python.
#[derive(Debug, Subcommand)]
enum Command {
    /// Print a TCP port on 127.0.0.1 that is free right now.
    FreePort,
    /// Wait until GET /readyz answers 200.
    WaitReady {
        /// Base URL of the server, e.g. http://127.0.0.1:8080.
        #[arg(long)]
        base_url: String,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 60)]
        timeout: u64,
    },
    /// Run the scenarios and print the Markdown report on stdout.
    Run(Box<RunArgs>),
    /// Measure the read endpoints, the deep page and the CSV export on a seeded database (hotline-seed)
    /// and print the Markdown report (see tests/src/scale.rs).
    Scale(Box<hotline_tests::scale::ScaleArgs>),
    /// Write a generated registry CSV of realistic size (see tests/src/roster.rs).
    Roster {
        /// Members in the roster.
        #[arg(long, default_value_t = 82_700)]
        members: usize,
        /// Seed of the generator: the same seed gives the same file.
        #[arg(long, default_value_t = 12)]
        seed: u64,
        /// Where to write the CSV.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Options of `hotline-load run`.
#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Base URL of the server; must be a loopback address.
    #[arg(long)]
    base_url: String,
    /// An operator (or higher) token.
    #[arg(long, env = "HOTLINE_BENCH_TOKEN", hide_env_values = true)]
    token: String,
    /// The registry CSV the server imported; callers and searches are taken from it.
    #[arg(long, default_value = "docs/sample-registry.csv")]
    registry: PathBuf,
    /// Measured seconds per scenario and concurrency.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Unmeasured seconds of load before each measurement.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Concurrent clients (connections); each scenario runs at each of them, in this order.
    #[arg(long, value_delimiter = ',', default_values_t = [8, 32])]
    concurrency: Vec<usize>,
    /// Member number of the caller of the `calls` scenario (no ticket before the run).
    #[arg(long)]
    caller: String,
    /// Member number of the caller of the `calls-history` scenario (seeded with recent tickets).
    #[arg(long)]
    history_caller: Option<String>,
    /// How many recent tickets the history caller was given, for the report.
    #[arg(long, default_value_t = 10_000)]
    history_tickets: usize,
    /// The database's own rate for the statements of one call, per concurrency: `8=812.5,32=790.1`.
    #[arg(long, value_parser = parse_rates)]
    baseline_call: Option<Rates>,
    /// The database's own rate of a select by key, per concurrency: `8=21000,32=20500`.
    #[arg(long, value_parser = parse_rates)]
    baseline_key: Option<Rates>,
    /// Peak RSS of the registry import in KiB, measured by the script, for the report.
    #[arg(long)]
    import_peak_kib: Option<u64>,
    /// Seconds the registry import took, for the report.
    #[arg(long)]
    import_seconds: Option<f64>,
    /// Members in the imported registry, for the report.
    #[arg(long)]
    import_members: Option<usize>,
    /// Threads of the generator's runtime (the generator shares the machine with the server).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Which database the server uses; selects the targets.
    #[arg(long, value_enum)]
    backend: BackendKind,
    /// Process id of the server, to read its memory from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Exit with status 1 when a target is missed (without it the report still says FAIL).
    #[arg(long)]
    check: bool,
    /// Scenarios to run, comma-separated; `ticket` needs `calls` (it reads the tickets they opened).
    /// Targets of scenarios not run are not checked.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = Scenario::ALL)]
    scenarios: Vec<Scenario>,
}

/// The database behind the server, for the report and the targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BackendKind {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl BackendKind {
    /// Name shown in the report.
    fn label(self) -> &'static str {
        match self {
            BackendKind::Sqlite => "SQLite",
            BackendKind::Postgres => "PostgreSQL",
        }
    }
}

/// Transactions per second by concurrency.
type Rates = BTreeMap<usize, f64>;

/// Parses `8=812.5,32=790.1`.
fn parse_rates(text: &str) -> Result<Rates, String> {
    text.split(',')
        .filter(|part| !part.trim().is_empty())
        .map(|part| {
            let (clients, rate) =
                part.split_once('=').ok_or_else(|| format!("expected C=RATE, got {part:?}"))?;
            let clients = clients.trim().parse::<usize>().map_err(|e| format!("{clients:?}: {e}"))?;
            let rate = rate.trim().parse::<f64>().map_err(|e| format!("{rate:?}: {e}"))?;
            Ok((clients, rate))
        })
        .collect()
}

/// What the results must meet (issue 12); the same numbers are stated, with the reasons, in
/// docs/benchmarks.md. They are the same for both backends.
mod targets {
    /// `GET /v1/members?q=…` p99 at 8 clients, ms.
    pub const SEARCH_P99_AT_8_MS: f64 = 20.0;
    /// `POST /v1/calls` throughput as a share of the database's own rate for the same statements.
    pub const CALLS_VS_RAW: f64 = 0.5;
    /// Throughput of a caller with 10,000 recent tickets as a share of one without.
    pub const HISTORY_VS_EMPTY: f64 = 0.8;
    /// `GET /v1/tickets/{id}` throughput as a share of the database's select by key.
    pub const TICKET_VS_KEY: f64 = 0.2;
    /// Every scenario's p99 at 32 clients, ms.
    pub const P99_AT_32_MS: f64 = 50.0;
    /// Server RSS before the load, MiB.
    pub const IDLE_RSS_MIB: f64 = 30.0;
    /// Server peak RSS (VmHWM) under load, MiB.
    pub const PEAK_RSS_MIB: f64 = 100.0;
    /// Peak RSS of `hotline registry import` of the generated roster, MiB.
    pub const IMPORT_RSS_MIB: f64 = 150.0;
}

/// One registry row as the CSV spells it (only the columns a caller dictates).
#[derive(Debug, Deserialize)]
struct RegistryRow {
    member_number: String,
    registration_number: String,
    member_name: String,
    member_kana: String,
    member_class: String,
    institution_name: String,
    prefecture: String,
    address: String,
    phone: String,
}

/// A caller the registry verifies: what the operator types while they are on the phone.
#[derive(Debug, Clone)]
struct Caller {
    member_name: String,
    member_number: String,
    registration_number: Option<String>,
    institution_name: String,
    prefecture: String,
    address: String,
    phone: String,
}

/// The scenarios, run in this order (the ticket reads use the tickets the calls opened).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
enum Scenario {
    /// (a) The desk logs a call while the operator is on the phone; the caller has no earlier ticket.
    #[value(name = "calls")]
    LogCall,
    /// (b) The desk or a supervisor opens one ticket.
    #[value(name = "ticket")]
    ReadTicket,
    /// (c) A supervisor reads the queue.
    #[value(name = "queue")]
    Queue,
    /// (d) The operator looks the caller up in the registry.
    #[value(name = "members")]
    SearchMembers,
    /// (e) As (a), by a caller who already has 10,000 tickets in the last 7 days.
    #[value(name = "calls-history")]
    CallsWithHistory,
}

impl Scenario {
    /// All scenarios in run order.
    const ALL: [Scenario; 5] = [
        Scenario::LogCall,
        Scenario::ReadTicket,
        Scenario::Queue,
        Scenario::SearchMembers,
        Scenario::CallsWithHistory,
    ];

    /// The request as shown in the report.
    fn label(self) -> &'static str {
        match self {
            Scenario::LogCall => "POST /v1/calls",
            Scenario::ReadTicket => "GET /v1/tickets/{id}",
            Scenario::Queue => "GET /v1/tickets?limit=50",
            Scenario::SearchMembers => "GET /v1/members?q=…",
            Scenario::CallsWithHistory => "POST /v1/calls (10,000 recent)",
        }
    }
}

/// Everything a client task needs; shared read-only between the tasks of one scenario.
struct Load {
    client: Client,
    base: Url,
    token: String,
    /// The caller of `calls` (index 0) and of `calls-history` (index 1, if any).
    callers: Vec<Caller>,
    searches: Vec<String>,
    /// Ticket ids opened by the LogCall scenario, read by ReadTicket.
    tickets: Vec<String>,
}

/// What a call's answer told us, beyond its status.
#[derive(Debug, Default, Clone)]
struct CallFacts {
    ticket_id: Option<String>,
    outcome: Option<String>,
    repeats: Option<usize>,
}

/// One request's result.
enum Outcome {
    /// A 2xx answer (with what a call's answer told us).
    Ok(Option<CallFacts>),
    /// A non-2xx answer or a transport error, described without personal data.
    Failed(String),
}

/// What one client measured.
struct ClientTally {
    latencies: Histogram<u64>,
    requests: u64,
    errors: u64,
    /// 2xx answers that arrived before the end of the measurement: the throughput.
    ok_in_window: u64,
    error_samples: Vec<String>,
    calls: Vec<CallFacts>,
}

/// A scenario's merged result.
struct ScenarioResult {
    scenario: Scenario,
    concurrency: usize,
    requests: u64,
    errors: u64,
    ok_in_window: u64,
    error_samples: Vec<String>,
    measured: Duration,
    latencies: Histogram<u64>,
    calls: Vec<CallFacts>,
}

impl ScenarioResult {
    /// Successful (2xx) answers per second of measurement; requests still in flight at its end (which
    /// may take seconds) count in the latencies but not here, so they cannot stretch the denominator.
    fn throughput(&self) -> f64 {
        self.ok_in_window as f64 / self.measured.as_secs_f64().max(f64::EPSILON)
    }

    /// A latency quantile of the successful requests, in ms (`None` when none succeeded).
    fn quantile_ms(&self, quantile: f64) -> Option<f64> {
        (!self.latencies.is_empty()).then(|| self.latencies.value_at_quantile(quantile) as f64 / 1000.0)
    }

    /// The slowest successful request, in ms.
    fn max_ms(&self) -> Option<f64> {
        (!self.latencies.is_empty()).then(|| self.latencies.max() as f64 / 1000.0)
    }
}

/// Server memory read from /proc/<pid>/status, in KiB.
#[derive(Debug, Clone, Copy, Default)]
struct Memory {
    rss_kib: Option<u64>,
    peak_kib: Option<u64>,
    /// Not memory, but read from the same file: how many threads the server runs.
    threads: Option<u64>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run_command(cli.command) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("hotline-load: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Dispatches a subcommand; `Ok(FAILURE)` means a missed target under `--check`.
fn run_command(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::FreePort => {
            let listener = TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1:0")?;
            println!("{}", listener.local_addr().context("reading the bound port")?.port());
            Ok(ExitCode::SUCCESS)
        }
        Command::WaitReady { base_url, timeout } => {
            let base = loopback_url(&base_url)?;
            runtime(1)?.block_on(wait_ready(base, Duration::from_secs(timeout.min(MAX_SECONDS))))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Roster { members, seed, out } => {
            let file = std::fs::File::create(&out).with_context(|| format!("creating {}", out.display()))?;
            let mut writer = std::io::BufWriter::new(file);
            let rows = hotline_tests::roster::write_roster(&mut writer, members, seed)
                .and_then(|rows| std::io::Write::flush(&mut writer).map(|()| rows))
                .with_context(|| format!("writing {}", out.display()))?;
            eprintln!("hotline-load: {members} members in {rows} rows written to {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Scale(args) => {
            let passed = runtime(1)?.block_on(hotline_tests::scale::run(*args))?;
            Ok(if passed { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Run(args) => {
            let threads = args.threads.max(1);
            let check = args.check;
            let passed = runtime(threads)?.block_on(run(*args))?;
            Ok(if passed || !check { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}

/// A multi-thread runtime with a fixed number of workers.
fn runtime(threads: usize) -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .context("starting the tokio runtime")
}

/// Parses the base URL and refuses anything but a loopback address: this tool only loads local servers.
fn loopback_url(base_url: &str) -> anyhow::Result<Url> {
    let url = Url::parse(base_url).with_context(|| format!("bad --base-url {base_url:?}"))?;
    let host = url.host_str().unwrap_or("").trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback || url.scheme() != "http" {
        bail!(
            "--base-url must be http:// on a loopback address (127.0.0.0/8, ::1, localhost), got {base_url}"
        );
    }
    Ok(url)
}

/// Polls /readyz until it answers 200.
async fn wait_ready(base: Url, timeout: Duration) -> anyhow::Result<()> {
    let client = Client::builder().timeout(Duration::from_secs(2)).build().context("building the client")?;
    let url = base.join("/readyz").context("readyz URL")?;
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(response) = client.get(url.clone()).send().await {
            if response.status() == StatusCode::OK {
                return Ok(());
            }
        }
        if Instant::now() >= deadline {
            bail!("{url} did not answer 200 within {} s", timeout.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs every scenario at every concurrency, prints the report, and tells whether every target was met.
async fn run(args: RunArgs) -> anyhow::Result<bool> {
    let base = loopback_url(&args.base_url)?;
    if args.duration == 0 || args.duration > MAX_SECONDS || args.warmup > MAX_SECONDS {
        bail!("--duration must be 1–{MAX_SECONDS} s and --warmup at most {MAX_SECONDS} s");
    }
    if args.concurrency.is_empty() || args.concurrency.iter().any(|&c| c == 0 || c > 1024) {
        bail!("--concurrency must be 1–1024 (a comma-separated list)");
    }
    if args.scenarios.contains(&Scenario::ReadTicket) && !args.scenarios.contains(&Scenario::LogCall) {
        bail!("the `ticket` scenario reads the tickets `calls` opens: run both");
    }
    let (callers, searches) = read_roster(&args.registry, &args.caller, args.history_caller.as_deref())?;
    if args.scenarios.contains(&Scenario::CallsWithHistory) && callers.len() < 2 {
        bail!("the `calls-history` scenario needs --history-caller");
    }
    let max_clients = args.concurrency.iter().copied().max().unwrap_or(1);
    let client = Client::builder()
        .pool_max_idle_per_host(max_clients)
        .timeout(Duration::from_secs(30))
        .build()
        .context("building the HTTP client")?;
    let mut context =
        Load { client, base, token: args.token.clone(), callers, searches, tickets: Vec::new() };

    let memory_before = args.server_pid.map(read_memory).unwrap_or_default();
    let warmup = Duration::from_secs(args.warmup);
    let duration = Duration::from_secs(args.duration);
    let mut results = Vec::new();
    for scenario in Scenario::ALL.into_iter().filter(|scenario| args.scenarios.contains(scenario)) {
        for &concurrency in &args.concurrency {
            eprintln!(
                "hotline-load: {} at {concurrency} clients for {} s (+{} s warm-up)…",
                scenario.label(),
                args.duration,
                args.warmup
            );
            if scenario == Scenario::ReadTicket && context.tickets.is_empty() {
                results.push(ScenarioResult {
                    scenario,
                    concurrency,
                    requests: 0,
                    errors: 1,
                    ok_in_window: 0,
                    error_samples: vec![
                        "not run: no call was logged, so there is no ticket to read".to_owned(),
                    ],
                    measured: duration,
                    latencies: new_histogram(),
                    calls: Vec::new(),
                });
                continue;
            }
            let shared = Arc::new(context);
            let result = run_scenario(Arc::clone(&shared), scenario, concurrency, warmup, duration).await;
            context = Arc::try_unwrap(shared)
                .map_err(|_| anyhow::anyhow!("a client task outlived its scenario"))?;
            if scenario == Scenario::LogCall {
                context.tickets.extend(result.calls.iter().filter_map(|call| call.ticket_id.clone()));
            }
            results.push(result);
        }
    }
    let memory_after = args.server_pid.map(read_memory).unwrap_or_default();

    let (report, passed) = report(&args, &results, memory_before, memory_after);
    print!("{report}");
    Ok(passed)
}

/// Reads the roster: the callers named by member number (with their first institution), and the
/// searches an operator would type about a sample of its members.
fn read_roster(
    path: &Path,
    caller: &str,
    history_caller: Option<&str>,
) -> anyhow::Result<(Vec<Caller>, Vec<String>)> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("opening the registry {}", path.display()))?;
    let mut wanted: Vec<Option<Caller>> = vec![None, None];
    let mut searches = Vec::new();
    for (index, row) in reader.deserialize::<RegistryRow>().enumerate() {
        let row = row.with_context(|| format!("reading the registry {}", path.display()))?;
        let registration_number = Some(row.registration_number.trim().to_owned()).filter(|n| !n.is_empty());
        // Every 97th row: what a caller dictates about themselves.
        if index % 97 == 0 {
            let surname = row.member_name.split_whitespace().next().unwrap_or(&row.member_name);
            searches.push(surname.to_owned());
            searches.push(row.member_name.clone());
            searches.push(row.member_kana.clone());
            searches.push(row.institution_name.clone());
            searches.push(row.member_number.clone());
            searches.push(row.phone.clone());
            if let Some(number) = &registration_number {
                searches.push(number.clone());
            }
        }
        for (slot, number) in [Some(caller), history_caller].into_iter().enumerate() {
            if number == Some(row.member_number.as_str()) && wanted[slot].is_none() {
                // Only class A1 (A①) members are covered; the others would be `ineligible`.
                if !matches!(row.member_class.trim(), "A1" | "A①" | "Ａ１") {
                    bail!("member {} is not class A1, so their calls would not verify", row.member_number);
                }
                wanted[slot] = Some(Caller {
                    member_name: row.member_name.clone(),
                    member_number: row.member_number.clone(),
                    registration_number: registration_number.clone(),
                    institution_name: row.institution_name.clone(),
                    prefecture: row.prefecture.clone(),
                    address: row.address.clone(),
                    phone: row.phone.clone(),
                });
            }
        }
    }
    let mut callers = Vec::new();
    for (slot, number) in [Some(caller), history_caller].into_iter().enumerate() {
        match (wanted[slot].take(), number) {
            (Some(found), _) => callers.push(found),
            (None, Some(number)) => bail!("member {number} is not in the registry {}", path.display()),
            (None, None) => {}
        }
    }
    Ok((callers, searches))
}

/// Runs one scenario with `concurrency` closed-loop clients: warm-up, then the measured time.
async fn run_scenario(
    context: Arc<Load>,
    scenario: Scenario,
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
) -> ScenarioResult {
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let tasks: Vec<_> = (0..concurrency)
        .map(|index| tokio::spawn(client_loop(Arc::clone(&context), scenario, index, measure_from, end)))
        .collect();
    let mut latencies = new_histogram();
    let (mut requests, mut errors, mut ok_in_window) = (0, 0, 0);
    let mut error_samples = Vec::new();
    let mut calls = Vec::new();
    for task in tasks {
        match task.await {
            Ok(tally) => {
                // Both histograms have the same bounds, so adding cannot fail.
                let _ = latencies.add(&tally.latencies);
                requests += tally.requests;
                errors += tally.errors;
                ok_in_window += tally.ok_in_window;
                error_samples.extend(tally.error_samples);
                calls.extend(tally.calls);
            }
            Err(error) => {
                errors += 1;
                error_samples.push(format!("client task failed: {error}"));
            }
        }
    }
    error_samples.truncate(ERRORS_SHOWN);
    ScenarioResult {
        scenario,
        concurrency,
        requests,
        errors,
        ok_in_window,
        error_samples,
        measured: duration.max(Duration::from_millis(1)),
        latencies,
        calls,
    }
}

/// Latency histogram: 1 µs to 60 s, 3 significant digits.
fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("1 µs..60 s with 3 digits is a valid histogram")
}

/// One client: sends requests back to back until `end`, counting those started after `measure_from`.
async fn client_loop(
    context: Arc<Load>,
    scenario: Scenario,
    index: usize,
    measure_from: Instant,
    end: Instant,
) -> ClientTally {
    let mut tally = ClientTally {
        latencies: new_histogram(),
        requests: 0,
        errors: 0,
        ok_in_window: 0,
        error_samples: Vec::new(),
        calls: Vec::new(),
    };
    // Each client walks the callers, tickets and searches from its own offset, so that the
    // clients' requests differ and every caller is used.
    let mut sequence = index.wrapping_mul(7919);
    loop {
        let sent = Instant::now();
        if sent >= end {
            break;
        }
        let outcome = send(&context, scenario, sequence).await;
        let elapsed = sent.elapsed();
        sequence = sequence.wrapping_add(1);
        let measured = sent >= measure_from;
        match outcome {
            Outcome::Ok(facts) => {
                // Tickets opened during the warm-up are read later too, but counted only when measured.
                if let Some(facts) = facts {
                    if measured {
                        tally.calls.push(facts);
                    } else {
                        tally.calls.push(CallFacts { outcome: None, repeats: None, ..facts });
                    }
                }
                if measured {
                    tally.requests += 1;
                    if Instant::now() <= end {
                        tally.ok_in_window += 1;
                    }
                    let micros = u64::try_from(elapsed.as_micros()).unwrap_or(MAX_LATENCY_US);
                    tally.latencies.saturating_record(micros.clamp(1, MAX_LATENCY_US));
                }
            }
            Outcome::Failed(description) => {
                if measured {
                    tally.requests += 1;
                    tally.errors += 1;
                }
                if tally.error_samples.len() < ERRORS_SHOWN {
                    let phase = if measured { "" } else { " (warm-up)" };
                    tally.error_samples.push(format!("{description}{phase}"));
                }
            }
        }
    }
    tally
}

/// Sends one request of the scenario; the `sequence` picks the caller, ticket or search.
async fn send(context: &Load, scenario: Scenario, sequence: usize) -> Outcome {
    let request = match scenario {
        Scenario::LogCall | Scenario::CallsWithHistory => {
            let caller = &context.callers[usize::from(scenario == Scenario::CallsWithHistory)];
            context
                .client
                .post(endpoint(&context.base, "/v1/calls"))
                .header("Idempotency-Key", uuid::Uuid::now_v7().to_string())
                .json(&call_body(caller, sequence))
        }
        Scenario::ReadTicket => {
            let ticket = &context.tickets[sequence.wrapping_mul(2_654_435_761) % context.tickets.len()];
            context.client.get(endpoint(&context.base, &format!("/v1/tickets/{ticket}")))
        }
        Scenario::Queue => {
            context.client.get(endpoint(&context.base, "/v1/tickets")).query(&[("limit", "50")])
        }
        Scenario::SearchMembers => {
            let q = &context.searches[sequence % context.searches.len()];
            context.client.get(endpoint(&context.base, "/v1/members")).query(&[("q", q.as_str())])
        }
    };
    let response = match request.bearer_auth(&context.token).send().await {
        Ok(response) => response,
        Err(error) => {
            // Do not spin while the server is unreachable.
            tokio::time::sleep(Duration::from_millis(10)).await;
            // Without the URL: a member search's query string may hold a name.
            return Outcome::Failed(format!("transport error: {}", error_chain(&error.without_url())));
        }
    };
    let status = response.status();
    let request_id =
        response.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned();
    let body = match response.bytes().await {
        Ok(body) => body,
        Err(error) => {
            return Outcome::Failed(format!(
                "{status}: body not read: {}",
                error_chain(&error.without_url())
            ));
        }
    };
    if !status.is_success() {
        // Type and title only: a problem's detail may quote what the caller said.
        let problem: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let kind = problem["type"].as_str().unwrap_or("(no problem type)");
        let title = problem["title"].as_str().unwrap_or("");
        return Outcome::Failed(format!("{status} {kind} \"{title}\" (X-Request-Id {request_id})"));
    }
    if !matches!(scenario, Scenario::LogCall | Scenario::CallsWithHistory) {
        return Outcome::Ok(None);
    }
    let logged: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Outcome::Ok(Some(CallFacts {
        ticket_id: logged["ticket"]["id"].as_str().map(str::to_owned),
        outcome: logged["call"]["verification"]["outcome"].as_str().map(str::to_owned),
        repeats: logged["ticket"]["possible_repeat_of"].as_array().map(Vec::len),
    }))
}

/// An error with its causes ("error sending request: … Connection refused"), which reqwest's own
/// message leaves out.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}

/// `path` on the server.
fn endpoint(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    url.set_path(path);
    url
}

/// A call as the desk sends it: like tests/e2e `sample_call_body()`, with a verified caller from the
/// registry and `started_at` = now in Japan time.
fn call_body(caller: &Caller, sequence: usize) -> Value {
    // Alternate between the two identifiers a member may give, when the registry has both.
    let identifier = match (&caller.registration_number, sequence % 2) {
        (Some(number), 0) => json!({ "kind": "registration_number", "value": number }),
        _ => json!({ "kind": "member_number", "value": caller.member_number }),
    };
    json!({
        "started_at": started_at_now(),
        "caller_name": caller.member_name,
        "caller_role": "member",
        "callback_phone": caller.phone,
        "institution": {
            "name": caller.institution_name,
            "address": caller.address,
            "prefecture": caller.prefecture,
        },
        "identifier": identifier,
        "summary": "電子カルテの端末が暗号化され、身代金を要求する画面が出ている",
    })
}

/// Now in +09:00, kept before 23:59 JST: the benchmark's window is 00:00–23:59 (a window cannot end at
/// 24:00), so a run during the last minute of the day logs its calls as started at 23:58:59.
fn started_at_now() -> String {
    let japan = FixedOffset::east_opt(9 * 3600).expect("+09:00 is a valid offset");
    let mut now = Utc::now().with_timezone(&japan).trunc_subsecs(3);
    let last = NaiveTime::from_hms_opt(23, 58, 59).expect("23:58:59 is a valid time");
    if now.time() > last {
        now = now
            .with_hour(23)
            .and_then(|t| t.with_minute(58))
            .and_then(|t| t.with_second(59))
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(now);
    }
    now.to_rfc3339()
}

/// Resident and peak resident memory of a process (Linux); empty elsewhere or when it is gone.
fn read_memory(pid: u32) -> Memory {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return Memory::default();
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
    };
    Memory { rss_kib: field("VmRSS:"), peak_kib: field("VmHWM:"), threads: field("Threads:") }
}

/// KiB as MiB with one decimal, or "n/a".
fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "n/a".to_owned(), |kib| format!("{:.1} MiB", kib as f64 / 1024.0))
}

/// A count, or "n/a".
fn count(value: Option<u64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |n| n.to_string())
}

/// A latency in ms for the table.
fn ms(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}"))
}

/// The baseline a scenario is compared with, and its name in the report.
fn baseline(args: &RunArgs, scenario: Scenario) -> Option<(&'static str, &Rates)> {
    match scenario {
        Scenario::LogCall | Scenario::CallsWithHistory => {
            args.baseline_call.as_ref().map(|rates| ("call statements", rates))
        }
        _ => args.baseline_key.as_ref().map(|rates| ("select by key", rates)),
    }
}

/// The Markdown report and whether every target was met.
fn report(args: &RunArgs, results: &[ScenarioResult], before: Memory, after: Memory) -> (String, bool) {
    let mut out = String::new();
    let label = args.backend.label();
    let _ = writeln!(
        out,
        "#### {label} — {} s per scenario and concurrency (after {} s warm-up)\n",
        args.duration, args.warmup
    );
    if args.baseline_call.is_some() || args.baseline_key.is_some() {
        let _ = writeln!(
            out,
            "The database's own rate, measured right before the service on the same database:\n"
        );
        let _ = writeln!(out, "| baseline | clients | transactions/s |");
        let _ = writeln!(out, "| --- | ---: | ---: |");
        for (name, rates) in [("call statements", &args.baseline_call), ("select by key", &args.baseline_key)]
        {
            for (clients, rate) in rates.iter().flatten() {
                let _ = writeln!(out, "| {name} | {clients} | {rate:.0} |");
            }
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(
        out,
        "| scenario | clients | requests | errors | 2xx/s | ratio to baseline | p50 ms | p90 ms | p99 ms | max ms |"
    );
    let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for result in results {
        let ratio = baseline(args, result.scenario)
            .and_then(|(name, rates)| rates.get(&result.concurrency).map(|rate| (name, rate)))
            .map_or_else(
                || "–".to_owned(),
                |(name, rate)| format!("{:.2} of {name}", result.throughput() / rate.max(f64::EPSILON)),
            );
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {:.0} | {ratio} | {} | {} | {} | {} |",
            result.scenario.label(),
            result.concurrency,
            result.requests,
            result.errors,
            result.throughput(),
            ms(result.quantile_ms(0.50)),
            ms(result.quantile_ms(0.90)),
            ms(result.quantile_ms(0.99)),
            ms(result.max_ms()),
        );
    }
    let _ = writeln!(out);

    let mut outcomes: BTreeMap<&str, u64> = BTreeMap::new();
    let (mut repeat_total, mut repeat_max, mut repeat_n, mut opened) = (0usize, 0usize, 0usize, 0usize);
    let call_results: Vec<&ScenarioResult> = results
        .iter()
        .filter(|r| matches!(r.scenario, Scenario::LogCall | Scenario::CallsWithHistory))
        .collect();
    for result in &call_results {
        opened += result.calls.iter().filter(|c| c.ticket_id.is_some()).count();
        for call in &result.calls {
            if let Some(outcome) = &call.outcome {
                *outcomes.entry(outcome.as_str()).or_default() += 1;
            }
            if let Some(repeats) = call.repeats {
                repeat_total += repeats;
                repeat_max = repeat_max.max(repeats);
                repeat_n += 1;
            }
        }
    }
    let measured_calls: u64 = outcomes.values().sum();
    let verified = outcomes.get("verified").copied().unwrap_or(0);
    let outcome_list =
        outcomes.iter().map(|(outcome, n)| format!("{outcome} {n}")).collect::<Vec<_>>().join(", ");
    if !call_results.is_empty() {
        let _ = writeln!(
            out,
            "- Calls: {opened} tickets opened in all (warm-up included); verification of the measured \
             calls: {}; repeat-caller links per new ticket: mean {:.1}, max {repeat_max}. The history caller \
             had {} tickets in the last 7 days before the run.",
            if outcome_list.is_empty() { "none".to_owned() } else { outcome_list },
            repeat_total as f64 / repeat_n.max(1) as f64,
            args.history_tickets,
        );
    }
    if let (Some(kib), Some(seconds)) = (args.import_peak_kib, args.import_seconds) {
        let _ = writeln!(
            out,
            "- Registry import (`hotline registry import`) of {} members: {seconds:.1} s, peak RSS {}.",
            args.import_members.map_or_else(|| "the".to_owned(), |n| n.to_string()),
            mib(Some(kib)),
        );
    }
    if args.server_pid.is_some() {
        let _ = writeln!(
            out,
            "- Server memory: RSS {} idle (before the load), {} after it; peak RSS (VmHWM) {}. Threads: {} \
             before, {} after.",
            mib(before.rss_kib),
            mib(after.rss_kib),
            mib(after.peak_kib),
            count(before.threads),
            count(after.threads),
        );
    }
    for result in results.iter().filter(|r| !r.error_samples.is_empty()) {
        let _ = writeln!(
            out,
            "- First errors of `{}` at {} clients:",
            result.scenario.label(),
            result.concurrency
        );
        for sample in &result.error_samples {
            let _ = writeln!(out, "  - {sample}");
        }
    }
    let _ = writeln!(out);

    let mut checks: Vec<(String, String, bool)> = Vec::new();
    let find = |scenario: Scenario, clients: usize| {
        results.iter().find(|r| r.scenario == scenario && r.concurrency == clients)
    };
    if let Some(result) = find(Scenario::SearchMembers, 8) {
        let p99 = result.quantile_ms(0.99);
        checks.push((
            format!("`GET /v1/members?q=…` p99 under {:.0} ms at 8 clients", targets::SEARCH_P99_AT_8_MS),
            ms(p99),
            p99.is_some_and(|v| v < targets::SEARCH_P99_AT_8_MS),
        ));
    }
    for &clients in &args.concurrency {
        for (scenario, share) in
            [(Scenario::LogCall, targets::CALLS_VS_RAW), (Scenario::ReadTicket, targets::TICKET_VS_KEY)]
        {
            let (Some(result), Some((name, rates))) = (find(scenario, clients), baseline(args, scenario))
            else {
                continue;
            };
            let Some(rate) = rates.get(&clients) else { continue };
            let ratio = result.throughput() / rate.max(f64::EPSILON);
            checks.push((
                format!("`{}` at least {share} of {name} at {clients} clients", scenario.label()),
                format!("{ratio:.2} ({:.0} of {rate:.0}/s)", result.throughput()),
                ratio >= share,
            ));
        }
        if let (Some(empty), Some(history)) =
            (find(Scenario::LogCall, clients), find(Scenario::CallsWithHistory, clients))
        {
            let ratio = history.throughput() / empty.throughput().max(f64::EPSILON);
            checks.push((
                format!(
                    "`POST /v1/calls` with {} recent tickets at least {} of an empty history at {clients} clients",
                    args.history_tickets,
                    targets::HISTORY_VS_EMPTY
                ),
                format!("{ratio:.2} ({:.0} vs {:.0}/s)", history.throughput(), empty.throughput()),
                ratio >= targets::HISTORY_VS_EMPTY,
            ));
        }
    }
    for result in results.iter().filter(|r| r.concurrency == 32) {
        let p99 = result.quantile_ms(0.99);
        checks.push((
            format!("`{}` p99 under {:.0} ms at 32 clients", result.scenario.label(), targets::P99_AT_32_MS),
            ms(p99),
            p99.is_some_and(|v| v < targets::P99_AT_32_MS),
        ));
    }
    if !call_results.is_empty() {
        checks.push((
            "every measured call verified".to_owned(),
            format!("{verified} of {measured_calls}"),
            measured_calls > 0 && verified == measured_calls,
        ));
    }
    let errors: u64 = results.iter().map(|r| r.errors).sum();
    checks.push(("no error (every answer 2xx)".to_owned(), format!("{errors} errors"), errors == 0));
    if args.server_pid.is_some() {
        let idle = before.rss_kib.map(|kib| kib as f64 / 1024.0);
        checks.push((
            format!("server RSS under {:.0} MiB idle", targets::IDLE_RSS_MIB),
            mib(before.rss_kib),
            idle.is_some_and(|v| v < targets::IDLE_RSS_MIB),
        ));
        let peak = after.peak_kib.map(|kib| kib as f64 / 1024.0);
        checks.push((
            format!("server peak RSS under {:.0} MiB under load", targets::PEAK_RSS_MIB),
            mib(after.peak_kib),
            peak.is_some_and(|v| v < targets::PEAK_RSS_MIB),
        ));
    }
    if let Some(kib) = args.import_peak_kib {
        checks.push((
            format!("registry import peak RSS under {:.0} MiB", targets::IMPORT_RSS_MIB),
            mib(Some(kib)),
            (kib as f64 / 1024.0) < targets::IMPORT_RSS_MIB,
        ));
    }

    let passed = checks.iter().all(|(_, _, ok)| *ok);
    let _ = writeln!(out, "| target | measured | result |");
    let _ = writeln!(out, "| --- | ---: | --- |");
    for (target, measured, ok) in &checks {
        let _ = writeln!(out, "| {target} | {measured} | {} |", if *ok { "PASS" } else { "**FAIL**" });
    }
    let _ = writeln!(out, "\n**{label}: {}**", if passed { "PASS" } else { "FAIL" });
    (out, passed)
}
