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

/** @returns {{ seconds: bigint, nanoseconds: number }} */
export function resolution() {
  return { seconds: 0n, nanoseconds: 1_000_000 };
}
