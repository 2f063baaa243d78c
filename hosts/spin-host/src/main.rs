//! `spin-cache-host APP.wasm CACHE.wasm [ADDR]`: composes the app with the cache component and
//! serves it over HTTP (default 127.0.0.1:3000), as `spin up` would.

use std::net::SocketAddr;

#[tokio::main]
async fn main() -> wasmtime::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(app), Some(cache)) = (args.first(), args.get(1)) else {
        eprintln!("usage: spin-cache-host APP.wasm CACHE.wasm [ADDR]");
        std::process::exit(2);
    };
    let addr: SocketAddr = args
        .get(2)
        .map_or("127.0.0.1:3000", String::as_str)
        .parse()?;
    let composed = spin_cache_host::compose(&std::fs::read(app)?, &std::fs::read(cache)?)?;
    println!(
        "composed: {} bytes, imports {:?}",
        composed.len(),
        spin_cache_host::imports(&composed)?
    );
    let (bound, task) = spin_cache_host::serve(&composed, addr, Default::default()).await?;
    println!("serving http://{bound}/item/<id>");
    task.await?;
    Ok(())
}
