// The snapshot format is shared with Rust: `crates/faas-cache/tests/shared_snapshot.rs` pins the
// bytes of one snapshot; here the same file restores in JavaScript, and the same cache built in
// JavaScript snapshots to the same bytes (so JavaScript-made snapshots restore in Rust).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { FaaSCacheDict, setClock } from '../src/index.js';

const fixture = new Uint8Array(
  readFileSync(new URL('../../crates/faas-cache/tests/fixtures/shared.fcds', import.meta.url)),
);
const START_S = 1_700_000_000;
let nowMs = START_S * 1000;

before(() => setClock(() => nowMs));
after(() => setClock(null));

test('a Rust-made snapshot restores with order, settings and expiries', () => {
  nowMs = START_S * 1000;
  const cache = FaaSCacheDict.restore(fixture);
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

test('the same cache built in JavaScript snapshots to the same bytes', () => {
  nowMs = START_S * 1000;
  const cache = new FaaSCacheDict({ defaultTtl: 60, maxItems: 100, maxSizeBytes: '64K', removalLogCapacity: 16 });
  cache.set('default-ttl', 'sixty seconds');
  cache.set('never', new Uint8Array([0, 1, 2, 255]), { ttl: null });
  cache.set('ttl-2.5', 'héllo wörld', { ttl: 2.5 });
  cache.set('at', 'until 1700000100', { expireAt: 1_700_000_100 });
  cache.set('empty', new Uint8Array(0));
  cache.get('default-ttl');
  assert.deepEqual(cache.snapshot(), fixture);
});
