//! Wall-clock time for expiry. Invariant: every instant is an integer number of nanoseconds since
//! the Unix epoch held in an `i128`, so arithmetic on any accepted input saturates instead of
//! overflowing, and a TTL of `n` seconds reads back as exactly `n` seconds.

use std::rc::Rc;
use std::sync::{Arc, Mutex, MutexGuard};

const NANOS_PER_SEC: i128 = 1_000_000_000;

/// An instant of wall-clock time, in nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(i128);

impl Time {
    /// The epoch.
    pub const EPOCH: Time = Time(0);

    /// An instant from nanoseconds since the epoch.
    pub const fn from_nanos(nanos: i128) -> Time {
        Time(nanos)
    }

    /// An instant from a WASI-style `datetime` (seconds plus nanoseconds).
    pub const fn from_unix(seconds: u64, nanoseconds: u32) -> Time {
        Time(seconds as i128 * NANOS_PER_SEC + nanoseconds as i128)
    }

    /// An instant from fractional seconds since the epoch, rounded to the nearest nanosecond and
    /// saturating at the `i128` range. `None` for NaN.
    pub fn from_secs_f64(secs: f64) -> Option<Time> {
        secs_to_nanos(secs).map(Time)
    }

    /// Nanoseconds since the epoch.
    pub const fn as_nanos(self) -> i128 {
        self.0
    }

    /// Fractional seconds since the epoch.
    pub fn as_secs_f64(self) -> f64 {
        nanos_to_secs(self.0)
    }

    /// This instant moved `secs` seconds later (earlier if negative), saturating.
    pub fn add_secs_f64(self, secs: f64) -> Time {
        Time(self.0.saturating_add(secs_to_nanos(secs).unwrap_or(0)))
    }
}

/// Converts fractional seconds to nanoseconds: the whole seconds exactly, the fraction rounded.
/// Saturates at the `i128` range (infinities included); `None` for NaN.
pub(crate) fn secs_to_nanos(secs: f64) -> Option<i128> {
    if secs.is_nan() {
        return None;
    }
    if !secs.is_finite() || secs.abs() >= 1e29 {
        return Some(if secs > 0.0 { i128::MAX } else { i128::MIN });
    }
    let whole = secs.trunc();
    let frac = secs - whole;
    Some((whole as i128) * NANOS_PER_SEC + (frac * 1e9).round() as i128)
}

/// Converts nanoseconds to fractional seconds (exact for whole seconds below 2^53).
pub(crate) fn nanos_to_secs(nanos: i128) -> f64 {
    let whole = nanos / NANOS_PER_SEC;
    let frac = nanos % NANOS_PER_SEC;
    whole as f64 + frac as f64 / 1e9
}

/// When an entry expires, in nanoseconds since the epoch, stored in an `i64` to keep slab slots
/// small (that covers the years 1678 to 2262; later deadlines are clamped to 2262, earlier ones
/// to 1678, which changes no expiry decision within those years). Invariant: `NEVER` is the
/// only deadline equal to `i64::MAX`; finite deadlines are clamped below it. An entry with
/// deadline `E` is expired at `now` when `E < now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Deadline(i64);

impl Deadline {
    pub(crate) const NEVER: Deadline = Deadline(i64::MAX);

    /// A finite deadline at `nanos`, clamped into the `i64` range below `NEVER`.
    pub(crate) fn at_nanos(nanos: i128) -> Deadline {
        Deadline(nanos.clamp(i64::MIN as i128, i64::MAX as i128 - 1) as i64)
    }

    pub(crate) fn after(now: Time, ttl_nanos: i128) -> Deadline {
        Deadline::at_nanos(now.0.saturating_add(ttl_nanos))
    }

    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(crate) fn is_never(self) -> bool {
        self == Deadline::NEVER
    }

