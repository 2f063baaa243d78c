//! Section 4 of the report: the component's linear memory against its byte budget, after a fill
//! to the budget with 100-byte values and after a churn of ten budgets of mixed sizes (16 B to
//! 64 KiB, log-uniform). Linear memory never shrinks, so the figure after the churn is the peak.
//! Each budget runs under both eviction policies. Invariant: each budget and policy runs in a
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
}

fn lru() -> String {
    "lru".into()
}

impl MemoryRow {
    /// The bound of the issue: 1.25 x the budget plus 1 MiB of fixed cost.
    pub fn bound(&self) -> usize {
        self.budget + self.budget / 4 + MIB
    }
}

fn measure(budget: usize, policy: EvictionPolicy) -> MemoryRow {
    let mut g = crate::guest::instance();
    let options = Options {
        default_ttl: None,
        max_size: Some(budget.to_string()),
        max_items: None,
        removal_log_capacity: 0,
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
    let row = MemoryRow {
        policy: policy.into(),
        budget,
        after_fill,
        after_churn: g.memory_bytes(),
        accounted: g.cache(d).byte_size(),
        entries: g.cache(d).len(),
        writes,
        out_of_memory: oom,
    };
    eprintln!(
        "  {policy:<7} budget {:>4} MiB: memory {:>6.2} MiB after fill, {:>6.2} MiB after churn (bound {:.2} MiB)",
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
            rows.push(measure(b * MIB, policy));
        }
    }
    rows
}
