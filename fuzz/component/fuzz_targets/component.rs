//! Differential fuzzing through the component: the fuzzer's input is read as a call sequence
//! (every export, hostile arguments, clock moves, snapshot and restore; the first byte picks a
//! run under a 1.5 MiB memory cap or without) and run by the driver of `faas-cache-host-test`
//! against the built component in wasmtime and the native core as the model. A divergence or a
//! trap panics, which libFuzzer reports as a crash. Coverage comes from the model (the native
//! core runs the same engine code the component compiles to wasm, so inputs that reach new core
//! paths reach them in the component too) and from the host crate.
//!
//! Every 2^k inputs it prints the calls made per export (`exports: ...`) to stderr.
#![no_main]

use std::sync::Mutex;

use faas_cache_host_test::differential::{run, Bytes, Calls};
use libfuzzer_sys::fuzz_target;

static CALLS: Mutex<(u64, Calls)> = Mutex::new((0, Calls::new()));

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let mut calls = CALLS.lock().unwrap_or_else(|e| e.into_inner());
    let (inputs, calls) = &mut *calls;
    run("this input", &mut Bytes(rest), 4096, first & 1 == 1, calls);
    *inputs += 1;
    if inputs.is_power_of_two() {
        let total: u64 = calls.values().sum();
        let exports = calls.keys().filter(|k| **k != "clock move").count();
        eprintln!("exports: {inputs} inputs, {total} calls, {exports} exports called: {calls:?}");
    }
});
