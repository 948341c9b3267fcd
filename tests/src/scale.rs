//! The scale benchmark's measurements (`hotline-load scale`, run by `scripts/bench.sh scale` on a database
//! seeded by `hotline-seed`): p50/p99 of the read endpoints at a fixed number of closed-loop clients, a page
//! 10,000 rows deep reached by walking the list's cursor, the CSV export of every ticket (time, rows and the
//! server's peak RSS growth), and a check that sample seeded tickets read back through the API.
//!
//! The requests' paths come from the script (one place to adjust them while the list, dashboard and
//! report endpoints are being built). An endpoint that answers 400, 404, 405, 406, 422 or 501 to its
//! first request — not built yet, or a parameter it does not know — is reported as *not available*
//! instead of failing the run; the export is not available while `Accept: text/csv` gets anything else.
//! Only counts, sizes and latencies are printed, never a body.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use reqwest::header::{ACCEPT, CONTENT_TYPE, LINK};
use reqwest::{Client, StatusCode, Url};
use serde_json::Value;

/// The targets of issue 10 at 1,000,000 tickets (docs/benchmarks.md); change them there and here together.
pub mod targets {
    /// p99 of a list page, a caller's history and the dashboard, ms.
    pub const PAGE_P99_MS: f64 = 20.0;
    /// p99 of a free-text search, ms.
    pub const SEARCH_P99_MS: f64 = 100.0;
    /// p99 of the one-year summary report, ms.
    pub const REPORT_P99_MS: f64 = 1000.0;
    /// Growth of the server's peak RSS while it streams the CSV export of every ticket, MiB.
    pub const EXPORT_RSS_GROWTH_MIB: f64 = 50.0;
}

/// Statuses that mean "this endpoint or parameter does not exist on this build".
const NOT_AVAILABLE: [StatusCode; 6] = [
    StatusCode::BAD_REQUEST,
    StatusCode::NOT_FOUND,
    StatusCode::METHOD_NOT_ALLOWED,
    StatusCode::NOT_ACCEPTABLE,
    StatusCode::UNPROCESSABLE_ENTITY,
    StatusCode::NOT_IMPLEMENTED,
];

/// The measured requests, in run order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// `GET /v1/tickets?limit=50`.
    FirstPage,
    /// The page 10,000 rows deep, by cursor.
    DeepPage,
    /// Prefecture, status and overdue filters.
    Filtered,
    /// Free text in the summaries.
    Search,
    /// One caller's tickets.
    History,
    /// The dashboard.
    Dashboard,
    /// The summary report over one year.
    Report,
}

impl Scenario {
    /// Every scenario, in run order.
    pub const ALL: [Scenario; 7] = [
        Scenario::FirstPage,
        Scenario::DeepPage,
        Scenario::Filtered,
        Scenario::Search,
        Scenario::History,
        Scenario::Dashboard,
        Scenario::Report,
    ];

    /// The name on the command line (`--path first-page=/v1/…`).
    pub fn key(self) -> &'static str {
        match self {
            Scenario::FirstPage => "first-page",
            Scenario::DeepPage => "deep-page",
            Scenario::Filtered => "filtered",
            Scenario::Search => "search",
            Scenario::History => "history",
            Scenario::Dashboard => "dashboard",
            Scenario::Report => "report",
        }
    }

    /// What the report calls it.
    pub fn label(self) -> &'static str {
        match self {
            Scenario::FirstPage => "first page",
            Scenario::DeepPage => "page 10,000 rows deep (cursor)",
            Scenario::Filtered => "filtered page",
            Scenario::Search => "free-text search",
            Scenario::History => "caller's history",
            Scenario::Dashboard => "dashboard",
            Scenario::Report => "one-year summary report",
        }
    }

    /// Its p99 target, ms.
    pub fn target_ms(self) -> f64 {
        match self {
            Scenario::Search => targets::SEARCH_P99_MS,
            Scenario::Report => targets::REPORT_P99_MS,
            _ => targets::PAGE_P99_MS,
        }
    }
}

