//! Model-based test: random sequences of every public operation, compared step by step with a
//! tiny, obviously-correct model written from the WIT `///` comments
//! (`shared/contract/wit/cache.wit`) and `shared/reference/semantics.md`, not from the
//! implementation.
//!
//! The model is a `Vec` of entries in LRU order (least recently used first), each with an
//! optional deadline in integer nanoseconds, plus the settings, the stats and the removal log.
//! Rules it encodes:
//! - an entry with deadline `E` is expired when `E < now`; TTL `t` s -> deadline `now + round(t * 1e9)`;
//! - `contains`, `peek` and `is_expired` never remove; the single-key calls remove the expired key
//!   they touch (cause `Expired`); `len`, iteration and `describe` purge every expired entry
//!   (earliest deadline first; entries with equal deadlines may come in any order);
//! - a write that does not fit first purges all expired entries, then evicts from the LRU end
//!   (`EvictedCount` while the item limit is exceeded, else `EvictedSize`), never the written key;
//! - a failed call changes nothing (`DataTooLarge`, `InvalidArgument`); `KeyNotFound` may remove
//!   the expired key it names;
//! - removal records reach the log only when its capacity is > 0; the log keeps at most its
//!   capacity of records and, under a byte limit, at most that many bytes of keys and values
//!   together (a new limit applies at once); past either bound its oldest record is dropped, and a
//!   record larger than the whole byte limit is itself dropped, each counted in
//!   `stats.removals_dropped`.
//!
//! Under S3-FIFO (`shared/contract/wit/policy.wit`), half of the cases, the `Vec` is the order
//! `keys` reports: the small queue oldest first, then the main queue; each entry carries its
//! queue and read counter, and a `VecDeque` of keys is the ghost set. Reads raise the counter
//! (at most 3) and move nothing; a new key enters the small queue's newest end, or the main
//! queue's when the ghost set holds it as the write begins (which forgets it); an overwrite keeps queue and place and
//! counts as a read; making room purges expired entries and then runs S3-FIFO's step (the small
//! queue when it holds 10% of the byte budget or of the item limit or the main queue has nothing
//! else; a read small entry moves to main, an unread one is evicted and its key remembered; a read
//! main entry goes round with its counter lowered, an unread one is evicted); the ghost set keeps
//! at most as many keys as the cache holds entries (both queues together), oldest forgotten first.
//!
//! Each case runs 10,000 times by default; `PROPTEST_CASES` overrides it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use faas_cache::accounting::{entry_bytes, CACHE_OVERHEAD};
use faas_cache::{
    Cache, CacheError, Clock, Config, EvictionPolicy, Expiry, ManualClock, Removal, RemovalCause,
    Stats, Time,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestCaseError;

/// The key space: few keys, of different lengths (the empty key included).
const KEYS: [&str; 6] = ["", "a", "bb", "ccc", "key-4", "a-longer-key-5"];

/// Byte budgets given as strings to `change_byte_size`, with what B1 says they mean (None: rejected).
const SIZE_STRINGS: [(&str, Option<u64>); 13] = [
    ("300", Some(300)),
    ("513", Some(513)),
    ("700", Some(700)),
    ("0.75K", Some(768)),
    ("1k", Some(1024)),
    ("1.5K", Some(1536)),
    ("2K", Some(2048)),
    ("1M", Some(1 << 20)),
    ("0", None),
    ("12X", None),
    ("-1K", None),
    ("", None),
    ("abc", None),
];

const NANOS_PER_SEC: f64 = 1e9;

// ---------------------------------------------------------------------------------------------
// Time, from the spec: integer nanoseconds; seconds convert by rounding to the nearest nanosecond.
// ---------------------------------------------------------------------------------------------

/// `round(secs * 1e9)`, computed exactly from the binary value of `secs` (half away from zero),
/// saturating at the `i128` range; `None` for NaN.
fn nanos_of(secs: f64) -> Option<i128> {
    if secs.is_nan() {
        return None;
    }
    if secs.is_infinite() {
        return Some(if secs > 0.0 { i128::MAX } else { i128::MIN });
    }
    let bits = secs.to_bits();
    let negative = bits >> 63 == 1;
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1u64 << 52) - 1);
    // |secs| = mantissa * 2^exp exactly.
    let (mantissa, exp) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), biased - 1075)
    };
    let scaled = mantissa as i128 * 1_000_000_000; // < 2^83
    let magnitude = if exp >= 0 {
        if exp < 127 {
            scaled.checked_mul(1i128 << exp).unwrap_or(i128::MAX)
        } else {
            i128::MAX
        }
    } else {
        let shift = (-exp) as u32;
        if shift >= 100 {
            0 // scaled / 2^100 < 2^-17: rounds to zero
        } else {
            let q = scaled >> shift;
            let rem = scaled - (q << shift);
            if rem >= 1i128 << (shift - 1) {
                q + 1
            } else {
                q
            }
        }
    };
    Some(if !negative {
        magnitude
    } else if magnitude == i128::MAX {
        i128::MIN
    } else {
        -magnitude
    })
}

/// A TTL in nanoseconds, if valid: finite and >= 0 (T1, WIT `expiry::ttl`).
fn valid_ttl(ttl: f64) -> Option<i128> {
    if ttl.is_finite() && ttl >= 0.0 {
        nanos_of(ttl)
    } else {
        None
    }
}

/// The deadline of an absolute expiry time: `Err` for NaN, `Ok(None)` for +inf (never), else the
/// instant (a past one is accepted).
fn at_deadline(epoch_seconds: f64) -> Result<Option<i128>, ()> {
    if epoch_seconds.is_nan() {
        Err(())
    } else if epoch_seconds == f64::INFINITY {
        Ok(None)
    } else {
        Ok(nanos_of(epoch_seconds).map(clamp_deadline))
    }
}

/// Deadlines are stored as i64 nanoseconds: years 1678 to 2262 (the spec: "documented clamp").
fn clamp_deadline(nanos: i128) -> i128 {
    nanos.clamp(i64::MIN as i128, i64::MAX as i128 - 1)
}

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

/// A value: `len` bytes counting up from `seed`.
#[derive(Clone, Copy)]
struct Val(usize, u8);

impl Val {
    fn bytes(self) -> Vec<u8> {
        (0..self.0).map(|i| self.1.wrapping_add(i as u8)).collect()
    }
}

impl std::fmt::Debug for Val {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Val(len={}, seed={})", self.0, self.1)
    }
}

/// An absolute expiry time: relative to the clock at the moment of the call, or a fixed value.
#[derive(Debug, Clone, Copy)]
enum At {
    Rel(f64),
    Abs(f64),
}

