//! The seeder behind `hotline-seed`: fills a migrated hotline database (SQLite file or PostgreSQL schema) with a year of
//! tickets for the scale benchmark (`scripts/bench.sh scale`, docs/benchmarks.md).
//!
//! The registry must be imported first (the roster of `hotline-load roster`): callers are taken from it.
//! Every row is what the service itself would have written — valid statuses, priorities, categories and
//! kinds, references numbered per year without gaps, each audit event built as the domain's typed
//! [`TicketEvent`] and stored with its action and payload, actors that are real tokens, referrals to real
//! partners (the prefecture's police desk, or seeded vendors and law firms) — so the API reads the seeded
//! tickets like any other. The rows go in as multi-row INSERTs of literal values, one transaction per
//! `--batch` tickets. The same `--seed` and `--now` give the same data.
//!
//! Returns `KEY=VALUE` pairs (the caller with the most tickets, a search word, sample references, counts,
//! the time taken), which `hotline-seed` prints for the script; progress goes to stderr. Never a name.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Asia::Tokyo;
use clap::Parser;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};
use hotline_domain::audit::{
    Assigned, CallLogged, Change, ConsentGiven, Declined, NoteAdded, Opened, ReferralMoved,
    ReferralRequested, Resolved, StatusChanged, TicketEvent, TriageSummary, Triaged,
};
use hotline_domain::prefecture::PREFECTURES;
use hotline_domain::referral::{ConsentGiver, ReferralAction, ReferralKind, ReferralStatus};
use hotline_domain::text::match_key;
use hotline_domain::ticket::TicketStatus;
use hotline_domain::triage::{Category, IncidentFacts, IncidentKind, Priority, suggest_priority};
use hotline_domain::verification::VerificationOutcome;
use uuid::Uuid;

/// What to seed (the command line of `hotline-seed`).
#[derive(Debug, Clone, Parser)]
#[command(
    name = "hotline-seed",
    about = "Seed a year of tickets for the scale benchmark (scripts/bench.sh scale)."
)]
pub struct SeedArgs {
    /// The database (`sqlite://PATH` or `postgres://…`), migrated, with the registry imported.
    #[arg(long)]
    pub database_url: String,
    /// Tickets to write.
    #[arg(long, default_value_t = 1_000_000)]
    pub tickets: usize,
    /// Registry members who call (a few thousand institutions); one ticket in ten comes from a caller
    /// the registry does not know, in any of the 47 prefectures.
    #[arg(long, default_value_t = 3_000)]
    pub callers: usize,
    /// Days of history, ending now.
    #[arg(long, default_value_t = 365)]
    pub days: i64,
    /// Tickets per transaction.
    #[arg(long, default_value_t = 50_000)]
    pub batch: usize,
    /// Seed of the generator.
    #[arg(long, default_value_t = 10)]
    pub seed: u64,
    /// "Now" (RFC 3339); default the current time. With the seed it fixes the data.
    #[arg(long)]
    pub now: Option<DateTime<Utc>>,
    /// Reference prefix (config `tickets.reference_prefix`).
    #[arg(long, default_value = "HL")]
    pub reference_prefix: String,
}

/// The word the free-text scenario searches for: in one serious-incident summary template (about 2 %
/// of the tickets).
const SEARCH_WORD: &str = "VPN装置";

/// Seeded operators (tokens that cannot authenticate: their hash is not a SHA-256).
const OPERATORS: usize = 24;

/// SplitMix64, as the roster generator: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// True with probability `percent` / 100 (fractions allowed).
    fn chance(&mut self, percent: f64) -> bool {
        self.unit() * 100.0 < percent
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A duration uniformly between `min` and `max` minutes.
    fn minutes(&mut self, min: i64, max: i64) -> Duration {
        let seconds = min * 60 + (self.unit() * ((max - min) * 60) as f64) as i64;
        Duration::seconds(seconds) + Duration::milliseconds(self.below(1000) as i64)
    }

    /// A UUID v7 dated `at`, with random bits from the generator (so ids sort by time, as the server's).
    fn uuid_at(&mut self, at: DateTime<Utc>) -> Uuid {
        let mut random = [0u8; 10];
        random[..8].copy_from_slice(&self.next().to_le_bytes());
        random[8..].copy_from_slice(&self.next().to_le_bytes()[..2]);
        uuid::Builder::from_unix_timestamp_millis(u64::try_from(at.timestamp_millis()).unwrap_or(0), &random)
            .into_uuid()
    }
}

/// A connection of either backend.
enum Db {
    Pg(PgConnection),
    Lite(SqliteConnection),
}

