//! `hotline`: see `hotline --help`.

use anyhow::Context;
use clap::Parser;

fn main() -> anyhow::Result<()> {
    // Before the runtime starts any thread (see the module).
    hotline_server::allocator::limit_malloc_arenas();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(hotline_server::cli::run(hotline_server::cli::Cli::parse()))
}
