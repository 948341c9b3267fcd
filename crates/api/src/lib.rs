//! The hotline REST API on actix-web. One module per resource under `routes/`; handlers parse input,
//! call the domain and storage, and map errors to problem+json. Shared plumbing (auth, bodies,
//! idempotency, errors, telemetry) lives beside them.

pub mod access_log;
pub mod ack;
pub mod alerts;
pub mod app;
pub mod auth;
pub mod change;
pub mod deadline;
pub mod extract;
pub mod http_layer;
pub mod idempotency;
pub mod metrics;
pub mod openapi;
pub mod precondition;
pub mod problem;
pub mod routes;
pub mod security;
pub mod state;
pub mod telemetry;
pub mod text_input;
pub mod ticket_export;
pub mod time;
pub mod token_cache;
pub mod views;

pub use app::{configure, document, document_json, problem_safety_net};
pub use state::{ApiConfig, AppState, Clock, PoliceFallback, SystemClock};
