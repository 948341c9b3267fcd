//! End-to-end tests live in tests/e2e; this library holds what the benchmark tools share.

pub mod roster;
