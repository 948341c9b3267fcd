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

/// A read-only episode of a SQLite database file, undone when dropped: the file and its directory can
/// no longer be written, as after a permissions mistake or a read-only remount. As a normal user this
/// is `chmod` (file 0444, directory 0555); as root, whom permissions do not stop, the file and the
/// directory are made immutable with `chattr +i` instead (needs a file system with that attribute,
/// such as ext4, and CAP_LINUX_IMMUTABLE). Either way the episode is checked to be real — the file
/// cannot be opened for writing — and a test panics rather than pass without one.
#[derive(Debug)]
pub struct ReadOnlyEpisode {
    file: std::path::PathBuf,
    dir: std::path::PathBuf,
    immutable: bool,
}

impl ReadOnlyEpisode {
    /// Makes `file` (a SQLite database) and its directory read-only.
    pub fn begin(file: &std::path::Path) -> ReadOnlyEpisode {
        use std::os::unix::fs::PermissionsExt;
        let dir = file.parent().expect("the database file has a directory").to_path_buf();
        let mut episode = ReadOnlyEpisode { file: file.to_path_buf(), dir, immutable: false };
        let set = |path: &std::path::Path, mode: u32| {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        };
        set(&episode.file, 0o444);
        set(&episode.dir, 0o555);
        if episode.writable() {
            // Root: permissions do not apply; make both immutable instead.
            set(&episode.dir, 0o755);
            set(&episode.file, 0o644);
            episode.immutable = true;
            assert!(episode.chattr("+i"), "chattr +i {} failed", episode.file.display());
        }
        assert!(
            !episode.writable(),
            "could not make {} read-only (neither chmod nor chattr +i stops writes here)",
            file.display()
        );
        episode
    }

    fn writable(&self) -> bool {
        std::fs::OpenOptions::new().write(true).open(&self.file).is_ok()
    }

    fn chattr(&self, flag: &str) -> bool {
        std::process::Command::new("chattr")
            .arg(flag)
            .arg(&self.file)
            .arg(&self.dir)
            .status()
            .is_ok_and(|status| status.success())
    }

    /// Ends the episode: the file and directory are writable again.
    pub fn end(self) {}
}

impl Drop for ReadOnlyEpisode {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        if self.immutable {
            let _ = self.chattr("-i");
        } else {
            let _ = std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o755));
            let _ = std::fs::set_permissions(&self.file, std::fs::Permissions::from_mode(0o644));
        }
    }
}
