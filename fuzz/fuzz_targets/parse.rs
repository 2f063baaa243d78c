//! Size strings and TTL values: parsing never panics; accepted sizes are positive and round-trip
//! through `format_size`; a TTL is accepted exactly when it is finite and >= 0.
#![no_main]

use faas_cache::{format_size, parse_size, Cache, Config, Expiry, ManualClock, Time};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(bytes) = parse_size(text) {
            assert!(bytes > 0);
            let shown = format_size(bytes);
            assert!(parse_size(&shown).is_ok(), "{shown} does not parse back");
        }
    }
    if data.len() >= 8 {
        let ttl = f64::from_le_bytes(data[..8].try_into().unwrap());
        let clock = ManualClock::new(Time::from_unix(1_700_000_000, 0));
        let mut cache = Cache::with_clock_and_seed(Config::default(), clock, (1, 2)).unwrap();
        let ok = cache
            .set_with_expiry("k", b"v".to_vec(), Expiry::Ttl(ttl))
            .is_ok();
        assert_eq!(ok, ttl.is_finite() && ttl >= 0.0, "ttl {ttl}");
        let at = cache
            .set_with_expiry("k", b"v".to_vec(), Expiry::At(ttl))
            .is_ok();
        assert_eq!(at, !ttl.is_nan(), "at {ttl}");
        let default = Cache::with_clock_and_seed(
            Config {
                default_ttl: Some(ttl),
                ..Config::default()
            },
            ManualClock::default(),
            (1, 2),
        )
        .is_ok();
        assert_eq!(default, ttl.is_finite() && ttl >= 0.0, "default ttl {ttl}");
        cache.check_invariants().unwrap();
    }
});
