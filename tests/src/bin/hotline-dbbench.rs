//! `hotline-dbbench`: the database side of `scripts/bench.sh` (docs/benchmarks.md).
//!
//! - `caller`: prints, as shell assignments, what pgbench's replay of a call needs about a roster member
//!   (row ids, the institution-name key the repeat-caller look-up uses, an operator token).
//! - `seed-history`: gives a member N tickets spread over the last days, numbered from the ticket
//!   counter like real ones, for the "caller with 10,000 recent tickets" scenario.
//! - `replay`: SQLite's own rate, without the service: C threads, each on its own connection with the
//!   server's settings, replaying for D seconds either the statements of one `POST /v1/calls` (the reads
//!   first, then the write transaction; writers queue on one lock in the process, as the server's do) or
//!   a select of one ticket by key. PostgreSQL's own rate comes from pgbench with the scripts in
//!   scripts/bench/, which send the same statements.
//!
//! Prints numbers only, never a name or number from the roster.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{NaiveDateTime, SubsecRound, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};

/// Command line.
#[derive(Debug, Parser)]
#[command(name = "hotline-dbbench", about = "Database baselines and seed data for scripts/bench.sh.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print KEY=VALUE lines about a member for pgbench's -D options.
    Caller {
        #[arg(long)]
        database_url: String,
        #[arg(long)]
        member_number: String,
    },
    /// Give a member TICKETS tickets whose first calls spread over the last DAYS days.
    SeedHistory {
        #[arg(long)]
        database_url: String,
        #[arg(long)]
        member_number: String,
        #[arg(long, default_value_t = 10_000)]
        tickets: usize,
        #[arg(long, default_value_t = 7)]
        days: i64,
    },
    /// Replay a workload on SQLite for DURATION seconds with CLIENTS threads; prints transactions/s.
    Replay {
        #[arg(long)]
        database_url: String,
        #[arg(long, value_enum)]
        workload: Workload,
        /// The caller of the replayed calls (a roster member without other traffic).
        #[arg(long)]
        member_number: String,
        #[arg(long)]
        clients: usize,
        #[arg(long)]
        duration: u64,
    },
}

/// What `replay` sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Workload {
    /// The statements of one POST /v1/calls that opens a ticket.
    Call,
    /// One ticket by its key.
    SelectByKey,
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("hotline-dbbench: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Caller { database_url, member_number } => {
            let mut conn = Db::open(&database_url)?;
            let caller = Caller::load(&mut conn, &member_number)?;
            let related = caller.recent_ids(&mut conn, 20)?;
            let max_seq = conn.max_seq()?;
            println!("member_id={}", caller.member_id);
            println!("institution_id={}", caller.institution_id);
            println!("institution_match={}", caller.institution_match);
            println!("prefecture={}", caller.prefecture);
            println!("token_id={}", caller.token_id);
            println!("year={}", caller.year);
            println!("max_seq={max_seq}");
            println!("related={}", related.join(","));
            Ok(())
        }
        Command::SeedHistory { database_url, member_number, tickets, days } => {
            let mut conn = Db::open(&database_url)?;
            let caller = Caller::load(&mut conn, &member_number)?;
            let seeded = conn.seed(&caller, tickets, days)?;
            eprintln!("hotline-dbbench: {seeded} tickets seeded over the last {days} days");
            Ok(())
        }
        Command::Replay { database_url, workload, member_number, clients, duration } => {
            if !database_url.starts_with("sqlite") {
                bail!("replay is for SQLite; PostgreSQL's baseline is pgbench (scripts/bench/)");
            }
            let rate =
                replay(&database_url, workload, &member_number, clients, Duration::from_secs(duration))?;
            println!("{rate:.1}");
            Ok(())
        }
    }
}

/// A connection of either backend, opened directly (no pool, no hotline code).
enum Db {
    Pg(PgConnection),
    Lite(SqliteConnection),
}

