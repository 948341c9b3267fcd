//! End-to-end tests: one binary, every scenario run against the real server on SQLite and on
//! PostgreSQL (`<module>::sqlite::<scenario>` and `<module>::postgres::<scenario>`). PostgreSQL needs
//! HOTLINE_TEST_DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/test; without it those tests
//! skip themselves, except in CI where they fail. Alerts go to a real SMTP server on 127.0.0.1 where a
//! scenario needs them (`hotline_notify::test_support`).

#[macro_use]
mod helpers;

mod access_log;
mod ack;
mod alerts;
mod architecture;
mod concurrency;
mod eligibility;
mod faults;
mod http_layer;
mod idempotency;
mod intake;
mod lifecycle;
mod lifecycle_refusals;
mod logging;
mod metrics;
mod openapi;
mod police_availability;
mod privacy;
mod problems;
mod queues;
mod registry;
mod reports;
mod roster;
mod scale_seed;
mod security;
mod service;
mod support_payments;
mod text;
mod ticket_list;
mod tokens;
mod webhook_sink;
mod webhooks;
