//! End-to-end tests live in tests/e2e; this library holds what they (and the benchmark tools) share:
//! [`proxy::FaultProxy`], a TCP proxy that passes, refuses or stalls connections on demand, and the
//! synthetic member roster the benchmarks load, and the scale benchmark's seeder and measurements.

pub mod proxy;
pub mod roster;
pub mod scale;
pub mod seed;