impl Db {
    fn open(url: &str) -> anyhow::Result<Db> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let mut pg = PgConnection::establish(url).context("connecting to PostgreSQL")?;
            pg.batch_execute("SET synchronous_commit = on; SET TIME ZONE 'UTC';")?;
            return Ok(Db::Pg(pg));
        }
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
        let mut lite = SqliteConnection::establish(path).context("opening SQLite")?;
        // The server's per-connection settings (crates/storage/src/pool.rs).
        lite.batch_execute(
            "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
             PRAGMA foreign_keys = ON;",
        )?;
        Ok(Db::Lite(lite))
    }

    fn max_seq(&mut self) -> anyhow::Result<i64> {
        #[derive(QueryableByName)]
        struct Max {
            #[diesel(sql_type = BigInt)]
            max_seq: i64,
        }
        let sql = "SELECT COALESCE(MAX(ref_seq), 0) AS max_seq FROM tickets";
        Ok(match self {
            Db::Pg(pg) => diesel::sql_query(sql).get_result::<Max>(pg)?,
            Db::Lite(lite) => diesel::sql_query(sql).get_result::<Max>(lite)?,
        }
        .max_seq)
    }

    /// Inserts `count` tickets of `caller`, numbered from the counter of the current year.
    fn seed(&mut self, caller: &Caller, count: usize, days: i64) -> anyhow::Result<usize> {
        let now = Utc::now().trunc_subsecs(6).naive_utc();
        let span = chrono::Duration::days(days) - chrono::Duration::hours(1);
        let step = span / i32::try_from(count.max(1)).unwrap_or(i32::MAX);
        let reserve = "INSERT INTO ticket_counters (year, last_seq) VALUES ($1, $2) \
             ON CONFLICT (year) DO UPDATE SET last_seq = ticket_counters.last_seq + $2 RETURNING last_seq";
        #[derive(QueryableByName)]
        struct Last {
            #[diesel(sql_type = BigInt)]
            last_seq: i64,
        }
        let n = i64::try_from(count)?;
        let insert = "INSERT INTO tickets (id, reference, ref_year, ref_seq, status, version, member_id, \
             institution_id, prefecture, institution_match, first_call_at, summary, created_at, updated_at, \
             created_by) VALUES ($1, $2, $3, $4, 'new', 1, $5, $6, $7, $8, $9, 'seeded history', $10, $10, $11)";
        let rows: Vec<(String, i64, NaiveDateTime)> = (0..count)
            .map(|i| {
                let at = now - span + step * i32::try_from(i).unwrap_or(0);
                (uuid::Uuid::now_v7().to_string(), i64::try_from(i).unwrap_or(0), at)
            })
            .collect();
        macro_rules! seed_on {
            ($conn:expr, $placeholder:expr) => {{
                let conn = $conn;
                conn.transaction::<_, anyhow::Error, _>(|conn| {
                    let last = diesel::sql_query(reserve.replace('$', $placeholder))
                        .bind::<Integer, _>(caller.year)
                        .bind::<BigInt, _>(n)
                        .get_result::<Last>(conn)?
                        .last_seq;
                    let first = last - n + 1;
                    for (id, i, at) in &rows {
                        let seq = first + i;
                        diesel::sql_query(insert.replace('$', $placeholder))
                            .bind::<Text, _>(id)
                            .bind::<Text, _>(format!("HL-{}-{seq:06}", caller.year))
                            .bind::<Integer, _>(caller.year)
                            .bind::<BigInt, _>(seq)
                            .bind::<Text, _>(&caller.member_id)
                            .bind::<Text, _>(&caller.institution_id)
                            .bind::<Text, _>(&caller.prefecture)
                            .bind::<Text, _>(&caller.institution_match)
                            .bind::<Timestamp, _>(at)
                            .bind::<Timestamp, _>(now)
                            .bind::<Text, _>(&caller.token_id)
                            .execute(conn)?;
                    }
                    Ok(())
                })?;
            }};
        }
        match self {
            Db::Pg(pg) => seed_on!(pg, "$"),
            Db::Lite(lite) => seed_on!(lite, "?"),
        }
        Ok(count)
    }
}

/// What a call from a roster member needs: their rows and keys, as the server would find them.
struct Caller {
    member_number: String,
    member_id: String,
    institution_id: String,
    institution_name: String,
    address: String,
    institution_match: String,
    prefecture: String,
    token_id: String,
    year: i32,
}

#[derive(QueryableByName)]
struct CallerRow {
    #[diesel(sql_type = Text)]
    member_id: String,
    #[diesel(sql_type = Text)]
    institution_id: String,
    #[diesel(sql_type = Text)]
    institution_name: String,
    #[diesel(sql_type = Text)]
    address: String,
    #[diesel(sql_type = Text)]
    prefecture: String,
    #[diesel(sql_type = Text)]
    token_id: String,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = Text)]
    id: String,
}

