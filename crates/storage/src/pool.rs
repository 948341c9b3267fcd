//! The connection pool: r2d2 with a manager that opens the right backend, applies the per-connection
//! settings, and tells broken connections from healthy ones without a round trip.
//!
//! Every new SQLite connection gets `busy_timeout` (first: switching to WAL needs a lock), WAL,
//! `synchronous = FULL` and foreign keys, and must prove it can write: SQLite silently opens a file it
//! may not write (permissions, an immutable file, a read-only mount) read-only, and such a connection
//! would fail every write for the rest of its life. Every PostgreSQL connection gets synchronous
//! commits, UTC, a statement timeout and an idle-in-transaction timeout, and libpq's connect timeout,
//! TCP keepalives and `tcp_user_timeout` (unless the URL sets them), so no wait on the database is
//! unbounded.
//!
//! No statement is spent on checking a connection before it is lent: each connection carries a
//! [`ConnectionWatch`] (a diesel instrumentation) that sees every statement's error. An error that
//! means the connection is gone or can no longer write (closed, unable to send, read-only, I/O) marks
//! it lost, and bumps the pool's generation, so every connection opened before — most likely dead or
//! read-only for the same reason — is discarded at its next checkout or check-in, and replaced.
//! [`crate::Storage`] retries a read, or a write whose `BEGIN` failed, once on a new connection, so a
//! database restart costs no request an error.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::r2d2::{HandleError, ManageConnection, Pool, R2D2Connection};
use diesel::{Connection, ConnectionError};

use crate::db::{DatabaseTarget, DbConnection};
use crate::error::{StorageError, breaks_connection};

/// Tunables of the pool; the defaults suit a small single-node deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolOptions {
    /// Most connections open at once.
    pub max_size: u32,
    /// How long opening one connection may take: libpq's `connect_timeout` (whole seconds, at least
    /// 2), and the wait for the first connections at start-up.
    pub connect_timeout: Duration,
    /// How long a caller waits for a pooled connection — and, on SQLite, for its turn to write —
    /// before giving up with [`StorageError::Unavailable`]. While connections cannot be opened at all
    /// (the database refuses them), a caller that finds no idle connection gives up at once.
    pub checkout_timeout: Duration,
    /// How long a SQLite statement waits for another process's write lock before failing with "busy".
    pub sqlite_busy_timeout: Duration,
    /// Idle connections the pool keeps open, opening replacements in the background. At least one for
    /// the server, so `connect` proves the database reachable and the first request finds a
    /// connection; zero for one-shot commands, so no connection is being opened (a TLS handshake on a
    /// pool thread) while the process exits — that raced OpenSSL's exit-time clean-up and crashed.
    pub min_idle: u32,
    /// PostgreSQL `statement_timeout` and `idle_in_transaction_session_timeout`: the server cancels a
    /// statement, or ends a session idle inside a transaction (holding its locks), after this long.
    /// Zero leaves the server's defaults. Migrations run without it.
    pub statement_timeout: Duration,
    /// PostgreSQL over TCP: a connection whose peer stops answering (a dead network path) is closed by
    /// the operating system after about this long — libpq's keepalives while idle, `tcp_user_timeout`
    /// while data is unacknowledged. Zero leaves the operating system's defaults (hours).
    pub network_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            max_size: 10,
            connect_timeout: Duration::from_secs(5),
            // The server passes its own (`database.checkout_timeout_ms`, 1 s); this default is for tools
            // and tests, where a busy machine matters more than a quick 503.
            checkout_timeout: Duration::from_secs(5),
            sqlite_busy_timeout: Duration::from_secs(5),
            min_idle: 1,
            statement_timeout: Duration::from_secs(5),
            network_timeout: Duration::from_secs(10),
        }
    }
}

/// The r2d2 pool type used by [`crate::Storage`].
pub(crate) type DbPool = Pool<ConnectionManager>;

