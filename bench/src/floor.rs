//! The floor component of the wasmtime measurements: a hand-written component whose exports do
//! nothing but what every call must (lift the arguments, lower 100 bytes back), so that the
//! report's boundary section (`src/boundary.rs`) and the instruction counts
//! (`benches/instructions.rs`) compare the cache against the same floor. Invariant: the floor
//! exists once, here, and is called through the same typed-call path as the cache.

use wasmtime::component::{Component, Instance, Linker};
use wasmtime::{Engine, Store};

/// The floor component, in one core module: `empty`; `get`, which returns 100 bytes that
/// already sit in its memory (its key goes to a fixed arena); and `get-many`, which answers every
/// key with those 100 bytes (its arguments go to a bump arena reset after each call).
pub const FLOOR_WAT: &str = r#"
(component
  (core module $m
    (memory (export "memory") 3)
    (global $bump (mut i32) (i32.const 16384))
    (func (export "empty"))
    (func (export "realloc-fixed") (param i32 i32 i32 i32) (result i32)
      (i32.const 4096))
    (func (export "realloc-bump") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $bump) (i32.const 7)) (i32.const -8)))
      (global.set $bump (i32.add (local.get $p) (local.get 3)))
      (local.get $p))
    (func (export "get") (param i32 i32) (result i32)
      (i32.store8 (i32.const 64) (i32.const 1))
      (i32.store (i32.const 68) (i32.const 256))
      (i32.store (i32.const 72) (i32.const 100))
      (i32.const 64))
    (func (export "get-many") (param $ptr i32) (param $len i32) (result i32)
      (local $i i32) (local $e i32)
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
          (local.set $e (i32.add (i32.const 131072) (i32.mul (local.get $i) (i32.const 12))))
          (i32.store8 (local.get $e) (i32.const 1))
          (i32.store (i32.add (local.get $e) (i32.const 4)) (i32.const 256))
          (i32.store (i32.add (local.get $e) (i32.const 8)) (i32.const 100))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (global.set $bump (i32.const 16384))
      (i32.store (i32.const 80) (i32.const 131072))
      (i32.store (i32.const 84) (local.get $len))
      (i32.const 80)))
  (core instance $i (instantiate $m))
  (func (export "empty") (canon lift (core func $i "empty")))
  (func (export "get") (param "key" string) (result (option (list u8)))
    (canon lift (core func $i "get") (memory (core memory $i "memory"))
      (realloc (core func $i "realloc-fixed"))))
  (func (export "get-many") (param "keys" (list string)) (result (list (option (list u8))))
    (canon lift (core func $i "get-many") (memory (core memory $i "memory"))
      (realloc (core func $i "realloc-bump")))))
"#;

/// The floor component compiled for `engine` and instantiated in a new store.
pub fn instantiate(engine: &Engine) -> (Store<()>, Instance) {
    let binary = wat::parse_str(FLOOR_WAT).expect("the floor component parses");
    let floor = Component::new(engine, binary).expect("the floor component compiles");
    let mut store = Store::new(engine, ());
    let instance = Linker::new(engine)
        .instantiate(&mut store, &floor)
        .expect("instantiate the floor");
    (store, instance)
}
