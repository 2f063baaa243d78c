//! The one list of the workspace's guests: the artifact crate's build script builds each of them
//! for `wasm32-unknown-unknown` and encodes it as a component, `lib.rs` exposes their bytes, and
//! `cargo xtask lint` runs clippy on the same packages. Invariant: a guest is added here and
//! nowhere else. (A plain file, included with `#[path]` by the build script and the xtask.)

/// One guest: a cdylib crate of this workspace built into a component.
pub struct GuestCrate {
    /// The cargo package.
    pub package: &'static str,
    /// The core module cargo writes (`<lib name>.wasm`).
    pub module: &'static str,
    /// The component's file name without `.wasm`, in `$OUT_DIR` and `target/`.
    pub component: &'static str,
    /// The package's directory, from the workspace root.
    pub dir: &'static str,
}

/// The target every guest is built for.
pub const TARGET: &str = "wasm32-unknown-unknown";

/// Every guest.
pub const GUESTS: &[GuestCrate] = &[
    GuestCrate {
        package: "faas-cache-component",
        module: "faas_cache_component",
        component: "faas_cache",
        dir: "crates/faas-cache-component",
    },
    GuestCrate {
        package: "faas-kv-l1",
        module: "faas_kv_l1",
        component: "faas_kv_l1",
        dir: "crates/keyvalue-l1",
    },
    GuestCrate {
        package: "faas-kv-app",
        module: "faas_kv_app",
        component: "kv_app",
        dir: "hosts/faas-kv-l1-host/app",
    },
    GuestCrate {
        package: "faas-serve-app",
        module: "faas_serve_app",
        component: "serve_app",
        dir: "hosts/faas-cache-serve/app",
    },
];
