//! Faults: connections killed under the pool, a read-only SQLite file, statement timeouts, a read-only
//! PostgreSQL, and readiness telling the truth about each. No statement checks a connection before it
//! is used, so these tests show that a broken connection is noticed from its error and replaced.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use hotline_storage::schema::api_tokens;
use hotline_storage::test_support::{PgSchema, ReadOnlyEpisode};
use hotline_storage::{PoolOptions, Storage, StorageError, postgres_url_with_timeouts, test_support};

use crate::helpers;

fn token_count(storage: &Storage) -> i64 {
    storage.read(|conn| Ok(api_tokens::table.count().get_result::<i64>(conn)?)).expect("count tokens")
}

#[derive(QueryableByName)]
struct Pid {
    #[diesel(sql_type = Integer)]
    pid: i32,
}

/// A migrated schema whose pool connections carry the schema's name as `application_name`, so a test
/// can find (and kill) exactly them.
fn postgres_pool(options: PoolOptions) -> Option<(Storage, PgSchema, String)> {
    let schema = helpers::postgres_schema()?;
    let url = format!("{}&application_name={}", schema.url, schema.name);
    let storage = Storage::connect(&url, options).expect("connect");
    storage.run_migrations().expect("migrate");
    let name = schema.name.clone();
    Some((storage, schema, name))
}

/// Terminates every server process of the pool named `application_name`, as a PostgreSQL restart or
/// an administrator would; returns how many.
fn kill_backends(application_name: &str) -> usize {
    let base = test_support::postgres_base_url().expect("a PostgreSQL URL");
    let mut admin = PgConnection::establish(&base).expect("an admin connection");
    diesel::sql_query(
        "SELECT pg_terminate_backend(pid)::int AS pid FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind::<Text, _>(application_name)
    .load::<Pid>(&mut admin)
    .expect("terminate")
    .len()
}

#[test]
fn postgres_killed_connections_are_replaced_without_a_failed_request() {
    let options = PoolOptions { max_size: 4, min_idle: 4, ..PoolOptions::default() };
    let Some((storage, _schema, name)) = postgres_pool(options) else { return };
    // Four connections open and idle.
    let barrier = std::sync::Barrier::new(4);
    let pids: Vec<i32> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    storage
                        .read(|conn| {
                            barrier.wait();
                            Ok(diesel::sql_query("SELECT pg_backend_pid() AS pid").get_result::<Pid>(conn)?)
                        })
                        .expect("pid")
                        .pid
                })
            })
            .collect();
        workers.into_iter().map(|worker| worker.join().expect("worker")).collect()
    });
    assert_eq!(pids.len(), 4);

    assert!(kill_backends(&name) >= 4, "the pool's four connections were terminated");
    std::thread::sleep(Duration::from_millis(100));

    // Every read and write succeeds: the first one on a dead connection is repeated on a new one, and
    // the other dead connections are retired without being tried.
    for n in 0..6 {
        storage.write(|conn| helpers::insert_token(conn, &format!("tok-{n}"))).expect("write after the kill");
        assert_eq!(token_count(&storage), n + 1);
    }
    let after: Vec<i32> = (0..4)
        .map(|_| {
            storage
                .read(|conn| Ok(diesel::sql_query("SELECT pg_backend_pid() AS pid").get_result::<Pid>(conn)?))
                .expect("pid")
                .pid
        })
        .collect();
    assert!(
        after.iter().all(|pid| !pids.contains(pid)),
        "no killed connection is reused: {pids:?} {after:?}"
    );
}

#[test]
fn postgres_a_killed_connection_inside_a_write_fails_that_write_only() {
    let options = PoolOptions { max_size: 1, ..PoolOptions::default() };
    let Some((storage, _schema, name)) = postgres_pool(options) else { return };

    let result = storage.write(|conn| {
        helpers::insert_token(conn, "tok-lost")?;
        kill_backends(&name);
        helpers::insert_token(conn, "tok-after-kill")
    });

    assert!(matches!(result, Err(StorageError::Unavailable(_))), "{result:?}");
    storage.write(|conn| helpers::insert_token(conn, "tok-next")).expect("the next write works");
    assert_eq!(token_count(&storage), 1, "only tok-next");
}

#[test]
fn postgres_statement_timeout_cancels_a_long_statement_as_unavailable() {
    let options =
        PoolOptions { max_size: 1, statement_timeout: Duration::from_millis(200), ..PoolOptions::default() };
    let Some(db) = helpers::postgres_with(options) else { return };

    let started = Instant::now();
    let result = db.storage.read(|conn| Ok(conn.batch_execute("SELECT pg_sleep(3)")?));

    assert!(
        matches!(&result, Err(StorageError::Unavailable(m)) if m.contains("statement timeout")),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2), "cancelled after {:?}", started.elapsed());
    db.storage.ping().expect("the connection is still good");
}