impl At {
    fn seconds(self, now: i128) -> f64 {
        match self {
            At::Rel(offset) => now as f64 / NANOS_PER_SEC + offset,
            At::Abs(s) => s,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Exp {
    Default,
    Never,
    Ttl(f64),
    At(At),
}

impl Exp {
    fn to_expiry(self, now: i128) -> Expiry {
        match self {
            Exp::Default => Expiry::DefaultTtl,
            Exp::Never => Expiry::Never,
            Exp::Ttl(t) => Expiry::Ttl(t),
            Exp::At(at) => Expiry::At(at.seconds(now)),
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Get(usize),
    Peek(usize),
    Contains(usize),
    IsExpired(usize),
    Set(usize, Val),
    SetWithExpiry(usize, Val, Exp),
    Delete(usize),
    Pop(usize),
    PopItem(bool),
    SetDefault(usize, Val),
    MoveToEnd(usize, bool),
    Len,
    IsEmpty,
    Keys { reversed: bool },
    Values { reversed: bool },
    Iter { reversed: bool },
    Describe,
    Clear,
    GetTtl(usize),
    SetTtl(usize, Option<f64>),
    ExpireAt(usize, At),
    SetDefaultTtl(Option<f64>),
    ChangeByteSize(Option<usize>),
    SetMaxSizeBytes(Option<u64>),
    ChangeMaxItems(Option<u32>),
    PurgeExpired,
    DrainRemovals(u32),
    ResetStats,
    SnapshotRestore((u64, u64)),
    EvictForMemory,
    AdvanceNanos(i128),
    AdvanceSecs(f64),
}

#[derive(Debug, Clone)]
struct Setup {
    default_ttl: Option<f64>,
    max_size_bytes: Option<u64>,
    max_items: Option<u32>,
    removal_log_capacity: u32,
    listener: bool,
    seed: (u64, u64),
    policy: EvictionPolicy,
}

fn key() -> impl Strategy<Value = usize> {
    0..KEYS.len()
}

fn val() -> impl Strategy<Value = Val> {
    (prop_oneof![3 => 0usize..8, 2 => 0usize..200], any::<u8>())
        .prop_map(|(len, seed)| Val(len, seed))
}

/// Values for `set_default`: large ones more often, so that failing writes are frequent.
fn big_or_small_val() -> impl Strategy<Value = Val> {
    (prop_oneof![0usize..8, 60usize..200], any::<u8>()).prop_map(|(len, seed)| Val(len, seed))
}

/// TTLs in seconds, valid and not (negative, NaN, infinite). Values whose product with 1e9 is
/// close to a rounding tie are avoided: the spec does not say how such a tie rounds in binary.
fn ttl() -> impl Strategy<Value = f64> {
    select(vec![
        0.0,
        -0.0,
        1e-9,
        2e-9,
        0.1,
        0.25,
        1.0,
        1.5,
        2.0,
        5.0,
        1e300,
        -1.0,
        -1e-9,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ])
}

fn valid_default_ttl() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        2 => Just(None),
        1 => select(vec![0.0, 1e-9, 0.25, 1.0, 2.0, 10.0]).prop_map(Some),
    ]
}

fn at() -> impl Strategy<Value = At> {
    prop_oneof![
        3 => select(vec![-2.0, -1e-9, 0.0, 1e-9, 0.5, 1.0, 3.0]).prop_map(At::Rel),
        1 => select(vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, 1e300, -1e300]).prop_map(At::Abs),
    ]
}

fn exp() -> impl Strategy<Value = Exp> {
    prop_oneof![
        1 => Just(Exp::Default),
        1 => Just(Exp::Never),
        3 => ttl().prop_map(Exp::Ttl),
        2 => at().prop_map(Exp::At),
    ]
}

fn byte_limit() -> impl Strategy<Value = u64> {
    select(vec![1u64, 300, 512, 600, 700, 1000, 1200, 2000, 5000])
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => key().prop_map(Op::Get),
        2 => key().prop_map(Op::Peek),
        2 => key().prop_map(Op::Contains),
        2 => key().prop_map(Op::IsExpired),
        8 => (key(), val()).prop_map(|(k, v)| Op::Set(k, v)),
        8 => (key(), val(), exp()).prop_map(|(k, v, e)| Op::SetWithExpiry(k, v, e)),
        2 => key().prop_map(Op::Delete),
        2 => key().prop_map(Op::Pop),
        2 => any::<bool>().prop_map(Op::PopItem),
        4 => (key(), big_or_small_val()).prop_map(|(k, v)| Op::SetDefault(k, v)),
        2 => (key(), any::<bool>()).prop_map(|(k, l)| Op::MoveToEnd(k, l)),
        1 => Just(Op::Len),
        1 => Just(Op::IsEmpty),
        1 => any::<bool>().prop_map(|reversed| Op::Keys { reversed }),
        1 => any::<bool>().prop_map(|reversed| Op::Values { reversed }),
        1 => any::<bool>().prop_map(|reversed| Op::Iter { reversed }),
        1 => Just(Op::Describe),
        1 => Just(Op::Clear),
        2 => key().prop_map(Op::GetTtl),
        2 => (key(), proptest::option::of(ttl())).prop_map(|(k, t)| Op::SetTtl(k, t)),
        2 => (key(), at()).prop_map(|(k, a)| Op::ExpireAt(k, a)),
        1 => proptest::option::of(ttl()).prop_map(Op::SetDefaultTtl),
        1 => proptest::option::weighted(0.8, 0..SIZE_STRINGS.len()).prop_map(Op::ChangeByteSize),
        1 => proptest::option::weighted(0.8, prop_oneof![Just(0u64), byte_limit()]).prop_map(Op::SetMaxSizeBytes),
        1 => proptest::option::weighted(0.8, 0u32..5).prop_map(Op::ChangeMaxItems),
        2 => Just(Op::PurgeExpired),
        2 => prop_oneof![0u32..4, Just(u32::MAX)].prop_map(Op::DrainRemovals),
        1 => Just(Op::ResetStats),
        1 => any::<(u64, u64)>().prop_map(Op::SnapshotRestore),
        1 => Just(Op::EvictForMemory),
        6 => select(vec![
            0i128,
            1,
            2,
            999,
            100_000_000,
            250_000_000,
            500_000_000,
            999_999_999,
            1_000_000_000,
            1_000_000_001,
            2_000_000_000,
            5_000_000_000,
        ])
        .prop_map(Op::AdvanceNanos),
        1 => select(vec![0.0, 0.25, 1.0, 1.5]).prop_map(Op::AdvanceSecs),
    ]
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        valid_default_ttl(),
        proptest::option::weighted(0.7, byte_limit()),
        proptest::option::weighted(0.6, 1u32..5),
        select(vec![0u32, 0, 1, 3, 100]),
        any::<bool>(),
        any::<(u64, u64)>(),
        select(vec![EvictionPolicy::Lru, EvictionPolicy::S3Fifo]),
    )
        .prop_map(
            |(default_ttl, max_size_bytes, max_items, cap, listener, seed, policy)| Setup {
                default_ttl,
                max_size_bytes,
                max_items,
                removal_log_capacity: cap,
                // With a log, the listener is always installed: it shows the order of removals whose
                // order the spec leaves open (equal deadlines, clear), so the model log can follow it.
                listener: listener || cap > 0,
                seed,
                policy,
            },
        )
}

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    key: String,
    value: Vec<u8>,
    /// Nanoseconds since the epoch; None: never expires.
    deadline: Option<i128>,
    /// S3-FIFO: in the main queue (else the small one); always false under LRU.
    in_main: bool,
    /// S3-FIFO: the read counter, 0 to 3; always 0 under LRU.
    reads: u8,
}

