//! The `faas:cache` component: exports the `cache` interface of `wit/cache.wit`, the `policy`
//! interface of `wit/policy.wit` and the `named` interface of `wit/named.wit` (world
//! `cache-component`; the instance is the named caches' scope) on top of the `faas-cache` core
//! library.
//!
//! Invariants: no call traps. Every failure is a `cache-error` value; allocations that the host
//! refuses are answered by evicting entries (see [`memory`]), never by aborting; every live
//! `cache-dict` handle owns exactly one slot of the instance's [`registry`], which `tick` walks.

// Generated bindings: the canonical-ABI glue is `unsafe` by nature.
#[allow(unsafe_code)]
mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "cache-component",
        with: {
            "wasi:clocks/wall-clock@0.2.0": faas_guest_clock::wall_clock,
        },
        generate_all,
    });
}

mod convert;
mod exports;
mod memory;
mod named;
mod policy;
mod registry;
mod seed;

use exports::Component;

#[allow(unsafe_code)]
mod export {
    use super::{bindings, Component};
    bindings::export!(Component with_types_in bindings);
}
