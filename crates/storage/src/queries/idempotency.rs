//! Stored responses of keyed POSTs, written in the same transaction as the write they answer.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::idempotency_keys;
use crate::{DbConnection, MultiBackend, StorageError, db_time, utc};

/// One stored response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// Keys are scoped per token.
    pub token_id: Uuid,
    /// The client's key.
    pub key: String,
    /// Fingerprint of method, path and body.
    pub request_hash: String,
    /// HTTP status of the original response.
    pub status_code: i32,
    /// Body of the original response.
    pub response_body: String,
    /// `Location` of the original response.
    pub location: Option<String>,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
#[diesel(check_for_backend(MultiBackend))]
struct IdempotencyRow {
    token_id: String,
    idempotency_key: String,
    request_hash: String,
    status_code: i32,
    response_body: String,
    location: Option<String>,
    created_at: NaiveDateTime,
}

/// The stored response for a token's key, if any.
pub fn find(
    conn: &mut DbConnection,
    token_id: Uuid,
    key: &str,
) -> Result<Option<IdempotencyRecord>, StorageError> {
    let row = idempotency_keys::table
        .find((token_id.to_string(), key))
        .select(IdempotencyRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(|row| IdempotencyRecord {
        token_id,
        key: row.idempotency_key,
        request_hash: row.request_hash,
        status_code: row.status_code,
        response_body: row.response_body,
        location: row.location,
        created_at: utc(row.created_at),
    }))
}

/// Stores a response; a concurrent request with the same key makes this fail with `Conflict`.
pub fn insert(conn: &mut DbConnection, record: &IdempotencyRecord) -> Result<(), StorageError> {
    let row = IdempotencyRow {
        token_id: record.token_id.to_string(),
        idempotency_key: record.key.clone(),
        request_hash: record.request_hash.clone(),
        status_code: record.status_code,
        response_body: record.response_body.clone(),
        location: record.location.clone(),
        created_at: db_time(record.created_at),
    };
    diesel::insert_into(idempotency_keys::table).values(&row).execute(conn)?;
    Ok(())
}

/// Forgets responses older than `before`; returns how many.
pub fn purge_older_than(conn: &mut DbConnection, before: DateTime<Utc>) -> Result<usize, StorageError> {
    Ok(diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(db_time(before))))
        .execute(conn)?)
}
