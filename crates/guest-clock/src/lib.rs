//! The host's wall clock, shared by the guests: the one place the `wasi:clocks/wall-clock@0.2.0`
//! import is bound. A guest reuses these bindings from its own `wit_bindgen::generate!` with
//! `with: { "wasi:clocks/wall-clock@0.2.0": faas_guest_clock::wall_clock }` and passes
//! [`WasiClock`] to its caches. Invariant: [`WasiClock::now`] is exactly the host's
//! `wall-clock.now`, seconds and nanoseconds unchanged.

use faas_cache::{Clock, Time};

// Generated bindings: the canonical-ABI glue is `unsafe` by nature.
#[allow(unsafe_code)]
mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/deps/clocks",
        inline: "
            package faas:guest-clock;

            world wall-clock {
                import wasi:clocks/wall-clock@0.2.0;
            }
        ",
        world: "faas:guest-clock/wall-clock",
        generate_all,
    });
}

pub use bindings::wasi::clocks::wall_clock;

/// The host's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct WasiClock;

impl Clock for WasiClock {
    fn now(&self) -> Time {
        let t = wall_clock::now();
        Time::from_unix(t.seconds, t.nanoseconds)
    }
}
