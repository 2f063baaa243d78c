//! The one workload of every benchmark: string keys `key-<i>`, 100-byte values, seeded
//! pseudo-random orders and a Zipf key distribution (exponent 1.0 unless a section says other). Invariant: everything here is
//! deterministic for a given size, so every library sees the same keys in the same order.

/// Bytes per value.
pub const VALUE_LEN: usize = 100;

pub fn key(i: usize) -> String {
    format!("key-{i}")
}

pub fn value() -> Vec<u8> {
    (0..VALUE_LEN).map(|i| i as u8).collect()
}

/// splitmix64: a small, fast, seedable generator (quality is ample for shuffles and draws).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform draw in `0..bound`.
    pub fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound as u64) as usize
    }

    /// A uniform draw in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `key-<lo>` .. `key-<hi-1>` in a seeded random order (Fisher-Yates). The strings are
/// allocated in that order, so walking the list reads memory sequentially.
pub fn shuffled_keys(lo: usize, hi: usize) -> Vec<String> {
    let mut order: Vec<usize> = (lo..hi).collect();
    let mut rng = Rng::new(hi as u64);
    for i in (1..order.len()).rev() {
        let j = rng.below(i + 1);
        order.swap(i, j);
    }
    order.into_iter().map(key).collect()
}

/// Draws ranks `0..n` with probability proportional to 1 / (rank + 1) (Zipf, s = 1).
pub struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    pub fn new(n: usize) -> Zipf {
        Zipf::with_exponent(n, 1.0)
    }

    /// Ranks `0..n` with probability proportional to 1 / (rank + 1)^alpha.
    pub fn with_exponent(n: usize, alpha: f64) -> Zipf {
        let mut total = 0.0;
        let cumulative = (0..n)
            .map(|r| {
                total += (r as f64 + 1.0).powf(-alpha);
                total
            })
            .collect();
        Zipf { cumulative }
    }

    pub fn draw(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative[self.cumulative.len() - 1];
        let x = rng.unit() * total;
        self.cumulative
            .partition_point(|&c| c <= x)
            .min(self.cumulative.len() - 1)
    }
}

/// One step of the mixed workload: a read, or a write of a key (by index).
#[derive(Clone, Copy)]
pub enum Step {
    Get(usize),
    Set(usize),
}

/// `count` steps, 90% reads and 10% writes, keys Zipf-distributed over `0..universe`.
pub fn mixed_plan(universe: usize, count: usize, seed: u64) -> Vec<Step> {
    let zipf = Zipf::new(universe);
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|_| {
            let k = zipf.draw(&mut rng);
            if rng.unit() < 0.1 {
                Step::Set(k)
            } else {
                Step::Get(k)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffled_keys_are_a_permutation() {
        let mut keys = shuffled_keys(10, 20);
        keys.sort();
        let mut expected: Vec<String> = (10..20).map(key).collect();
        expected.sort();
        assert_eq!(keys, expected);
    }

    #[test]
    fn zipf_favours_low_ranks_and_stays_in_range() {
        let zipf = Zipf::new(1000);
        let mut rng = Rng::new(1);
        let draws: Vec<usize> = (0..10_000).map(|_| zipf.draw(&mut rng)).collect();
        assert!(draws.iter().all(|&d| d < 1000));
        let rank0 = draws.iter().filter(|&&d| d == 0).count();
        // P(rank 0) = 1 / H(1000) ~ 13.4%.
        assert!((1000..1700).contains(&rank0), "{rank0}");
    }

    #[test]
    fn mixed_plan_writes_about_ten_percent() {
        let plan = mixed_plan(100, 10_000, 3);
        let writes = plan.iter().filter(|s| matches!(s, Step::Set(_))).count();
        assert!((800..1200).contains(&writes), "{writes}");
    }
}
