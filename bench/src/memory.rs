//! Section 4 of the report: the component's linear memory against its byte budget, after a fill
//! to the budget with 100-byte values and after a churn of ten budgets of mixed sizes (16 B to
//! 64 KiB, log-uniform). Linear memory never shrinks, so the figure after the churn is the peak.
//! Each budget runs under both eviction policies, and once more under LRU with a removal log of
//! 100,000 records that nothing drains (the log's worst case: it fills to its byte bound, the
//! cache's limit, as `wit/cache.wit` says). Invariant: each budget, policy and log runs in a
//! fresh instance, so no figure carries another's memory.

use faas_cache_host::{CacheError, EvictionPolicy, Options};

use crate::workload::Rng;

pub const MIB: usize = 1 << 20;

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct MemoryRow {
    /// `lru` or `s3-fifo` (rows written before the policy existed are LRU).
    #[serde(default = "lru")]
    pub policy: String,
    pub budget: usize,
    /// Linear memory after filling to the budget.
    pub after_fill: usize,
    /// Linear memory after churning ten budgets through the cache (the peak).
    pub after_churn: usize,
    /// Accounted bytes (`byte-size`) at the end.
    pub accounted: u64,
    pub entries: u32,
    pub writes: u64,
    pub out_of_memory: u64,
    /// The removal log's record capacity (0: no log; rows from before the case have none).
    #[serde(default)]
    pub removal_log_capacity: u32,
    /// Removal records dropped to keep the log within its bounds (`stats.removals-dropped`).
    #[serde(default)]
    pub removals_dropped: u64,
    /// Removal records the log held at the end.
    #[serde(default)]
    pub removals_held: u64,
}

fn lru() -> String {
    "lru".into()
}

impl MemoryRow {
    /// What the removal log may hold: as many bytes of records as the cache's byte limit.
    pub fn log_bound(&self) -> usize {
        if self.removal_log_capacity > 0 {
            self.budget
        } else {
            0
        }
    }

    /// The bound: 1.25 x (the budget plus the log's bound) plus 1 MiB of fixed cost.
    pub fn bound(&self) -> usize {
        let held = self.budget + self.log_bound();
        held + held / 4 + MIB
    }
}

fn measure(budget: usize, policy: EvictionPolicy, removal_log_capacity: u32) -> MemoryRow {
    let mut g = crate::guest::instance();
    let options = Options {
        default_ttl: None,
        max_size: Some(budget.to_string()),
        max_items: None,
        removal_log_capacity,
    };
    let d = g.create_with_policy(&options, policy).expect("create");
    let policy = match policy {
        EvictionPolicy::Lru => "lru",
        EvictionPolicy::S3Fifo => "s3-fifo",
    };
    let hundred = vec![7u8; 100];
    // About 226 accounted bytes per entry: budget / 100 writes fill it more than twice over.
    for i in 0..budget / 100 {
        g.cache(d).set(&format!("fill-{i}"), &hundred).expect("set");
    }
    let after_fill = g.memory_bytes();
    let mut rng = Rng::new(budget as u64);
    let (mut written, mut writes, mut oom) = (0usize, 0u64, 0u64);
    let ln_max = (64.0 * 1024.0f64 / 16.0).ln();
    while written < 10 * budget {
        let size = (16.0 * (rng.unit() * ln_max).exp()) as usize;
        // Three writes in four are new keys; one overwrites one of the last thousand.
        let k = if writes % 4 == 3 {
            writes.saturating_sub(1 + rng.below(1000) as u64)
        } else {
            writes
        };
        match g
            .cache(d)
            .set(&format!("churn-{k}"), &vec![writes as u8; size])
        {
            Ok(()) => {}
            Err(CacheError::OutOfMemory) => oom += 1,
            Err(e) => panic!("set failed: {e:?}"),
        }
        written += size;
        writes += 1;
    }
    let after_churn = g.memory_bytes();
    let removals_dropped = g.cache(d).stats().removals_dropped;
    // A call returns at most 16 MiB of records: drain until the log is empty.
    let mut removals_held = 0u64;
    loop {
        let n = g.cache(d).drain_removals(u32::MAX).len() as u64;
        if n == 0 {
            break;
        }
        removals_held += n;
    }
    let row = MemoryRow {
        policy: policy.into(),
        budget,
        after_fill,
        after_churn,
        accounted: g.cache(d).byte_size(),
        entries: g.cache(d).len(),
        writes,
        out_of_memory: oom,
        removal_log_capacity,
        removals_dropped,
        removals_held,
    };
    eprintln!(
        "  {policy:<7} log {removal_log_capacity:>6} budget {:>4} MiB: memory {:>6.2} MiB after fill, {:>6.2} MiB after churn (bound {:.2} MiB)",
        budget / MIB,
        row.after_fill as f64 / MIB as f64,
        row.after_churn as f64 / MIB as f64,
        row.bound() as f64 / MIB as f64
    );
    row
}

pub fn run(budgets_mib: &[usize]) -> Vec<MemoryRow> {
    eprintln!("memory vs budget");
    let mut rows = Vec::new();
    for &b in budgets_mib {
        for policy in [EvictionPolicy::Lru, EvictionPolicy::S3Fifo] {
            rows.push(measure(b * MIB, policy, 0));
        }
        rows.push(measure(b * MIB, EvictionPolicy::Lru, 100_000));
    }
    rows
}