/// What the pool knows about the database as a whole, shared by the manager, every connection's
/// watch and [`crate::Storage`].
#[derive(Debug, Default)]
pub(crate) struct PoolHealth {
    /// Bumped whenever a connection is lost; connections born in an earlier generation are retired.
    generation: AtomicU64,
    /// Connection attempts that failed since the last one that succeeded.
    connect_failures: AtomicU64,
    /// Why the last attempt failed (never contains the URL).
    last_connect_error: parking_lot::Mutex<Option<String>>,
    /// A caller is trying to open a connection itself while the pool's attempts fail.
    probing: std::sync::atomic::AtomicBool,
}

impl PoolHealth {
    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn connection_lost(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn connect_succeeded(&self) {
        self.connect_failures.store(0, Ordering::Release);
    }

    fn connect_failed(&self, error: &str) {
        *self.last_connect_error.lock() = Some(error.to_owned());
        self.connect_failures.fetch_add(1, Ordering::AcqRel);
    }

    /// Claims the one probe a caller may make while connecting fails; `false` if another caller has it.
    pub(crate) fn start_probe(&self) -> bool {
        !self.probing.swap(true, Ordering::AcqRel)
    }

    pub(crate) fn end_probe(&self) {
        self.probing.store(false, Ordering::Release);
    }

    /// Why new connections cannot be opened right now: the last attempt failed and none succeeded
    /// since. `None` while connecting works (or was never tried).
    pub(crate) fn refusing(&self) -> Option<String> {
        if self.connect_failures.load(Ordering::Acquire) == 0 {
            return None;
        }
        Some(self.last_connect_error.lock().clone().unwrap_or_else(|| "connection failed".to_owned()))
    }
}

/// Per-connection instrumentation: sees every statement's outcome and remembers what makes the
/// connection unfit for reuse, and (PostgreSQL) whether the open transaction has been aborted.
pub(crate) struct ConnectionWatch {
    health: Arc<PoolHealth>,
    /// The pool generation this connection was opened in.
    born: u64,
    /// Why this connection must not be reused, once it must not.
    lost: Option<String>,
    /// Transaction depth as diesel reported it (0 outside a transaction).
    depth: u32,
    /// The depth at which a statement failed inside the open transaction, until a rollback at or
    /// above that depth undid it. On PostgreSQL such a failure aborts the transaction, and a later
    /// `COMMIT` silently rolls back.
    failed_at: Option<u32>,
}

impl ConnectionWatch {
    fn new(health: Arc<PoolHealth>) -> ConnectionWatch {
        let born = health.generation();
        ConnectionWatch { health, born, lost: None, depth: 0, failed_at: None }
    }

    fn lose(&mut self, why: String) {
        if self.lost.is_none() {
            tracing::warn!(error = %why, "database connection lost or unable to write; it will be replaced");
            self.lost = Some(why);
            self.health.connection_lost();
        }
    }

    /// Why the connection must not be lent again, if it must not.
    fn unfit(&self) -> Option<String> {
        if let Some(why) = &self.lost {
            return Some(why.clone());
        }
        (self.born < self.health.generation())
            .then(|| "retired: opened before another connection was lost".to_owned())
    }
}

impl Instrumentation for ConnectionWatch {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::BeginTransaction { depth, .. } => {
                if depth.get() == 1 {
                    self.failed_at = None;
                }
                self.depth = depth.get();
            }
            InstrumentationEvent::CommitTransaction { depth, .. } => {
                self.depth = depth.get() - 1;
                if self.depth == 0 {
                    self.failed_at = None;
                }
            }
            InstrumentationEvent::RollbackTransaction { depth, .. } => {
                if self.failed_at.is_some_and(|failed| failed >= depth.get()) {
                    self.failed_at = None;
                }
                self.depth = depth.get() - 1;
            }
            InstrumentationEvent::FinishQuery { error: Some(error), .. } => {
                if breaks_connection(error) {
                    self.lose(error.to_string());
                }
                if self.depth > 0 && matches!(error, diesel::result::Error::DatabaseError(..)) {
                    self.failed_at = Some(self.failed_at.map_or(self.depth, |failed| failed.min(self.depth)));
                }
            }
            _ => {}
        }
    }
}

