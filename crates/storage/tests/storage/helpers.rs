//! Shared set-up: migrated databases on each backend and a few rows to work with.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use hotline_storage::schema::{api_tokens, ticket_events, tickets};
use hotline_storage::test_support::{self, PgSchema};
use hotline_storage::{DbConnection, PoolOptions, Storage, StorageError, db_time};

/// A migrated SQLite database in a temporary directory; the pool is dropped before the directory.
pub struct SqliteDb {
    pub storage: Storage,
    _dir: tempfile::TempDir,
}

/// A migrated PostgreSQL schema of its own; the pool is dropped before the schema.
pub struct PostgresDb {
    pub storage: Storage,
    _schema: PgSchema,
}

pub fn sqlite_with(options: PoolOptions) -> SqliteDb {
    let (dir, url) = test_support::sqlite_temp();
    let storage = Storage::connect(&url, options).expect("connect to SQLite");
    storage.run_migrations().expect("migrate SQLite");
    SqliteDb { storage, _dir: dir }
}

pub fn sqlite() -> SqliteDb {
    sqlite_with(PoolOptions::default())
}

/// An empty PostgreSQL schema (not migrated) and its URL, or `None` after printing the skip message.
pub fn postgres_schema() -> Option<PgSchema> {
    let Some(base) = test_support::postgres_base_url() else {
        println!("{}", test_support::SKIP_MESSAGE);
        return None;
    };
    Some(PgSchema::create(&base).expect("create a PostgreSQL test schema"))
}

pub fn postgres_with(options: PoolOptions) -> Option<PostgresDb> {
    let schema = postgres_schema()?;
    let storage = Storage::connect(&schema.url, options).expect("connect to PostgreSQL");
    storage.run_migrations().expect("migrate PostgreSQL");
    Some(PostgresDb { storage, _schema: schema })
}

pub fn postgres() -> Option<PostgresDb> {
    postgres_with(PoolOptions::default())
}

pub fn now() -> NaiveDateTime {
    db_time(Utc::now())
}

pub fn insert_token(conn: &mut DbConnection, id: &str) -> Result<(), StorageError> {
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::id.eq(id),
            api_tokens::name.eq(format!("token {id}")),
            api_tokens::role.eq("operator"),
            api_tokens::token_hash.eq(format!("hash-{id}")),
            api_tokens::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn insert_ticket(
    conn: &mut DbConnection,
    id: &str,
    token_id: &str,
    seq: i64,
) -> Result<(), StorageError> {
    let at = now();
    diesel::insert_into(tickets::table)
        .values((
            tickets::id.eq(id),
            tickets::reference.eq(format!("HL-2026-{seq:05}")),
            tickets::ref_year.eq(2026),
            tickets::ref_seq.eq(seq),
            tickets::status.eq("open"),
            tickets::version.eq(1_i64),
            tickets::prefecture.eq("13"),
            tickets::institution_match.eq("unmatched"),
            tickets::first_call_at.eq(at),
            tickets::summary.eq("ransomware note on reception PC"),
            tickets::created_at.eq(at),
            tickets::updated_at.eq(at),
            tickets::created_by.eq(token_id),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn insert_event(
    conn: &mut DbConnection,
    id: &str,
    ticket_id: &str,
    token_id: &str,
) -> Result<(), StorageError> {
    diesel::insert_into(ticket_events::table)
        .values((
            ticket_events::id.eq(id),
            ticket_events::ticket_id.eq(ticket_id),
            ticket_events::occurred_at.eq(now()),
            ticket_events::actor_token_id.eq(token_id),
            ticket_events::action.eq("created"),
            ticket_events::changes.eq(r#"{"status":"open"}"#),
        ))
        .execute(conn)?;
    Ok(())
}

/// A token, a ticket and one event on it: `tok-1`, `tkt-1`, `evt-1`.
pub fn seed_ticket_with_event(storage: &Storage) {
    storage
        .write(|conn| {
            insert_token(conn, "tok-1")?;
            insert_ticket(conn, "tkt-1", "tok-1", 1)?;
            insert_event(conn, "evt-1", "tkt-1", "tok-1")
        })
        .expect("seed a ticket with an event");
}
