//! API tokens: only a SHA-256 of each secret is stored; revoked tokens stay for the audit trail.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use hotline_domain::role::Role;
use uuid::Uuid;

use crate::columns::{DbOptTime, DbOptUuid, DbRole, DbTime, DbUuid};
use crate::schema::api_tokens;
use crate::{DbConnection, MultiBackend, StorageError};

/// A token as stored, without its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Row id; recorded as the actor of every write.
    pub id: Uuid,
    /// Human name, e.g. the desk or person it belongs to.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// The admin token that made it; `None` when made with the CLI.
    pub created_by: Option<Uuid>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A token to insert.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// Row id (UUID v7).
    pub id: Uuid,
    /// Human name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// SHA-256 hex of the secret.
    pub token_hash: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Creating admin token, if any.
    pub created_by: Option<Uuid>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_tokens)]
#[diesel(check_for_backend(MultiBackend))]
struct TokenRow {
    #[diesel(deserialize_as = DbUuid, serialize_as = DbUuid)]
    id: Uuid,
    name: String,
    #[diesel(deserialize_as = DbRole, serialize_as = DbRole)]
    role: Role,
    token_hash: String,
    #[diesel(deserialize_as = DbTime, serialize_as = DbTime)]
    created_at: DateTime<Utc>,
    #[diesel(deserialize_as = DbOptUuid, serialize_as = DbOptUuid)]
    created_by: Option<Uuid>,
    #[diesel(deserialize_as = DbOptTime, serialize_as = DbOptTime)]
    revoked_at: Option<DateTime<Utc>>,
}

impl From<TokenRow> for TokenRecord {
    fn from(row: TokenRow) -> Self {
        TokenRecord {
            id: row.id,
            name: row.name,
            role: row.role,
            created_at: row.created_at,
            created_by: row.created_by,
            revoked_at: row.revoked_at,
        }
    }
}

/// An instant as the database keeps it (microseconds), so a record built before the write equals
/// the one read back.
fn stored(at: DateTime<Utc>) -> DateTime<Utc> {
    crate::utc(crate::db_time(at))
}

/// Stores a new token.
pub fn create(conn: &mut DbConnection, token: &NewToken) -> Result<TokenRecord, StorageError> {
    let row = TokenRow {
        id: token.id,
        name: token.name.clone(),
        role: token.role,
        token_hash: token.token_hash.clone(),
        created_at: stored(token.created_at),
        created_by: token.created_by,
        revoked_at: None,
    };
    diesel::insert_into(api_tokens::table).values(row.clone()).execute(conn)?;
    Ok(row.into())
}

/// The unrevoked token with this hash, if any: what authentication asks on every request.
pub fn find_active_by_hash(conn: &mut DbConnection, hash: &str) -> Result<Option<TokenRecord>, StorageError> {
    Ok(api_tokens::table
        .filter(api_tokens::token_hash.eq(hash))
        .filter(api_tokens::revoked_at.is_null())
        .select(TokenRow::as_select())
        .first(conn)
        .optional()?
        .map(TokenRecord::from))
}

/// All tokens, oldest first; built-in actors (see [`ensure_system_actor`]) are not tokens and are left out.
pub fn list(conn: &mut DbConnection) -> Result<Vec<TokenRecord>, StorageError> {
    Ok(api_tokens::table
        .filter(api_tokens::token_hash.not_like(format!("{SYSTEM_HASH_PREFIX}%")))
        .order((api_tokens::created_at.asc(), api_tokens::id.asc()))
        .select(TokenRow::as_select())
        .load(conn)?
        .into_iter()
        .map(TokenRecord::from)
        .collect())
}

/// Why a token cannot be revoked.
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    /// No such token.
    #[error("token not found")]
    NotFound,
    /// Nobody could manage tokens afterwards without shell access.
    #[error("the last active admin token cannot be revoked")]
    LastAdmin,
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<diesel::result::Error> for RevokeError {
    fn from(error: diesel::result::Error) -> Self {
        match error {
            diesel::result::Error::NotFound => Self::NotFound,
            other => Self::Storage(other.into()),
        }
    }
}

/// Revokes a token (keeping the first revocation time if already revoked). The last active admin
/// token cannot be revoked: nobody could manage tokens afterwards without shell access.
pub fn revoke(conn: &mut DbConnection, id: Uuid, at: DateTime<Utc>) -> Result<TokenRecord, RevokeError> {
    let target: TokenRecord =
        api_tokens::table.find(DbUuid(id)).select(TokenRow::as_select()).first(conn)?.into();
    if target.role == Role::Admin
        && target.revoked_at.is_none()
        && count_active_with_role(conn, Role::Admin)? <= 1
    {
        return Err(RevokeError::LastAdmin);
    }
    diesel::update(
        api_tokens::table.filter(api_tokens::id.eq(DbUuid(id))).filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(DbTime::from(at)))
    .execute(conn)?;
    Ok(api_tokens::table.find(DbUuid(id)).select(TokenRow::as_select()).first(conn)?.into())
}

/// Number of unrevoked tokens with at least this role.
pub fn count_active_with_role(conn: &mut DbConnection, role: Role) -> Result<i64, StorageError> {
    let roles: Vec<DbRole> = [Role::Operator, Role::Supervisor, Role::Admin]
        .into_iter()
        .filter(|r| r.allows(role))
        .map(DbRole)
        .collect();
    Ok(api_tokens::table
        .filter(api_tokens::revoked_at.is_null())
        .filter(api_tokens::role.eq_any(roles))
        .count()
        .get_result(conn)?)
}

/// Marks built-in actors' rows: no SHA-256 hex digest starts with it, so nobody authenticates as them.
const SYSTEM_HASH_PREFIX: &str = "disabled:";

/// Makes sure a built-in actor exists (e.g. the partner acknowledgement link), so its writes have an
/// actor in the audit trail like everyone else's. It is created revoked with an unusable hash: nobody
/// can authenticate as it.
pub fn ensure_system_actor(
    conn: &mut DbConnection,
    id: Uuid,
    name: &str,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let exists: i64 = api_tokens::table.filter(api_tokens::id.eq(DbUuid(id))).count().get_result(conn)?;
    if exists == 0 {
        diesel::insert_into(api_tokens::table)
            .values(TokenRow {
                id,
                name: name.to_owned(),
                role: Role::Operator,
                token_hash: format!("{SYSTEM_HASH_PREFIX}{id}"),
                created_at: now,
                created_by: None,
                revoked_at: Some(now),
            })
            .execute(conn)?;
    }
    Ok(())
}
