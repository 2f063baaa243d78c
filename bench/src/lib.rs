//! What the performance report (`src/main.rs`) and the benches (`benches/`) share: the caches
//! compared ([`subjects`]), the workload they run ([`workload`]) and the floor component of the
//! wasmtime measurements ([`floor`]). Invariant: a benchmark adapter, a workload or a floor
//! exists once, here.

pub mod floor;
pub mod subjects;
pub mod workload;
