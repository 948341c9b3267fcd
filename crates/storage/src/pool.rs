//! The connection pool: r2d2 with a manager that opens the right backend and per-connection settings.
//!
//! Every new SQLite connection gets `busy_timeout` (first: switching to WAL needs a lock), WAL,
//! `synchronous = FULL` and foreign keys; every PostgreSQL connection gets synchronous commits and UTC.
//! Connections are tested on checkout because a dead PostgreSQL connection is not marked broken, and
//! a connection left inside a transaction (or whose rollback failed) is discarded, never reused.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{CustomizeConnection, HandleError, ManageConnection, Pool, R2D2Connection};

use crate::db::{DatabaseTarget, DbConnection};
use crate::error::StorageError;

/// Tunables of the pool; the defaults suit a small single-node deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolOptions {
    /// Most connections open at once.
    pub max_size: u32,
    /// How long to wait for a connection (at start-up and on each checkout) before giving up.
    pub connect_timeout: Duration,
    /// How long a SQLite statement waits for another writer's lock before failing with "busy".
    pub sqlite_busy_timeout: Duration,
    /// Idle connections the pool keeps open, opening replacements in the background. At least one for
    /// the server, so `connect` proves the database reachable and the first request finds a
    /// connection; zero for one-shot commands, so no connection is being opened (a TLS handshake on a
    /// pool thread) while the process exits — that raced OpenSSL's exit-time clean-up and crashed.
    pub min_idle: u32,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            max_size: 10,
            connect_timeout: Duration::from_secs(5),
            sqlite_busy_timeout: Duration::from_secs(5),
            min_idle: 1,
        }
    }
}

/// The r2d2 pool type used by [`crate::Storage`].
pub(crate) type DbPool = Pool<ConnectionManager>;

/// Opens connections of the variant chosen from the URL (never diesel's derived `establish`).
#[derive(Debug)]
pub(crate) struct ConnectionManager {
    target: DatabaseTarget,
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        self.target.establish().map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        // `is_broken` is true while a transaction is open or after a failed rollback.
        std::thread::panicking() || conn.is_broken()
    }
}

/// Applies the per-connection settings when the pool opens a connection.
#[derive(Debug)]
struct SessionSettings {
    sqlite_busy_timeout: Duration,
}

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        let sql = match conn {
            DbConnection::Sqlite(_) => format!(
                "PRAGMA busy_timeout = {};\
                 PRAGMA journal_mode = WAL;\
                 PRAGMA synchronous = FULL;\
                 PRAGMA foreign_keys = ON;",
                self.sqlite_busy_timeout.as_millis()
            ),
            DbConnection::Postgresql(_) => "SET synchronous_commit = on; SET TIME ZONE 'UTC';".to_owned(),
        };
        conn.batch_execute(&sql).map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Sends the pool's background connection errors to tracing instead of the `log` crate.
#[derive(Debug)]
struct TracingErrorHandler;

impl HandleError<diesel::r2d2::Error> for TracingErrorHandler {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        tracing::warn!(error = %error, "database pool could not open or keep a connection");
    }
}

/// Builds the pool and opens its `min_idle` connections, failing if they cannot be opened within the
/// timeout.
pub(crate) fn build(target: DatabaseTarget, options: &PoolOptions) -> Result<DbPool, StorageError> {
    target.prepare()?;
    Pool::builder()
        .max_size(options.max_size)
        .min_idle(Some(options.min_idle))
        .connection_timeout(options.connect_timeout)
        .test_on_check_out(true)
        .connection_customizer(Box::new(SessionSettings { sqlite_busy_timeout: options.sqlite_busy_timeout }))
        .error_handler(Box::new(TracingErrorHandler))
        .build(ConnectionManager { target })
        .map_err(StorageError::from_pool)
}