    /// `E < now`: strictly before, so a TTL of 0 is live at the instant it is written.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(crate) fn is_expired_at(self, now: Time) -> bool {
        !self.is_never() && (self.0 as i128) < now.0
    }

    /// Seconds left at `now` (negative once expired); `None` for never.
    pub(crate) fn remaining_secs(self, now: Time) -> Option<f64> {
        (!self.is_never()).then(|| nanos_to_secs((self.0 as i128).saturating_sub(now.0)))
    }

    /// The raw value for snapshots; `None` for never.
    pub(crate) fn to_snapshot(self) -> Option<i128> {
        (!self.is_never()).then_some(self.0 as i128)
    }

    pub(crate) fn from_snapshot(raw: Option<i128>) -> Deadline {
        raw.map_or(Deadline::NEVER, Deadline::at_nanos)
    }
}

/// Formats seconds without the float formatter (it would triple the component's code size): the
/// value to the nanosecond, trailing zeros trimmed ("10", "0.25", "-1.5").
pub(crate) fn format_secs(secs: f64) -> String {
    if secs.is_nan() {
        return "NaN".into();
    }
    if secs.is_infinite() {
        return if secs > 0.0 { "inf" } else { "-inf" }.into();
    }
    let nanos = secs_to_nanos(secs).unwrap_or(0);
    let sign = if nanos < 0 { "-" } else { "" };
    // u64 and u32 rather than u128: their formatting is linked anyway (u128's is not).
    let whole = u64::try_from(nanos.unsigned_abs() / 1_000_000_000).unwrap_or(u64::MAX);
    let frac = (nanos.unsigned_abs() % 1_000_000_000) as u32;
    if frac == 0 {
        format!("{sign}{whole}")
    } else {
        let digits = format!("{frac:09}");
        format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
    }
}

/// Checks a TTL in seconds (finite, >= 0) and returns it in nanoseconds.
pub(crate) fn validate_ttl(what: &str, ttl: f64) -> Result<i128, crate::CacheError> {
    if ttl.is_nan() {
        return Err(crate::CacheError::invalid(format!(
            "{what} is NaN; it must be a finite number of seconds >= 0"
        )));
    }
    if ttl.is_infinite() {
        return Err(crate::CacheError::invalid(format!(
            "{what} is infinite; use no TTL for entries that never expire"
        )));
    }
    if ttl < 0.0 {
        return Err(crate::CacheError::invalid(format!(
            "{what} is negative ({}); it must be >= 0 seconds",
            format_secs(ttl)
        )));
    }
    Ok(secs_to_nanos(ttl).unwrap_or(0))
}

/// How long a written entry lives (mirrors the WIT `expiry` variant).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Expiry {
    /// The cache's default TTL at the moment of the write (never, if it has none).
    DefaultTtl,
    /// Never expires.
    Never,
    /// Expires this many seconds after now: finite and >= 0.
    Ttl(f64),
    /// Expires at this wall-clock time in seconds since the epoch; a past time stores the entry
    /// already expired. NaN is rejected.
    At(f64),
}

/// A source of wall-clock time. The cache reads it at most once per call, and only when the call
/// needs the time (an entry with a deadline, a TTL to apply).
pub trait Clock {
    /// The current wall-clock time.
    fn now(&self) -> Time;
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Time {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for Rc<C> {
    fn now(&self) -> Time {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for Box<C> {
    fn now(&self) -> Time {
        (**self).now()
    }
}

/// The operating system's wall clock (`std::time::SystemTime`). Not available on
/// `wasm32-unknown-unknown`, where the component passes its own WASI clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Time {
        match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => Time::from_unix(d.as_secs(), d.subsec_nanos()),
            Err(e) => Time::from_nanos(-(e.duration().as_nanos() as i128)),
        }
    }
}

/// A clock that only moves when told to; clones share the same time. For tests and simulations.
/// `Send` and `Sync`: clones may move to other threads (the time sits behind a `Mutex`).
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<Time>>);

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Time) -> ManualClock {
        ManualClock(Arc::new(Mutex::new(start)))
    }

    /// The shared time, even if a thread panicked while holding it (a `Time` is always valid).
    fn time(&self) -> MutexGuard<'_, Time> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sets the time (it may go backwards, like a real wall clock).
    pub fn set(&self, t: Time) {
        *self.time() = t;
    }

    /// Moves the time by `secs` seconds (negative: backwards).
    pub fn advance_secs(&self, secs: f64) {
        let mut time = self.time();
        *time = time.add_secs_f64(secs);
    }
}