impl Caller {
    fn load(conn: &mut Db, member_number: &str) -> anyhow::Result<Caller> {
        let sql = "SELECT m.id AS member_id, i.id AS institution_id, i.name AS institution_name, \
             i.address AS address, i.prefecture AS prefecture, \
             (SELECT t.id FROM api_tokens t WHERE t.revoked_at IS NULL ORDER BY t.created_at LIMIT 1) AS token_id \
             FROM members m JOIN member_institutions mi ON mi.member_id = m.id \
             JOIN institutions i ON i.id = mi.institution_id WHERE m.member_number = $1 ORDER BY i.name LIMIT 1";
        let row: CallerRow = match conn {
            Db::Pg(pg) => diesel::sql_query(sql).bind::<Text, _>(member_number).get_result(pg),
            Db::Lite(lite) => {
                diesel::sql_query(sql.replace('$', "?")).bind::<Text, _>(member_number).get_result(lite)
            }
        }
        .context("the member (and an active token) must exist: import the roster and create a token first")?;
        let tz: chrono_tz::Tz = chrono_tz::Asia::Tokyo;
        Ok(Caller {
            member_number: member_number.to_owned(),
            institution_match: hotline_domain::text::match_key(&row.institution_name),
            member_id: row.member_id,
            institution_id: row.institution_id,
            institution_name: row.institution_name,
            address: row.address,
            prefecture: row.prefecture,
            token_id: row.token_id,
            year: hotline_domain::ticket::reference_year(Utc::now(), tz),
        })
    }

    /// Up to `limit` of the member's tickets, newest first (the links a new ticket of theirs gets).
    fn recent_ids(&self, conn: &mut Db, limit: i64) -> anyhow::Result<Vec<String>> {
        let sql = "SELECT id FROM tickets WHERE member_id = $1 ORDER BY first_call_at DESC, id DESC LIMIT $2";
        let rows: Vec<Id> = match conn {
            Db::Pg(pg) => {
                diesel::sql_query(sql).bind::<Text, _>(&self.member_id).bind::<BigInt, _>(limit).load(pg)?
            }
            Db::Lite(lite) => diesel::sql_query(sql.replace('$', "?"))
                .bind::<Text, _>(&self.member_id)
                .bind::<BigInt, _>(limit)
                .load(lite)?,
        };
        Ok(rows.into_iter().map(|row| row.id).collect())
    }
}

/// The statements of one POST /v1/calls opening a ticket for a verified caller, as the server sends
/// them on SQLite (crates/storage: registry::member_for_identifier, tickets::recent_for_caller, the
/// idempotency check, then in one `BEGIN IMMEDIATE` transaction: the check again, the counter, the
/// ticket, the call, its links, the audit event, the webhook endpoints and the stored response).
mod call_sql {
    pub const MEMBER: &str = "SELECT id FROM members WHERE member_number = ?";
    pub const INSTITUTIONS: &str = "SELECT mi.member_id AS id FROM member_institutions mi \
         JOIN institutions i ON i.id = mi.institution_id WHERE mi.member_id IN (?) ORDER BY i.name";
    pub const RECENT: &str = "SELECT id FROM (SELECT id, first_call_at FROM tickets WHERE member_id = ?1 \
         AND first_call_at >= ?4 AND first_call_at <= ?5 ORDER BY first_call_at DESC, id DESC \
         LIMIT 20) UNION ALL SELECT id FROM (SELECT id, first_call_at FROM tickets WHERE institution_id = ?2 \
         AND first_call_at >= ?4 AND first_call_at <= ?5 ORDER BY first_call_at DESC, id DESC LIMIT 20) \
         UNION ALL SELECT id FROM (SELECT id, first_call_at FROM tickets WHERE institution_match = ?3 \
         AND prefecture = ?6 AND first_call_at >= ?4 AND first_call_at <= ?5 \
         ORDER BY first_call_at DESC, id DESC LIMIT 20)";
    pub const IDEMPOTENCY: &str =
        "SELECT token_id AS id FROM idempotency_keys WHERE token_id = ? AND idempotency_key = ?";
    pub const COUNTER: &str = "INSERT INTO ticket_counters (year, last_seq) VALUES (?, 1) \
         ON CONFLICT (year) DO UPDATE SET last_seq = ticket_counters.last_seq + 1 RETURNING last_seq";
    pub const TICKET: &str = "INSERT INTO tickets (id, reference, ref_year, ref_seq, status, version, \
         member_id, institution_id, prefecture, institution_match, first_call_at, summary, created_at, \
         updated_at, created_by) VALUES (?1, ?2, ?3, ?4, 'new', 1, ?5, ?6, ?7, ?8, ?9, ?10, ?9, ?9, ?11)";
    pub const CALL: &str = "INSERT INTO calls (id, ticket_id, started_at, caller_name, caller_role, \
         callback_phone, claimed_member_name, claimed_institution_name, claimed_institution_address, \
         claimed_prefecture, identifier_kind, identifier_value, summary, verification, mismatches, \
         member_id, institution_id, follow_up, created_at, created_by) VALUES (?1, ?2, ?3, 'caller', \
         'member', '0312345678', 'member', ?4, ?5, ?6, 'member_number', ?7, ?8, 'verified', '', ?9, ?10, 0, \
         ?3, ?11)";
    pub const EVENT: &str = "INSERT INTO ticket_events (id, ticket_id, occurred_at, actor_token_id, action, \
         changes) VALUES (?, ?, ?, ?, 'ticket.opened', ?)";
    pub const ENDPOINTS: &str = "SELECT name AS id FROM webhook_endpoints WHERE active = 1 ORDER BY name";
    pub const STORE: &str = "INSERT INTO idempotency_keys (token_id, idempotency_key, request_hash, \
         status_code, response_body, location, created_at) VALUES (?, ?, ?, 201, ?, ?, ?)";
}

