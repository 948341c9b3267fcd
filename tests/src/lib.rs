//! End-to-end tests live in tests/e2e; this library holds what they (and the benchmark) share:
//! [`proxy::FaultProxy`], a TCP proxy that passes, refuses or stalls connections on demand.

pub mod proxy;
