//! `hotline-seed`: fills a migrated hotline database with a year of tickets for the scale benchmark
//! (`scripts/bench.sh scale`; the generator is tests/src/seed.rs). Prints `KEY=VALUE` lines on stdout.

use std::process::ExitCode;

use clap::Parser;
use hotline_tests::seed::{SeedArgs, run};

fn main() -> ExitCode {
    match run(&SeedArgs::parse()) {
        Ok(summary) => {
            for (key, value) in summary {
                println!("{key}={value}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("hotline-seed: {error:#}");
            ExitCode::from(2)
        }
    }
}
