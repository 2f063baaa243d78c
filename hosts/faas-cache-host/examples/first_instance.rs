//! How long a new process takes to its first answer: `Host::new()` (compiling the component, or
//! loading it from the compilation cache), `instantiate()`, then one `create` and one `get`.
//! Prints one line of JSON (times in nanoseconds) and exits. Run it in a fresh process each time:
//! the compilation cache is set up once per process.
//!
//! ```text
//! cargo run --release -p faas-cache-host --example first_instance
//! FAAS_CACHE_COMPILE_CACHE=off cargo run --release -p faas-cache-host --example first_instance
//! ```

use std::time::Instant;

use faas_cache_host::engine::{compile_cache, CompileCache};
use faas_cache_host::{Host, Options};

/// `s` as a JSON string.
fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let host = Host::new()?;
    let host_ready = start.elapsed();
    let mut instance = host.instantiate()?;
    let instance_ready = start.elapsed();
    let id = instance.create(&Options::new())?;
    let answer = instance.cache(id).get("first");
    let first_answer = start.elapsed();
    assert_eq!(answer, None);

    let (cache, directory, hits, misses) = match compile_cache() {
        CompileCache::On(c) => (
            "on".to_string(),
            c.directory().display().to_string(),
            c.cache_hits(),
            c.cache_misses(),
        ),
        CompileCache::Off => ("off".into(), String::new(), 0, 0),
        CompileCache::Unavailable(why) => (format!("unavailable: {why}"), String::new(), 0, 0),
    };
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!(
        "{{\"profile\":\"{profile}\",\"cache\":{},\"cache_dir\":{},\"cache_hits\":{hits},\
         \"cache_misses\":{misses},\"host_new_ns\":{},\"instantiate_ns\":{},\
         \"first_call_ns\":{},\"total_ns\":{}}}",
        json_string(&cache),
        json_string(&directory),
        host_ready.as_nanos(),
        (instance_ready - host_ready).as_nanos(),
        (first_answer - instance_ready).as_nanos(),
        first_answer.as_nanos(),
    );
    Ok(())
}
