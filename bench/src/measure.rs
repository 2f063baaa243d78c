//! Timing: every figure is the median of several runs, reported with its spread, so the report
//! can state its noise. Invariant: a `Sample` is a median over at least one run, and its spread
//! is (max - min) / median of those runs.

use serde::{Deserialize, Serialize};
use std::time::Instant;

/// A median over runs and how far the runs were apart.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Sample {
    /// The median, in nanoseconds (per operation, unless the caller says otherwise).
    pub ns: f64,
    /// (max - min) / median over the runs: 0.1 means the runs spanned 10% of the median.
    pub spread: f64,
}

impl Sample {
    /// The median and spread of `values` (which must not be empty).
    pub fn of(mut values: Vec<f64>) -> Sample {
        assert!(!values.is_empty(), "a sample needs at least one run");
        values.sort_by(f64::total_cmp);
        let mid = values.len() / 2;
        let median = if values.len() % 2 == 1 {
            values[mid]
        } else {
            (values[mid - 1] + values[mid]) / 2.0
        };
        let spread = if median > 0.0 {
            (values[values.len() - 1] - values[0]) / median
        } else {
            0.0
        };
        Sample { ns: median, spread }
    }
}

/// Runs `one` `runs` times; each run returns nanoseconds per operation.
pub fn repeat(runs: usize, mut one: impl FnMut() -> f64) -> Sample {
    Sample::of((0..runs.max(1)).map(|_| one()).collect())
}

/// Nanoseconds per operation of `body`, which performs `ops` operations.
pub fn per_op(ops: usize, body: impl FnOnce()) -> f64 {
    let start = Instant::now();
    body();
    start.elapsed().as_nanos() as f64 / ops.max(1) as f64
}

/// Nanoseconds that `body` takes.
pub fn nanos(body: impl FnOnce()) -> f64 {
    per_op(1, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_spread_of_odd_and_even_runs() {
        let s = Sample::of(vec![3.0, 1.0, 2.0]);
        assert_eq!(s.ns, 2.0);
        assert_eq!(s.spread, 1.0);
        let s = Sample::of(vec![4.0, 1.0, 2.0, 3.0]);
        assert_eq!(s.ns, 2.5);
        assert_eq!(s.spread, 3.0 / 2.5);
    }
}
