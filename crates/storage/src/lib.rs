//! Persistence for hotline: one code path over SQLite and PostgreSQL with diesel.
//!
//! [`Storage`] owns a pool of [`DbConnection`]s; [`Storage::read`] lends a connection and
//! [`Storage::write`] runs a closure inside a write transaction that starts with the write lock on
//! SQLite (`BEGIN IMMEDIATE`). Every call is blocking: callers run it inside `actix_web::web::block`.
//! Every wait is bounded (see [`PoolOptions`]), and a connection that failed in a way that makes it
//! unfit (closed, read-only, I/O) is discarded, so the service heals by itself when the cause goes.
//! Errors come back as [`StorageError`], classified once in [`error`].

pub mod columns;
pub mod db;
pub mod error;
mod pool;
pub mod queries;
pub mod schema;
#[cfg(feature = "test-support")]
pub mod test_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::r2d2::{PooledConnection, R2D2Connection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use crate::db::{Backend, DbConnection, MultiBackend};
pub use crate::error::StorageError;
pub use crate::pool::{PoolOptions, postgres_url_with_timeouts};

use crate::db::DatabaseTarget;
use crate::pool::{ConnectionManager, DbPool, PoolHealth};

/// The SQLite migrations, embedded at compile time.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
/// The PostgreSQL migrations, embedded at compile time (same names, tables and columns as SQLite's).
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// The embedded migrations for a backend, for tooling that applies or reverts them one by one.
pub fn migrations(backend: Backend) -> EmbeddedMigrations {
    match backend {
        Backend::Sqlite => SQLITE_MIGRATIONS,
        Backend::Postgres => POSTGRES_MIGRATIONS,
    }
}

/// The pool's use at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    /// Connections open (in use or idle).
    pub connections: u32,
    /// Of which idle.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}

/// Handle to the database shared by the whole service; cloning is cheap (the pool is reference-counted).
#[derive(Clone, Debug)]
pub struct Storage {
    pool: DbPool,
    backend: Backend,
    writers: Arc<WriterQueue>,
    health: Arc<PoolHealth>,
    /// Opens connections outside the pool: the one probe a caller makes while the pool's fail.
    direct: Arc<ConnectionManager>,
    checkout_timeout: Duration,
    /// What the pool connects to, for the readiness probe's connection of its own (SQLite).
    target: DatabaseTarget,
}

/// SQLite admits one writer at a time and does not queue the others: each waits in its busy handler,
/// sleeping and retrying, so under load a writer can lose the lock again and again until its busy timeout
/// ends in "database is locked" (measured: p99 over a second and occasional 503s at 16 concurrent
/// calls, docs/benchmarks.md). Writers of this process therefore queue here, first come first served,
/// before `BEGIN IMMEDIATE`, waiting at most the checkout timeout (or the busy timeout, if shorter);
/// the database's own lock still guards against other processes. PostgreSQL writers do not queue.
#[derive(Debug)]
struct WriterQueue {
    lock: Option<parking_lot::Mutex<()>>,
    timeout: Duration,
}

impl WriterQueue {
    fn for_backend(backend: Backend, timeout: Duration) -> Self {
        let lock = (backend == Backend::Sqlite).then(|| parking_lot::Mutex::new(()));
        WriterQueue { lock, timeout }
    }

    /// Runs `f` holding this process's turn to write (SQLite) or at once (PostgreSQL).
    fn run<T, E: From<StorageError>>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let Some(lock) = &self.lock else { return f() };
        let Some(turn) = lock.try_lock_for(self.timeout) else {
            return Err(StorageError::Unavailable(format!(
                "database is busy: no turn to write within {} ms",
                self.timeout.as_millis()
            ))
            .into());
        };
        let result = f();
        // Hand the lock to the writer that has waited longest instead of letting a newcomer take it.
        parking_lot::MutexGuard::unlock_fair(turn);
        result
    }
}

/// While connections cannot be opened, a checkout that finds no idle connection gives up after this
/// long instead of waiting the whole checkout timeout.
const FAIL_FAST_AFTER: Duration = Duration::from_millis(100);