/// Options of `hotline-load scale`.
#[derive(Debug, clap::Args)]
pub struct ScaleArgs {
    /// Base URL of the server (loopback).
    #[arg(long)]
    pub base_url: String,
    /// An operator (or higher) token; the report and dashboard may need a supervisor's.
    #[arg(long, env = "HOTLINE_BENCH_TOKEN", hide_env_values = true)]
    pub token: String,
    /// `SCENARIO=PATH?QUERY`, once per scenario (the deep page: its first page; the walk follows the
    /// cursor). A scenario without a path is not run.
    #[arg(long = "path", value_parser = parse_path)]
    pub paths: Vec<(Scenario, String)>,
    /// Rows to walk by cursor before the measured deep page.
    #[arg(long, default_value_t = 10_000)]
    pub deep_rows: usize,
    /// The query parameter that carries a cursor, when the answer gives a bare cursor (not a link).
    #[arg(long, default_value = "cursor")]
    pub cursor_param: String,
    /// The CSV export's path (asked with `Accept: text/csv`); none: not measured.
    #[arg(long)]
    pub export_path: Option<String>,
    /// Tickets in the database: the rows the export should have.
    #[arg(long)]
    pub tickets: Option<u64>,
    /// Ticket references (or ids) to read back first, with their audit trails: each must answer 200.
    #[arg(long, value_delimiter = ',')]
    pub samples: Vec<String>,
    /// Concurrent closed-loop clients.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Measured seconds per scenario.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Unmeasured seconds before each measurement.
    #[arg(long, default_value_t = 2)]
    pub warmup: u64,
    /// The server's process id, to read its memory from /proc.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Backend label for the report.
    #[arg(long, default_value = "SQLite")]
    pub backend: String,
}

fn parse_path(text: &str) -> Result<(Scenario, String), String> {
    let (key, path) = text.split_once('=').ok_or_else(|| format!("expected SCENARIO=PATH, got {text:?}"))?;
    let scenario = Scenario::ALL
        .into_iter()
        .find(|s| s.key() == key.trim())
        .ok_or_else(|| format!("unknown scenario {key:?}"))?;
    if !path.starts_with('/') {
        return Err(format!("{key}: the path must start with /, got {path:?}"));
    }
    Ok((scenario, path.to_owned()))
}

/// What one scenario gave.
enum Outcome {
    /// Measured.
    Measured(Measured),
    /// The endpoint does not exist on this build (or refused a parameter).
    NotAvailable(String),
    /// Something else went wrong before the measurement.
    Failed(String),
}

/// Latencies and counts of one measured scenario.
struct Measured {
    latencies: Histogram<u64>,
    requests: u64,
    errors: u64,
    ok_in_window: u64,
    seconds: f64,
    error_samples: Vec<String>,
    /// Bytes of the last answer (the page's size).
    bytes: usize,
    /// What the walk to the page took, for the deep page.
    note: Option<String>,
}

impl Measured {
    fn quantile_ms(&self, q: f64) -> Option<f64> {
        (!self.latencies.is_empty()).then(|| self.latencies.value_at_quantile(q) as f64 / 1000.0)
    }
}

/// The export's measurement.
enum Export {
    Measured {
        seconds: f64,
        bytes: u64,
        rows: u64,
        rss_before_kib: Option<u64>,
        peak_after_kib: Option<u64>,
        reset: bool,
    },
    NotAvailable(String),
    Failed(String),
}

