//! What the performance report (`src/main.rs`) and the criterion benches (`benches/`) share: the
//! caches compared ([`subjects`]) and the workload they run ([`workload`]). Invariant: a benchmark
//! adapter or a workload exists once, here.

pub mod subjects;
pub mod workload;
