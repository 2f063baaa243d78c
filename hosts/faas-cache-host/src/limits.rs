//! A store's memory cap and gauge: wasmtime's `StoreLimits`, plus the high-water mark of linear
//! memory and the number of refused growths. Invariant: the gauge records only growths the limits
//! allowed; a refused growth fails the guest's `memory.grow` (the guest copes), it never traps.

use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};

/// Limits on one store's linear memory, and what the guest asked of them.
pub struct MemoryLimiter {
    limits: StoreLimits,
    peak_bytes: usize,
    refused_growths: u64,
}

impl MemoryLimiter {
    /// No cap (wasmtime's defaults).
    pub fn unlimited() -> MemoryLimiter {
        MemoryLimiter::new(None)
    }

    /// Linear memory may not grow past `cap` bytes when it is set.
    pub fn new(cap: Option<usize>) -> MemoryLimiter {
        let mut builder = StoreLimitsBuilder::new();
        if let Some(bytes) = cap {
            builder = builder.memory_size(bytes);
        }
        MemoryLimiter {
            limits: builder.build(),
            peak_bytes: 0,
            refused_growths: 0,
        }
    }

    /// Bytes of linear memory the guest has grown to (its memory never shrinks).
    pub fn peak_bytes(&self) -> usize {
        self.peak_bytes
    }

    /// How many growths the cap refused.
    pub fn refused_growths(&self) -> u64 {
        self.refused_growths
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let ok = self.limits.memory_growing(current, desired, maximum)?;
        if ok {
            self.peak_bytes = self.peak_bytes.max(desired);
        } else {
            self.refused_growths += 1;
        }
        Ok(ok)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }
}
