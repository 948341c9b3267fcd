//! `Storage::write`: serialised read-then-write increments, rollback on error, and no broken
//! connection ever going back to the pool.

use diesel::connection::{SimpleConnection, TransactionManager};
use diesel::prelude::*;
use hotline_storage::schema::{api_tokens, ticket_counters};
use hotline_storage::{DbConnection, PoolOptions, Storage, StorageError};

use crate::helpers;

const YEAR: i32 = 2026;
const INCREMENTS_PER_THREAD: i64 = 200;

/// Reads the counter, then writes it + 1: the pattern that loses updates without the write lock.
fn next_seq(conn: &mut DbConnection) -> Result<i64, StorageError> {
    let query = ticket_counters::table.find(YEAR).select(ticket_counters::last_seq);
    let current: i64 = match conn {
        // READ COMMITTED: lock the row we are about to update.
        DbConnection::Postgresql(pg) => query.for_update().first(pg)?,
        // BEGIN IMMEDIATE already holds the database's write lock.
        DbConnection::Sqlite(lite) => query.first(lite)?,
    };
    diesel::update(ticket_counters::table.find(YEAR))
        .set(ticket_counters::last_seq.eq(current + 1))
        .execute(conn)?;
    Ok(current + 1)
}

/// The year's counter at 0, for the increment tests.
fn create_counter(storage: &Storage) {
    storage
        .write(|conn| {
            diesel::insert_into(ticket_counters::table)
                .values((ticket_counters::year.eq(YEAR), ticket_counters::last_seq.eq(0_i64)))
                .execute(conn)?;
            Ok::<_, StorageError>(())
        })
        .expect("create the counter");
}

fn concurrent_read_then_write_increments_are_serialised(storage: &Storage) {
    create_counter(storage);

    let results: Vec<Result<i64, StorageError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                scope
                    .spawn(|| (0..INCREMENTS_PER_THREAD).map(|_| storage.write(next_seq)).collect::<Vec<_>>())
            })
            .collect();
        workers.into_iter().flat_map(|worker| worker.join().expect("worker panicked")).collect()
    });

    let errors: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(errors.is_empty(), "{} errors, first: {:?}", errors.len(), errors.first());
    let mut issued: Vec<i64> = results.into_iter().flatten().collect();
    issued.sort_unstable();
    let expected: Vec<i64> = (1..=2 * INCREMENTS_PER_THREAD).collect();
    assert_eq!(issued, expected, "sequence numbers must be unique and gap-free");
    let last = storage
        .read(|conn| {
            Ok(ticket_counters::table.find(YEAR).select(ticket_counters::last_seq).first::<i64>(conn)?)
        })
        .expect("read the counter");
    assert_eq!(last, 2 * INCREMENTS_PER_THREAD);
}

#[test]
fn sqlite_concurrent_read_then_write_increments_are_serialised() {
    concurrent_read_then_write_increments_are_serialised(&helpers::sqlite().storage);
}

#[test]
fn postgres_concurrent_read_then_write_increments_are_serialised() {
    let Some(db) = helpers::postgres() else {
        return;
    };
    concurrent_read_then_write_increments_are_serialised(&db.storage);
}

/// Eight writers at once, each holding the write lock for 60 ms, forty writes in all (2.4 s of work)
/// with a one-second busy timeout: queued in order, none waits more than seven turns (~0.4 s), so every
/// write succeeds. Left to SQLite's busy handler (sleep and retry), some writers lose the lock again and
/// again and time out with "database is locked".
#[test]
fn sqlite_writers_wait_their_turn_in_order_instead_of_timing_out() {
    let options = PoolOptions {
        max_size: 8,
        sqlite_busy_timeout: std::time::Duration::from_millis(1000),
        ..PoolOptions::default()
    };
    let db = helpers::sqlite_with(options);
    let storage = &db.storage;
    create_counter(storage);
    let slow_next_seq = |conn: &mut DbConnection| {
        let issued = next_seq(conn)?;
        std::thread::sleep(std::time::Duration::from_millis(60));
        Ok::<_, StorageError>(issued)
    };
    let results: Vec<Result<i64, StorageError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| (0..5).map(|_| storage.write(slow_next_seq)).collect::<Vec<_>>()))
            .collect();
        workers.into_iter().flat_map(|worker| worker.join().expect("worker panicked")).collect()
    });
    let errors: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(errors.is_empty(), "{} of 40 writes failed, first: {:?}", errors.len(), errors.first());
    let mut issued: Vec<i64> = results.into_iter().flatten().collect();
    issued.sort_unstable();
    assert_eq!(issued, (1..=40).collect::<Vec<i64>>());
}

fn token_count(storage: &Storage) -> i64 {
    storage.read(|conn| Ok(api_tokens::table.count().get_result::<i64>(conn)?)).expect("count tokens")
}

/// One connection in the pool, so the next write reuses (or replaces) the one under test.
fn single_connection() -> PoolOptions {
    PoolOptions { max_size: 1, ..PoolOptions::default() }
}

