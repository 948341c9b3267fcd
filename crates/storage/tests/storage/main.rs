//! Integration tests of hotline-storage, built as one binary: connection and pool set-up, migrations on
//! both backends (they match each other and schema.rs, and every down.sql undoes its up.sql), write
//! transactions, error classification and the append-only event log.
//!
//! PostgreSQL tests have `postgres` in their name and need `HOTLINE_TEST_DATABASE_URL`; without it they
//! print a skip message (and fail when `CI=true`).

mod connect;
mod errors;
mod event_texts;
mod faults;
mod helpers;
mod migrations;
mod outbox;
mod registry_search;
mod support_payments;
mod ticket_list;
mod transactions;
mod webhooks;