/// Runs the scale measurements and prints the Markdown report; `Ok(false)` when a measured target
/// was missed or a sample did not read back.
pub async fn run(args: ScaleArgs) -> anyhow::Result<bool> {
    let base = Url::parse(&args.base_url).context("bad --base-url")?;
    let loopback = base.host_str().is_some_and(|h| h == "localhost" || h.starts_with("127.") || h == "[::1]");
    if !loopback {
        bail!("--base-url must be a loopback address");
    }
    let client = Client::builder()
        .pool_max_idle_per_host(args.concurrency.max(1))
        .timeout(Duration::from_secs(1800))
        .build()
        .context("building the HTTP client")?;
    let mut out = String::new();

    // Seeded tickets must read back without error (the seeder writes what the service would).
    let mut sample_failures = Vec::new();
    for reference in &args.samples {
        for suffix in ["", "/events"] {
            let url = base.join(&format!("/v1/tickets/{reference}{suffix}")).context("sample URL")?;
            match client.get(url).bearer_auth(&args.token).send().await {
                Ok(response) if response.status().is_success() => {}
                Ok(response) => sample_failures.push(format!("{reference}{suffix}: {}", response.status())),
                Err(error) => sample_failures.push(format!("{reference}{suffix}: {error}")),
            }
        }
    }

    // The export first, while the server's memory is still that of an idle process.
    let export = match &args.export_path {
        Some(path) => Some(export(&client, &base, &args.token, path, args.server_pid).await),
        None => None,
    };

    let mut results = Vec::new();
    for scenario in Scenario::ALL {
        let Some((_, path)) = args.paths.iter().find(|(s, _)| *s == scenario) else { continue };
        eprintln!("hotline-load: {} ({path}) at {} clients…", scenario.label(), args.concurrency);
        let outcome = match resolve(&client, &base, &args, scenario, path).await {
            Ok(Ok((url, note))) => {
                let mut measured = measure(&client, &url, &args).await;
                measured.note = note;
                Outcome::Measured(measured)
            }
            Ok(Err(reason)) => Outcome::NotAvailable(reason),
            Err(error) => Outcome::Failed(format!("{error:#}")),
        };
        results.push((scenario, path.clone(), outcome));
    }

    let _ = writeln!(
        out,
        "#### {} — {} clients, {} s per scenario (after {} s warm-up)\n",
        args.backend, args.concurrency, args.duration, args.warmup
    );
    let _ = writeln!(
        out,
        "| scenario | request | requests | errors | 2xx/s | p50 ms | p90 ms | p99 ms | max ms | bytes | target p99 | result |"
    );
    let _ =
        writeln!(out, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
    let mut passed = sample_failures.is_empty();
    let mut missing = Vec::new();
    let ms = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}"));
    for (scenario, path, outcome) in &results {
        let request = format!("`GET {}`", path.replace('|', "\\|"));
        match outcome {
            Outcome::Measured(m) => {
                let p99 = m.quantile_ms(0.99);
                let ok = m.errors == 0 && p99.is_some_and(|v| v < scenario.target_ms());
                passed &= ok;
                let _ = writeln!(
                    out,
                    "| {} | {request} | {} | {} | {:.0} | {} | {} | {} | {} | {} | < {:.0} ms | {} |",
                    scenario.label(),
                    m.requests,
                    m.errors,
                    m.ok_in_window as f64 / m.seconds.max(f64::EPSILON),
                    ms(m.quantile_ms(0.5)),
                    ms(m.quantile_ms(0.9)),
                    ms(p99),
                    ms((!m.latencies.is_empty()).then(|| m.latencies.max() as f64 / 1000.0)),
                    m.bytes,
                    scenario.target_ms(),
                    if ok { "PASS" } else { "**FAIL**" },
                );
            }
            Outcome::NotAvailable(reason) => {
                missing.push(scenario.label());
                let _ = writeln!(
                    out,
                    "| {} | {request} | – | – | – | – | – | – | – | – | < {:.0} ms | not available ({reason}) |",
                    scenario.label(),
                    scenario.target_ms()
                );
            }
            Outcome::Failed(reason) => {
                passed = false;
                let _ = writeln!(
                    out,
                    "| {} | {request} | – | – | – | – | – | – | – | – | < {:.0} ms | **FAIL**: {reason} |",
                    scenario.label(),
                    scenario.target_ms()
                );
            }
        }
    }
    let _ = writeln!(out);
    for (scenario, _, outcome) in &results {
        if let Outcome::Measured(m) = outcome {
            if let Some(note) = &m.note {
                let _ = writeln!(out, "- {}: {note}", scenario.label());
            }
            if !m.error_samples.is_empty() {
                let _ = writeln!(
                    out,
                    "- First errors of the {}: {}",
                    scenario.label(),
                    m.error_samples.join("; ")
                );
            }
        }
    }
    match export {
        Some(Export::Measured { seconds, bytes, rows, rss_before_kib, peak_after_kib, reset }) => {
            let growth = match (rss_before_kib, peak_after_kib) {
                (Some(before), Some(after)) => Some(after.saturating_sub(before) as f64 / 1024.0),
                _ => None,
            };
            let rows_ok = args.tickets.is_none_or(|n| n == rows);
            let ok = rows_ok && growth.is_some_and(|g| g < targets::EXPORT_RSS_GROWTH_MIB);
            passed &= ok;
            let _ = writeln!(
                out,
                "- CSV export (`GET {}`, `Accept: text/csv`): {rows} rows{} in {seconds:.1} s ({:.1} MiB, {:.0} rows/s); \
                 server RSS {} before, peak {} during{} → growth {} (target < {:.0} MiB): {}",
                args.export_path.as_deref().unwrap_or(""),
                args.tickets.map_or_else(String::new, |n| format!(" of {n} tickets")),
                bytes as f64 / 1_048_576.0,
                rows as f64 / seconds.max(f64::EPSILON),
                mib(rss_before_kib),
                mib(peak_after_kib),
                if reset {
                    " (peak reset through /proc/PID/clear_refs before the export)"
                } else {
                    " (VmHWM since start)"
                },
                growth.map_or_else(|| "n/a".to_owned(), |g| format!("{g:.1} MiB")),
                targets::EXPORT_RSS_GROWTH_MIB,
                if ok { "PASS" } else { "**FAIL**" },
            );
        }
        Some(Export::NotAvailable(reason)) => {
            missing.push("CSV export");
            let _ = writeln!(out, "- CSV export: not available ({reason}).");
        }
        Some(Export::Failed(reason)) => {
            passed = false;
            let _ = writeln!(out, "- CSV export: **FAIL**: {reason}.");
        }
        None => {}
    }
    if args.samples.is_empty() {
        let _ = writeln!(out, "- Seeded tickets read back: not checked.");
    } else if sample_failures.is_empty() {
        let _ = writeln!(
            out,
            "- Seeded tickets read back: {} sample tickets (one of each status and shape) and their audit trails, all 200.",
            args.samples.len()
        );
    } else {
        let _ = writeln!(out, "- Seeded tickets read back: **FAIL**: {}.", sample_failures.join("; "));
    }
    let verdict = match (passed, missing.is_empty()) {
        (false, _) => "FAIL".to_owned(),
        (true, true) => "PASS".to_owned(),
        (true, false) => format!("PASS for what was measured; not available: {}", missing.join(", ")),
    };
    let _ = writeln!(out, "\n**{} at scale: {verdict}**", args.backend);
    print!("{out}");
    Ok(passed)
}