#[test]
fn postgres_migrations_run_without_the_statement_timeout() {
    let Some(schema) = helpers::postgres_schema() else { return };
    let options = PoolOptions { statement_timeout: Duration::from_millis(100), ..PoolOptions::default() };
    let storage = Storage::connect(&schema.url, options).expect("connect");

    let applied = storage.run_migrations().expect("migrations are not cancelled");

    assert!(!applied.is_empty());
}

#[test]
fn postgres_readiness_says_unavailable_while_the_database_is_read_only() {
    let Some(db) = helpers::postgres() else { return };
    db.storage.check_writable().expect("a primary that takes writes is ready");
    let Some(schema) = helpers::postgres_schema() else { return };
    let read_only_url = schema.url.replace(
        "options=-c%20search_path",
        "options=-c%20default_transaction_read_only%3Don%20-c%20search_path",
    );
    let read_only = Storage::connect(&read_only_url, PoolOptions::default()).expect("connect");

    let error = read_only.check_writable().expect_err("not ready");

    assert!(matches!(&error, StorageError::Unavailable(m) if m.contains("read-only")), "{error:?}");
}

#[test]
fn postgres_url_gets_connect_timeout_keepalives_and_tcp_user_timeout_unless_set() {
    let options = PoolOptions { network_timeout: Duration::from_secs(10), ..PoolOptions::default() };
    assert_eq!(
        postgres_url_with_timeouts("postgres://u@db:5432/hotline", &options),
        "postgres://u@db:5432/hotline?connect_timeout=5&keepalives=1&keepalives_idle=5\
         &keepalives_interval=1&keepalives_count=3&tcp_user_timeout=10000"
    );
    let off = PoolOptions { network_timeout: Duration::ZERO, ..PoolOptions::default() };
    assert_eq!(
        postgres_url_with_timeouts("postgres://db/h?sslmode=require&connect_timeout=30", &off),
        "postgres://db/h?sslmode=require&connect_timeout=30"
    );
}

#[test]
fn unreachable_postgres_is_refused_fast_after_the_first_failure() {
    // Nothing listens on port 1: connecting is refused at once.
    let options =
        PoolOptions { min_idle: 0, checkout_timeout: Duration::from_secs(3), ..PoolOptions::default() };
    let storage = Storage::connect("postgres://postgres@127.0.0.1:1/none", options).expect("lazy pool");
    let _first = storage.ping().expect_err("refused");

    let started = Instant::now();
    let error = storage.ping().expect_err("still refused");

    assert!(matches!(&error, StorageError::Unavailable(m) if m.contains("cannot connect")), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
}

#[test]
fn sqlite_connections_opened_while_read_only_never_serve_writes_after_the_restore() {
    let (dir, url) = test_support::sqlite_temp();
    let options = PoolOptions { max_size: 4, min_idle: 1, ..PoolOptions::default() };
    let storage = Storage::connect(&url, options.clone()).expect("connect");
    storage.run_migrations().expect("migrate");
    let file = dir.path().join("hotline.db");

    let episode = ReadOnlyEpisode::begin(&file);
    let error = storage.check_writable().expect_err("not ready while read-only");
    assert!(
        matches!(&error, StorageError::Unavailable(m) if m.contains("cannot be opened for writing")),
        "{error:?}"
    );
    let refused = Storage::connect(&url, options).expect_err("a new pool cannot open a writable connection");
    assert!(matches!(&refused, StorageError::Unavailable(_)), "{refused:?}");
    // Readers at once make the pool try to open more connections during the episode.
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                let _ = storage.read(|conn| {
                    std::thread::sleep(Duration::from_millis(150));
                    Ok(api_tokens::table.count().get_result::<i64>(conn)?)
                });
            });
        }
    });
    episode.end();

    storage.check_writable().expect("ready again after the restore");
    let results: Vec<Result<(), StorageError>> = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let storage = &storage;
                scope.spawn(move || {
                    (0..5)
                        .map(|n| storage.write(|conn| helpers::insert_token(conn, &format!("tok-{w}-{n}"))))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        writers.into_iter().flat_map(|writer| writer.join().expect("writer")).collect()
    });
    let failed: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failed.is_empty(),
        "{} of 20 writes failed after the restore: {:?}",
        failed.len(),
        failed.first()
    );
    assert_eq!(token_count(&storage), 20);
}