impl Db {
    fn open(url: &str) -> anyhow::Result<Db> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let mut pg = PgConnection::establish(url).context("connecting to PostgreSQL")?;
            // A bulk load: a crash loses the load, not consistency.
            pg.batch_execute("SET synchronous_commit = off; SET TIME ZONE 'UTC';")?;
            return Ok(Db::Pg(pg));
        }
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
        let mut lite = SqliteConnection::establish(path).context("opening SQLite")?;
        // WAL as the server; the rest only for this connection's bulk load (the seeded rows are checked
        // against their references by construction, and `PRAGMA foreign_key_check` in docs/benchmarks.md).
        lite.batch_execute(
            "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; \
             PRAGMA foreign_keys = OFF; PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY;",
        )?;
        Ok(Db::Lite(lite))
    }

    fn execute(&mut self, sql: &str) -> anyhow::Result<()> {
        match self {
            Db::Pg(pg) => pg.batch_execute(sql)?,
            Db::Lite(lite) => lite.batch_execute(sql)?,
        }
        Ok(())
    }

    fn load<T>(&mut self, sql: &str) -> anyhow::Result<Vec<T>>
    where
        T: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
    {
        Ok(match self {
            Db::Pg(pg) => diesel::sql_query(sql).load(pg)?,
            Db::Lite(lite) => diesel::sql_query(sql).load(lite)?,
        })
    }

    fn begin(&mut self) -> anyhow::Result<()> {
        self.execute(if matches!(self, Db::Lite(_)) { "BEGIN IMMEDIATE" } else { "BEGIN" })
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Counter {
    #[diesel(sql_type = Integer)]
    year: i32,
    #[diesel(sql_type = BigInt)]
    last_seq: i64,
}

#[derive(QueryableByName)]
struct RegistryRow {
    #[diesel(sql_type = Text)]
    member_id: String,
    #[diesel(sql_type = Text)]
    member_number: String,
    #[diesel(sql_type = Text)]
    member_name: String,
    #[diesel(sql_type = Text)]
    institution_id: String,
    #[diesel(sql_type = Text)]
    institution_name: String,
    #[diesel(sql_type = Text)]
    address: String,
    #[diesel(sql_type = Text)]
    prefecture: String,
    #[diesel(sql_type = Text)]
    phone: String,
}

/// Someone who calls: a registry member (verified) or a caller the registry does not know.
struct Caller {
    member_id: Option<String>,
    institution_id: Option<String>,
    member_number: String,
    member_name: String,
    institution_name: String,
    address: String,
    prefecture: String,
    phone: String,
    institution_match: String,
    /// The caller's last tickets (id, reference, first call), for the repeat-caller links.
    recent: VecDeque<(Uuid, String, DateTime<Utc>)>,
    tickets: usize,
}

/// At most this many repeat-caller links per ticket (the service keeps up to 20; fewer keep the
/// seeded database small: the links do not enter any measured page).
const LINKS: usize = 2;
/// The service's repeat-caller look-back (config `tickets.repeat_caller_days`).
const REPEAT_DAYS: i64 = 7;

const SURNAMES: &[&str] =
    &["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田"];
const GIVEN: &[&str] = &["健一", "直子", "大輔", "由美", "誠", "恵子", "翔太", "裕子", "隆", "彩"];
const TOWNS: &[&str] = &["本町", "中央", "栄町", "緑町", "駅前", "桜町", "青葉", "港町", "春日", "住吉"];
const SUFFIXES: &[&str] =
    &["内科クリニック", "医院", "整形外科", "眼科", "歯科医院", "こどもクリニック", "病院"];

/// (summary, weight) per category; the first call's summary is the ticket's.
const EVERYDAY: &[&str] = &[
    "院内のWi-Fiにつながらず、受付のパソコンからレセコンが使えない",
    "ウイルス対策ソフトが警告を出して隔離したが、他の端末が心配",
    "不審なメールの添付ファイルを開いてしまった。今のところ異常はない",
    "ルータを再起動したらインターネットに接続できなくなった",
    "Windowsの更新後に電子カルテのクライアントが起動しない",
    "偽のセキュリティ警告が表示され、電話するよう指示された（サポート詐欺の疑い）",
    "院内LANのプリンタ共有ができなくなった",
    "職員のメールアカウントのパスワードを変更したい",
];
const SERIOUS: &[&str] = &[
    "電子カルテの端末が暗号化され、身代金を要求する画面が出ている",
    "Emotetに感染した可能性があり、取引先に不審なメールが送られている",
    "VPN装置の脆弱性を突かれた不正アクセスの疑いがあると保守業者から連絡があった",
    "ホームページが改ざんされ、閲覧すると不審なサイトに誘導される",
    "患者情報を含むUSBメモリを紛失した",
    "院内サーバのファイルが開けなくなり、拡張子が書き換わっている",
];
const PREVENTIVE: &[&str] = &[
    "セキュリティ対策を何から始めればよいか相談したい",
    "医療情報システムの安全管理に関するガイドラインへの対応を相談したい",
    "バックアップの取り方とオフライン保管について助言がほしい",
    "職員向けの標的型メール訓練について相談したい",
    "保守業者のリモート接続の管理方法を知りたい",
];
const OUT_OF_SCOPE: &[&str] = &[
    "表計算ソフトの関数の使い方を教えてほしい",
    "プリンタのインク交換の方法を知りたい",
    "スマートフォンの機種変更の手順を知りたい",
];
const NOTES: &[&str] = &[
    "折り返し電話で状況を確認した。",
    "保守ベンダーに連絡済みとのこと。",
    "バックアップからの復旧手順を案内した。",
    "所轄の警察署への相談を勧めた。",
    "再発防止策として多要素認証の導入を説明した。",
    "院内の端末をネットワークから切り離すよう助言した。",
];
const RESOLUTIONS: &[&str] = &[
    "初動対応を助言し、復旧を確認した。",
    "設定の見直しを案内し、解消した。",
    "専門事業者の調査が完了し、再発防止策を共有した。",
    "一般的な対策資料を送付し、相談を終了した。",
];
const SYSTEMS: &[&str] = &["電子カルテ", "レセコン", "PACS", "予約システム", "院内LAN", "ホームページ"];

/// What can happen to a ticket after it is opened, in time order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Triage,
    Decline,
    Assign(usize),
    Start,
    Note(usize),
    FollowUp,
    Request(usize),
    Accept(usize),
    Complete(usize),
    PartnerDecline(usize),
    Resolve,
    Close,
}

/// A referral being planned.
struct PlannedReferral {
    id: Uuid,
    kind: ReferralKind,
    partner: String,
}

/// A referral as it stands after the steps that happened.
struct ReferralState {
    status: ReferralStatus,
    accepted_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
    requested_at: DateTime<Utc>,
    requested_by: String,
}

/// Table buffers: rows accumulate as literal VALUES and go in as one INSERT per table.
struct Sink {
    tables: Vec<(&'static str, String, String, usize)>,
    counts: BTreeMap<&'static str, u64>,
}

const T_TICKETS: usize = 0;
const T_CALLS: usize = 1;
const T_TRIAGE: usize = 2;
const T_NOTES: usize = 3;
const T_REFERRALS: usize = 4;
const T_EVENTS: usize = 5;
const T_LINKS: usize = 6;

impl Sink {
    /// `search_text`: the tickets table has the column the list's free text searches (migration
    /// 000012 of the ticket list), which intake fills.
    fn new(search_text: bool) -> Self {
        // Parents first: PostgreSQL checks each statement's foreign keys at once.
        let tables = vec![
            (
                "tickets",
                "id, reference, ref_year, ref_seq, status, version, member_id, institution_id, prefecture, \
              institution_match, first_call_at, summary, created_at, updated_at, created_by, priority, \
              assignee_token_id, first_response_at, resolved_at, resolution_summary, closed_at, \
              caller_confirmed_at, caller_confirmed_by",
            ),
            (
                "calls",
                "id, ticket_id, started_at, caller_name, caller_role, callback_phone, claimed_member_name, \
              claimed_institution_name, claimed_institution_address, claimed_prefecture, identifier_kind, \
              identifier_value, summary, verification, mismatches, member_id, institution_id, follow_up, \
              created_at, created_by",
            ),
            (
                "ticket_triage",
                "ticket_id, category, incident_kind, suggested_priority, priority, priority_reason, \
              decline_reason, detected_at, occurred_at, systems_affected, emr_unusable, care_suspended, \
              personal_data_leaked, people_affected, insider_suspected, triaged_at, triaged_by",
            ),
            ("ticket_notes", "id, ticket_id, body, created_at, created_by"),
            (
                "referrals",
                "id, ticket_id, partner_id, kind, status, consent_given_by, consent_name, \
              consent_given_at, request_note, requested_at, requested_by, accepted_at, completed_at, ended_at, \
              last_note, police_receipt_number, police_contact, updated_at",
            ),
            ("ticket_events", "id, ticket_id, occurred_at, actor_token_id, action, changes"),
            ("ticket_links", "ticket_id, related_ticket_id, reason"),
        ];
        Sink {
            tables: tables
                .into_iter()
                .map(|(name, columns)| {
                    let extra = if search_text && name == "tickets" { ", search_text" } else { "" };
                    (name, format!("{columns}{extra}"), String::new(), 0)
                })
                .collect(),
            counts: BTreeMap::new(),
        }
    }

