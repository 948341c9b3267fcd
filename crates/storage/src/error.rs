//! The storage error type and the one place where database, pool and migration errors are classified.
//!
//! Callers map [`StorageError`] once more at the API edge (404 / 409 / 503 / 500); nothing here ever
//! turns an error into [`StorageError::NotFound`] unless the database said "no row".

use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind, Error as DieselError};

/// What went wrong in storage, classified by what a caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The query expected a row and the database had none.
    #[error("not found")]
    NotFound,
    /// A constraint or a concurrent transaction refused the write; the message names the constraint.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database cannot be reached or is not accepting writes right now; retrying later may work.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug, a bad configuration, a failed migration.
    #[error("storage error: {0}")]
    Other(String),
}

impl StorageError {
    /// Classifies a diesel error; the single mapping used by the whole service.
    pub fn from_diesel(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => StorageError::NotFound,
            DieselError::DatabaseError(kind, info) => from_database_error(kind, info.as_ref()),
            DieselError::RollbackErrorOnCommit { commit_error, .. } => {
                // The commit failure is the cause; the connection is already marked broken.
                StorageError::from_diesel(*commit_error)
            }
            DieselError::BrokenTransactionManager => StorageError::Unavailable(
                "the connection's transaction state is broken (lost connection?)".to_owned(),
            ),
            other => StorageError::Other(other.to_string()),
        }
    }

    /// Classifies a pool error: r2d2 reports only a message, and every pool failure means "no connection".
    pub fn from_pool(error: diesel::r2d2::PoolError) -> Self {
        StorageError::Unavailable(error.to_string())
    }

    /// Classifies a failure to open a connection.
    pub fn from_connection(error: diesel::ConnectionError) -> Self {
        match error {
            diesel::ConnectionError::InvalidConnectionUrl(message) => {
                StorageError::Other(format!("invalid database URL: {message}"))
            }
            other => StorageError::Unavailable(other.to_string()),
        }
    }

    /// Classifies a migration failure (always a deployment problem, never retried automatically).
    pub fn from_migration(error: &(dyn std::error::Error + Send + Sync)) -> Self {
        StorageError::Other(format!("migration failed: {error}"))
    }
}

fn from_database_error(
    kind: DatabaseErrorKind,
    info: &(dyn DatabaseErrorInformation + Send + Sync),
) -> StorageError {
    let message = describe(info);
    match kind {
        DatabaseErrorKind::UniqueViolation
        | DatabaseErrorKind::ForeignKeyViolation
        | DatabaseErrorKind::CheckViolation
        | DatabaseErrorKind::RestrictViolation
        | DatabaseErrorKind::ExclusionViolation
        | DatabaseErrorKind::SerializationFailure => StorageError::Conflict(message),
        DatabaseErrorKind::ClosedConnection
        | DatabaseErrorKind::UnableToSendCommand
        | DatabaseErrorKind::ReadOnlyTransaction => StorageError::Unavailable(message),
        _ => classify_by_message(message),
    }
}

/// Errors diesel reports as `Unknown` but which are well known: SQLite busy and read-only, PostgreSQL
/// deadlocks, server shutdown, lost connections and statement timeouts.
fn classify_by_message(message: String) -> StorageError {
    let lower = message.to_ascii_lowercase();
    const UNAVAILABLE: &[&str] = &[
        "database is locked",
        "database is busy",
        "database table is locked",
        "readonly database",
        "read-only",
        "disk i/o error",
        "database or disk is full",
        "unable to open database",
        "terminating connection",
        "server closed the connection",
        "the database system is",
        "connection to server",
        "no connection to the server",
        "could not receive data",
        "could not send data",
        "connection timed out",
        "connection reset",
        "broken pipe",
        "ssl syscall error",
        "canceling statement due to statement timeout",
        "canceling statement due to lock timeout",
    ];
    if lower.contains("deadlock detected") {
        StorageError::Conflict(message)
    } else if UNAVAILABLE.iter().any(|needle| lower.contains(needle)) {
        StorageError::Unavailable(message)
    } else {
        StorageError::Other(message)
    }
}

/// The database's message, plus the constraint name when PostgreSQL gives one.
fn describe(info: &(dyn DatabaseErrorInformation + Send + Sync)) -> String {
    match info.constraint_name() {
        Some(constraint) if !info.message().contains(constraint) => {
            format!("{} (constraint {constraint})", info.message())
        }
        _ => info.message().to_owned(),
    }
}

impl From<DieselError> for StorageError {
    fn from(error: DieselError) -> Self {
        StorageError::from_diesel(error)
    }
}

impl From<diesel::r2d2::PoolError> for StorageError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        StorageError::from_pool(error)
    }
}

impl From<diesel::ConnectionError> for StorageError {
    fn from(error: diesel::ConnectionError) -> Self {
        StorageError::from_connection(error)
    }
}

/// Whether a statement's error means its connection must not be used again: the connection is closed
/// or cannot send, or it can no longer write (a read-only SQLite file or PostgreSQL standby, an I/O
/// error). A busy database, a timeout or a constraint leaves the connection healthy.
pub fn breaks_connection(error: &DieselError) -> bool {
    match error {
        DieselError::BrokenTransactionManager => true,
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection
            | DatabaseErrorKind::UnableToSendCommand
            | DatabaseErrorKind::ReadOnlyTransaction,
            _,
        ) => true,
        DieselError::DatabaseError(_, info) => {
            let lower = info.message().to_ascii_lowercase();
            const BROKEN: &[&str] = &[
                "readonly database",
                "disk i/o error",
                "terminating connection",
                "server closed the connection",
                "connection to server",
                "no connection to the server",
                "could not receive data",
                "could not send data",
                "ssl syscall error",
                "ssl error",
                "the database system is",
                "connection timed out",
                "connection reset",
                "broken pipe",
            ];
            BROKEN.iter().any(|needle| lower.contains(needle))
        }
        _ => false,
    }
}
