// `wasi:random/insecure-seed@0.2.0` for the cache component: the hash seed, read once per instance.
//
// Invariant: the seed comes from the platform's crypto source, so keys chosen by an attacker
// cannot be aimed at one hash bucket.

/** @returns {[bigint, bigint]} */
export function insecureSeed() {
  const words = new BigUint64Array(2);
  globalThis.crypto.getRandomValues(words);
  return [words[0], words[1]];
}