    /// Starts a row of `table`; the caller writes the values, comma-separated, then [`Sink::end`].
    fn row(&mut self, table: usize) -> &mut String {
        let (_, _, buffer, rows) = &mut self.tables[table];
        buffer.push_str(if *rows == 0 { "(" } else { ",(" });
        *rows += 1;
        buffer
    }

    fn end(&mut self, table: usize) {
        self.tables[table].2.push(')');
    }

    fn flush(&mut self, db: &mut Db) -> anyhow::Result<()> {
        for (name, columns, buffer, rows) in &mut self.tables {
            if *rows == 0 {
                continue;
            }
            let sql = format!("INSERT INTO {name} ({columns}) VALUES {buffer}");
            db.execute(&sql).with_context(|| format!("inserting into {name}"))?;
            *self.counts.entry(name).or_default() += *rows as u64;
            buffer.clear();
            *rows = 0;
        }
        Ok(())
    }

    fn pending_tickets(&self) -> usize {
        self.tables[T_TICKETS].3
    }
}

/// Literal SQL values (the same text on both backends).
mod lit {
    use chrono::{DateTime, Utc};

    /// A quoted string.
    pub fn s(out: &mut String, text: &str) {
        out.push('\'');
        if text.contains('\'') {
            out.push_str(&text.replace('\'', "''"));
        } else {
            out.push_str(text);
        }
        out.push('\'');
    }

    /// A quoted string or NULL.
    pub fn os(out: &mut String, text: Option<&str>) {
        match text {
            Some(text) => s(out, text),
            None => out.push_str("NULL"),
        }
    }

    /// A timestamp as diesel writes it on SQLite (`%F %T%.f`, UTC); PostgreSQL reads the same text.
    pub fn t(out: &mut String, at: DateTime<Utc>) {
        out.push('\'');
        out.push_str(&at.naive_utc().format("%F %T%.f").to_string());
        out.push('\'');
    }

    /// A timestamp or NULL.
    pub fn ot(out: &mut String, at: Option<DateTime<Utc>>) {
        match at {
            Some(at) => t(out, at),
            None => out.push_str("NULL"),
        }
    }