impl Storage {
    /// Opens a pool on `sqlite://path`, `sqlite:path`, `postgres://…` or `postgresql://…`.
    pub fn connect(url: &str, options: PoolOptions) -> Result<Storage, StorageError> {
        let target = DatabaseTarget::parse(url)?;
        let backend = target.backend();
        let queue_wait = options.checkout_timeout.min(options.sqlite_busy_timeout);
        let writers = Arc::new(WriterQueue::for_backend(backend, queue_wait));
        let health = Arc::new(PoolHealth::default());
        let (pool, direct) = pool::build(target.clone(), &options, Arc::clone(&health))?;
        Ok(Storage {
            pool,
            backend,
            writers,
            health,
            direct: Arc::new(direct),
            checkout_timeout: options.checkout_timeout,
            target,
        })
    }

    /// Which backend this storage uses, for the few places that need dialect-specific SQL.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// How many pooled connections are open, how many of them idle, and the most the pool opens: the
    /// metrics endpoint's pool gauges.
    pub fn pool_usage(&self) -> PoolUsage {
        let state = self.pool.state();
        PoolUsage { connections: state.connections, idle: state.idle_connections, max: self.pool.max_size() }
    }

    /// Applies the pending embedded migrations of this backend and returns their names, in order.
    ///
    /// Migrations may run long (an index over a large table): on PostgreSQL they run without the
    /// statement timeout, on a connection that is discarded afterwards.
    pub fn run_migrations(&self) -> Result<Vec<String>, StorageError> {
        self.read(|conn| {
            let source = migrations(self.backend);
            if matches!(conn, DbConnection::Postgresql(_)) {
                pool::retire(conn, "retired: its session settings were changed for migrations");
                conn.batch_execute("SET statement_timeout = 0; SET idle_in_transaction_session_timeout = 0")?;
            }
            let pending =
                conn.pending_migrations(source).map_err(|e| StorageError::from_migration(e.as_ref()))?;
            let mut applied = Vec::with_capacity(pending.len());
            for migration in pending {
                let name = migration.name().to_string();
                conn.run_migration(&migration).map_err(|e| StorageError::from_migration(e.as_ref()))?;
                tracing::info!(migration = %name, backend = %self.backend, "applied migration");
                applied.push(name);
            }
            Ok(applied)
        })
        .and_then(|applied| {
            // A registry imported before the search index existed is indexed once, here (also after a
            // crash between that migration and this step: an empty index beside links is rebuilt).
            if let Some(members) = self.write(queries::registry_search::build_if_missing)? {
                tracing::info!(members, "built the registry search index");
            }
            // Indexes a migration added have no statistics yet; without them the planners (SQLite's
            // above all) keep choosing the older indexes. Statistics of the ticket table, whose indexes
            // change most, take about 2 s at a million tickets (sampled statistics — SQLite's
            // `analysis_limit` — misjudge its skewed status and prefecture columns).
            if !applied.is_empty() {
                self.read(|conn| conn.batch_execute("ANALYZE tickets").map_err(StorageError::from))?;
            }
            Ok(applied)
        })
    }

    /// Checks that a connection can be had and answers `SELECT 1` (one-shot commands at start).
    pub fn ping(&self) -> Result<(), StorageError> {
        self.read(|conn| {
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok(())
        })
    }

    /// Readiness: whether the database can take a write now. SQLite: a connection of its own (so the
    /// answer is about the file as it is now, not as it was when the pooled connections were opened)
    /// proves it could write. PostgreSQL: a pooled connection answers, and the server is neither in
    /// recovery (a standby) nor read-only by default.
    pub fn check_writable(&self) -> Result<(), StorageError> {
        match self.backend {
            Backend::Sqlite => pool::sqlite_ready(&self.target),
            Backend::Postgres => {
                let state = self.read(|conn| {
                    Ok(diesel::sql_query(
                        "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on' \
                         AS read_only",
                    )
                    .get_result::<ReadOnly>(conn)?)
                })?;
                if state.read_only {
                    return Err(StorageError::Unavailable(
                        "PostgreSQL is read-only (a standby in recovery, or default_transaction_read_only)"
                            .to_owned(),
                    ));
                }
                Ok(())
            }
        }
    }

