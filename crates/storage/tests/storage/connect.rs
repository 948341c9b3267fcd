//! Choosing the backend from the URL, per-connection settings, readiness and timestamps.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use hotline_storage::schema::api_tokens;
use hotline_storage::{Backend, PoolOptions, Storage, StorageError, db_time, test_support, utc};

use crate::helpers;

fn connect_error(url: &str) -> StorageError {
    Storage::connect(url, PoolOptions { connect_timeout: Duration::from_secs(1), ..PoolOptions::default() })
        .expect_err("connect should fail")
}

#[test]
fn connect_rejects_an_unknown_scheme_and_names_the_accepted_ones() {
    let error = connect_error("mysql://root@localhost/hotline");

    let StorageError::Other(message) = error else {
        panic!("expected Other, got {error:?}");
    };
    assert!(message.contains("\"mysql\""), "{message}");
    for accepted in ["sqlite://", "sqlite:", "postgres://", "postgresql://"] {
        assert!(message.contains(accepted), "{message} should name {accepted}");
    }
}

#[test]
fn connect_never_turns_a_conninfo_string_into_a_sqlite_file() {
    let conninfo = "host=127.0.0.1 dbname=hotline_conninfo_probe";

    let error = connect_error(conninfo);

    assert!(matches!(error, StorageError::Other(_)), "{error:?}");
    assert!(!std::path::Path::new(conninfo).exists(), "a SQLite file was created");
}

#[test]
fn connect_rejects_in_memory_and_empty_sqlite_paths() {
    for url in ["sqlite::memory:", "sqlite://:memory:", "sqlite://", "sqlite:"] {
        let error = connect_error(url);
        assert!(matches!(error, StorageError::Other(_)), "{url}: {error:?}");
    }
}

#[test]
fn connect_creates_the_missing_parent_directory_of_a_sqlite_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nested = dir.path().join("a").join("b");
    for (url, file) in [
        (format!("sqlite://{}/one.db", nested.display()), "one.db"),
        (format!("sqlite:{}/two.db", nested.display()), "two.db"),
    ] {
        let storage = Storage::connect(&url, PoolOptions::default()).expect("connect");
        storage.ping().expect("ping");

        assert_eq!(storage.backend(), Backend::Sqlite);
        assert!(nested.join(file).is_file(), "{url}");
    }
}

#[test]
fn unreachable_database_server_is_reported_unavailable() {
    let error = connect_error("postgres://postgres@127.0.0.1:1/hotline");

    assert!(matches!(error, StorageError::Unavailable(_)), "{error:?}");
}

#[derive(QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = Text)]
    journal_mode: String,
}

#[derive(QueryableByName)]
struct Synchronous {
    #[diesel(sql_type = BigInt)]
    synchronous: i64,
}

#[derive(QueryableByName)]
struct ForeignKeys {
    #[diesel(sql_type = BigInt)]
    foreign_keys: i64,
}

#[derive(QueryableByName)]
struct BusyTimeout {
    #[diesel(sql_type = BigInt)]
    timeout: i64,
}

#[test]
fn sqlite_connections_use_wal_full_sync_foreign_keys_and_the_busy_timeout() {
    let db = helpers::sqlite_with(PoolOptions {
        max_size: 2,
        sqlite_busy_timeout: Duration::from_millis(1234),
        ..PoolOptions::default()
    });

    let (journal, sync, fk, busy) = db
        .storage
        .read(|conn| {
            Ok((
                diesel::sql_query("PRAGMA journal_mode").get_result::<JournalMode>(conn)?,
                diesel::sql_query("PRAGMA synchronous").get_result::<Synchronous>(conn)?,
                diesel::sql_query("PRAGMA foreign_keys").get_result::<ForeignKeys>(conn)?,
                diesel::sql_query("PRAGMA busy_timeout").get_result::<BusyTimeout>(conn)?,
            ))
        })
        .expect("read pragmas");

    assert_eq!(journal.journal_mode, "wal");
    assert_eq!(sync.synchronous, 2, "synchronous = FULL");
    assert_eq!(fk.foreign_keys, 1);
    assert_eq!(busy.timeout, 1234);
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    setting: String,
}

