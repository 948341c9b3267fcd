//! The multi-backend connection type and the choice of backend from a database URL.
//!
//! `#[derive(diesel::MultiConnection)]` adds items (`MultiBackend`, `MultiRow`, …) to the module it is
//! in, so the enum lives in the private `multi` module and is re-exported from here. The derived
//! `establish()` tries each backend in turn, hides the real error and accepts any string as a SQLite
//! path; we never call it. `DatabaseTarget::parse` picks the backend from the URL scheme instead.

use std::path::PathBuf;

use diesel::{Connection, PgConnection, SqliteConnection};

use crate::error::StorageError;

mod multi {
    /// One connection to either backend; queries written against it run on both.
    #[derive(diesel::MultiConnection)]
    pub enum DbConnection {
        /// A PostgreSQL connection.
        Postgresql(diesel::PgConnection),
        /// A SQLite connection.
        Sqlite(diesel::SqliteConnection),
    }
}

pub use multi::{DbConnection, MultiBackend};

/// Which database a [`crate::Storage`] talks to; dialect-specific code matches on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file (single-node deployments, development, tests).
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backend a connection belongs to.
    pub fn of(conn: &DbConnection) -> Backend {
        match conn {
            DbConnection::Sqlite(_) => Backend::Sqlite,
            DbConnection::Postgresql(_) => Backend::Postgres,
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// A parsed database URL: what to open, on which backend.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum DatabaseTarget {
    /// Path of a SQLite database file.
    Sqlite(PathBuf),
    /// A libpq connection URL.
    Postgres(String),
}

impl std::fmt::Debug for DatabaseTarget {
    // The PostgreSQL URL may carry a password: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseTarget::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            DatabaseTarget::Postgres(_) => f.write_str("Postgres(..)"),
        }
    }
}

const ACCEPTED: &str = "sqlite://<path>, sqlite:<path>, postgres://… or postgresql://…";

impl DatabaseTarget {
    /// Chooses the backend from the URL scheme; anything unrecognised is an error, never a SQLite file.
    pub(crate) fn parse(url: &str) -> Result<DatabaseTarget, StorageError> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseTarget::Postgres(url.to_owned()));
        }
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"));
        match path {
            Some("") => Err(StorageError::Other(format!(
                "database URL {url:?} has no SQLite file path; expected {ACCEPTED}"
            ))),
            Some(":memory:") => Err(StorageError::Other(
                "in-memory SQLite is not supported (each pooled connection would get its own \
                 database); use a file path"
                    .to_owned(),
            )),
            Some(path) => Ok(DatabaseTarget::Sqlite(PathBuf::from(path))),
            None => {
                let scheme = url.split_once(':').map_or("<none>", |(scheme, _)| scheme);
                Err(StorageError::Other(format!(
                    "unsupported database URL scheme {scheme:?}; expected {ACCEPTED}"
                )))
            }
        }
    }

    /// The backend this target is on.
    pub(crate) fn backend(&self) -> Backend {
        match self {
            DatabaseTarget::Sqlite(_) => Backend::Sqlite,
            DatabaseTarget::Postgres(_) => Backend::Postgres,
        }
    }

    /// Creates the SQLite file's parent directory if it is missing (nothing to do for PostgreSQL).
    pub(crate) fn prepare(&self) -> Result<(), StorageError> {
        let DatabaseTarget::Sqlite(path) = self else {
            return Ok(());
        };
        if path.starts_with("file:") {
            // A SQLite URI (`file:…?mode=…`): SQLite resolves it, we do not guess a directory.
            return Ok(());
        }
        match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() && !dir.exists() => std::fs::create_dir_all(dir)
                .map_err(|e| {
                    StorageError::Other(format!(
                        "cannot create directory {} for the SQLite database: {e}",
                        dir.display()
                    ))
                }),
            _ => Ok(()),
        }
    }

    /// Opens one connection of the right variant.
    pub(crate) fn establish(&self) -> diesel::ConnectionResult<DbConnection> {
        match self {
            DatabaseTarget::Sqlite(path) => {
                let path = path.to_str().ok_or_else(|| {
                    diesel::ConnectionError::InvalidConnectionUrl(format!(
                        "SQLite path {} is not valid UTF-8",
                        path.display()
                    ))
                })?;
                SqliteConnection::establish(path).map(DbConnection::Sqlite)
            }
            DatabaseTarget::Postgres(url) => PgConnection::establish(url).map(DbConnection::Postgresql),
        }
    }
}
