//! `hotline`: see `hotline --help`.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    hotline_server::cli::run(hotline_server::cli::Cli::parse()).await
}