/// The watch of a pooled connection (every connection the manager opens has one).
fn watch(conn: &mut DbConnection) -> Option<&mut ConnectionWatch> {
    conn.instrumentation().downcast_mut::<ConnectionWatch>()
}

/// Whether a statement on this connection failed in a way that makes it unfit for reuse.
pub(crate) fn is_lost(conn: &mut DbConnection) -> bool {
    watch(conn).is_some_and(|watch| watch.lost.is_some())
}

/// PostgreSQL only: whether a statement failed inside the open transaction without a rollback to a
/// savepoint undoing it, so that `COMMIT` would silently roll everything back.
pub(crate) fn transaction_aborted(conn: &mut DbConnection) -> bool {
    matches!(conn, DbConnection::Postgresql(_)) && watch(conn).is_some_and(|watch| watch.failed_at.is_some())
}

/// Marks a connection for discarding at check-in (after a change to its session, e.g. migrations).
pub(crate) fn retire(conn: &mut DbConnection, why: &str) {
    if let Some(watch) = watch(conn) {
        watch.lost.get_or_insert_with(|| why.to_owned());
    }
}

/// Opens connections of the variant chosen from the URL (never diesel's derived `establish`), applies
/// the session settings, and judges connections by their watch.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionManager {
    target: DatabaseTarget,
    session: SessionSettings,
    health: Arc<PoolHealth>,
}

impl ConnectionManager {
    fn open(&self) -> Result<DbConnection, diesel::r2d2::Error> {
        if let DatabaseTarget::Sqlite(path) = &self.target {
            sqlite_file_writable(path)
                .map_err(|why| diesel::r2d2::Error::ConnectionError(ConnectionError::BadConnection(why)))?;
        }
        let mut conn = self.target.establish().map_err(diesel::r2d2::Error::ConnectionError)?;
        conn.set_instrumentation(ConnectionWatch::new(Arc::clone(&self.health)));
        self.session.apply(&mut conn).map_err(diesel::r2d2::Error::QueryError)?;
        if let DbConnection::Sqlite(lite) = &mut conn {
            let busy = self.session.sqlite_busy_timeout;
            sqlite_can_write(lite, busy, busy)
                .map_err(|why| diesel::r2d2::Error::ConnectionError(ConnectionError::BadConnection(why)))?;
        }
        Ok(conn)
    }
}

impl ConnectionManager {
    /// Opens one connection outside the pool, as the pool would (settings, watch, probe), and records
    /// the outcome in the pool's health.
    pub(crate) fn connect_directly(&self) -> Result<DbConnection, diesel::r2d2::Error> {
        ManageConnection::connect(self)
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        match self.open() {
            Ok(conn) => {
                self.health.connect_succeeded();
                Ok(conn)
            }
            Err(error) => {
                self.health.connect_failed(&error.to_string());
                Err(error)
            }
        }
    }

    /// Runs at every checkout, without a statement: a connection that was lost, or opened before
    /// another one was lost, is refused (r2d2 then discards it and lends, or opens, another).
    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        match watch(conn).and_then(|watch| watch.unfit()) {
            None => Ok(()),
            Some(why) => Err(diesel::r2d2::Error::ConnectionError(ConnectionError::BadConnection(why))),
        }
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        // `is_broken` is true while a transaction is open or after a failed rollback.
        std::thread::panicking()
            || conn.is_broken()
            || watch(conn).is_none_or(|watch| watch.unfit().is_some())
    }
}

/// The per-connection settings, applied when the pool opens a connection.
#[derive(Debug, Clone)]
struct SessionSettings {
    sqlite_busy_timeout: Duration,
    statement_timeout: Duration,
}

