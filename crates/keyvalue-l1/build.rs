//! Link settings of the guest. The wasm32 default shadow stack is 1 MiB of linear memory that a
//! cache holding bytes for its host would mostly waste: no call here recurses, and the deepest
//! frames (snapshot encoding, canonical-ABI return areas) need a few KiB. 128 KiB leaves a wide
//! margin; the stack sits first in memory, so an overflow would trap, never corrupt entries.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=-zstack-size=131072");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
