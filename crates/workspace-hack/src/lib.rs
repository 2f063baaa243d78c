//! cargo-hakari's workspace-hack (`.config/hakari.toml`): every host-side member depends on it,
//! so every command resolves the same features of the third-party crates and wasmtime and
//! cranelift compile once, not once per `cargo run -p`. Generated: `cargo hakari generate`.

// This is a stub lib.rs.