    /// A boolean.
    pub fn b(out: &mut String, value: bool) {
        out.push_str(if value { "TRUE" } else { "FALSE" });
    }
}

/// Everything shared while generating.
struct Seeder {
    rng: Rng,
    now: DateTime<Utc>,
    prefix: String,
    operators: Vec<String>,
    vendors: Vec<String>,
    lawyers: Vec<String>,
    sink: Sink,
    counters: BTreeMap<i32, i64>,
    samples: BTreeMap<&'static str, String>,
    statuses: BTreeMap<&'static str, u64>,
    /// Fill `tickets.search_text` (when the database has it).
    search_text: bool,
}

/// Seeds the database; returns what the script needs to know, as `(key, value)` pairs in print order.
pub fn run(args: &SeedArgs) -> anyhow::Result<Vec<(String, String)>> {
    let started = Instant::now();
    let now = args.now.unwrap_or_else(Utc::now);
    let mut db = Db::open(&args.database_url)?;
    let existing = db.load::<Count>("SELECT COUNT(*) AS n FROM tickets")?.first().map_or(0, |c| c.n);
    if existing > 0 {
        bail!(
            "the database already has {existing} tickets: seed a fresh one (scripts/bench.sh scale --fresh)"
        );
    }
    let registry: Vec<RegistryRow> = db.load(
        "SELECT m.id AS member_id, m.member_number, m.name AS member_name, i.id AS institution_id, \
         i.name AS institution_name, i.address, i.prefecture, i.phone \
         FROM members m JOIN member_institutions mi ON mi.member_id = m.id \
         JOIN institutions i ON i.id = mi.institution_id ORDER BY m.member_number, i.id",
    )?;
    if registry.is_empty() {
        bail!("the registry is empty: import a roster first (hotline registry import)");
    }
    let mut rng = Rng(args.seed);

    // Registry callers: every k-th member (one institution each), ranked at random; a few call often.
    let step = (registry.len() / args.callers.max(1)).max(1);
    let mut callers: Vec<Caller> = Vec::new();
    let mut last_member = String::new();
    for row in registry.iter().step_by(step) {
        if row.member_id == last_member {
            continue;
        }
        last_member.clone_from(&row.member_id);
        callers.push(Caller {
            member_id: Some(row.member_id.clone()),
            institution_id: Some(row.institution_id.clone()),
            member_number: row.member_number.clone(),
            member_name: row.member_name.clone(),
            institution_match: match_key(&row.institution_name),
            institution_name: row.institution_name.clone(),
            address: row.address.clone(),
            prefecture: row.prefecture.clone(),
            phone: row.phone.clone(),
            recent: VecDeque::new(),
            tickets: 0,
        });
        if callers.len() == args.callers {
            break;
        }
    }
    drop(registry);
    for i in (1..callers.len()).rev() {
        let j = rng.below(i + 1);
        callers.swap(i, j);
    }
    let registered = callers.len();
    // Callers the registry does not know, across all 47 prefectures (member numbers above the roster's).
    for i in 0..(registered / 2).max(47) {
        let (code, prefecture, _) = PREFECTURES[i % 47];
        let name = format!("{}{}", rng.pick(TOWNS), rng.pick(SUFFIXES));
        callers.push(Caller {
            member_id: None,
            institution_id: None,
            member_number: format!("{code}9{:07}", i),
            member_name: format!("{} {}", rng.pick(SURNAMES), rng.pick(GIVEN)),
            institution_match: match_key(&name),
            address: format!(
                "{prefecture}{}{}-{}-{}",
                rng.pick(TOWNS),
                1 + rng.below(9),
                1 + rng.below(30),
                1 + rng.below(30)
            ),
            institution_name: name,
            prefecture: code.to_owned(),
            phone: format!("0{:09}", 900_000_000 + i),
            recent: VecDeque::new(),
            tickets: 0,
        });
    }
    // Weight 1 / (rank + 20): the busiest member calls about 1 % of the time.
    let mut cumulative = Vec::with_capacity(registered);
    let mut total = 0.0;
    for rank in 0..registered {
        total += 1.0 / (rank as f64 + 20.0);
        cumulative.push(total);
    }

    let search_text = db
        .load::<Count>(match db {
            Db::Pg(_) => {
                "SELECT COUNT(*) AS n FROM information_schema.columns WHERE table_schema = current_schema() \
             AND table_name = 'tickets' AND column_name = 'search_text'"
            }
            Db::Lite(_) => {
                "SELECT COUNT(*) AS n FROM pragma_table_info('tickets') WHERE name = 'search_text'"
            }
        })?
        .first()
        .is_some_and(|c| c.n > 0);
    let counters: BTreeMap<i32, i64> = db
        .load::<Counter>("SELECT year, last_seq FROM ticket_counters")?
        .into_iter()
        .map(|c| (c.year, c.last_seq))
        .collect();
    let mut seeder = Seeder {
        rng,
        now,
        prefix: args.reference_prefix.clone(),
        operators: Vec::new(),
        vendors: Vec::new(),
        lawyers: Vec::new(),
        sink: Sink::new(search_text),
        counters,
        samples: BTreeMap::new(),
        statuses: BTreeMap::new(),
        search_text,
    };
    db.begin()?;
    seeder.reference_rows(&mut db)?;

    // First calls spread evenly over the service hours (09:00–21:00 JST) of the last `days` days.
    let windows = service_windows(now, args.days);
    let service_seconds: i64 = windows.iter().map(|(from, to)| (*to - *from).num_seconds()).sum();
    if service_seconds <= 0 || args.tickets == 0 {
        bail!("nothing to seed");
    }
    let per_ticket = service_seconds as f64 / args.tickets as f64;
    let (mut window, mut window_start_offset) = (0usize, 0i64);
    let progress_every = (args.tickets / 20).max(1);
    for i in 0..args.tickets {
        let offset = ((i as f64 + seeder.rng.unit()) * per_ticket) as i64;
        while offset - window_start_offset >= (windows[window].1 - windows[window].0).num_seconds()
            && window + 1 < windows.len()
        {
            window_start_offset += (windows[window].1 - windows[window].0).num_seconds();
            window += 1;
        }
        let at = windows[window].0
            + Duration::seconds(offset - window_start_offset)
            + Duration::milliseconds(seeder.rng.below(1000) as i64);
        let caller = if seeder.rng.chance(10.0) {
            registered + seeder.rng.below(callers.len() - registered)
        } else {
            let target = seeder.rng.unit() * total;
            cumulative.partition_point(|&c| c < target).min(registered - 1)
        };
        seeder.ticket(&mut callers[caller], at)?;
        if seeder.sink.pending_tickets() >= 500 {
            seeder.sink.flush(&mut db)?;
        }
        if (i + 1) % args.batch.max(1) == 0 {
            seeder.sink.flush(&mut db)?;
            db.execute("COMMIT")?;
            db.begin()?;
        }
        if (i + 1) % progress_every == 0 {
            eprintln!("hotline-seed: {} tickets ({:.0} s)", i + 1, started.elapsed().as_secs_f64());
        }
    }
    seeder.sink.flush(&mut db)?;
    for (year, last) in &seeder.counters {
        db.execute(&format!(
            "INSERT INTO ticket_counters (year, last_seq) VALUES ({year}, {last}) \
             ON CONFLICT (year) DO UPDATE SET last_seq = excluded.last_seq"
        ))?;
    }
    db.execute("COMMIT")?;
    let loaded = started.elapsed().as_secs_f64();
    eprintln!("hotline-seed: rows written in {loaded:.0} s; analysing");
    let tables = "tickets, calls, ticket_triage, ticket_notes, referrals, ticket_events, ticket_links, api_tokens, partners";
    // What a year of service would have left: statistics of every column (sampled statistics misjudge
    // the skewed status and prefecture columns) and, on PostgreSQL, a vacuumed visibility map, without
    // which no index-only scan is index-only (autovacuum keeps it so in service).
    match db {
        Db::Pg(_) => db.execute(&format!("VACUUM (ANALYZE) {tables}"))?,
        Db::Lite(_) => db.execute("ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);")?,
    }

    let busiest = callers[..registered].iter().max_by_key(|c| c.tickets).context("no caller")?;
    let mut out: Vec<(String, String)> = vec![
        ("tickets".into(), args.tickets.to_string()),
        ("history_member".into(), busiest.member_number.clone()),
        ("history_tickets".into(), busiest.tickets.to_string()),
        ("search".into(), SEARCH_WORD.into()),
        ("search_text_column".into(), u8::from(seeder.search_text).to_string()),
        ("samples".into(), seeder.samples.values().cloned().collect::<Vec<_>>().join(",")),
    ];
    for (table, rows) in &seeder.sink.counts {
        out.push((format!("rows_{table}"), rows.to_string()));
    }
    for (status, n) in &seeder.statuses {
        out.push((format!("status_{status}"), n.to_string()));
    }
    out.push(("load_seconds".into(), format!("{loaded:.1}")));
    out.push(("seconds".into(), format!("{:.1}", started.elapsed().as_secs_f64())));
    Ok(out)
}

/// The service hours (09:00–21:00 JST) of the last `days` days, oldest first, ending 5 minutes ago.
fn service_windows(now: DateTime<Utc>, days: i64) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let end = now - Duration::minutes(5);
    let today: NaiveDate = now.with_timezone(&Tokyo).date_naive();
    let (open, close) = (NaiveTime::from_hms_opt(9, 0, 0), NaiveTime::from_hms_opt(21, 0, 0));
    let (Some(open), Some(close)) = (open, close) else { return Vec::new() };
    let mut windows = Vec::new();
    for back in (0..days).rev() {
        let day = today - Duration::days(back);
        let from = Tokyo.from_local_datetime(&day.and_time(open)).single().map(|t| t.with_timezone(&Utc));
        let to = Tokyo.from_local_datetime(&day.and_time(close)).single().map(|t| t.with_timezone(&Utc));
        if let (Some(from), Some(to)) = (from, to) {
            let to = to.min(end);
            if from < to {
                windows.push((from, to));
            }
        }
    }
    windows
}