    /// Runs `f` on a pooled connection, outside any explicit transaction (reads, migrations).
    ///
    /// If the connection turns out to be gone (the database restarted, a network path died), `f` runs
    /// once more on a new connection: so `f` may run twice, and must only read (or be safe to repeat).
    pub fn read<T>(
        &self,
        mut f: impl FnMut(&mut DbConnection) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mut conn = self.checkout()?;
        match f(&mut conn) {
            Err(error) if pool::is_lost(&mut conn) => {
                drop(conn);
                tracing::info!(%error, "database connection lost during a read; reading again on a new one");
                f(&mut *self.checkout()?)
            }
            result => result,
        }
    }

    /// Runs `f` in a write transaction: committed if `f` returns `Ok`, rolled back otherwise.
    ///
    /// SQLite starts with `BEGIN IMMEDIATE`, taking the write lock before the first read, so a
    /// read-then-write closure cannot lose a concurrent update nor fail with "database is locked" at
    /// its first write (it waits up to the busy timeout at `BEGIN` instead). PostgreSQL uses `BEGIN`
    /// (READ COMMITTED): lock what you read-then-write (`SELECT … FOR UPDATE`, in a `match` arm on the
    /// connection) or write with a single `UPDATE`. On PostgreSQL a failed statement aborts the whole
    /// transaction: to recover from an expected error inside `f`, wrap that statement in a nested
    /// `conn.transaction(…)` (a savepoint); a swallowed error without one makes `write` fail rather
    /// than commit nothing. If the rollback itself fails, or `f` leaves a nested transaction open,
    /// the connection is dropped from the pool instead of being reused.
    ///
    /// The closure's error type only needs `From<StorageError>`, so callers can abort the transaction
    /// with their own errors (a refused business rule rolls back everything written before it).
    ///
    /// On SQLite, writers of this process wait their turn in order (see `WriterQueue`) before taking a
    /// connection, so waiting writers hold no connection that readers need. A connection found gone at
    /// `BEGIN` (nothing was sent yet) is replaced once; `f` itself runs at most once.
    pub fn write<T, E: From<StorageError>>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        self.writers.run(|| {
            let mut conn = self.begin()?;
            write_transaction(&mut conn, f)
        })
    }

    /// A pooled connection. Waits up to the checkout timeout for one to be free or opened. While the
    /// database refuses new connections and none is idle, one caller at a time tries to open a
    /// connection itself (and uses it, outside the pool, if that works: the database is back before
    /// the pool's next background attempt); every other caller gives up at once.
    fn checkout(&self) -> Result<Lease, StorageError> {
        let start = Instant::now();
        let deadline = start + self.checkout_timeout;
        loop {
            let now = Instant::now();
            let slice = if self.health.refusing().is_some() { FAIL_FAST_AFTER } else { deadline - now };
            match self.pool.get_timeout(slice.min(deadline.saturating_duration_since(now))) {
                Ok(conn) => return Ok(Lease::Pooled(conn)),
                Err(error) => {
                    if let Some(why) = self.health.refusing() {
                        return self.probe().ok_or_else(|| {
                            StorageError::Unavailable(format!("cannot connect to the database: {why}"))
                        });
                    }
                    if Instant::now() >= deadline {
                        return Err(StorageError::Unavailable(format!(
                            "no database connection free within {} ms ({error})",
                            self.checkout_timeout.as_millis()
                        )));
                    }
                }
            }
        }
    }

    /// The one connection attempt a caller may make while the pool's fail; `None` if another caller is
    /// making it or it failed.
    fn probe(&self) -> Option<Lease> {
        if !self.health.start_probe() {
            return None;
        }
        let opened = self.direct.connect_directly();
        self.health.end_probe();
        opened.ok().map(|conn| Lease::Direct(Box::new(conn)))
    }

    /// A checked-out connection inside a new write transaction (`BEGIN IMMEDIATE` / `BEGIN`); a
    /// connection found gone at `BEGIN` is replaced once.
    fn begin(&self) -> Result<Lease, StorageError> {
        let mut conn = self.checkout()?;
        match begin_write(&mut conn) {
            Ok(()) => Ok(conn),
            Err(error) if pool::is_lost(&mut conn) => {
                drop(conn);
                tracing::info!(%error, "database connection lost before a write; writing on a new one");
                let mut conn = self.checkout()?;
                begin_write(&mut conn)?;
                Ok(conn)
            }
            Err(error) => Err(error.into()),
        }
    }
}

