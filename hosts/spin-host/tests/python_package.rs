//! The Python package's tests (`python/tests/cases.py`), run inside a componentize-py guest
//! composed with the cache component, in wasmtime with WASIp2 on a simulated clock: every method
//! of `FaaSCacheDict` against the real component, no mock.
//!
//! Needs `target/python/tests.wasm` (`cargo xtask test` builds it with componentize-py).

use spin_cache_host::client::{artifact, cache_component};
use spin_cache_host::compose;
use spin_cache_host::python::PythonGuest;

#[test]
fn every_test_of_the_python_package_passes_in_a_componentized_guest() {
    let guest = artifact(
        "target/python/tests.wasm",
        "build it with `cargo xtask test` (componentize-py, python/tests)",
    );
    let composed = compose(&guest, &cache_component()).unwrap();
    let guest = PythonGuest::new(&composed).unwrap();
    let report = guest.run_tests().unwrap();
    match report {
        Ok(report) => {
            println!("{report}");
            let last = report.lines().last().unwrap_or_default();
            let passed: u32 = last
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            assert!(last.ends_with(" passed, 0 failed"), "{last}");
            assert!(passed >= 30, "every method has its test: {last}");
        }
        Err(report) => panic!("the Python tests failed:\n{report}"),
    }
}
