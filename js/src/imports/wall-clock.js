// `wasi:clocks/wall-clock@0.2.0` for the cache component.
//
// Invariant: `now()` reports whatever the current source returns, in milliseconds since the Unix
// epoch (fractions allowed), so a test that installs a fake source controls every expiry.

/** @type {() => number} */
let source = () => Date.now();

/**
 * Replaces the clock every cache of this module reads (tests: a fake clock; no sleeping).
 * @param {(() => number) | null} nowMillis milliseconds since the Unix epoch; null restores Date.now
 */
export function setClock(nowMillis) {
  source = nowMillis ?? (() => Date.now());
}

/** @returns {{ seconds: bigint, nanoseconds: number }} */
export function now() {
  const ms = source();
  if (!Number.isFinite(ms) || ms < 0) return { seconds: 0n, nanoseconds: 0 };
  const seconds = Math.floor(ms / 1000);
  const nanoseconds = Math.min(999_999_999, Math.round((ms - seconds * 1000) * 1e6));
  return { seconds: BigInt(seconds), nanoseconds };
}

/**
 * `now()` written as the component's `datetime` record (u64 seconds at `offset`, u32 nanoseconds
 * at `offset + 8`, little-endian), without the BigInt and the object: the transpiled glue's clock
 * import (scripts/transpile.mjs) calls this on every read of an entry with an expiry. The u64 is
 * the seconds modulo 2^64, as `BigInt.asUintN(64, ..)` gives (both halves are exact for any double).
 * @param {DataView} view guest memory
 * @param {number} offset
 */
export function writeNow(view, offset) {
  const ms = source();
  let seconds = 0;
  let nanoseconds = 0;
  if (Number.isFinite(ms) && ms >= 0) {
    seconds = Math.floor(ms / 1000);
    nanoseconds = Math.min(999_999_999, Math.round((ms - seconds * 1000) * 1e6));
  }
  view.setUint32(offset, seconds % 0x1_0000_0000, true);
  view.setUint32(offset + 4, Math.floor(seconds / 0x1_0000_0000) % 0x1_0000_0000, true);
  view.setInt32(offset + 8, nanoseconds, true);
}

/** @returns {{ seconds: bigint, nanoseconds: number }} */
export function resolution() {
  return { seconds: 0n, nanoseconds: 1_000_000 };
}