/// A connection lent for one call: from the pool, or opened directly by the caller that probed the
/// database while the pool's attempts failed (closed after use).
enum Lease {
    Pooled(PooledConnection<ConnectionManager>),
    Direct(Box<DbConnection>),
}

impl std::ops::Deref for Lease {
    type Target = DbConnection;

    fn deref(&self) -> &DbConnection {
        match self {
            Lease::Pooled(conn) => conn,
            Lease::Direct(conn) => conn,
        }
    }
}

impl std::ops::DerefMut for Lease {
    fn deref_mut(&mut self) -> &mut DbConnection {
        match self {
            Lease::Pooled(conn) => conn,
            Lease::Direct(conn) => conn,
        }
    }
}

#[derive(diesel::QueryableByName)]
struct ReadOnly {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    read_only: bool,
}

fn begin_write(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    match conn {
        DbConnection::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE"),
        DbConnection::Postgresql(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN"),
    }
}

/// `f` in the transaction `begin_write` opened, then `COMMIT` or `ROLLBACK` through diesel's
/// transaction manager (so its bookkeeping, and the pool's broken-connection check, stay right).
fn write_transaction<T, E: From<StorageError>>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    match f(conn) {
        Ok(value) => {
            if pool::transaction_aborted(conn) {
                // On PostgreSQL a failed statement aborts the transaction, and a later `COMMIT` then
                // silently rolls back. `f` swallowed such an error and returned `Ok`: fail loudly
                // instead of losing the writes. (Known from the connection's watch, without a query.)
                rollback(conn);
                return Err(StorageError::Other(
                    "a database error inside the write transaction was ignored, so PostgreSQL aborted \
                     the transaction and nothing was written (wrap statements expected to fail in a \
                     nested conn.transaction)"
                        .to_owned(),
                )
                .into());
            }
            <DbConnection as TransactionManager<DbConnection>>::commit_transaction(conn)
                .map_err(StorageError::from)?;
            if conn.is_broken() {
                // Still inside a transaction: `f` opened a nested one (a savepoint) and left it open,
                // so the COMMIT above only released the savepoint. The pool discards the connection,
                // which rolls the outer transaction back; say so rather than report success.
                return Err(StorageError::Other(
                    "the write transaction was still open after COMMIT (a nested transaction left \
                     open in the closure?); nothing was written"
                        .to_owned(),
                )
                .into());
            }
            Ok(value)
        }
        Err(error) => {
            rollback(conn);
            Err(error)
        }
    }
}

/// Rolls back; if that fails the connection stays marked broken (in error, or still in the
/// transaction), so the pool's `has_broken` check discards it instead of reusing it.
fn rollback(conn: &mut DbConnection) {
    if let Err(error) = <DbConnection as TransactionManager<DbConnection>>::rollback_transaction(conn) {
        tracing::error!(error = %error, "rollback failed; the connection will be discarded");
    }
}

/// Truncates an instant to whole microseconds, as stored: PostgreSQL keeps 6 digits, SQLite all of them,
/// so only truncated values compare equal after a round trip on both.
pub fn db_time(dt: DateTime<Utc>) -> NaiveDateTime {
    dt.trunc_subsecs(6).naive_utc()
}

/// Reads back an instant stored by [`db_time`] (columns hold UTC without a zone).
pub fn utc(n: NaiveDateTime) -> DateTime<Utc> {
    n.and_utc()
}