impl Default for ManualClock {
    /// A clock at 2023-11-14T22:13:20Z (1,700,000,000 s), a round number in the recent past.
    fn default() -> Self {
        ManualClock::new(Time::from_unix(1_700_000_000, 0))
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Time {
        *self.time()
    }
}

/// The current time of one call, read from the clock at most once and only if asked for.
pub(crate) struct LazyNow<'c> {
    clock: &'c dyn Clock,
    value: Option<Time>,
}

impl<'c> LazyNow<'c> {
    pub(crate) fn new(clock: &'c dyn Clock) -> Self {
        LazyNow { clock, value: None }
    }

    pub(crate) fn get(&mut self) -> Time {
        *self.value.get_or_insert_with(|| self.clock.now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_seconds_convert_exactly() {
        let t = Time::from_secs_f64(1_700_000_005.0).unwrap();
        assert_eq!(t, Time::from_unix(1_700_000_005, 0));
        assert_eq!(t.as_secs_f64(), 1_700_000_005.0);
    }

    #[test]
    fn fractions_round_to_the_nearest_nanosecond() {
        assert_eq!(secs_to_nanos(0.1), Some(100_000_000));
        assert_eq!(secs_to_nanos(-1.5), Some(-1_500_000_000));
        assert_eq!(nanos_to_secs(2_500_000_000), 2.5);
    }

    #[test]
    fn extremes_saturate_and_nan_is_refused() {
        assert_eq!(secs_to_nanos(f64::NAN), None);
        assert_eq!(secs_to_nanos(f64::INFINITY), Some(i128::MAX));
        assert_eq!(secs_to_nanos(f64::NEG_INFINITY), Some(i128::MIN));
        assert_eq!(secs_to_nanos(f64::MAX), Some(i128::MAX));
        assert_eq!(secs_to_nanos(-f64::MAX), Some(i128::MIN));
        assert!(!Deadline::after(Time::from_unix(1, 0), i128::MAX).is_never());
    }

    #[test]
    fn t2_deadline_is_expired_strictly_after() {
        let now = Time::from_unix(100, 0);
        let d = Deadline::after(now, 0);
        assert!(!d.is_expired_at(now));
        assert!(d.is_expired_at(Time::from_nanos(now.as_nanos() + 1)));
        assert!(!Deadline::NEVER.is_expired_at(Time::from_unix(u64::MAX, 0)));
    }

    #[test]
    fn seconds_format_without_float_formatting() {
        assert_eq!(format_secs(10.0), "10");
        assert_eq!(format_secs(0.25), "0.25");
        assert_eq!(format_secs(-1.5), "-1.5");
        assert_eq!(format_secs(1e-9), "0.000000001");
        assert_eq!(format_secs(f64::NAN), "NaN");
        assert_eq!(format_secs(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn t1_ttl_validation_rejects_nan_negative_and_infinite() {
        assert!(validate_ttl("ttl", f64::NAN).is_err());
        assert!(validate_ttl("ttl", -0.5).is_err());
        assert!(validate_ttl("ttl", f64::INFINITY).is_err());
        assert_eq!(validate_ttl("ttl", 0.0), Ok(0));
        assert_eq!(validate_ttl("ttl", -0.0), Ok(0));
        assert_eq!(validate_ttl("ttl", 1.25), Ok(1_250_000_000));
    }
}