/// A removal the model expects in this step. Removals sharing a `group` may come in any order.
#[derive(Debug)]
struct Event {
    removal: Removal,
    group: Option<u64>,
}

/// What `evict_for_memory` is documented to do: an expired entry if any (earliest deadline), else
/// the LRU entry (`EvictedSize`), else the oldest removal record; false when nothing is left.
enum EvictPlan {
    Lru,
    DropRecord,
    Nothing,
}

/// Expected failure: InvalidArgument messages are not compared, only the variant.
#[derive(Debug, Clone, PartialEq)]
enum ExpErr {
    Invalid,
    TooLarge {
        entry_bytes: u64,
        available_bytes: u64,
    },
    KeyNotFound,
}

fn matches_err(actual: &CacheError, expected: &[ExpErr]) -> bool {
    expected.iter().any(|e| match (e, actual) {
        (ExpErr::Invalid, CacheError::InvalidArgument(_)) => true,
        (ExpErr::KeyNotFound, CacheError::KeyNotFound) => true,
        (
            ExpErr::TooLarge {
                entry_bytes,
                available_bytes,
            },
            CacheError::DataTooLarge {
                entry_bytes: a,
                available_bytes: b,
            },
        ) => entry_bytes == a && available_bytes == b,
        _ => false,
    })
}

struct Model {
    entries: Vec<Entry>,
    now: i128,
    default_ttl: Option<f64>,
    max_bytes: Option<u64>,
    max_items: Option<u32>,
    log_capacity: u32,
    log: VecDeque<Removal>,
    stats: Stats,
    events: Vec<Event>,
    next_group: u64,
    s3fifo: bool,
    /// S3-FIFO's ghost set, oldest key first.
    ghost: VecDeque<String>,
}

impl Model {
    fn new(setup: &Setup, now: i128) -> Model {
        Model {
            entries: Vec::new(),
            now,
            default_ttl: setup.default_ttl,
            max_bytes: setup.max_size_bytes,
            max_items: setup.max_items,
            log_capacity: setup.removal_log_capacity,
            log: VecDeque::new(),
            stats: Stats::default(),
            events: Vec::new(),
            next_group: 0,
            s3fifo: setup.policy == EvictionPolicy::S3Fifo,
            ghost: VecDeque::new(),
        }
    }

    fn policy(&self) -> EvictionPolicy {
        if self.s3fifo {
            EvictionPolicy::S3Fifo
        } else {
            EvictionPolicy::Lru
        }
    }

    /// A hit on position `i`: LRU moves it to the end, S3-FIFO raises its counter (at most 3).
    fn touch(&mut self, i: usize) {
        if self.s3fifo {
            let e = &mut self.entries[i];
            e.reads = (e.reads + 1).min(3);
        } else {
            let e = self.entries.remove(i);
            self.entries.push(e);
        }
    }

    /// The ghost set keeps at most as many keys as the cache holds entries (both queues
    /// together), oldest forgotten first.
    fn trim_ghost(&mut self) {
        let limit = self.entries.len();
        while self.ghost.len() > limit {
            self.ghost.pop_front();
        }
    }

    fn remember(&mut self, key: String) {
        self.ghost.retain(|k| *k != key);
        self.ghost.push_back(key);
        self.trim_ghost();
    }

    /// Whether the small queue holds at least 10% of the byte budget or of the item limit.
    fn small_at_target(&self) -> bool {
        let small = self.entries.iter().filter(|e| !e.in_main);
        let (count, bytes) = small.fold((0u64, 0u64), |(n, b), e| {
            (n + 1, b + entry_bytes(e.key.len(), e.value.len()))
        });
        self.available().is_some_and(|a| bytes * 10 >= a)
            || self.max_items.is_some_and(|m| count * 10 >= u64::from(m))
    }

    /// S3-FIFO's step until it names a victim (never `keep`): its position and whether it comes
    /// from the small queue. Moves entries between and within queues on the way.
    fn s3fifo_victim(&mut self, keep: Option<&str>) -> Option<(usize, bool)> {
        loop {
            let pick = |main: bool| {
                self.entries
                    .iter()
                    .position(|e| e.in_main == main && Some(e.key.as_str()) != keep)
            };
            let (small, main) = (pick(false), pick(true));
            if let Some(s) = small.filter(|_| main.is_none() || self.small_at_target()) {
                if self.entries[s].reads == 0 {
                    return Some((s, true));
                }
                // Promoted: its counter restarts at 0 (the S3-FIFO paper clears the access
                // bits on the move; libCacheSim too).
                let mut e = self.entries.remove(s);
                e.in_main = true;
                e.reads = 0;
                self.entries.push(e);
                continue;
            }
            let m = main?;
            if self.entries[m].reads == 0 {
                return Some((m, false));
            }
            let mut e = self.entries.remove(m);
            e.reads -= 1;
            self.entries.push(e);
        }
    }

    /// Whether a key being written goes to the main queue: the ghost set remembers it (and
    /// forgets it now, before room is made).
    fn take_ghost(&mut self, key: &str) -> bool {
        let before = self.ghost.len();
        self.ghost.retain(|k| *k != key);
        self.ghost.len() < before
    }

    /// Where a new key goes: the small queue's newest end, or the main queue's (`entry.in_main`).
    fn push_new(&mut self, entry: Entry) {
        if entry.in_main || !self.s3fifo {
            self.entries.push(entry);
        } else {
            let at = self
                .entries
                .iter()
                .position(|e| e.in_main)
                .unwrap_or(self.entries.len());
            self.entries.insert(at, entry);
        }
    }

