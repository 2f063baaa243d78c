//! Random operation sequences on the core with a manual clock. After every step the cache's
//! structural invariants hold (byte total = sum of entries, count, LRU links, expiry index) and so
//! do its limits, under either eviction policy (LRU or S3-FIFO, chosen by the second byte).
#![no_main]

use faas_cache::{Cache, Config, EvictionPolicy, Expiry, ManualClock, Time};
use libfuzzer_sys::fuzz_target;

const KEYS: [&str; 8] = [
    "",
    "a",
    "bb",
    "key-3",
    "key-4",
    "k\u{e9}y-5",
    "a-much-longer-key-6",
    "7",
];
const SIZES: [&str; 8] = ["600", "1K", "2K", "0.75K", "64K", "0", "12X", "1e400G"];

/// Reads the input as a stream of small numbers.
struct Input<'a>(&'a [u8]);
impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn key(&mut self) -> Option<&'static str> {
        Some(KEYS[self.byte()? as usize % KEYS.len()])
    }
    fn value(&mut self) -> Option<Vec<u8>> {
        let len = match self.byte()? {
            250..=255 => 3000,
            n => n as usize,
        };
        Some(vec![0xa5; len])
    }
    fn seconds(&mut self) -> Option<f64> {
        Some(match self.byte()? {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 => -1.0,
            4 => 0.0,
            5 => 1e300,
            6 => f64::MAX,
            7 => f64::MIN_POSITIVE,
            n => f64::from(n) / 8.0,
        })
    }
}

fn run(data: &[u8]) -> Option<()> {
    let mut input = Input(data);
    let clock = ManualClock::new(Time::from_unix(1_700_000_000, 0));
    let setup = input.byte()?;
    let config = Config {
        default_ttl: (setup & 1 == 1).then_some(2.0),
        max_items: (setup & 2 == 2).then_some(1 + u32::from(setup >> 5)),
        max_size_bytes: (setup & 4 == 4).then_some(700 + 64 * u64::from(setup >> 3)),
        removal_log_capacity: u32::from(setup & 8) * 2,
        policy: if input.byte()? & 1 == 1 {
            EvictionPolicy::S3Fifo
        } else {
            EvictionPolicy::Lru
        },
    };
    let mut cache = Cache::with_clock_and_seed(config, clock.clone(), (1, 2)).ok()?;
    while let Some(op) = input.byte() {
        match op % 22 {
            0 | 1 => {
                let (k, v) = (input.key()?, input.value()?);
                let _ = cache.set(k, v);
            }
            2 => {
                let (k, v, s) = (input.key()?, input.value()?, input.seconds()?);
                let _ = cache.set_with_expiry(k, v, Expiry::Ttl(s));
            }
            3 => {
                let (k, v, s) = (input.key()?, input.value()?, input.seconds()?);
                let _ = cache.set_with_expiry(k, v, Expiry::At(1_700_000_000.0 + s));
            }
            4 => {
                let _ = cache.get(input.key()?);
            }
            5 => {
                let _ = cache.peek(input.key()?);
            }
            6 => {
                let _ = cache.delete(input.key()?);
            }
            7 => {
                let _ = cache.pop(input.key()?);
            }
            8 => {
                let _ = cache.pop_item(input.byte()? & 1 == 1);
            }
            9 => {
                let (k, v) = (input.key()?, input.value()?);
                let _ = cache.set_default(k, v);
            }
            10 => {
                let (k, last) = (input.key()?, input.byte()? & 1 == 1);
                let _ = cache.move_to_end(k, last);
            }
            11 => {
                let (k, s) = (input.key()?, input.seconds()?);
                let _ = cache.set_ttl(k, Some(s));
            }
            12 => {
                let (k, s) = (input.key()?, input.seconds()?);
                let _ = cache.expire_at(k, 1_700_000_000.0 + s);
            }
            13 => {
                let _ = cache.get_ttl(input.key()?);
            }
            14 => {
                // The wall clock moves, forwards or backwards by up to hours.
                let step = f64::from(input.byte()? as i8) * 37.0;
                clock.advance_secs(step);
            }
            15 => {
                let size = SIZES[input.byte()? as usize % SIZES.len()];
                let _ = cache.change_byte_size(Some(size));
            }
            16 => {
                let _ = cache.change_max_items(Some(u32::from(input.byte()? % 6)));
            }
            17 => {
                let _ = cache.purge_expired();
            }
            18 => {
                let _ = cache.drain_removals(u32::from(input.byte()?));
            }
            19 => {
                let _ = cache.len();
                let _ = cache.keys().count();
            }
            20 => {
                let snapshot = cache.snapshot();
                let restored =
                    Cache::restore(&snapshot, clock.clone(), (3, 4)).expect("own snapshot");
                restored.check_invariants().expect("restored invariants");
                cache = restored;
            }
            _ => {
                if input.byte()? == 0 {
                    cache.clear();
                } else {
                    let _ = cache.set_default_ttl(Some(input.seconds()?));
                }
            }
        }
        if let Err(e) = cache.check_invariants() {
            panic!("invariant broken after op {}: {e}", op % 22);
        }
        if let Some(limit) = cache.max_size_bytes() {
            assert!(cache.accounted_bytes() <= limit, "over the byte budget");
        }
    }
    Some(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(data);
});
