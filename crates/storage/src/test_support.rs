//! Helpers for tests of this and other crates (feature `test-support`): a throw-away PostgreSQL schema
//! per test, a temporary SQLite file, and the rule for when PostgreSQL tests may be skipped.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

/// Environment variable naming the PostgreSQL server for tests, e.g. `postgres://postgres@127.0.0.1:5432/test`.
pub const DATABASE_URL_VAR: &str = "HOTLINE_TEST_DATABASE_URL";

/// What a PostgreSQL test prints when it skips itself.
pub const SKIP_MESSAGE: &str = "skipped: set HOTLINE_TEST_DATABASE_URL to run PostgreSQL tests";

/// The PostgreSQL server for tests, or `None` locally; in CI (`CI=true`) a missing URL panics, because a
/// skipped PostgreSQL test there would hide a failure.
pub fn postgres_base_url() -> Option<String> {
    match std::env::var(DATABASE_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|ci| ci == "true") => panic!(
            "{DATABASE_URL_VAR} is not set but CI=true: PostgreSQL tests must run in CI \
             (set it to e.g. postgres://postgres@127.0.0.1:5432/test)"
        ),
        _ => None,
    }
}

/// A PostgreSQL schema of its own for one test, dropped (CASCADE) when this guard is dropped.
///
/// Keep it alive longer than every pool using [`PgSchema::url`] (declare it first, or make it the last
/// field of a test app) so the drop does not race open connections.
#[derive(Debug)]
pub struct PgSchema {
    /// Connection URL whose sessions use this schema as `search_path`.
    pub url: String,
    /// The schema's name, `hl_test_<uuid>`.
    pub name: String,
    base_url: String,
}

impl PgSchema {
    /// Creates `hl_test_<uuid>` on the server at `base_url` and returns a guard with a URL that uses it.
    pub fn create(base_url: &str) -> Result<PgSchema, diesel::ConnectionError> {
        let name = format!("hl_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = PgConnection::establish(base_url)?;
        conn.batch_execute(&format!("CREATE SCHEMA {name}"))
            .map_err(|e| diesel::ConnectionError::BadConnection(format!("CREATE SCHEMA {name}: {e}")))?;
        let separator = if base_url.contains('?') { '&' } else { '?' };
        // libpq: options=-c search_path=<name>, percent-encoded.
        let url = format!("{base_url}{separator}options=-c%20search_path%3D{name}");
        Ok(PgSchema { url, name, base_url: base_url.to_owned() })
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        // Best effort: a leftover schema only costs disk space on a test server.
        if let Ok(mut conn) = PgConnection::establish(&self.base_url) {
            let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

/// A temporary directory and a `sqlite://` URL for a database file inside it (deleted with the directory).
pub fn sqlite_temp() -> (tempfile::TempDir, String) {
    let dir = tempfile::Builder::new()
        .prefix("hotline-test-")
        .tempdir()
        .expect("cannot create a temporary directory for a SQLite test database");
    let url = format!("sqlite://{}", dir.path().join("hotline.db").display());
    (dir, url)
}
