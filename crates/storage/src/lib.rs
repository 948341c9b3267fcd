//! Persistence for hotline: one code path over SQLite and PostgreSQL with diesel.
//!
//! [`Storage`] owns a pool of [`DbConnection`]s; [`Storage::read`] lends a connection and
//! [`Storage::write`] runs a closure inside a write transaction that starts with the write lock on
//! SQLite (`BEGIN IMMEDIATE`). Every call is blocking: callers run it inside `actix_web::web::block`.
//! Errors come back as [`StorageError`], classified once in [`error`].

pub mod db;
pub mod error;
mod pool;
pub mod queries;
pub mod schema;
#[cfg(feature = "test-support")]
pub mod test_support;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::r2d2::R2D2Connection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use crate::db::{Backend, DbConnection, MultiBackend};
pub use crate::error::StorageError;
pub use crate::pool::PoolOptions;

use crate::db::DatabaseTarget;
use crate::pool::DbPool;

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

/// Handle to the database shared by the whole service; cloning is cheap (the pool is reference-counted).
#[derive(Clone, Debug)]
pub struct Storage {
    pool: DbPool,
    backend: Backend,
    writers: Arc<WriterQueue>,
}

/// SQLite admits one writer at a time and does not queue the others: each waits in its busy handler,
/// sleeping and retrying, so under load a writer can lose the lock again and again until its busy timeout
/// ends in "database is locked" (measured: p99 over a second and occasional 503s at 16 concurrent
/// calls, docs/benchmarks.md). Writers of this process therefore queue here, first come first served,
/// before `BEGIN IMMEDIATE`, with the busy timeout as the longest wait; the database's own lock still
/// guards against other processes. PostgreSQL writers do not queue.
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

impl Storage {
    /// Opens a pool on `sqlite://path`, `sqlite:path`, `postgres://…` or `postgresql://…`.
    pub fn connect(url: &str, options: PoolOptions) -> Result<Storage, StorageError> {
        let target = DatabaseTarget::parse(url)?;
        let backend = target.backend();
        let writers = Arc::new(WriterQueue::for_backend(backend, options.sqlite_busy_timeout));
        let pool = pool::build(target, &options)?;
        Ok(Storage { pool, backend, writers })
    }

    /// Which backend this storage uses, for the few places that need dialect-specific SQL.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies the pending embedded migrations of this backend and returns their names, in order.
    pub fn run_migrations(&self) -> Result<Vec<String>, StorageError> {
        let source = migrations(self.backend);
        self.read(|conn| {
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
            Ok(applied)
        })
    }

    /// Checks that a connection can be had and answers `SELECT 1` (readiness probe).
    pub fn ping(&self) -> Result<(), StorageError> {
        self.read(|conn| {
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok(())
        })
    }

    /// Runs `f` on a pooled connection, outside any explicit transaction (reads, migrations).
    pub fn read<T>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let mut conn = self.pool.get().map_err(StorageError::from_pool)?;
        f(&mut conn)
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
    /// connection, so waiting writers hold no connection that readers need.
    pub fn write<T, E: From<StorageError>>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        self.writers.run(|| {
            let mut conn = self.pool.get().map_err(StorageError::from_pool)?;
            write_transaction(&mut conn, f)
        })
    }
}

/// `BEGIN IMMEDIATE` / `BEGIN` by variant, then `f`, then `COMMIT` or `ROLLBACK` through diesel's
/// transaction manager (so its bookkeeping, and the pool's broken-connection check, stay right).
fn write_transaction<T, E: From<StorageError>>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    match conn {
        DbConnection::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE"),
        DbConnection::Postgresql(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN"),
    }
    .map_err(StorageError::from)?;
    match f(conn) {
        Ok(value) => {
            if let Err(error) = ensure_not_aborted(conn) {
                rollback(conn);
                return Err(error.into());
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

/// On PostgreSQL a failed statement aborts the transaction, and a later `COMMIT` then silently rolls
/// back. If `f` swallowed such an error and returned `Ok`, fail loudly instead of losing the writes.
fn ensure_not_aborted(conn: &mut DbConnection) -> Result<(), StorageError> {
    let DbConnection::Postgresql(pg) = conn else {
        return Ok(());
    };
    match pg.batch_execute("SELECT 1") {
        Ok(()) => Ok(()),
        Err(error) if error.to_string().contains("current transaction is aborted") => {
            Err(StorageError::Other(
                "a database error inside the write transaction was ignored, so PostgreSQL aborted \
                 the transaction and nothing was written (wrap statements expected to fail in a \
                 nested conn.transaction)"
                    .to_owned(),
            ))
        }
        Err(error) => Err(StorageError::from_diesel(error)),
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
