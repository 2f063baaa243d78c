//! `faas:kv-l1`: an in-process TTL tier (the `faas-cache` core, evicting by S3-FIFO or LRU as
//! `l1_policy` says) in front of `wasi:keyvalue@0.2.0-draft2`. It exports `store`, `batch` and
//! `atomics` and imports the same three as its backend, so `wac plug app.wasm --plug
//! faas_kv_l1.wasm` puts it between an app and whatever store the host provides, without
//! changing the app.
//!
//! Invariants (each has a test in `examples/keyvalue-l1/tests`):
//! - Read-through: a read L1 cannot answer goes to the backend; a value (or, with negative
//!   caching on, an absence) the backend returns is kept for the configured TTL.
//! - Write-through: writes go to the backend first; only after it succeeds does L1 change, so a
//!   backend error is returned and leaves L1 as it was (batch and atomic writes, whose failures
//!   may be partial, drop the keys they touched instead).
//! - Read-your-writes: after a successful write through this instance, its reads return that
//!   write or something newer from the backend; another client's change is seen after at most the
//!   TTL.
//! - No call traps: backend errors, configuration errors and refused memory become `error`
//!   values or a smaller L1 (see `faas-guest-alloc`).

// Generated bindings: the canonical-ABI glue is `unsafe` by nature.
#[allow(unsafe_code)]
mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "kv-l1",
        with: {
            "wasi:clocks/wall-clock@0.2.0": faas_guest_clock::wall_clock,
        },
        generate_all,
    });
}

mod atomics;
mod batch;
mod control;
mod settings;
mod store;
mod tier;

pub struct Component;

#[allow(unsafe_code)]
mod export {
    use super::{bindings, Component};
    bindings::export!(Component with_types_in bindings);
}