/// The URL to measure: the path itself, or for the deep page the page reached by walking the cursor.
/// `Ok(Err(reason))`: not available.
async fn resolve(
    client: &Client,
    base: &Url,
    args: &ScaleArgs,
    scenario: Scenario,
    path: &str,
) -> anyhow::Result<Result<(Url, Option<String>), String>> {
    let first = base.join(path).with_context(|| format!("bad path {path:?}"))?;
    let (status, body, link) = get_json(client, &first, &args.token).await?;
    if NOT_AVAILABLE.contains(&status) {
        return Ok(Err(problem(status, &body)));
    }
    if !status.is_success() {
        bail!("first request answered {}", problem(status, &body));
    }
    if scenario != Scenario::DeepPage {
        return Ok(Ok((first, None)));
    }
    let started = Instant::now();
    let (mut url, mut body, mut link) = (first.clone(), body, link);
    let (mut rows, mut pages) = (0usize, 0usize);
    while rows < args.deep_rows {
        rows += page_rows(&body);
        pages += 1;
        let Some(next) = next_url(&first, &body, link.as_deref(), &args.cursor_param)? else {
            if pages == 1 {
                return Ok(Err("no cursor in the answer".to_owned()));
            }
            bail!("the cursor ended after {rows} rows");
        };
        if next == url {
            bail!("the cursor did not advance after {rows} rows");
        }
        url = next;
        let (status, next_body, next_link) = get_json(client, &url, &args.token).await?;
        if !status.is_success() {
            bail!("page {} answered {}", pages + 1, problem(status, &next_body));
        }
        (body, link) = (next_body, next_link);
    }
    let note = format!(
        "reached after {rows} rows in {pages} pages, walked in {:.1} s ({:.1} ms per page, one client)",
        started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64() * 1000.0 / pages.max(1) as f64
    );
    Ok(Ok((url, Some(note))))
}