#[derive(QueryableByName)]
struct Seq {
    #[diesel(sql_type = BigInt)]
    last_seq: i64,
}

fn replay(
    url: &str,
    workload: Workload,
    member_number: &str,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<f64> {
    let mut setup = Db::open(url)?;
    let caller = Arc::new(Caller::load(&mut setup, member_number)?);
    let max_seq = setup.max_seq()?;
    if workload == Workload::SelectByKey && max_seq == 0 {
        bail!("no ticket to select");
    }
    drop(setup);
    let writers = Arc::new(parking_lot::Mutex::new(()));
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut threads = Vec::new();
    for client in 0..clients.max(1) {
        let (url, caller, writers, stop, done) =
            (url.to_owned(), Arc::clone(&caller), Arc::clone(&writers), Arc::clone(&stop), Arc::clone(&done));
        threads.push(std::thread::spawn(move || -> anyhow::Result<()> {
            let Db::Lite(mut conn) = Db::open(&url)? else { bail!("not SQLite") };
            let mut n = client as u64;
            while !stop.load(Ordering::Relaxed) {
                match workload {
                    Workload::Call => replay_call(&mut conn, &caller, &writers)?,
                    Workload::SelectByKey => {
                        n = n.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                        let seq = i64::try_from(n >> 33).unwrap_or(0) % max_seq + 1;
                        diesel::sql_query("SELECT * FROM tickets WHERE ref_year = ? AND ref_seq = ?")
                            .bind::<Integer, _>(caller.year)
                            .bind::<BigInt, _>(seq)
                            .execute(&mut conn)?;
                    }
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        }));
    }
    // One second of warm-up, then the measured time.
    std::thread::sleep(Duration::from_secs(1));
    let (start_count, start) = (done.load(Ordering::Relaxed), Instant::now());
    std::thread::sleep(duration);
    let (end_count, elapsed) = (done.load(Ordering::Relaxed), start.elapsed());
    stop.store(true, Ordering::Relaxed);
    for thread in threads {
        thread.join().map_err(|_| anyhow::anyhow!("a replay thread panicked"))??;
    }
    Ok((end_count - start_count) as f64 / elapsed.as_secs_f64())
}

fn replay_call(
    conn: &mut SqliteConnection,
    caller: &Caller,
    writers: &parking_lot::Mutex<()>,
) -> anyhow::Result<()> {
    use call_sql::*;
    let now = Utc::now().trunc_subsecs(6).naive_utc();
    let key = uuid::Uuid::now_v7().to_string();
    // Reads first, outside the transaction (and outside the writers' queue), as the server does.
    let member: Vec<Id> = diesel::sql_query(MEMBER).bind::<Text, _>(&caller.member_number).load(conn)?;
    let _: Vec<Id> = diesel::sql_query(INSTITUTIONS).bind::<Text, _>(&member[0].id).load(conn)?;
    let related: Vec<Id> = diesel::sql_query(RECENT)
        .bind::<Nullable<Text>, _>(Some(&caller.member_id))
        .bind::<Nullable<Text>, _>(Some(&caller.institution_id))
        .bind::<Text, _>(&caller.institution_match)
        .bind::<Timestamp, _>(now - chrono::Duration::days(7))
        .bind::<Timestamp, _>(now)
        .bind::<Text, _>(&caller.prefecture)
        .load(conn)?;
    // The server keeps each ticket once, newest first (a ticket of the member is also one of the institution).
    let mut seen = std::collections::HashSet::new();
    let related: Vec<Id> = related.into_iter().filter(|row| seen.insert(row.id.clone())).take(20).collect();
    let _: Vec<Id> =
        diesel::sql_query(IDEMPOTENCY).bind::<Text, _>(&caller.token_id).bind::<Text, _>(&key).load(conn)?;
    let _turn = writers.lock();
    conn.batch_execute("BEGIN IMMEDIATE")?;
    let result = (|| -> anyhow::Result<()> {
        let _: Vec<Id> = diesel::sql_query(IDEMPOTENCY)
            .bind::<Text, _>(&caller.token_id)
            .bind::<Text, _>(&key)
            .load(conn)?;
        let seq =
            diesel::sql_query(COUNTER).bind::<Integer, _>(caller.year).get_result::<Seq>(conn)?.last_seq;
        let ticket = uuid::Uuid::now_v7().to_string();
        diesel::sql_query(TICKET)
            .bind::<Text, _>(&ticket)
            .bind::<Text, _>(format!("HL-{}-{seq:06}", caller.year))
            .bind::<Integer, _>(caller.year)
            .bind::<BigInt, _>(seq)
            .bind::<Text, _>(&caller.member_id)
            .bind::<Text, _>(&caller.institution_id)
            .bind::<Text, _>(&caller.prefecture)
            .bind::<Text, _>(&caller.institution_match)
            .bind::<Timestamp, _>(now)
            .bind::<Text, _>("電子カルテの端末が暗号化され、身代金を要求する画面が出ている")
            .bind::<Text, _>(&caller.token_id)
            .execute(conn)?;
        diesel::sql_query(CALL)
            .bind::<Text, _>(uuid::Uuid::now_v7().to_string())
            .bind::<Text, _>(&ticket)
            .bind::<Timestamp, _>(now)
            .bind::<Text, _>(&caller.institution_name)
            .bind::<Text, _>(&caller.address)
            .bind::<Text, _>(&caller.prefecture)
            .bind::<Text, _>(&caller.member_number)
            .bind::<Text, _>("電子カルテの端末が暗号化され、身代金を要求する画面が出ている")
            .bind::<Text, _>(&caller.member_id)
            .bind::<Text, _>(&caller.institution_id)
            .bind::<Text, _>(&caller.token_id)
            .execute(conn)?;
        if !related.is_empty() {
            let values = vec!["(?, ?, 'possible_repeat:member')"; related.len().min(20)].join(", ");
            let mut links = diesel::sql_query(format!(
                "INSERT INTO ticket_links (ticket_id, related_ticket_id, reason) VALUES {values}"
            ))
            .into_boxed::<diesel::sqlite::Sqlite>();
            for other in related.iter().take(20) {
                links = links.bind::<Text, _>(ticket.clone()).bind::<Text, _>(other.id.clone());
            }
            links.execute(conn)?;
        }
        diesel::sql_query(EVENT)
            .bind::<Text, _>(uuid::Uuid::now_v7().to_string())
            .bind::<Text, _>(&ticket)
            .bind::<Timestamp, _>(now)
            .bind::<Text, _>(&caller.token_id)
            .bind::<Text, _>(format!(
                "{{\"reference\":\"HL-{}-{seq:06}\",\"possible_repeat_of\":[]}}",
                caller.year
            ))
            .execute(conn)?;
        let _: Vec<Id> = diesel::sql_query(ENDPOINTS).load(conn)?;
        diesel::sql_query(STORE)
            .bind::<Text, _>(&caller.token_id)
            .bind::<Text, _>(&key)
            .bind::<Text, _>("0".repeat(64))
            .bind::<Text, _>("x".repeat(2000))
            .bind::<Text, _>(format!("/v1/calls/{ticket}"))
            .bind::<Timestamp, _>(now)
            .execute(conn)?;
        Ok(())
    })();
    match result {
        Ok(()) => conn.batch_execute("COMMIT")?,
        Err(error) => {
            let _ = conn.batch_execute("ROLLBACK");
            return Err(error);
        }
    }
    Ok(())
}