impl Seeder {
    /// Operators, forensic vendors and law firms the tickets refer to.
    fn reference_rows(&mut self, db: &mut Db) -> anyhow::Result<()> {
        let at = self.now - Duration::days(400);
        let mut sql = String::from(
            "INSERT INTO api_tokens (id, name, role, token_hash, created_at, created_by, revoked_at) VALUES ",
        );
        for n in 0..OPERATORS {
            let id = self.rng.uuid_at(at).to_string();
            let role = if n < 4 { "supervisor" } else { "operator" };
            if n > 0 {
                sql.push(',');
            }
            let _ = write!(sql, "('{id}', 'seed-{role}-{n:02}', '{role}', 'seed:{id}', ");
            lit::t(&mut sql, at);
            sql.push_str(", NULL, NULL)");
            self.operators.push(id);
        }
        db.execute(&sql)?;
        let mut sql = String::from(
            "INSERT INTO partners (id, kind, name, emails, phone, nationwide, office_hours, active, created_at, \
             updated_at) VALUES ",
        );
        let partners = [
            ("forensic", "株式会社サンプルフォレンジック", "desk@forensic-a.example"),
            ("forensic", "デジタル調査サンプル合同会社", "ir@forensic-b.example"),
            ("forensic", "医療セキュリティ調査サンプル株式会社", "cert@forensic-c.example"),
            ("legal", "サンプル法律事務所", "office@law-a.example"),
            ("legal", "医療法務サンプル法律事務所", "contact@law-b.example"),
        ];
        for (n, (kind, name, email)) in partners.iter().enumerate() {
            let id = self.rng.uuid_at(at).to_string();
            if n > 0 {
                sql.push(',');
            }
            let _ = write!(sql, "('{id}', '{kind}', '{name}', '[\"{email}\"]', NULL, TRUE, NULL, TRUE, ");
            lit::t(&mut sql, at);
            sql.push_str(", ");
            lit::t(&mut sql, at);
            sql.push(')');
            if *kind == "forensic" { self.vendors.push(id) } else { self.lawyers.push(id) }
        }
        db.execute(&sql)
    }

