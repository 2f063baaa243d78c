//! Link settings of the guests, for their build scripts. The wasm32 default shadow stack is 1 MiB
//! of linear memory that a cache holding bytes for its host would mostly waste: no guest call
//! recurses, and the deepest frames (snapshot encoding, canonical-ABI return areas) need a few
//! KiB. [`STACK_BYTES`] leaves a wide margin; the stack sits first in memory, so an overflow would
//! trap, never corrupt entries. Invariant: only wasm32 builds are affected.

/// The guests' shadow stack: 128 KiB.
pub const STACK_BYTES: usize = 128 * 1024;

/// The whole build script of a guest crate: links its `cdylib` with a [`STACK_BYTES`] stack when
/// the target is wasm32.
pub fn link_guest() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=-zstack-size={STACK_BYTES}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