fn write_rolls_back_when_the_closure_fails(storage: &Storage) {
    let error = storage
        .write(|conn| {
            helpers::insert_token(conn, "tok-rolled-back")?;
            Err::<(), _>(StorageError::Conflict("version mismatch".to_owned()))
        })
        .expect_err("closure error is returned");
    storage
        .write(|conn| helpers::insert_token(conn, "tok-kept"))
        .expect("the connection is usable afterwards");

    assert!(matches!(error, StorageError::Conflict(m) if m == "version mismatch"));
    assert_eq!(token_count(storage), 1);
}

#[test]
fn sqlite_write_rolls_back_when_the_closure_fails() {
    write_rolls_back_when_the_closure_fails(&helpers::sqlite_with(single_connection()).storage);
}

#[test]
fn postgres_write_rolls_back_when_the_closure_fails() {
    let Some(db) = helpers::postgres_with(single_connection()) else {
        return;
    };
    write_rolls_back_when_the_closure_fails(&db.storage);
}

fn connection_left_in_a_transaction_is_not_reused(storage: &Storage) {
    // The closure opens a savepoint and fails: the ROLLBACK that follows only undoes the savepoint,
    // so the connection is still inside the outer transaction and must not go back to the pool.
    let error = storage
        .write(|conn| {
            helpers::insert_token(conn, "tok-rolled-back")?;
            <DbConnection as TransactionManager<DbConnection>>::begin_transaction(conn)?;
            Err::<(), _>(StorageError::Other("closure failed".to_owned()))
        })
        .expect_err("closure error is returned");
    // A rollback that fails after SQL ended the transaction behind diesel's back.
    let error_after_commit = storage
        .write(|conn| {
            helpers::insert_token(conn, "tok-committed-behind-our-back")?;
            conn.batch_execute("COMMIT")?;
            Err::<(), _>(StorageError::Other("closure failed".to_owned()))
        })
        .expect_err("closure error is returned");
    let next = storage.write(|conn| helpers::insert_token(conn, "tok-next"));

    assert!(matches!(error, StorageError::Other(m) if m == "closure failed"));
    assert!(matches!(error_after_commit, StorageError::Other(m) if m == "closure failed"));
    assert!(next.is_ok(), "a connection in a transaction was reused: {next:?}");
    assert_eq!(token_count(storage), 2, "tok-committed-behind-our-back and tok-next");
}

#[test]
fn sqlite_connection_left_in_a_transaction_is_not_reused() {
    connection_left_in_a_transaction_is_not_reused(&helpers::sqlite_with(single_connection()).storage);
}

#[test]
fn postgres_connection_left_in_a_transaction_is_not_reused() {
    let Some(db) = helpers::postgres_with(single_connection()) else {
        return;
    };
    connection_left_in_a_transaction_is_not_reused(&db.storage);
}

fn expected_error_inside_a_nested_transaction_keeps_the_rest(storage: &Storage) {
    storage
        .write(|conn| {
            helpers::insert_token(conn, "tok-1")?;
            let duplicate = conn.transaction(|conn| helpers::insert_token(conn, "tok-1"));
            assert!(matches!(duplicate, Err(StorageError::Conflict(_))), "{duplicate:?}");
            helpers::insert_token(conn, "tok-2")
        })
        .expect("the savepoint absorbs the expected error");

    assert_eq!(token_count(storage), 2);
}

#[test]
fn sqlite_expected_error_inside_a_nested_transaction_keeps_the_rest() {
    expected_error_inside_a_nested_transaction_keeps_the_rest(&helpers::sqlite().storage);
}

#[test]
fn postgres_expected_error_inside_a_nested_transaction_keeps_the_rest() {
    let Some(db) = helpers::postgres() else { return };
    expected_error_inside_a_nested_transaction_keeps_the_rest(&db.storage);
}

#[test]
fn postgres_write_fails_when_the_closure_swallowed_a_database_error() {
    let Some(db) = helpers::postgres() else { return };

    let result = db.storage.write(|conn| {
        helpers::insert_token(conn, "tok-1")?;
        // Aborts the PostgreSQL transaction; ignoring it must not look like success.
        let _ignored = helpers::insert_token(conn, "tok-1");
        Ok::<_, StorageError>(())
    });

    assert!(
        matches!(&result, Err(StorageError::Other(m)) if m.contains("nothing was written")),
        "{result:?}"
    );
    assert_eq!(token_count(&db.storage), 0);
}

fn nested_transaction_left_open_is_an_error_not_a_silent_rollback(storage: &Storage) {
    let result = storage.write(|conn| {
        helpers::insert_token(conn, "tok-1")?;
        <DbConnection as TransactionManager<DbConnection>>::begin_transaction(conn)?;
        Ok::<_, StorageError>(())
    });

    assert!(
        matches!(&result, Err(StorageError::Other(m)) if m.contains("nothing was written")),
        "{result:?}"
    );
    assert_eq!(token_count(storage), 0);
}

#[test]
fn sqlite_nested_transaction_left_open_is_an_error_not_a_silent_rollback() {
    nested_transaction_left_open_is_an_error_not_a_silent_rollback(&helpers::sqlite().storage);
}

#[test]
fn postgres_nested_transaction_left_open_is_an_error_not_a_silent_rollback() {
    let Some(db) = helpers::postgres() else { return };
    nested_transaction_left_open_is_an_error_not_a_silent_rollback(&db.storage);
}
