// The snapshot format is shared with Rust: `crates/faas-cache/tests/shared_snapshot.rs` pins the
// bytes of two snapshots, an LRU cache (`shared.fcds`) and an S3-FIFO cache (`shared-s3fifo.fcds`);
// here the same files restore in JavaScript, and the same caches built in JavaScript snapshot to
// the same bytes (so JavaScript-made snapshots restore in Rust). `shared-v1.fcds` is the LRU
// fixture as format version 1 wrote it: it still restores, as the same LRU cache.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { FaaSCacheDict, setClock } from '../src/index.js';

/** @param {string} name */
const readFixture = (name) =>
  new Uint8Array(readFileSync(new URL(`../../crates/faas-cache/tests/fixtures/${name}`, import.meta.url)));
const fixture = readFixture('shared.fcds');
const fixtureS3Fifo = readFixture('shared-s3fifo.fcds');
const fixtureV1 = readFixture('shared-v1.fcds');
const START_S = 1_700_000_000;
let nowMs = START_S * 1000;

before(() => setClock(() => nowMs));
after(() => setClock(null));

test('a Rust-made snapshot restores with order, settings and expiries', () => {
  nowMs = START_S * 1000;
  const cache = FaaSCacheDict.restore(fixture);
  assert.equal(cache.policy, 'lru');
  assert.deepEqual([...cache.keys()], ['never', 'ttl-2.5', 'at', 'empty', 'default-ttl']);
  assert.deepEqual(cache.peek('never'), new Uint8Array([0, 1, 2, 255]));
  assert.equal(new TextDecoder().decode(cache.peek('ttl-2.5')), 'héllo wörld');
  assert.equal(cache.getTtl('default-ttl'), 60);
  assert.equal(cache.getTtl('never'), null);
  assert.equal(cache.getTtl('at'), 100);
  assert.equal(cache.maxSizeBytes, 64 * 1024);
  assert.equal(cache.maxItems, 100);
  assert.equal(cache.defaultTtl, 60);
  nowMs += 3000;
  assert.equal(cache.get('ttl-2.5'), undefined);
  assert.equal(cache.size, 4);
});

/** `shared_cache` of shared_snapshot.rs. */
function sharedCache() {
  const cache = new FaaSCacheDict({ defaultTtl: 60, maxItems: 100, maxSizeBytes: '64K', removalLogCapacity: 16 });
  cache.set('default-ttl', 'sixty seconds');
  cache.set('never', new Uint8Array([0, 1, 2, 255]), { ttl: null });
  cache.set('ttl-2.5', 'héllo wörld', { ttl: 2.5 });
  cache.set('at', 'until 1700000100', { expireAt: 1_700_000_100 });
  cache.set('empty', new Uint8Array(0));
  cache.get('default-ttl');
  return cache;
}

/**
 * `shared_s3fifo_cache` of shared_snapshot.rs: ten keys fill the small queue; `a` is read once and
 * `b` twice; `k` moves `a` and `b` to the main queue and evicts `c` into the ghost set; `c` comes
 * back straight into the main queue, and `d` (small, unread) is evicted to make room for it; `a`
 * and `b` are read again in the main queue (counters 1 and 2).
 */
function sharedS3FifoCache() {
  // Rust's `Config::default()` keeps no removal log (the wrapper's default is 1024).
  const cache = new FaaSCacheDict({ maxItems: 10, policy: 's3-fifo', removalLogCapacity: 0 });
  for (const key of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']) cache.set(key, key);
  assert.ok(cache.get('a') !== undefined);
  assert.ok(cache.get('b') !== undefined && cache.get('b') !== undefined);
  cache.set('k', 'k');
  cache.set('c', 'c again', { ttl: 30 });
  // Promotion cleared the counters: read `a` once and `b` twice again, now in the main queue.
  assert.ok(cache.get('a') !== undefined);
  assert.ok(cache.get('b') !== undefined && cache.get('b') !== undefined);
  return cache;
}

test('the same cache built in JavaScript snapshots to the same bytes', () => {
  nowMs = START_S * 1000;
  const cache = sharedCache();
  assert.equal(cache.policy, 'lru');
  assert.deepEqual(cache.snapshot(), fixture);
});

test('the fixtures are format version 2 (LRU, S3-FIFO) and 1 (the old LRU bytes)', () => {
  for (const bytes of [fixture, fixtureS3Fifo, fixtureV1]) {
    assert.equal(new TextDecoder().decode(bytes.subarray(0, 4)), 'FCDS');
  }
  assert.equal(fixture[4], 2);
  assert.equal(fixtureS3Fifo[4], 2);
  assert.equal(fixtureV1[4], 1);
});

test('the same S3-FIFO cache built in JavaScript snapshots to the same bytes', () => {
  nowMs = START_S * 1000;
  const cache = sharedS3FifoCache();
  assert.equal(cache.policy, 's3-fifo');
  assert.deepEqual([...cache.keys()], ['e', 'f', 'g', 'h', 'i', 'j', 'k', 'a', 'b', 'c']);
  assert.deepEqual(cache.snapshot(), fixtureS3Fifo);
});

test('a Rust-made S3-FIFO snapshot restores with its policy, queues and counters', () => {
  nowMs = START_S * 1000;
  const cache = FaaSCacheDict.restore(fixtureS3Fifo, { encoding: 'utf8' });
  assert.equal(cache.policy, 's3-fifo');
  assert.deepEqual([...cache.keys()], ['e', 'f', 'g', 'h', 'i', 'j', 'k', 'a', 'b', 'c']);
  assert.equal(cache.peek('c'), 'c again');
  assert.equal(cache.peek('a'), 'a');
  assert.equal(cache.getTtl('c'), 30);
  assert.equal(cache.getTtl('a'), null);
  assert.equal(cache.maxItems, 10);
  assert.equal(cache.maxSizeBytes, null);
  assert.deepEqual(cache.snapshot(), fixtureS3Fifo);
  // As in shared_snapshot.rs: the small queue is at its target, so the next two writes evict `e`
  // and `f` (unread); `a`, `b`, `c` stay in the main queue; and the result is the same as for the
  // cache built here.
  // (The fixture keeps no removal log, so the evictions are read from the stats.)
  cache.set('l', 'l').set('m', 'm');
  assert.equal(cache.has('e'), false);
  assert.equal(cache.has('f'), false);
  assert.equal(cache.stats().evictedCount, 2);
  assert.deepEqual([...cache.keys()], ['g', 'h', 'i', 'j', 'k', 'l', 'm', 'a', 'b', 'c']);
  const same = sharedS3FifoCache();
  same.set('l', 'l').set('m', 'm');
  assert.deepEqual(cache.snapshot(), same.snapshot());
});

test('a format-1 snapshot restores as the same LRU cache', () => {
  nowMs = START_S * 1000;
  const cache = FaaSCacheDict.restore(fixtureV1);
  assert.equal(cache.policy, 'lru');
  assert.deepEqual([...cache.keys()], ['never', 'ttl-2.5', 'at', 'empty', 'default-ttl']);
  assert.equal(cache.getTtl('default-ttl'), 60);
  assert.equal(cache.getTtl('at'), 100);
  assert.deepEqual(cache.snapshot(), fixture);
  assert.deepEqual(cache.snapshot(), sharedCache().snapshot());
});