    /// Writes one ticket with everything that happened to it up to now.
    #[allow(clippy::too_many_lines)]
    fn ticket(&mut self, caller: &mut Caller, first_call: DateTime<Utc>) -> anyhow::Result<()> {
        let now = self.now;
        let rng = &mut self.rng;
        let registered = caller.member_id.is_some();
        let outcome = if !registered {
            if rng.chance(8.0) { VerificationOutcome::Ineligible } else { VerificationOutcome::NotFound }
        } else if rng.chance(4.0) {
            VerificationOutcome::Mismatch
        } else {
            VerificationOutcome::Verified
        };
        let roll = rng.unit() * 100.0;
        let category = if roll < 56.0 {
            Category::EverydayTrouble
        } else if roll < 68.0 {
            Category::SeriousIncident
        } else if roll < 97.0 {
            Category::PreventiveConsultation
        } else {
            Category::OutOfScope
        };
        let (summary, kind) = match category {
            Category::EverydayTrouble => {
                let n = rng.below(EVERYDAY.len());
                let kind = match n {
                    0 | 3 | 6 | 7 => IncidentKind::NetworkTrouble,
                    1 | 2 => IncidentKind::Malware,
                    _ => IncidentKind::Other,
                };
                (EVERYDAY[n], kind)
            }
            Category::SeriousIncident => {
                let n = rng.below(SERIOUS.len());
                let kind = match n {
                    0 | 5 => IncidentKind::Ransomware,
                    1 => IncidentKind::Malware,
                    2 => IncidentKind::UnauthorizedAccess,
                    3 => IncidentKind::WebsiteDefacement,
                    _ => IncidentKind::DataLeak,
                };
                (SERIOUS[n], kind)
            }
            Category::PreventiveConsultation => (*rng.pick(PREVENTIVE), IncidentKind::None),
            Category::OutOfScope => (*rng.pick(OUT_OF_SCOPE), IncidentKind::None),
        };
        let summary = format!("{summary}（{}）", rng.pick(SYSTEMS));
        let mut facts = IncidentFacts {
            detected_at: Some(first_call - rng.minutes(10, 600)),
            ..IncidentFacts::default()
        };
        if category == Category::SeriousIncident {
            facts.systems_affected = vec![(*rng.pick(SYSTEMS)).to_owned()];
            facts.emr_unusable = kind == IncidentKind::Ransomware && rng.chance(60.0);
            facts.care_suspended = facts.emr_unusable && rng.chance(50.0);
            facts.personal_data_leaked =
                matches!(kind, IncidentKind::DataLeak | IncidentKind::UnauthorizedAccess) || rng.chance(10.0);
            facts.people_affected = facts.personal_data_leaked.then(|| 10 + rng.below(5000) as u64);
        }
        let suggested = suggest_priority(category, &facts);
        let (priority, priority_reason) = if category != Category::OutOfScope && rng.chance(4.0) {
            let other = if suggested == Priority::P1 { Priority::P2 } else { Priority::P1 };
            (other, Some("院内の状況から優先度を見直した".to_owned()))
        } else {
            (suggested, None)
        };

        // The timeline, planned in full, then cut at now (and for a few tickets, stuck before the end).
        let logged = first_call + rng.minutes(3, 15);
        let mut steps: Vec<(DateTime<Utc>, Step)> = Vec::new();
        let mut referrals: Vec<PlannedReferral> = Vec::new();
        let mut notes = 0;
        let declined_caller = outcome == VerificationOutcome::Ineligible;
        if declined_caller {
            steps.push((logged + rng.minutes(2, 30), Step::Decline));
        } else {
            let triage_at = logged + if rng.chance(10.0) { rng.minutes(60, 600) } else { rng.minutes(2, 45) };
            steps.push((triage_at, Step::Triage));
            if category != Category::OutOfScope {
                let mut at = triage_at;
                if rng.chance(50.0) {
                    at += rng.minutes(1, 10);
                    let operator = rng.below(self.operators.len());
                    steps.push((at, Step::Assign(operator)));
                }
                let started = at + rng.minutes(2, 90);
                steps.push((started, Step::Start));
                let (min_h, max_h) = match priority {
                    Priority::P1 => (6, 72),
                    Priority::P2 => (24, 168),
                    Priority::P3 => (1, 336),
                    Priority::P4 => (1, 240),
                };
                let mut resolve = started + rng.minutes(min_h * 60, max_h * 60);
                if rng.chance(8.0) {
                    resolve += rng.minutes(max_h * 30, max_h * 90);
                }
                if category == Category::SeriousIncident
                    && outcome == VerificationOutcome::Verified
                    && rng.chance(85.0)
                {
                    let kinds: &[ReferralKind] = match (kind, rng.below(5)) {
                        (IncidentKind::Ransomware | IncidentKind::UnauthorizedAccess, 0) => {
                            &[ReferralKind::Forensic, ReferralKind::Police]
                        }
                        (IncidentKind::DataLeak, 0 | 1) => &[ReferralKind::Legal],
                        (_, 0 | 1) => &[ReferralKind::Police],
                        _ => &[ReferralKind::Forensic],
                    };
                    let mut request = started + rng.minutes(30, 48 * 60);
                    for &referral_kind in kinds {
                        let partner = match referral_kind {
                            ReferralKind::Police => {
                                format!("01900000-0000-7000-8000-0000000000{}", caller.prefecture)
                            }
                            ReferralKind::Forensic => rng.pick(&self.vendors).clone(),
                            ReferralKind::Legal => rng.pick(&self.lawyers).clone(),
                        };
                        let index = referrals.len();
                        referrals.push(PlannedReferral {
                            id: rng.uuid_at(request),
                            kind: referral_kind,
                            partner,
                        });
                        steps.push((request, Step::Request(index)));
                        let answered = request + rng.minutes(20, 600);
                        if rng.chance(5.0) {
                            steps.push((answered, Step::PartnerDecline(index)));
                            resolve = resolve.max(answered + rng.minutes(60, 24 * 60));
                        } else {
                            steps.push((answered, Step::Accept(index)));
                            let done = answered + rng.minutes(24 * 60, 10 * 24 * 60);
                            steps.push((done, Step::Complete(index)));
                            resolve = resolve.max(done + rng.minutes(60, 24 * 60));
                        }
                        request += rng.minutes(10, 120);
                    }
                }
                if rng.chance(30.0) {
                    for _ in 0..1 + rng.below(2) {
                        let at = started + (resolve - started) / 2 + rng.minutes(0, 60);
                        steps.push((at.min(resolve - Duration::minutes(1)), Step::Note(notes)));
                        notes += 1;
                    }
                }
                if rng.chance(20.0) {
                    for _ in 0..1 + rng.below(2) {
                        let at = logged + (resolve - logged) / 3 + rng.minutes(0, 120);
                        steps.push((at.min(resolve - Duration::minutes(2)), Step::FollowUp));
                    }
                }
                // A few tickets never finish: open, and late for their resolution clock.
                if !rng.chance(0.6) {
                    steps.push((resolve, Step::Resolve));
                    steps.push((resolve + rng.minutes(60, 72 * 60), Step::Close));
                } else {
                    steps.retain(|(_, step)| !matches!(step, Step::Complete(_)));
                }
            }
        }
        steps.sort_by_key(|(at, _)| *at);
        steps.retain(|(at, _)| *at <= now);

        // The reference: numbered in the JST year of its creation, without gaps.
        let year = chrono::Datelike::year(&logged.with_timezone(&Tokyo));
        let seq = {
            let last = self.counters.entry(year).or_insert(0);
            *last += 1;
            *last
        };
        let reference = format!("{}-{year}-{seq:06}", self.prefix);
        let ticket_id = rng.uuid_at(first_call);
        let creator = self.operators[rng.below(self.operators.len())].clone();

        // Repeat-caller links: the caller's last tickets within the look-back.
        while caller.recent.front().is_some_and(|(_, _, at)| *at < first_call - Duration::days(REPEAT_DAYS)) {
            caller.recent.pop_front();
        }
        let related: Vec<(Uuid, String)> = caller
            .recent
            .iter()
            .rev()
            .take(LINKS)
            .map(|(id, reference, _)| (*id, reference.clone()))
            .collect();
        caller.recent.push_back((ticket_id, reference.clone(), first_call));
        if caller.recent.len() > LINKS {
            caller.recent.pop_front();
        }
        caller.tickets += 1;

        // The first call.
        let (caller_role, caller_name) = if registered && rng.chance(60.0) {
            ("member", caller.member_name.clone())
        } else {
            (
                if registered { "staff" } else { *rng.pick(&["staff", "doctor"]) },
                format!("{} {}", rng.pick(SURNAMES), rng.pick(GIVEN)),
            )
        };
        let call = |sink: &mut Sink,
                    rng: &mut Rng,
                    started: DateTime<Utc>,
                    created: DateTime<Utc>,
                    follow_up: bool| {
            let id = rng.uuid_at(started);
            let out = sink.row(T_CALLS);
            let _ = write!(out, "'{id}', '{ticket_id}', ");
            lit::t(out, started);
            out.push_str(", ");
            lit::s(out, &caller_name);
            let _ = write!(out, ", '{caller_role}', '{}', ", caller.phone);
            lit::s(out, &caller.member_name);
            out.push_str(", ");
            lit::s(out, &caller.institution_name);
            out.push_str(", ");
            let address = if outcome == VerificationOutcome::Mismatch {
                format!("{} 2階", caller.address)
            } else {
                caller.address.clone()
            };
            lit::s(out, &address);
            let _ = write!(out, ", '{}', 'member_number', '{}', ", caller.prefecture, caller.member_number);
            lit::s(out, if follow_up { "前回の件の続きで連絡" } else { summary.as_str() });
            let mismatches =
                if outcome == VerificationOutcome::Mismatch { "institution_address" } else { "" };
            let _ = write!(out, ", '{}', '{mismatches}', ", outcome.as_str());
            lit::os(out, caller.member_id.as_deref());
            out.push_str(", ");
            lit::os(out, caller.institution_id.as_deref());
            out.push_str(", ");
            lit::b(out, follow_up);
            out.push_str(", ");
            lit::t(out, created);
            let _ = write!(out, ", '{creator}'");
            sink.end(T_CALLS);
            id
        };
        let call_id = call(&mut self.sink, rng, first_call, logged, false);
        for (related_id, _) in &related {
            let out = self.sink.row(T_LINKS);
            let matched = if registered { "member" } else { "institution_name" };
            let _ = write!(out, "'{ticket_id}', '{related_id}', 'possible_repeat:{matched}'");
            self.sink.end(T_LINKS);
        }

        // Events, in order, with the ticket's state after each.
        let mut events: Vec<(DateTime<Utc>, String, TicketEvent)> = vec![(
            logged,
            creator.clone(),
            TicketEvent::Opened(Opened {
                reference: reference.clone(),
                status: Change::new(None, Some(TicketStatus::New)),
                call_id,
                verification: outcome,
                possible_repeat_of: related.iter().map(|(_, r)| r.clone()).collect(),
            }),
        )];
        let mut status = TicketStatus::New;
        let mut version = 1i64;
        let mut assignee: Option<String> = None;
        let mut first_response: Option<DateTime<Utc>> = None;
        let (mut resolved_at, mut closed_at, mut resolution) = (None, None, None::<String>);
        let mut triaged = false;
        let mut referral_state: Vec<Option<ReferralState>> = (0..referrals.len()).map(|_| None).collect();
        let mut updated = logged;
        for (at, step) in steps {
            let actor =
                assignee.clone().unwrap_or_else(|| self.operators[rng.below(self.operators.len())].clone());
            let event = match step {
                Step::Decline => {
                    let reason = "A①会員の医療機関ではないため、公開の相談窓口を案内した".to_owned();
                    resolution = Some(reason.clone());
                    let before = status;
                    status = TicketStatus::Declined;
                    TicketEvent::Declined(Declined {
                        status: Change::new(before, status),
                        decline_reason: reason,
                        security_portal_url: None,
                    })
                }
                Step::Triage => {
                    triaged = true;
                    let decline_reason = (category == Category::OutOfScope)
                        .then(|| "PCの一般的な操作は対象外と説明した".to_owned());
                    let before = status;
                    status =
                        if decline_reason.is_some() { TicketStatus::Declined } else { TicketStatus::Triaged };
                    resolution.clone_from(&decline_reason);
                    let triaged_event = Triaged {
                        status: Change::new(before, status),
                        triage: Change::new(
                            None,
                            Some(TriageSummary { category, incident_kind: kind, priority }),
                        ),
                        suggested_priority: suggested,
                        priority_reason: priority_reason.clone(),
                        decline_reason: decline_reason.clone(),
                    };
                    let out = self.sink.row(T_TRIAGE);
                    let _ = write!(
                        out,
                        "'{ticket_id}', '{}', '{}', '{}', '{}', ",
                        category.as_str(),
                        kind.as_str(),
                        suggested.as_str(),
                        priority.as_str()
                    );
                    lit::os(out, priority_reason.as_deref());
                    out.push_str(", ");
                    lit::os(out, decline_reason.as_deref());
                    out.push_str(", ");
                    lit::ot(out, facts.detected_at);
                    out.push_str(", NULL, ");
                    lit::s(
                        out,
                        &serde_json::to_string(&facts.systems_affected).unwrap_or_else(|_| "[]".into()),
                    );
                    out.push_str(", ");
                    lit::b(out, facts.emr_unusable);
                    out.push_str(", ");
                    lit::b(out, facts.care_suspended);
                    out.push_str(", ");
                    lit::b(out, facts.personal_data_leaked);
                    match facts.people_affected {
                        Some(n) => {
                            let _ = write!(out, ", {n}, ");
                        }
                        None => out.push_str(", NULL, "),
                    }
                    lit::b(out, false);
                    out.push_str(", ");
                    lit::t(out, at);
                    let _ = write!(out, ", '{actor}'");
                    self.sink.end(T_TRIAGE);
                    if decline_reason.is_some() {
                        TicketEvent::DeclinedByTriage(triaged_event)
                    } else {
                        TicketEvent::Triaged(triaged_event)
                    }
                }
                Step::Assign(n) => {
                    let to = self.operators[n].clone();
                    let event = TicketEvent::Assigned(Assigned {
                        assignee: Change::new(None, Uuid::parse_str(&to).ok()),
                    });
                    assignee = Some(to);
                    event
                }
                Step::Start => {
                    let before = status;
                    status = TicketStatus::InProgress;
                    TicketEvent::Started(StatusChanged { status: Change::new(before, status) })
                }
                Step::Note(_) => {
                    let id = rng.uuid_at(at);
                    let out = self.sink.row(T_NOTES);
                    let _ = write!(out, "'{id}', '{ticket_id}', ");
                    let note: &str = rng.pick::<&str>(NOTES);
                    lit::s(out, note);
                    out.push_str(", ");
                    lit::t(out, at);
                    let _ = write!(out, ", '{actor}'");
                    self.sink.end(T_NOTES);
                    TicketEvent::NoteAdded(NoteAdded { note_id: id })
                }
                Step::FollowUp => {
                    let started = at - rng.minutes(3, 10);
                    let id = call(&mut self.sink, rng, started, at, true);
                    TicketEvent::CallLogged(CallLogged {
                        call_id: id,
                        started_at: started,
                        verification: outcome,
                        completed_callback: None,
                        version: Change::new(version, version + 1),
                    })
                }
                Step::Request(n) => {
                    let before = status;
                    status = TicketStatus::Escalated;
                    let consent_at = at - Duration::minutes(5);
                    referral_state[n] = Some(ReferralState {
                        status: ReferralStatus::Requested,
                        accepted_at: None,
                        completed_at: None,
                        ended_at: None,
                        updated_at: at,
                        requested_at: at,
                        requested_by: actor.clone(),
                    });
                    TicketEvent::ReferralRequested(ReferralRequested {
                        referral_id: referrals[n].id,
                        kind: referrals[n].kind,
                        partner_id: Uuid::parse_str(&referrals[n].partner).unwrap_or_default(),
                        status: Change::new(before, status),
                        consent: ConsentGiven { given_by: ConsentGiver::Member, given_at: consent_at },
                    })
                }
                Step::Accept(n) | Step::Complete(n) | Step::PartnerDecline(n) => {
                    let Some(state) = referral_state[n].as_mut() else { continue };
                    let (action, next) = match step {
                        Step::Accept(_) => {
                            state.accepted_at = Some(at);
                            (ReferralAction::Accept, ReferralStatus::Accepted)
                        }
                        Step::Complete(_) => {
                            state.completed_at = Some(at);
                            (ReferralAction::Complete, ReferralStatus::Completed)
                        }
                        _ => {
                            state.ended_at = Some(at);
                            (ReferralAction::Decline, ReferralStatus::Declined)
                        }
                    };
                    let before = state.status;
                    state.status = next;
                    state.updated_at = at;
                    let receipt = (action == ReferralAction::Accept
                        && referrals[n].kind == ReferralKind::Police)
                        .then(|| format!("R{:08}", rng.below(100_000_000)));
                    TicketEvent::ReferralMoved(ReferralMoved {
                        action,
                        referral_id: referrals[n].id,
                        status: Change::new(before, next),
                        note: None,
                        police_receipt_number: receipt,
                    })
                }
                Step::Resolve => {
                    let text = (*rng.pick(RESOLUTIONS)).to_owned();
                    let before = status;
                    status = TicketStatus::Resolved;
                    resolved_at = Some(at);
                    resolution = Some(text.clone());
                    TicketEvent::Resolved(Resolved {
                        status: Change::new(before, status),
                        resolution_summary: text,
                    })
                }
                Step::Close => {
                    let before = status;
                    status = TicketStatus::Closed;
                    closed_at = Some(at);
                    TicketEvent::Closed(StatusChanged { status: Change::new(before, status) })
                }
            };
            if first_response.is_none() && hotline_domain::changes::counts_as_first_response(&event) {
                first_response = Some(at);
            }
            version += 1;
            updated = at;
            events.push((at, actor, event));
        }

        // The ticket row first (its children reference it), then the rest.
        let out = self.sink.row(T_TICKETS);
        let _ =
            write!(out, "'{ticket_id}', '{reference}', {year}, {seq}, '{}', {version}, ", status.as_str());
        lit::os(out, caller.member_id.as_deref());
        out.push_str(", ");
        lit::os(out, caller.institution_id.as_deref());
        let _ = write!(out, ", '{}', ", caller.prefecture);
        lit::s(out, &caller.institution_match);
        out.push_str(", ");
        lit::t(out, first_call);
        out.push_str(", ");
        lit::s(out, &summary);
        out.push_str(", ");
        lit::t(out, logged);
        out.push_str(", ");
        lit::t(out, updated);
        let _ = write!(out, ", '{creator}', ");
        lit::os(out, triaged.then_some(priority.as_str()));
        out.push_str(", ");
        lit::os(out, assignee.as_deref());
        out.push_str(", ");
        lit::ot(out, first_response);
        out.push_str(", ");
        lit::ot(out, resolved_at);
        out.push_str(", ");
        lit::os(out, resolution.as_deref());
        out.push_str(", ");
        lit::ot(out, closed_at);
        out.push_str(", NULL, NULL");
        if self.search_text {
            // As intake writes it: each part NFKC-normalised, white space collapsed, lower-cased, one a line.
            let registry_name = registered.then_some(caller.institution_name.as_str());
            let parts = [reference.as_str(), summary.as_str(), caller.institution_name.as_str()];
            let text: Vec<String> = parts
                .into_iter()
                .chain(registry_name)
                .map(|part| hotline_domain::text::clean_text(part).to_lowercase())
                .collect();
            out.push_str(", ");
            lit::s(out, &text.join("\n"));
        }
        self.sink.end(T_TICKETS);

        for (n, state) in referral_state.iter().enumerate() {
            let Some(state) = state else { continue };
            let referral = &referrals[n];
            let consent_at = state.requested_at - Duration::minutes(5);
            let out = self.sink.row(T_REFERRALS);
            let _ = write!(
                out,
                "'{}', '{ticket_id}', '{}', '{}', '{}', 'member', ",
                referral.id,
                referral.partner,
                referral.kind.as_str(),
                state.status.as_str()
            );
            lit::s(out, &caller.member_name);
            out.push_str(", ");
            lit::t(out, consent_at);
            out.push_str(", ");
            lit::s(out, "院内端末の調査を希望");
            out.push_str(", ");
            lit::t(out, state.requested_at);
            let _ = write!(out, ", '{}', ", state.requested_by);
            lit::ot(out, state.accepted_at);
            out.push_str(", ");
            lit::ot(out, state.completed_at);
            out.push_str(", ");
            lit::ot(out, state.ended_at);
            out.push_str(", NULL, NULL, NULL, ");
            lit::t(out, state.updated_at);
            self.sink.end(T_REFERRALS);
        }
        for (at, actor, event) in &events {
            let id = rng.uuid_at(*at);
            let out = self.sink.row(T_EVENTS);
            let _ = write!(out, "'{id}', '{ticket_id}', ");
            lit::t(out, *at);
            let _ = write!(out, ", '{actor}', '{}', ", event.action().as_str());
            lit::s(out, &event.payload());
            self.sink.end(T_EVENTS);
        }

        *self.statuses.entry(status.as_str()).or_default() += 1;
        let sample = match status {
            TicketStatus::Closed if !referrals.is_empty() && notes > 0 => Some("closed_referral_note"),
            TicketStatus::Closed
                if events.iter().any(|(_, _, e)| matches!(e, TicketEvent::CallLogged(_))) =>
            {
                Some("closed_follow_up")
            }
            TicketStatus::Closed => Some("closed"),
            TicketStatus::Declined if triaged => Some("declined_by_triage"),
            TicketStatus::Declined => Some("declined"),
            TicketStatus::Escalated => Some("escalated"),
            TicketStatus::InProgress => Some("in_progress"),
            TicketStatus::Triaged => Some("triaged"),
            TicketStatus::Resolved => Some("resolved"),
            TicketStatus::New => Some("new"),
        };
        if let Some(kind) = sample {
            self.samples.entry(kind).or_insert(reference);
        }
        Ok(())
    }
}
