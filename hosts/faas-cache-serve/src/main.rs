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
    let result = runtime.block_on(run(args));
    // Tasks still running (a request past the drain) do not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("faas-cache-serve: {e:#}");
            ExitCode::FAILURE
        }
    }
}
