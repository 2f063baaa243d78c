//! `faas-cache-serve`: serves `wasi:http` components the way `wasmtime serve` does, with
//! `faas:cache/{cache,policy,named}` provided by the host. See `--help` and the crate's README.

use std::process::ExitCode;

use clap::Parser;
use faas_cache_serve::{run, Args};

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("faas-cache-serve: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("faas-cache-serve: {e:#}");
            ExitCode::FAILURE
        }
    }
}