/// One GET: status, JSON body (or Null) and the `Link` header.
async fn get_json(
    client: &Client,
    url: &Url,
    token: &str,
) -> anyhow::Result<(StatusCode, Value, Option<String>)> {
    let response = client.get(url.clone()).bearer_auth(token).send().await.map_err(|e| e.without_url())?;
    let status = response.status();
    let link = response.headers().get(LINK).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = response.bytes().await.map_err(|e| e.without_url())?;
    Ok((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null), link))
}

/// `404 https://…/problems/not-found`: status and problem type, never the detail.
fn problem(status: StatusCode, body: &Value) -> String {
    match body["type"].as_str() {
        Some(kind) => format!("{} {kind}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    }
}

/// Rows on a page: the length of its `tickets` (or `items`, `data`) array, else of any array.
fn page_rows(body: &Value) -> usize {
    match body {
        Value::Array(items) => items.len(),
        Value::Object(fields) => ["tickets", "items", "data"]
            .iter()
            .find_map(|key| fields.get(*key).and_then(Value::as_array))
            .or_else(|| fields.values().find_map(Value::as_array))
            .map_or(0, Vec::len),
        _ => 0,
    }
}

/// The next page: a `Link: <…>; rel="next"` header, or a `next`/`next_cursor` field (top level or under
/// `page`/`pagination`), as a link or as a bare cursor set on the first page's query.
fn next_url(
    first: &Url,
    body: &Value,
    link: Option<&str>,
    cursor_param: &str,
) -> anyhow::Result<Option<Url>> {
    if let Some(link) = link {
        for part in link.split(',') {
            if part.contains("rel=\"next\"") || part.contains("rel=next") {
                if let (Some(start), Some(end)) = (part.find('<'), part.find('>')) {
                    return Ok(Some(first.join(&part[start + 1..end])?));
                }
            }
        }
    }
    let candidates = [
        &body["next_cursor"],
        &body["next"],
        &body["links"]["next"],
        &body["page"]["next_cursor"],
        &body["page"]["next"],
        &body["pagination"]["next_cursor"],
        &body["pagination"]["next"],
    ];
    let Some(next) = candidates.into_iter().find_map(Value::as_str) else { return Ok(None) };
    if next.starts_with('/') || next.starts_with("http") {
        return Ok(Some(first.join(next)?));
    }
    let mut url = first.clone();
    let kept: Vec<(String, String)> = first
        .query_pairs()
        .filter(|(k, _)| k != cursor_param)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut().clear().extend_pairs(kept).append_pair(cursor_param, next);
    Ok(Some(url))
}

/// Latency histogram, 1 µs to 10 min.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// Closed-loop clients on one URL: warm-up, then the measured time.
async fn measure(client: &Client, url: &Url, args: &ScaleArgs) -> Measured {
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(args.warmup);
    let end = measure_from + Duration::from_secs(args.duration.max(1));
    let tasks: Vec<_> = (0..args.concurrency.max(1))
        .map(|_| {
            let (client, url, token) = (client.clone(), url.clone(), args.token.clone());
            tokio::spawn(async move {
                let mut latencies = histogram();
                let (mut requests, mut errors, mut ok_in_window, mut bytes) = (0u64, 0u64, 0u64, 0usize);
                let mut samples = Vec::new();
                loop {
                    let sent = Instant::now();
                    if sent >= end {
                        break;
                    }
                    let result = match client.get(url.clone()).bearer_auth(&token).send().await {
                        Ok(response) => {
                            let status = response.status();
                            match response.bytes().await {
                                Ok(body) if status.is_success() => Ok(body.len()),
                                Ok(body) => Err(problem(
                                    status,
                                    &serde_json::from_slice(&body).unwrap_or(Value::Null),
                                )),
                                Err(error) => Err(error.without_url().to_string()),
                            }
                        }
                        Err(error) => Err(error.without_url().to_string()),
                    };
                    let elapsed = sent.elapsed();
                    if sent < measure_from {
                        continue;
                    }
                    requests += 1;
                    match result {
                        Ok(size) => {
                            bytes = size;
                            if Instant::now() <= end {
                                ok_in_window += 1;
                            }
                            let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
                            latencies.saturating_record(micros.clamp(1, 600_000_000));
                        }
                        Err(error) => {
                            errors += 1;
                            if samples.len() < 3 {
                                samples.push(error);
                            }
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                }
                (latencies, requests, errors, ok_in_window, bytes, samples)
            })
        })
        .collect();
    let mut total = Measured {
        latencies: histogram(),
        requests: 0,
        errors: 0,
        ok_in_window: 0,
        seconds: args.duration.max(1) as f64,
        error_samples: Vec::new(),
        bytes: 0,
        note: None,
    };
    for task in tasks {
        match task.await {
            Ok((latencies, requests, errors, ok, bytes, samples)) => {
                let _ = total.latencies.add(&latencies);
                total.requests += requests;
                total.errors += errors;
                total.ok_in_window += ok;
                total.bytes = total.bytes.max(bytes);
                total.error_samples.extend(samples);
            }
            Err(error) => {
                total.errors += 1;
                total.error_samples.push(format!("client task failed: {error}"));
            }
        }
    }
    total.error_samples.truncate(5);
    total
}

/// Streams the export, counting bytes and lines, and reads the server's memory around it.
async fn export(client: &Client, base: &Url, token: &str, path: &str, pid: Option<u32>) -> Export {
    let url = match base.join(path) {
        Ok(url) => url,
        Err(error) => return Export::Failed(format!("bad export path: {error}")),
    };
    // Reset the peak (VmHWM) to the current RSS, so the growth is the export's own.
    let reset = pid.is_some_and(|pid| std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok());
    let rss_before_kib = pid.and_then(|pid| memory(pid, "VmRSS:"));
    let hwm_before_kib = pid.and_then(|pid| memory(pid, "VmHWM:"));
    eprintln!("hotline-load: CSV export ({path})…");
    let started = Instant::now();
    let mut response = match client.get(url).bearer_auth(token).header(ACCEPT, "text/csv").send().await {
        Ok(response) => response,
        Err(error) => return Export::Failed(error.without_url().to_string()),
    };
    let status = response.status();
    let content_type =
        response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    if NOT_AVAILABLE.contains(&status) {
        return Export::NotAvailable(format!("HTTP {}", status.as_u16()));
    }
    if !status.is_success() {
        return Export::Failed(format!("HTTP {}", status.as_u16()));
    }
    if !content_type.starts_with("text/csv") {
        return Export::NotAvailable(format!("`Accept: text/csv` answered {content_type:?}"));
    }
    let (mut bytes, mut lines, mut last) = (0u64, 0u64, b'\n');
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                bytes += chunk.len() as u64;
                lines += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
                if let Some(&b) = chunk.last() {
                    last = b;
                }
            }
            Ok(None) => break,
            Err(error) => return Export::Failed(format!("after {bytes} bytes: {}", error.without_url())),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    if last != b'\n' {
        lines += 1;
    }
    let peak_after_kib = pid.and_then(|pid| memory(pid, "VmHWM:"));
    Export::Measured {
        seconds,
        bytes,
        // Less the header line. Quoted fields with line breaks would count twice; summaries have none.
        rows: lines.saturating_sub(1),
        rss_before_kib: if reset { rss_before_kib } else { hwm_before_kib },
        peak_after_kib,
        reset,
    }
}

/// A `/proc/<pid>/status` field in KiB.
fn memory(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "n/a".to_owned(), |kib| format!("{:.1} MiB", kib as f64 / 1024.0))
}
