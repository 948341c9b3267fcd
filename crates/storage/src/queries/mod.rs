//! Queries, one module per aggregate. Each function takes a `&mut DbConnection` so callers compose them
//! inside one [`crate::Storage::write`] transaction. Rows are private structs; what leaves this crate
//! are records built from domain types, checked on the way out of the database.

pub mod audit;
pub mod callbacks;
pub mod calls;
pub mod change;
pub mod deadlines;
pub mod idempotency;
pub mod incident_facts;
pub mod notes;
pub mod outbox;
pub mod partners;
pub mod privacy;
pub mod records;
pub mod referrals;
pub mod registry;
pub mod registry_search;
pub mod reports;
pub mod support_payments;
pub mod ticket_list;
pub mod ticket_view;
pub mod tickets;
pub mod tokens;
pub mod triage;
pub mod webhooks;
pub mod workflow;

use uuid::Uuid;

use crate::StorageError;

/// Reads a UUID column; a malformed one means the database was edited by hand.
pub(crate) fn parse_uuid(column: &str, value: &str) -> Result<Uuid, StorageError> {
    Uuid::parse_str(value).map_err(|_| corrupt(column, value))
}

/// Reads an optional UUID column.
pub(crate) fn parse_opt_uuid(column: &str, value: Option<&str>) -> Result<Option<Uuid>, StorageError> {
    value.map(|value| parse_uuid(column, value)).transpose()
}

/// A stored value the domain does not accept.
pub(crate) fn corrupt(column: &str, value: &str) -> StorageError {
    StorageError::Other(format!("unexpected value in column {column}: {value:?}"))
}