#[test]
fn postgres_connections_commit_synchronously_in_utc() {
    let Some(db) = helpers::postgres() else {
        return;
    };

    let (sync, zone) = db
        .storage
        .read(|conn| {
            let show = |name: &str| format!("SELECT current_setting('{name}') AS setting");
            Ok((
                diesel::sql_query(show("synchronous_commit")).get_result::<Setting>(conn)?,
                diesel::sql_query(show("TimeZone")).get_result::<Setting>(conn)?,
            ))
        })
        .expect("read settings");

    assert_eq!(db.storage.backend(), Backend::Postgres);
    assert_eq!(sync.setting, "on");
    assert_eq!(zone.setting, "UTC");
}

#[test]
fn postgres_test_schema_url_sets_the_search_path() {
    let Some(schema) = helpers::postgres_schema() else {
        return;
    };
    let storage = Storage::connect(&schema.url, PoolOptions::default()).expect("connect");

    let current = storage
        .read(|conn| {
            Ok(diesel::sql_query("SELECT current_schema()::text AS setting").get_result::<Setting>(conn)?)
        })
        .expect("current_schema");

    assert_eq!(current.setting, schema.name);
}

#[test]
fn run_migrations_returns_the_applied_names_then_nothing() {
    let (_dir, url) = test_support::sqlite_temp();
    let storage = Storage::connect(&url, PoolOptions::default()).expect("connect");

    let first = storage.run_migrations().expect("first run");
    let second = storage.run_migrations().expect("second run");

    assert_eq!(
        first,
        [
            "2026-11-21-000001_registry",
            "2026-11-21-000002_api_tokens",
            "2026-11-21-000003_tickets",
            "2026-11-21-000004_idempotency",
            "2026-11-21-000005_ticket_lifecycle",
            "2026-11-21-000006_outbox",
            "2026-11-21-000007_webhooks",
            "2026-12-01-000008_registry_search",
            "2026-12-01-000009_support_payments",
            "2026-12-01-000011_repeat_caller_indexes",
            "2026-12-01-000012_ticket_list",
            "2026-12-01-000013_membership_periods",
            "2026-12-01-000014_personal_data",
            "2026-12-01-000015_event_texts",
            "2026-12-01-000016_scale_indexes",
            "2026-12-01-000020_report_indexes",
        ]
    );
    assert!(second.is_empty(), "{second:?}");
}

fn instants_round_trip_at_microsecond_precision(storage: &Storage) {
    let written = Utc.with_ymd_and_hms(2026, 11, 21, 9, 30, 15).single().expect("valid instant")
        + chrono::Duration::nanoseconds(123_456_789);

    let read = storage
        .write(|conn| {
            helpers::insert_token(conn, "tok-time")?;
            diesel::update(api_tokens::table.find("tok-time"))
                .set(api_tokens::revoked_at.eq(db_time(written)))
                .execute(conn)?;
            Ok::<_, StorageError>(
                api_tokens::table
                    .find("tok-time")
                    .select(api_tokens::revoked_at)
                    .first::<Option<chrono::NaiveDateTime>>(conn)?,
            )
        })
        .expect("write and read back");

    let expected = Utc.with_ymd_and_hms(2026, 11, 21, 9, 30, 15).single().expect("valid instant")
        + chrono::Duration::microseconds(123_456);
    assert_eq!(read.map(utc), Some(expected));
    storage.ping().expect("ping");
}

#[test]
fn sqlite_instants_round_trip_at_microsecond_precision() {
    instants_round_trip_at_microsecond_precision(&helpers::sqlite().storage);
}

#[test]
fn postgres_instants_round_trip_at_microsecond_precision() {
    let Some(db) = helpers::postgres() else {
        return;
    };
    instants_round_trip_at_microsecond_precision(&db.storage);
}