impl SessionSettings {
    fn apply(&self, conn: &mut DbConnection) -> diesel::QueryResult<()> {
        let sql = match conn {
            DbConnection::Sqlite(_) => format!(
                "PRAGMA busy_timeout = {};\
                 PRAGMA journal_mode = WAL;\
                 PRAGMA synchronous = FULL;\
                 PRAGMA foreign_keys = ON;",
                self.sqlite_busy_timeout.as_millis()
            ),
            DbConnection::Postgresql(_) => {
                let timeout = self.statement_timeout.as_millis();
                format!(
                    "SET synchronous_commit = on; SET TIME ZONE 'UTC';\
                     SET statement_timeout = {timeout}; SET idle_in_transaction_session_timeout = {timeout};"
                )
            }
        };
        conn.batch_execute(&sql)
    }
}

/// Whether this SQLite connection can write: a schema change inside a transaction that is rolled back
/// at once, so nothing is ever written. The transaction first reads (waiting up to `read_wait` for a
/// read lock, as any reader would), then tries the change without waiting: a connection SQLite opened
/// read-only fails it at once, while a write lock held by another writer (busy) proves the connection
/// itself writable. `busy_timeout` is restored afterwards.
fn sqlite_can_write(
    conn: &mut diesel::SqliteConnection,
    read_wait: Duration,
    busy_timeout: Duration,
) -> Result<(), String> {
    let probe = |conn: &mut diesel::SqliteConnection| -> Result<(), String> {
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {}; BEGIN; SELECT count(*) FROM sqlite_master;",
            read_wait.as_millis()
        ))
        .map_err(|e| format!("SQLite write probe could not read: {e}"))?;
        conn.batch_execute("PRAGMA busy_timeout = 0").map_err(|e| format!("SQLite write probe: {e}"))?;
        match conn.batch_execute("CREATE TABLE hotline_write_probe (x INTEGER)") {
            Ok(()) => Ok(()),
            Err(error) if is_busy(&error) => Ok(()),
            Err(error) => Err(format!(
                "the SQLite database cannot be written ({error}): check the permissions and attributes \
                 of the file and its directory, and that the file system is not read-only or full"
            )),
        }
    };
    let result = probe(conn);
    let rolled_back = conn.batch_execute("ROLLBACK");
    let restored = conn.batch_execute(&format!("PRAGMA busy_timeout = {}", busy_timeout.as_millis()));
    result?;
    // ROLLBACK fails harmlessly when BEGIN never ran; only a failed restore matters.
    drop(rolled_back);
    restored.map_err(|e| format!("SQLite write probe: {e}"))
}

fn is_busy(error: &diesel::result::Error) -> bool {
    let message = error.to_string();
    message.contains("database is locked") || message.contains("database is busy")
}

/// How long the readiness probe waits for a read lock (readiness answers within a second).
const READINESS_READ_WAIT: Duration = Duration::from_millis(300);

/// Whether SQLite could open the database file for writing now. SQLite tries exactly this first, and
/// when it fails (permissions, an immutable file, a read-only file system) silently opens the file
/// read-only instead; asking the file system directly gives the same answer without a lock to wait
/// for. A file that does not exist yet (SQLite creates it) passes.
fn sqlite_file_writable(path: &std::path::Path) -> Result<(), String> {
    if path.starts_with("file:") {
        return Ok(());
    }
    match std::fs::OpenOptions::new().read(true).write(true).open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(format!(
            "the SQLite database file cannot be opened for writing ({error}): check the permissions and \
             attributes of the file and its directory, and that the file system is not read-only"
        )),
    }
}