    fn pos(&self, key: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.key == key)
    }

    fn live(&self, e: &Entry) -> bool {
        e.deadline.is_none_or(|d| d >= self.now)
    }

    fn live_pos(&self, key: &str) -> Option<usize> {
        self.pos(key).filter(|&i| self.live(&self.entries[i]))
    }

    fn group(&mut self) -> u64 {
        self.next_group += 1;
        self.next_group
    }

    fn emit(&mut self, key: String, value: Vec<u8>, cause: RemovalCause, group: Option<u64>) {
        let s = &mut self.stats;
        match cause {
            RemovalCause::Deleted | RemovalCause::Popped | RemovalCause::Cleared => s.removed += 1,
            RemovalCause::EvictedSize => s.evicted_size += 1,
            RemovalCause::EvictedCount => s.evicted_count += 1,
            RemovalCause::Expired => s.expired += 1,
            RemovalCause::Replaced => {}
        }
        self.events.push(Event {
            removal: Removal { key, value, cause },
            group,
        });
    }

    fn remove(&mut self, i: usize, cause: RemovalCause, group: Option<u64>) -> Entry {
        let e = self.entries.remove(i);
        self.emit(e.key.clone(), e.value.clone(), cause, group);
        self.trim_ghost();
        e
    }

    /// The position of a live key; a present but expired one is removed (as `Expired`).
    fn live_or_remove(&mut self, key: &str) -> Option<usize> {
        let i = self.pos(key)?;
        if self.live(&self.entries[i]) {
            Some(i)
        } else {
            self.remove(i, RemovalCause::Expired, None);
            None
        }
    }

    /// Removes every expired entry, earliest deadline first; returns how many.
    fn purge_all(&mut self) -> u32 {
        let mut expired: Vec<(i128, String)> = self
            .entries
            .iter()
            .filter(|e| !self.live(e))
            .map(|e| (e.deadline.unwrap(), e.key.clone()))
            .collect();
        expired.sort();
        let mut k = 0;
        while k < expired.len() {
            let d = expired[k].0;
            let end = k + expired[k..].iter().take_while(|(x, _)| *x == d).count();
            let group = (end - k > 1).then(|| self.group());
            for (_, key) in &expired[k..end] {
                let i = self.pos(key).unwrap();
                self.remove(i, RemovalCause::Expired, group);
            }
            k = end;
        }
        expired.len() as u32
    }

    fn entries_bytes(&self) -> u64 {
        self.entries
            .iter()
            .map(|e| entry_bytes(e.key.len(), e.value.len()))
            .sum()
    }

    fn byte_size(&self) -> u64 {
        self.max_bytes
            .map_or(CACHE_OVERHEAD, |l| l.min(CACHE_OVERHEAD))
            + self.entries_bytes()
    }

    /// What the budget leaves for entries: the limit less the cache's fixed overhead.
    fn available(&self) -> Option<u64> {
        self.max_bytes.map(|l| l.saturating_sub(CACHE_OVERHEAD))
    }

    fn items_over(&self, extra_items: usize) -> bool {
        self.max_items
            .is_some_and(|m| self.entries.len() + extra_items > m as usize)
    }

    fn bytes_over(&self, delta_bytes: i128) -> bool {
        self.available()
            .is_some_and(|a| self.entries_bytes() as i128 + delta_bytes > a as i128)
    }

    /// Makes room for `delta_bytes` more bytes and `extra_items` more entries: if that does not
    /// fit, purges all expired entries, then evicts from the LRU end, never `keep`.
    fn make_room(&mut self, delta_bytes: i128, extra_items: usize, keep: Option<&str>) {
        if !self.items_over(extra_items) && !self.bytes_over(delta_bytes) {
            return;
        }
        self.purge_all();
        while self.s3fifo && (self.items_over(extra_items) || self.bytes_over(delta_bytes)) {
            let Some((i, from_small)) = self.s3fifo_victim(keep) else {
                break;
            };
            let cause = if self.items_over(extra_items) {
                RemovalCause::EvictedCount
            } else {
                RemovalCause::EvictedSize
            };
            let e = self.remove(i, cause, None);
            if from_small {
                self.remember(e.key);
            }
        }
        while self.items_over(extra_items) || self.bytes_over(delta_bytes) {
            let Some(i) = self
                .entries
                .iter()
                .position(|e| Some(e.key.as_str()) != keep)
            else {
                break;
            };
            let cause = if self.items_over(extra_items) {
                RemovalCause::EvictedCount
            } else {
                RemovalCause::EvictedSize
            };
            self.remove(i, cause, None);
        }
    }

    fn too_large(&self, key: &str, value_len: usize) -> Option<ExpErr> {
        let size = entry_bytes(key.len(), value_len);
        self.available()
            .filter(|&a| size > a)
            .map(|a| ExpErr::TooLarge {
                entry_bytes: size,
                available_bytes: a,
            })
    }

    /// The deadline of a write (Err: invalid argument).
    fn resolve(&self, expiry: Expiry) -> Result<Option<i128>, ()> {
        match expiry {
            Expiry::DefaultTtl => Ok(self.default_ttl.map(|t| {
                clamp_deadline(
                    self.now
                        .saturating_add(valid_ttl(t).expect("default TTL is valid")),
                )
            })),
            Expiry::Never => Ok(None),
            Expiry::Ttl(t) => valid_ttl(t)
                .map(|n| Some(clamp_deadline(self.now.saturating_add(n))))
                .ok_or(()),
            Expiry::At(s) => at_deadline(s),
        }
    }

    /// `set_with_expiry`. On failure, every error the spec allows (both, when both apply).
    fn write(&mut self, key: &str, value: Vec<u8>, expiry: Expiry) -> Result<(), Vec<ExpErr>> {
        let deadline = self.resolve(expiry);
        let mut errors = Vec::new();
        if deadline.is_err() {
            errors.push(ExpErr::Invalid);
        }
        if let Some(e) = self.too_large(key, value.len()) {
            errors.push(e);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let deadline = deadline.unwrap();
        let size = entry_bytes(key.len(), value.len()) as i128;
        match self.live_or_remove(key) {
            Some(i) if self.s3fifo => {
                // Overwrite of a live key under S3-FIFO: queue and place kept, a read; the old
                // value reported as Replaced; never evicts for the item limit.
                let old_size = {
                    let e = &self.entries[i];
                    entry_bytes(e.key.len(), e.value.len()) as i128
                };
                self.make_room(size - old_size, 0, Some(key));
                let i = self.pos(key).expect("model: the written key was evicted");
                self.touch(i);
                let e = &mut self.entries[i];
                let old = std::mem::replace(&mut e.value, value);
                e.deadline = deadline;
                self.stats.updates += 1;
                self.emit(key.to_owned(), old, RemovalCause::Replaced, None);
            }
            Some(i) => {
                // Overwrite of a live key: moved to the MRU end, new value and deadline, the old
                // value reported as Replaced; never evicts for the item limit.
                let e = self.entries.remove(i);
                let old_size = entry_bytes(e.key.len(), e.value.len()) as i128;
                self.entries.push(e);
                self.make_room(size - old_size, 0, Some(key));
                let last = self.entries.last_mut().unwrap();
                assert_eq!(last.key, key, "model: the written key was evicted");
                let old = std::mem::replace(&mut last.value, value);
                last.deadline = deadline;
                self.stats.updates += 1;
                self.emit(key.to_owned(), old, RemovalCause::Replaced, None);
            }
            None => {
                let in_main = self.s3fifo && self.take_ghost(key);
                self.make_room(size, 1, None);
                self.push_new(Entry {
                    key: key.to_owned(),
                    value,
                    deadline,
                    in_main,
                    reads: 0,
                });
                self.stats.inserts += 1;
            }
        }
        Ok(())
    }

    fn set_default(&mut self, key: &str, value: Vec<u8>) -> Result<Vec<u8>, Vec<ExpErr>> {
        if let Some(i) = self.live_pos(key) {
            self.stats.hits += 1;
            let v = self.entries[i].value.clone();
            self.touch(i);
            return Ok(v);
        }
        // A failed call changes nothing: check the size before touching the (expired) key.
        if let Some(e) = self.too_large(key, value.len()) {
            return Err(vec![e]);
        }
        self.stats.misses += 1;
        self.write(key, value.clone(), Expiry::DefaultTtl)?;
        Ok(value)
    }

    fn pop_item(&mut self, last: bool) -> Option<(String, Vec<u8>)> {
        loop {
            if self.entries.is_empty() {
                return None;
            }
            let i = if last { self.entries.len() - 1 } else { 0 };
            if self.live(&self.entries[i]) {
                let e = self.remove(i, RemovalCause::Popped, None);
                return Some((e.key, e.value));
            }
            // An expired entry met at that end is touched, hence removed as expired.
            self.remove(i, RemovalCause::Expired, None);
        }
    }

    fn clear(&mut self) {
        // Every entry is reported as Cleared; the spec gives no order.
        let group = Some(self.group());
        for e in std::mem::take(&mut self.entries) {
            self.emit(e.key, e.value, RemovalCause::Cleared, group);
        }
        self.ghost.clear();
    }

    /// `evict_for_memory` never reads the clock (it runs inside the guest's allocator): it
    /// evicts the LRU entry, live or not, as `EvictedSize`.
    fn evict_plan(&self) -> EvictPlan {
        if !self.entries.is_empty() {
            EvictPlan::Lru
        } else if !self.log.is_empty() {
            EvictPlan::DropRecord
        } else {
            EvictPlan::Nothing
        }
    }

    /// Adds records, in the order the cache produced them, to the bounded removal log.
    fn log_records(&mut self, records: Vec<Removal>) {
        if self.log_capacity == 0 {
            return;
        }
        for r in records {
            let size = record_bytes(&r);
            if self.max_bytes.is_some_and(|m| size > m) {
                // Larger than the whole byte bound: dropped itself, the older records kept.
                self.stats.removals_dropped += 1;
                continue;
            }
            while self.log.len() == self.log_capacity as usize
                || self.max_bytes.is_some_and(|m| self.log_bytes() + size > m)
            {
                self.log.pop_front();
                self.stats.removals_dropped += 1;
            }
            self.log.push_back(r);
        }
    }

    /// The bytes of keys and values the removal log holds.
    fn log_bytes(&self) -> u64 {
        self.log.iter().map(record_bytes).sum()
    }

    /// A new byte limit: the log drops its oldest records until the rest fit it.
    fn set_max_bytes(&mut self, limit: Option<u64>) {
        self.max_bytes = limit;
        while self.max_bytes.is_some_and(|m| self.log_bytes() > m) {
            self.log.pop_front();
            self.stats.removals_dropped += 1;
        }
    }

    fn live_entries(&self) -> Vec<&Entry> {
        self.entries.iter().filter(|e| self.live(e)).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= 1e-9 + 1e-12 * expected.abs()
}

fn deadline_eq(actual: Option<i128>, expected: Option<i128>) -> bool {
    match (actual, expected) {
        (None, None) => true,
        // Deadlines beyond the i128 range saturate; one nanosecond either way is the same.
        (Some(a), Some(e)) => a == e || (a >= i128::MAX - 1 && e >= i128::MAX - 1),
        _ => false,
    }
}

/// Key, value, deadline and (S3-FIFO) the queue byte: counter, plus 4 in the main queue.
type SnapshotEntry = (String, Vec<u8>, Option<i128>, u8);

/// Decodes a snapshot per its documented format (`snapshot.rs`): magic, version, settings, policy,
/// count, then `(key, value, deadline)` entries in order, each followed under S3-FIFO by its
/// queue byte.
fn decode_snapshot(bytes: &[u8]) -> Result<(Config, Vec<SnapshotEntry>), String> {
    type Head = (
        [u8; 4],
        u32,
        Option<f64>,
        Option<u64>,
        Option<u32>,
        u32,
        u8,
        u64,
    );
    let (head, mut rest): (Head, _) =
        postcard::take_from_bytes(bytes).map_err(|e| e.to_string())?;
    let (magic, version, default_ttl, max_size_bytes, max_items, removal_log_capacity, tag, count) =
        head;
    let policy = match tag {
        0 => EvictionPolicy::Lru,
        1 => EvictionPolicy::S3Fifo,
        _ => return Err(format!("policy tag {tag}")),
    };
    if magic != faas_cache::SNAPSHOT_MAGIC || version != faas_cache::SNAPSHOT_VERSION {
        return Err("bad header".into());
    }
    let mut entries = Vec::new();
    for _ in 0..count {
        let ((k, v, d), tail): ((&str, &[u8], Option<i128>), _) =
            postcard::take_from_bytes(rest).map_err(|e| e.to_string())?;
        rest = tail;
        let mut standing = 0;
        if policy == EvictionPolicy::S3Fifo {
            let (&b, tail) = rest.split_first().ok_or("no queue byte")?;
            standing = b;
            rest = tail;
        }
        entries.push((k.to_owned(), v.to_vec(), d, standing));
    }
    // Last, the checksum of everything before it (CRC-32, little-endian).
    let body_len = bytes.len() - rest.len();
    if rest != crc32fast::hash(&bytes[..body_len]).to_le_bytes() {
        return Err("no matching checksum at the end".into());
    }
    let config = Config {
        default_ttl,
        max_size_bytes,
        max_items,
        removal_log_capacity,
        policy,
    };
    Ok((config, entries))
}

/// Everything observable without changing the cache, compared with the model.
fn check_state(
    cache: &Cache<ManualClock>,
    model: &Model,
    clock: &ManualClock,
) -> Result<(), TestCaseError> {
    if let Err(e) = cache.check_invariants() {
        return Err(TestCaseError::fail(format!("invariant broken: {e}")));
    }
    prop_assert_eq!(clock.now().as_nanos(), model.now, "clock");
    prop_assert_eq!(cache.stats(), model.stats, "stats");
    let bytes = cache.accounted_bytes();
    prop_assert_eq!(bytes, model.byte_size(), "byte_size");
    if let Some(limit) = model.max_bytes {
        prop_assert!(
            bytes <= limit,
            "byte_size {} above the limit {}",
            bytes,
            limit
        );
    }
    prop_assert_eq!(cache.default_ttl(), model.default_ttl, "default_ttl");
    prop_assert_eq!(cache.max_size_bytes(), model.max_bytes, "max_size_bytes");
    prop_assert_eq!(cache.max_items(), model.max_items, "max_items");
    prop_assert_eq!(
        cache.removal_log_bytes(),
        model.log_bytes(),
        "removal log bytes"
    );
    prop_assert_eq!(
        cache.ghost_len() as usize,
        model.ghost.len(),
        "ghost set size"
    );
    let config = Config {
        default_ttl: model.default_ttl,
        max_size_bytes: model.max_bytes,
        max_items: model.max_items,
        removal_log_capacity: model.log_capacity,
        policy: model.policy(),
    };
    prop_assert_eq!(cache.config(), config.clone(), "config");
    prop_assert_eq!(cache.policy(), model.policy(), "policy");
    for key in KEYS {
        let expected_state = model.pos(key).map(|i| !model.live(&model.entries[i]));
        prop_assert_eq!(
            cache.is_expired(key),
            expected_state,
            "is_expired({:?})",
            key
        );
        let live = model
            .live_pos(key)
            .map(|i| model.entries[i].value.as_slice());
        prop_assert_eq!(cache.peek(key), live, "peek({:?})", key);
        prop_assert_eq!(cache.contains(key), live.is_some(), "contains({:?})", key);
    }
    // The snapshot shows the live entries in LRU order with their exact deadlines.
    let (snap_config, snap_entries) = decode_snapshot(&cache.snapshot())
        .map_err(|e| TestCaseError::fail(format!("snapshot: {e}")))?;
    prop_assert_eq!(snap_config, config, "snapshot settings");
    let expected = model.live_entries();
    prop_assert_eq!(
        snap_entries.len(),
        expected.len(),
        "snapshot entries {:?}, model {:?}",
        &snap_entries,
        &expected
    );
    for ((k, v, d, standing), e) in snap_entries.iter().zip(&expected) {
        let expected_standing = e.reads + if e.in_main { 4 } else { 0 };
        prop_assert!(
            *k == e.key
                && *v == e.value
                && deadline_eq(*d, e.deadline)
                && *standing == expected_standing,
            "snapshot entries {:?}, model {:?}",
            &snap_entries,
            &expected
        );
    }
    Ok(())
}

/// Compares this step's removals (as the listener saw them) with the model's expectation.
fn check_events(expected: &[Event], actual: &[Removal]) -> Result<(), TestCaseError> {
    let show = || {
        let exp: Vec<_> = expected.iter().map(|e| (&e.removal, e.group)).collect();
        format!("expected removals {exp:?}, got {actual:?}")
    };
    prop_assert_eq!(expected.len(), actual.len(), "{}", show());
    let mut i = 0;
    while i < expected.len() {
        match expected[i].group {
            None => {
                prop_assert_eq!(&expected[i].removal, &actual[i], "{}", show());
                i += 1;
            }
            Some(g) => {
                let end = i + expected[i..]
                    .iter()
                    .take_while(|e| e.group == Some(g))
                    .count();
                let mut exp: Vec<&Removal> = expected[i..end].iter().map(|e| &e.removal).collect();
                let mut got: Vec<&Removal> = actual[i..end].iter().collect();
                exp.sort_by(|a, b| a.key.cmp(&b.key));
                got.sort_by(|a, b| a.key.cmp(&b.key));
                prop_assert_eq!(exp, got, "{}", show());
                i = end;
            }
        }
    }
    Ok(())
}

fn check_result<T: PartialEq + std::fmt::Debug>(
    actual: Result<T, CacheError>,
    expected: Result<T, Vec<ExpErr>>,
) -> Result<(), TestCaseError> {
    match (&actual, &expected) {
        (Ok(a), Ok(e)) => prop_assert_eq!(a, e),
        (Err(a), Err(e)) => {
            prop_assert!(matches_err(a, e), "error {:?}, expected one of {:?}", a, e)
        }
        _ => prop_assert!(false, "got {:?}, expected {:?}", actual, expected),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
/// The bytes a removal record holds: its key and value.
fn record_bytes(r: &Removal) -> u64 {
    (r.key.len() + r.value.len()) as u64
}

// The test
// ---------------------------------------------------------------------------------------------

type Seen = Arc<Mutex<Vec<Removal>>>;

fn new_cache(
    config: Config,
    clock: &ManualClock,
    seed: (u64, u64),
    seen: Option<&Seen>,
) -> Cache<ManualClock> {
    let mut cache =
        Cache::with_clock_and_seed(config, clock.clone(), seed).expect("valid settings");
    if let Some(seen) = seen {
        let seen = Arc::clone(seen);
        cache.set_removal_listener(move |r| seen.lock().unwrap().push(r.clone()));
    }
    cache
}

fn step(
    cache: &mut Cache<ManualClock>,
    model: &mut Model,
    clock: &ManualClock,
    seen: Option<&Seen>,
    op: &Op,
) -> Result<(), TestCaseError> {
    let k = |i: &usize| KEYS[*i];
    match op {
        Op::Get(i) => {
            let key = k(i);
            let expected = model.live_or_remove(key).map(|i| {
                let v = model.entries[i].value.clone();
                model.touch(i);
                v
            });
            match expected {
                Some(_) => model.stats.hits += 1,
                None => model.stats.misses += 1,
            }
            prop_assert_eq!(cache.get(key).map(<[u8]>::to_vec), expected);
        }
        Op::Peek(i) => {
            let expected = model.live_pos(k(i)).map(|i| model.entries[i].value.clone());
            prop_assert_eq!(cache.peek(k(i)).map(<[u8]>::to_vec), expected);
        }
        Op::Contains(i) => prop_assert_eq!(cache.contains(k(i)), model.live_pos(k(i)).is_some()),
        Op::IsExpired(i) => {
            let expected = model.pos(k(i)).map(|p| !model.live(&model.entries[p]));
            prop_assert_eq!(cache.is_expired(k(i)), expected);
        }
        Op::Set(i, v) => {
            let expected = model.write(k(i), v.bytes(), Expiry::DefaultTtl);
            check_result(cache.set(k(i), v.bytes()), expected)?;
        }
        Op::SetWithExpiry(i, v, e) => {
            let expiry = e.to_expiry(model.now);
            let expected = model.write(k(i), v.bytes(), expiry);
            check_result(cache.set_with_expiry(k(i), v.bytes(), expiry), expected)?;
        }
        Op::Delete(i) => {
            let expected = model
                .live_or_remove(k(i))
                .map(|p| model.remove(p, RemovalCause::Deleted, None));
            prop_assert_eq!(cache.delete(k(i)), expected.is_some());
        }
        Op::Pop(i) => {
            let expected = model
                .live_or_remove(k(i))
                .map(|p| model.remove(p, RemovalCause::Popped, None).value);
            prop_assert_eq!(cache.pop(k(i)), expected);
        }
        Op::PopItem(last) => {
            let expected = model.pop_item(*last);
            prop_assert_eq!(cache.pop_item(*last), expected);
        }
        Op::SetDefault(i, v) => {
            let expected = model.set_default(k(i), v.bytes());
            check_result(
                cache.set_default(k(i), v.bytes()).map(<[u8]>::to_vec),
                expected,
            )?;
        }
        Op::MoveToEnd(i, last) => {
            let expected = match model.live_or_remove(k(i)) {
                Some(p) => {
                    let mut e = model.entries.remove(p);
                    if *last {
                        // S3-FIFO: the main queue's newest end, counter kept.
                        e.in_main = model.s3fifo;
                        model.entries.push(e);
                    } else {
                        // S3-FIFO: the small queue's oldest end, counter 0.
                        e.in_main = false;
                        e.reads = 0;
                        model.entries.insert(0, e);
                        model.trim_ghost();
                    }
                    Ok(())
                }
                None => Err(vec![ExpErr::KeyNotFound]),
            };
            check_result(cache.move_to_end(k(i), *last), expected)?;
        }
        Op::Len => {
            model.purge_all();
            prop_assert_eq!(cache.len(), model.entries.len());
        }
        Op::IsEmpty => {
            model.purge_all();
            prop_assert_eq!(cache.is_empty(), model.entries.is_empty());
        }
        Op::Keys { reversed } => {
            model.purge_all();
            let mut expected: Vec<&str> = model.entries.iter().map(|e| e.key.as_str()).collect();
            let got: Vec<String> = if *reversed {
                expected.reverse();
                cache.keys().rev().map(str::to_owned).collect()
            } else {
                cache.keys().map(str::to_owned).collect()
            };
            prop_assert_eq!(got, expected);
        }
        Op::Values { reversed } => {
            model.purge_all();
            let mut expected: Vec<&[u8]> =
                model.entries.iter().map(|e| e.value.as_slice()).collect();
            let got: Vec<Vec<u8>> = if *reversed {
                expected.reverse();
                cache.values().rev().map(<[u8]>::to_vec).collect()
            } else {
                cache.values().map(<[u8]>::to_vec).collect()
            };
            prop_assert_eq!(got, expected);
        }
        Op::Iter { reversed } => {
            model.purge_all();
            let mut expected: Vec<(&str, &[u8])> = model
                .entries
                .iter()
                .map(|e| (e.key.as_str(), e.value.as_slice()))
                .collect();
            let iter = cache.iter();
            prop_assert_eq!(iter.len(), expected.len(), "ExactSizeIterator::len");
            let got: Vec<(String, Vec<u8>)> = if *reversed {
                expected.reverse();
                iter.rev()
                    .map(|(k, v)| (k.to_owned(), v.to_vec()))
                    .collect()
            } else {
                iter.map(|(k, v)| (k.to_owned(), v.to_vec())).collect()
            };
            let got: Vec<(&str, &[u8])> = got
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_slice()))
                .collect();
            prop_assert_eq!(got, expected);
        }
        Op::Describe => {
            model.purge_all();
            let line = cache.describe();
            prop_assert!(!line.contains('\n'), "describe is one line: {:?}", line);
            let bytes = format!("current_memory_bytes={}", model.byte_size());
            let items = format!("current_items={}", model.entries.len());
            prop_assert!(
                line.contains(&bytes) && line.contains(&items),
                "describe {:?}",
                line
            );
        }
        Op::Clear => {
            model.clear();
            cache.clear();
        }
        Op::GetTtl(i) => {
            let expected = match model.live_or_remove(k(i)) {
                Some(p) => Ok(model.entries[p]
                    .deadline
                    .map(|d| (d - model.now) as f64 / NANOS_PER_SEC)),
                None => Err(()),
            };
            let got = cache.get_ttl(k(i));
            match (&got, &expected) {
                (Ok(None), Ok(None)) => {}
                (Ok(Some(a)), Ok(Some(e))) => {
                    prop_assert!(close(*a, *e), "get_ttl {} expected {}", a, e)
                }
                (Err(CacheError::KeyNotFound), Err(())) => {}
                _ => prop_assert!(false, "get_ttl {:?}, expected {:?}", got, expected),
            }
        }
        Op::SetTtl(i, ttl) => {
            // A bad TTL fails whatever the key, and changes nothing.
            let nanos = match ttl {
                None => Ok(None),
                Some(t) => valid_ttl(*t)
                    .map(|n| Some(clamp_deadline(model.now.saturating_add(n))))
                    .ok_or(()),
            };
            let expected = match nanos {
                Err(()) => Err(vec![ExpErr::Invalid]),
                Ok(deadline) => match model.live_or_remove(k(i)) {
                    Some(p) => {
                        model.entries[p].deadline = deadline;
                        Ok(())
                    }
                    None => Err(vec![ExpErr::KeyNotFound]),
                },
            };
            check_result(cache.set_ttl(k(i), *ttl), expected)?;
        }
        Op::ExpireAt(i, at) => {
            let seconds = at.seconds(model.now);
            let expected = match at_deadline(seconds) {
                Err(()) => Err(vec![ExpErr::Invalid]),
                Ok(deadline) => match model.live_or_remove(k(i)) {
                    Some(p) => {
                        model.entries[p].deadline = deadline;
                        Ok(())
                    }
                    None => Err(vec![ExpErr::KeyNotFound]),
                },
            };
            check_result(cache.expire_at(k(i), seconds), expected)?;
        }
        Op::SetDefaultTtl(ttl) => {
            let expected = match ttl {
                Some(t) if valid_ttl(*t).is_none() => Err(vec![ExpErr::Invalid]),
                _ => {
                    model.default_ttl = *ttl;
                    Ok(())
                }
            };
            check_result(cache.set_default_ttl(*ttl), expected)?;
        }
        Op::ChangeByteSize(choice) => {
            let (text, meaning) = match choice {
                None => (None, Some(None)),
                Some(c) => (Some(SIZE_STRINGS[*c].0), SIZE_STRINGS[*c].1.map(Some)),
            };
            let expected = match meaning {
                None => Err(vec![ExpErr::Invalid]),
                Some(limit) => {
                    model.set_max_bytes(limit);
                    model.make_room(0, 0, None);
                    Ok(())
                }
            };
            check_result(cache.change_byte_size(text), expected)?;
        }
        Op::SetMaxSizeBytes(limit) => {
            let expected = if *limit == Some(0) {
                Err(vec![ExpErr::Invalid])
            } else {
                model.set_max_bytes(*limit);
                model.make_room(0, 0, None);
                Ok(())
            };
            check_result(cache.set_max_size_bytes(*limit), expected)?;
        }
        Op::ChangeMaxItems(limit) => {
            let expected = if *limit == Some(0) {
                Err(vec![ExpErr::Invalid])
            } else {
                model.max_items = *limit;
                model.make_room(0, 0, None);
                Ok(())
            };
            check_result(cache.change_max_items(*limit), expected)?;
        }
        Op::PurgeExpired => {
            let expected = model.purge_all();
            prop_assert_eq!(cache.purge_expired(), expected);
        }
        Op::DrainRemovals(max) => {
            let n = model.log.len().min(*max as usize);
            let expected: Vec<Removal> = model.log.drain(..n).collect();
            prop_assert_eq!(cache.drain_removals(*max), expected);
        }
        Op::ResetStats => {
            model.stats = Stats::default();
            cache.reset_stats();
        }
        Op::SnapshotRestore(seed) => {
            let bytes = cache.snapshot();
            let restored = Cache::restore(&bytes, clock.clone(), *seed);
            let mut restored = match restored {
                Ok(c) => c,
                Err(e) => return Err(TestCaseError::fail(format!("restore failed: {e}"))),
            };
            if let Some(seen) = seen {
                let seen = Arc::clone(seen);
                restored.set_removal_listener(move |r| seen.lock().unwrap().push(r.clone()));
            }
            *cache = restored;
            let now = model.now;
            model
                .entries
                .retain(|e| e.deadline.is_none_or(|d| d >= now));
            model.stats = Stats::default();
            model.log.clear();
            model.ghost.clear();
        }
        Op::EvictForMemory => {
            let plan = model.evict_plan();
            let got = cache.evict_for_memory();
            match plan {
                EvictPlan::Nothing => prop_assert!(!got),
                EvictPlan::DropRecord => {
                    prop_assert!(got);
                    model.log.pop_front();
                    model.stats.removals_dropped += 1;
                }
                EvictPlan::Lru if model.s3fifo => {
                    prop_assert!(got);
                    // S3-FIFO's step names the victim (no ghost entry: memory is short).
                    let (i, _) = model.s3fifo_victim(None).expect("an entry");
                    model.remove(i, RemovalCause::EvictedSize, None);
                    if model.entries.is_empty() {
                        model.ghost.clear();
                    }
                }
                EvictPlan::Lru => {
                    prop_assert!(got);
                    model.remove(0, RemovalCause::EvictedSize, None);
                }
            }
        }
        Op::AdvanceNanos(n) => {
            model.now += n;
            clock.set(Time::from_nanos(model.now));
        }
        Op::AdvanceSecs(s) => {
            model.now = model.now.saturating_add(nanos_of(*s).unwrap());
            clock.advance_secs(*s);
        }
    }
    Ok(())
}

fn run(setup: Setup, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let clock = ManualClock::default();
    let config = Config {
        default_ttl: setup.default_ttl,
        max_size_bytes: setup.max_size_bytes,
        max_items: setup.max_items,
        removal_log_capacity: setup.removal_log_capacity,
        policy: setup.policy,
    };
    let seen: Option<Seen> = setup.listener.then(Seen::default);
    let mut cache = new_cache(config, &clock, setup.seed, seen.as_ref());
    let mut model = Model::new(&setup, clock.now().as_nanos());
    check_state(&cache, &model, &clock)?;
    for (n, op) in ops.iter().enumerate() {
        let context = |e: TestCaseError| TestCaseError::fail(format!("step {n} {op:?}: {e}"));
        step(&mut cache, &mut model, &clock, seen.as_ref(), op).map_err(context)?;
        let expected = std::mem::take(&mut model.events);
        if let Some(seen) = &seen {
            let actual = std::mem::take(&mut *seen.lock().unwrap());
            check_events(&expected, &actual).map_err(context)?;
            // The order the spec leaves open is the one the cache chose: the log follows it.
            model.log_records(actual);
        } else {
            // No listener means no log (capacity 0): nothing is recorded.
            model.log_records(Vec::new());
        }
        check_state(&cache, &model, &clock).map_err(context)?;
    }
    Ok(())
}

/// 10,000 cases unless `PROPTEST_CASES` says otherwise (`ProptestConfig::with_cases` would
/// ignore the variable, `ProptestConfig::default()` reads it). No regression files are written.
fn proptest_config() -> ProptestConfig {
    let mut config = if std::env::var_os("PROPTEST_CASES").is_some() {
        ProptestConfig::default()
    } else {
        ProptestConfig::with_cases(10_000)
    };
    config.failure_persistence = None;
    config
}

proptest! {
    #![proptest_config(proptest_config())]

    #[test]
    fn model_every_operation_matches_the_spec(setup in setup(), ops in vec(op(), 0..60)) {
        run(setup, ops)?;
    }
}

#[test]
fn model_time_conversion_rounds_to_the_nearest_nanosecond() {
    assert_eq!(nanos_of(0.0), Some(0));
    assert_eq!(nanos_of(-0.0), Some(0));
    assert_eq!(nanos_of(1.0), Some(1_000_000_000));
    assert_eq!(nanos_of(0.25), Some(250_000_000));
    assert_eq!(nanos_of(1e-9), Some(1));
    assert_eq!(nanos_of(0.1), Some(100_000_000));
    assert_eq!(nanos_of(-1.5), Some(-1_500_000_000));
    assert_eq!(nanos_of(1_700_000_000.0), Some(1_700_000_000_000_000_000));
    assert_eq!(nanos_of(1e300), Some(i128::MAX));
    assert_eq!(nanos_of(-1e300), Some(i128::MIN));
    assert_eq!(nanos_of(f64::NAN), None);
    assert_eq!(nanos_of(5e-324), Some(0));
}

/// The long model run: random sequences, 100 to 200 operations each, until at least
/// `FAAS_CACHE_MODEL_OPS` operations (default 1,000,000) have been compared with the model.
/// `cargo test --release -p faas-cache --test model -- --ignored --nocapture`
#[test]
#[ignore = "long run (about a minute in release): see the README's reliability section"]
fn model_one_million_operations() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let target: usize = std::env::var("FAAS_CACHE_MODEL_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let mut runner = TestRunner::new(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let strategy = (setup(), vec(op(), 100..200));
    let (mut operations, mut cases) = (0usize, 0usize);
    let started = std::time::Instant::now();
    while operations < target {
        let (setup, ops) = strategy.new_tree(&mut runner).expect("a case").current();
        operations += ops.len();
        cases += 1;
        if let Err(divergence) = run(setup.clone(), ops.clone()) {
            panic!("divergence in case {cases}: {divergence}\nsetup: {setup:?}\nops: {ops:?}");
        }
    }
    println!(
        "model: {operations} operations in {cases} sequences compared with the model in {:.1} s: 0 divergences",
        started.elapsed().as_secs_f64()
    );
}