/// Opens a connection outside the pool and checks that SQLite could write through it now (readiness).
pub(crate) fn sqlite_ready(target: &DatabaseTarget) -> Result<(), StorageError> {
    if let DatabaseTarget::Sqlite(path) = target {
        sqlite_file_writable(path).map_err(StorageError::Unavailable)?;
    }
    let conn = target.establish().map_err(StorageError::from_connection)?;
    let DbConnection::Sqlite(mut lite) = conn else {
        return Ok(());
    };
    sqlite_can_write(&mut lite, READINESS_READ_WAIT, Duration::ZERO).map_err(StorageError::Unavailable)
}

/// Sends the pool's background connection errors to tracing instead of the `log` crate.
#[derive(Debug)]
struct TracingErrorHandler;

impl HandleError<diesel::r2d2::Error> for TracingErrorHandler {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        let message = error.to_string();
        if message.contains("retired: ") {
            tracing::debug!(error = %message, "database connection retired");
        } else {
            tracing::warn!(error = %message, "database pool could not open or keep a connection");
        }
    }
}

/// libpq parameters that bound every wait on the network, added to a PostgreSQL URL unless it sets
/// them itself: `connect_timeout`, keepalives (so an idle connection to a vanished peer is noticed),
/// and `tcp_user_timeout` (so a request whose data is never acknowledged fails instead of hanging).
pub fn postgres_url_with_timeouts(url: &str, options: &PoolOptions) -> String {
    let mut params: Vec<(&str, String)> =
        vec![("connect_timeout", options.connect_timeout.as_secs().max(2).to_string())];
    let network = options.network_timeout.as_secs();
    if network > 0 {
        let idle = network.div_ceil(2).max(1);
        let interval = (network / 6).max(1);
        params.extend([
            ("keepalives", "1".to_owned()),
            ("keepalives_idle", idle.to_string()),
            ("keepalives_interval", interval.to_string()),
            ("keepalives_count", "3".to_owned()),
            ("tcp_user_timeout", (network * 1000).to_string()),
        ]);
    }
    let query = url.split_once('?').map_or("", |(_, query)| query);
    let given: Vec<&str> = query.split('&').filter_map(|pair| pair.split('=').next()).collect();
    let mut out = url.to_owned();
    for (name, value) in params {
        if given.contains(&name) {
            continue;
        }
        out.push(if out.contains('?') { '&' } else { '?' });
        out.push_str(name);
        out.push('=');
        out.push_str(&value);
    }
    out
}

/// Builds the pool and, unless `min_idle` is zero, opens a first connection, failing if it cannot be
/// opened within the connect timeout.
pub(crate) fn build(
    target: DatabaseTarget,
    options: &PoolOptions,
    health: Arc<PoolHealth>,
) -> Result<(DbPool, ConnectionManager), StorageError> {
    target.prepare()?;
    let target = match target {
        DatabaseTarget::Postgres(url) => DatabaseTarget::Postgres(postgres_url_with_timeouts(&url, options)),
        sqlite => sqlite,
    };
    let session = SessionSettings {
        sqlite_busy_timeout: options.sqlite_busy_timeout,
        statement_timeout: options.statement_timeout,
    };
    let manager = ConnectionManager { target, session, health };
    let pool = Pool::builder()
        .max_size(options.max_size)
        .min_idle(Some(options.min_idle))
        // r2d2 retries a failed connection attempt in the background, doubling the delay up to half
        // of this: a database that comes back is reconnected to within about a second. (Callers wait
        // with their own timeouts; this one is used for nothing else.)
        .connection_timeout(RECONNECT_BACKOFF_CAP * 2)
        // `is_valid` runs no statement: it reads the connection's watch.
        .test_on_check_out(true)
        .error_handler(Box::new(TracingErrorHandler))
        .build_unchecked(manager.clone());
    if options.min_idle > 0 {
        // Prove the database reachable now, as the server's start needs.
        drop(pool.get_timeout(options.connect_timeout).map_err(StorageError::from_pool)?);
    }
    Ok((pool, manager))
}

/// The longest pause between two attempts to open a connection while the database refuses them.
const RECONNECT_BACKOFF_CAP: Duration = Duration::from_secs(1);
