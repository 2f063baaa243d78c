// The whole wrapper API through the transpiled component, with a fake clock (no sleeping).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';

import {
  CorruptSnapshot,
  DataTooLarge,
  FaaSCacheDict,
  FaaSCacheError,
  InvalidArgument,
  KeyNotFound,
  setClock,
  tick,
} from '../src/index.js';

const START_MS = 1_700_000_000_000;
let nowMs = START_MS;
/** Moves the fake clock by `seconds`. */
const advance = (seconds) => {
  nowMs += seconds * 1000;
};

beforeEach(() => {
  nowMs = START_MS;
  setClock(() => nowMs);
});
afterEach(() => setClock(null));

const bytes = (...b) => new Uint8Array(b);

describe('Map-like basics', () => {
  test('get/set/has/delete/size with bytes and strings', () => {
    const cache = new FaaSCacheDict();
    assert.equal(cache.set('a', bytes(1, 2, 3)), cache, 'set returns this');
    cache.set('b', 'text');
    assert.deepEqual(cache.get('a'), bytes(1, 2, 3));
    assert.deepEqual(cache.get('b'), new TextEncoder().encode('text'));
    assert.equal(cache.get('missing'), undefined);
    assert.equal(cache.has('a'), true);
    assert.equal(cache.size, 2);
    assert.equal(cache.delete('a'), true);
    assert.equal(cache.delete('a'), false);
    assert.equal(cache.size, 1);
  });

  test('utf8 encoding returns strings, including non-ASCII keys and values', () => {
    const cache = new FaaSCacheDict({ encoding: 'utf8' });
    cache.set('clé-🔑', 'välue ✓');
    cache.set('k'.repeat(1000), 'long key');
    assert.equal(cache.get('clé-🔑'), 'välue ✓');
    assert.equal(cache.get('k'.repeat(1000)), 'long key');
    assert.deepEqual([...cache.keys()], ['clé-🔑', 'k'.repeat(1000)]);
  });

  test('the value returned is a copy: mutating it does not change the cache', () => {
    const cache = new FaaSCacheDict();
    const value = bytes(1, 2);
    cache.set('k', value);
    value[0] = 9;
    const read = cache.get('k');
    read[1] = 9;
    assert.deepEqual(cache.get('k'), bytes(1, 2));
  });

  test('other views and ArrayBuffers are accepted as values', () => {
    const cache = new FaaSCacheDict();
    const backing = new Uint8Array([0, 1, 2, 3, 4, 5]);
    cache.set('view', new DataView(backing.buffer, 2, 3));
    cache.set('buffer', backing.buffer.slice(4));
    assert.deepEqual(cache.get('view'), bytes(2, 3, 4));
    assert.deepEqual(cache.get('buffer'), bytes(4, 5));
  });

  test('peek does not change order or stats', () => {
    const cache = new FaaSCacheDict();
    cache.set('a', 'x').set('b', 'y');
    cache.resetStats();
    assert.deepEqual(cache.peek('a'), new TextEncoder().encode('x'));
    assert.deepEqual([...cache.keys()], ['a', 'b']);
    assert.equal(cache.stats().hits, 0);
  });

  test('clear empties the cache and keeps the settings', () => {
    const cache = new FaaSCacheDict({ maxItems: 3 });
    cache.set('a', 'x').set('b', 'y');
    cache.clear();
    assert.equal(cache.size, 0);
    assert.equal(cache.maxItems, 3);
  });
});

describe('LRU order', () => {
  test('keys/values/entries/iterator/forEach are least recently used first', () => {
    const cache = new FaaSCacheDict({ encoding: 'utf8' });
    cache.set('a', '1').set('b', '2').set('c', '3');
    cache.get('a');
    assert.deepEqual([...cache.keys()], ['b', 'c', 'a']);
    assert.deepEqual([...cache.keysReversed()], ['a', 'c', 'b']);
    assert.deepEqual([...cache.values()], ['2', '3', '1']);
    assert.deepEqual([...cache.entries()], [['b', '2'], ['c', '3'], ['a', '1']]);
    assert.deepEqual([...cache], [['b', '2'], ['c', '3'], ['a', '1']]);
    const seen = [];
    cache.forEach((value, key, self) => seen.push([key, value, self === cache]));
    assert.deepEqual(seen, [['b', '2', true], ['c', '3', true], ['a', '1', true]]);
  });

  test('maxItems evicts the least recently used entry', () => {
    const cache = new FaaSCacheDict({ maxItems: 2 });
    cache.set('a', 'x').set('b', 'y');
    cache.get('a');
    cache.set('c', 'z');
    assert.deepEqual([...cache.keys()], ['a', 'c']);
    assert.equal(cache.stats().evictedCount, 1);
  });

  test('moveToEnd moves either way and throws KeyNotFound for a missing key', () => {
    const cache = new FaaSCacheDict();
    cache.set('a', 'x').set('b', 'y').set('c', 'z');
    cache.moveToEnd('a');
    assert.deepEqual([...cache.keys()], ['b', 'c', 'a']);
    cache.moveToEnd('a', false);
    assert.deepEqual([...cache.keys()], ['a', 'b', 'c']);
    assert.throws(() => cache.moveToEnd('nope'), KeyNotFound);
  });

  test('pop, popItem and setDefault', () => {
    const cache = new FaaSCacheDict({ encoding: 'utf8' });
    cache.set('a', '1').set('b', '2').set('c', '3');
    assert.equal(cache.pop('b'), '2');
    assert.equal(cache.pop('b'), undefined);
    assert.equal(cache.pop('b', 'fallback'), 'fallback');
    assert.deepEqual(cache.popItem({ last: false }), ['a', '1']);
    assert.deepEqual(cache.popItem(), ['c', '3'], 'the most recent by default, as popitem()');
    assert.throws(() => cache.popItem(), KeyNotFound, 'empty: as popitem() raises KeyError');
    assert.equal(cache.setDefault('d', '4'), '4');
    assert.equal(cache.setDefault('d', 'other'), '4');
  });
});

describe('eviction policy', () => {
  test('the policy option and getter: lru by default, s3-fifo on request, same settings', () => {
    assert.equal(new FaaSCacheDict().policy, 'lru');
    assert.equal(new FaaSCacheDict({ policy: undefined }).policy, 'lru');
    assert.equal(new FaaSCacheDict({ policy: 'lru' }).policy, 'lru');
    const cache = new FaaSCacheDict({
      policy: 's3-fifo',
      maxSizeBytes: '64K',
      maxItems: 7,
      defaultTtl: 5,
      encoding: 'utf8',
    });
    assert.equal(cache.policy, 's3-fifo');
    assert.equal(cache.maxSizeBytes, 64 * 1024);
    assert.equal(cache.maxItems, 7);
    assert.equal(cache.defaultTtl, 5);
    cache.set('k', 'v');
    assert.equal(cache.get('k'), 'v');
    assert.equal(cache.getTtl('k'), 5);
  });

  test('a bad policy is InvalidArgument naming the value and the allowed ones', () => {
    for (const bad of ['fifo', 'LRU', 'S3-FIFO', 's3fifo', '', 42, true, {}]) {
      assert.throws(
        () => new FaaSCacheDict({ policy: /** @type {any} */ (bad) }),
        (e) => {
          assert.ok(e instanceof InvalidArgument && e instanceof FaaSCacheError, String(e));
          assert.equal(e.code, 'invalid-argument');
          assert.ok(e.message.includes(JSON.stringify(bad)), e.message);
          assert.match(e.message, /"lru" or "s3-fifo"/);
          return true;
        },
      );
    }
    assert.throws(() => new FaaSCacheDict({ policy: Symbol('lru') }), InvalidArgument);
    // The component's own checks still apply to an S3-FIFO cache, mapped the same way.
    assert.throws(() => new FaaSCacheDict({ policy: 's3-fifo', maxSizeBytes: '12X' }), /12X/);
    assert.throws(() => new FaaSCacheDict({ policy: 's3-fifo', maxItems: 0 }), InvalidArgument);
  });

  test('S3-FIFO: reads move nothing; keys are the small queue then the main queue', () => {
    const cache = new FaaSCacheDict({ maxItems: 4, policy: 's3-fifo', encoding: 'utf8' });
    const events = [];
    cache.onDelete((key, value, cause) => events.push([key, value, cause]));
    cache.set('a', 'a').set('b', 'b').set('c', 'c').set('d', 'd');
    assert.equal(cache.get('a'), 'a');
    assert.deepEqual([...cache.keys()], ['a', 'b', 'c', 'd'], 'a read moves nothing');
    // Making room for e: a (read) goes to the main queue, b (unread) is evicted into the ghost set.
    cache.set('e', 'e');
    assert.deepEqual([...cache.keys()], ['c', 'd', 'e', 'a']);
    assert.equal(cache.has('b'), false);
    assert.deepEqual(events, [['b', 'b', 'evicted-count']]);
    // b is remembered by the ghost set, so it comes back straight into the main queue; c is evicted.
    cache.set('b', 'b again');
    assert.deepEqual([...cache.keys()], ['d', 'e', 'a', 'b']);
    assert.deepEqual([...cache.keysReversed()], ['b', 'a', 'e', 'd']);
    assert.deepEqual(events, [['b', 'b', 'evicted-count'], ['c', 'c', 'evicted-count']]);
    assert.equal(cache.stats().evictedCount, 2);
    assert.equal(cache.size, 4);
  });

  test('S3-FIFO: moveToEnd and popItem act on the ends of that order', () => {
    const cache = new FaaSCacheDict({ policy: 's3-fifo', encoding: 'utf8' });
    cache.set('a', '1').set('b', '2').set('c', '3');
    cache.moveToEnd('a');
    assert.deepEqual([...cache.keys()], ['b', 'c', 'a']);
    cache.moveToEnd('c', false);
    assert.deepEqual([...cache.keys()], ['c', 'b', 'a']);
    assert.deepEqual(cache.popItem({ last: false }), ['c', '3']);
    assert.deepEqual(cache.popItem(), ['a', '1']);
    assert.deepEqual([...cache.keys()], ['b']);
  });

  test('a snapshot round trip keeps the policy, the order and what is evicted next', () => {
    const cache = new FaaSCacheDict({ maxItems: 4, policy: 's3-fifo', encoding: 'utf8' });
    cache.set('a', 'a').set('b', 'b').set('c', 'c').set('d', 'd');
    cache.get('a');
    cache.set('e', 'e');
    const snap = cache.snapshot();
    const restored = FaaSCacheDict.restore(snap, { encoding: 'utf8' });
    assert.equal(restored.policy, 's3-fifo');
    assert.deepEqual([...restored], [...cache]);
    assert.deepEqual([...restored.keys()], ['c', 'd', 'e', 'a']);
    assert.deepEqual(restored.snapshot(), snap);
    // Queues and counters came along: the same writes evict the same keys in both.
    for (const c of [cache, restored]) c.get('d');
    for (const c of [cache, restored]) c.set('f', 'f').set('g', 'g');
    assert.deepEqual([...restored.keys()], [...cache.keys()]);
    assert.deepEqual(restored.snapshot(), cache.snapshot());
    // An LRU snapshot restores as LRU.
    const lru = new FaaSCacheDict({ maxItems: 4 }).set('x', 'y');
    assert.equal(FaaSCacheDict.restore(lru.snapshot()).policy, 'lru');
  });
});

describe('TTL with a fake clock', () => {
  test('defaultTtl expires entries after the TTL, not at it (E < now)', () => {
    const cache = new FaaSCacheDict({ defaultTtl: 10 });
    cache.set('k', 'v');
    advance(10);
    assert.equal(cache.has('k'), true, 'live at exactly its expiry time');
    advance(0.001);
    assert.equal(cache.has('k'), false);
    assert.equal(cache.get('k'), undefined);
    assert.equal(cache.stats().expired, 1);
  });

  test('set with ttl, ttl null (never) and expireAt', () => {
    const cache = new FaaSCacheDict({ defaultTtl: 1 });
    cache.set('short', 'x', { ttl: 5 });
    cache.set('never', 'x', { ttl: null });
    cache.set('at', 'x', { expireAt: START_MS / 1000 + 20 });
    assert.equal(cache.getTtl('short'), 5);
    assert.equal(cache.getTtl('never'), null);
    assert.equal(cache.getTtl('at'), 20);
    advance(6);
    assert.deepEqual([...cache.keys()], ['never', 'at']);
    advance(100);
    assert.deepEqual([...cache.keys()], ['never']);
  });

  test('getTtl/setTtl/expireAt/isExpired', () => {
    const cache = new FaaSCacheDict();
    cache.set('k', 'v');
    assert.equal(cache.getTtl('k'), null);
    cache.setTtl('k', 2.5);
    assert.equal(cache.getTtl('k'), 2.5);
    cache.setTtl('k', null);
    assert.equal(cache.getTtl('k'), null);
    assert.equal(cache.isExpired('k'), false);
    cache.expireAt('k', START_MS / 1000 - 1);
    assert.equal(cache.isExpired('k'), true, 'present but expired, not yet purged');
    assert.equal(cache.isExpired('never-written'), undefined);
    assert.throws(() => cache.getTtl('k'), KeyNotFound);
    assert.throws(() => cache.setTtl('gone', 1), KeyNotFound);
    assert.throws(() => cache.expireAt('gone', 1), KeyNotFound);
  });

  test('tick and purgeExpired reclaim expired entries', () => {
    const a = new FaaSCacheDict({ defaultTtl: 1 });
    const b = new FaaSCacheDict({ defaultTtl: 1 });
    a.set('x', '1').set('y', '2');
    b.set('z', '3');
    advance(2);
    const purged = tick();
    assert.ok(purged >= 3, `tick purged ${purged}: every cache of the module counts`);
    assert.equal(a.size + b.size, 0);
    a.set('w', '4');
    advance(2);
    assert.equal(a.purgeExpired(), 1);
    assert.equal(a.byteSize, new FaaSCacheDict().byteSize);
  });

  test('defaultTtl can be read and changed; existing entries keep theirs', () => {
    const cache = new FaaSCacheDict({ defaultTtl: 100 });
    assert.equal(cache.defaultTtl, 100);
    cache.set('old', 'x');
    cache.defaultTtl = 1;
    cache.set('new', 'y');
    advance(2);
    assert.deepEqual([...cache.keys()], ['old']);
    cache.defaultTtl = null;
    assert.equal(cache.defaultTtl, null);
  });

  test('invalid TTLs are InvalidArgument and change nothing', () => {
    const cache = new FaaSCacheDict();
    cache.set('k', 'v');
    for (const ttl of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => cache.set('k', 'other', { ttl }), InvalidArgument);
      assert.throws(() => cache.setTtl('k', ttl), InvalidArgument);
    }
    assert.throws(() => cache.set('k', 'v', { ttl: '5' }), InvalidArgument);
    assert.throws(() => cache.expireAt('k', Number.NaN), InvalidArgument);
    assert.throws(() => new FaaSCacheDict({ defaultTtl: -5 }), InvalidArgument);
    assert.equal(new TextDecoder().decode(cache.get('k')), 'v');
  });
});

describe('byte budget', () => {
  test('maxSizeBytes evicts least recently used entries and never exceeds the budget', () => {
    const cache = new FaaSCacheDict({ maxSizeBytes: '4K' });
    assert.equal(cache.maxSizeBytes, 4096);
    for (let i = 0; i < 100; i++) {
      cache.set(`key-${i}`, new Uint8Array(100));
      assert.ok(cache.byteSize <= 4096);
    }
    assert.ok(cache.size > 5 && cache.size < 100);
    assert.equal(cache.has('key-99'), true);
    assert.equal(cache.has('key-0'), false);
    assert.ok(cache.stats().evictedSize > 0);
  });

  test('numbers and strings are both accepted as sizes', () => {
    assert.equal(new FaaSCacheDict({ maxSizeBytes: 1_000_000 }).maxSizeBytes, 1_000_000);
    assert.equal(new FaaSCacheDict({ maxSizeBytes: '0.5M' }).maxSizeBytes, 524_288);
    assert.equal(new FaaSCacheDict({ maxSizeBytes: '128M' }).maxSizeBytes, 134_217_728);
    assert.equal(new FaaSCacheDict().maxSizeBytes, null);
  });

  test('DataTooLarge carries the sizes and leaves the cache unchanged', () => {
    const cache = new FaaSCacheDict({ maxSizeBytes: '1K' });
    cache.set('small', 'x');
    const before = cache.byteSize;
    assert.throws(
      () => cache.set('big', new Uint8Array(2000)),
      (e) =>
        e instanceof DataTooLarge &&
        e instanceof FaaSCacheError &&
        e.code === 'data-too-large' &&
        e.entryBytes > e.availableBytes &&
        e.availableBytes === 1024 - 512,
    );
    assert.equal(cache.byteSize, before);
    assert.deepEqual([...cache.keys()], ['small']);
  });

  test('shrinking maxSizeBytes or maxItems evicts; null removes the limit', () => {
    const cache = new FaaSCacheDict();
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, new Uint8Array(100));
    cache.maxItems = 5;
    assert.equal(cache.size, 5);
    cache.maxSizeBytes = '1K';
    assert.ok(cache.byteSize <= 1024);
    cache.maxSizeBytes = null;
    cache.maxItems = null;
    assert.equal(cache.maxSizeBytes, null);
    assert.equal(cache.maxItems, null);
  });

  test('bad settings are InvalidArgument with a message', () => {
    assert.throws(() => new FaaSCacheDict({ maxSizeBytes: '12X' }), /12X/);
    assert.throws(() => new FaaSCacheDict({ maxSizeBytes: '0' }), InvalidArgument);
    assert.throws(() => new FaaSCacheDict({ maxItems: 0 }), InvalidArgument);
    assert.throws(() => new FaaSCacheDict({ maxItems: 1.5 }), InvalidArgument);
    assert.throws(() => new FaaSCacheDict({ encoding: 'latin1' }), InvalidArgument);
    const cache = new FaaSCacheDict();
    assert.throws(() => cache.set(42, 'x'), InvalidArgument);
    assert.throws(() => cache.set('k', 42), InvalidArgument);
    assert.throws(() => cache.set('k', null), InvalidArgument);
    assert.throws(() => (cache.maxItems = 0), InvalidArgument);
  });
});

describe('batches', () => {
  test('getMany, setMany and deleteMany', () => {
    const cache = new FaaSCacheDict({ encoding: 'utf8' });
    cache.setMany([
      ['a', '1'],
      ['b', '2'],
    ]);
    assert.deepEqual(cache.getMany(['a', 'x', 'b']), ['1', undefined, '2']);
    assert.equal(cache.deleteMany(['a', 'x']), 1);
    assert.deepEqual([...cache.keys()], ['b']);
  });

  test('setMany stops at the first failure and says where', () => {
    const cache = new FaaSCacheDict({ maxSizeBytes: '1K' });
    assert.throws(
      () =>
        cache.setMany([
          ['ok', 'x'],
          ['too-big', new Uint8Array(4096)],
          ['never', 'y'],
        ]),
      (e) => e instanceof DataTooLarge && e.index === 1,
    );
    assert.deepEqual([...cache.keys()], ['ok']);
  });
});

describe('onDelete', () => {
  test('reports every removal with its cause', () => {
    const cache = new FaaSCacheDict({ maxItems: 2, defaultTtl: 10, encoding: 'utf8' });
    const events = [];
    cache.onDelete((key, value, cause) => events.push([key, value, cause]));
    cache.set('a', '1').set('b', '2').set('c', '3');
    cache.set('c', '3b');
    cache.delete('b');
    cache.set('d', '4');
    cache.pop('d');
    advance(11);
    cache.get('c');
    cache.set('e', '5');
    cache.clear();
    assert.deepEqual(events, [
      ['a', '1', 'evicted-count'],
      ['b', '2', 'deleted'],
      ['d', '4', 'popped'],
      ['c', '3b', 'expired'],
      ['e', '5', 'cleared'],
    ]);
  });

  test('an overwrite calls onDelete only for a listener that asks for replaced records', () => {
    const cache = new FaaSCacheDict({ encoding: 'utf8' });
    const plain = [];
    const withReplaced = [];
    cache.onDelete((key, value, cause) => plain.push([key, value, cause]));
    cache.onDelete((key, value, cause) => withReplaced.push([key, value, cause]), { replaced: true });
    cache.set('k', 'old').set('k', 'new');
    cache.delete('k');
    assert.deepEqual(plain, [['k', 'new', 'deleted']]);
    assert.deepEqual(withReplaced, [
      ['k', 'old', 'replaced'],
      ['k', 'new', 'deleted'],
    ]);
  });

  test('a listener that throws loses no record, fails no call and is reported', () => {
    const reported = [];
    const cache = new FaaSCacheDict({
      maxItems: 1,
      encoding: 'utf8',
      onListenerError: (error, key, cause) => reported.push([error.message, key, cause]),
    });
    const seen = [];
    cache.onDelete(() => {
      throw new Error('listener failed');
    });
    cache.onDelete((key) => seen.push(key));
    cache.set('a', '1');
    assert.doesNotThrow(() => cache.set('b', '2'), 'the eviction of a does not fail the set');
    assert.equal(cache.get('b'), '2');
    cache.clear();
    assert.deepEqual(seen, ['a', 'b']);
    assert.deepEqual(reported, [
      ['listener failed', 'a', 'evicted-count'],
      ['listener failed', 'b', 'cleared'],
    ]);
    assert.equal(cache.size, 0);
    cache.set('c', '3');
    assert.equal(cache.size, 1);
  });

  test('without onListenerError a throwing listener goes to console.error', () => {
    const cache = new FaaSCacheDict();
    const logged = [];
    const original = console.error;
    console.error = (...args) => logged.push(args);
    try {
      cache.onDelete(() => {
        throw new Error('boom');
      });
      cache.set('a', '1');
      assert.equal(cache.delete('a'), true);
    } finally {
      console.error = original;
    }
    assert.equal(logged.length, 1);
    assert.match(String(logged[0][0]), /onDelete listener threw for "a" \(deleted\)/);
    assert.equal(logged[0][1].message, 'boom');
  });

  test('unsubscribing stops delivery; earlier removals are not replayed', () => {
    const cache = new FaaSCacheDict();
    cache.set('before', '1');
    cache.delete('before');
    const seen = [];
    const off = cache.onDelete((key) => seen.push(key));
    cache.set('a', '1');
    cache.delete('a');
    off();
    cache.set('b', '1');
    cache.delete('b');
    assert.deepEqual(seen, ['a']);
  });

  test('a full removal log drops the oldest records and counts them', () => {
    const cache = new FaaSCacheDict({ removalLogCapacity: 2 });
    const seen = [];
    cache.onDelete((key) => seen.push(key));
    cache.setMany([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
    ]);
    cache.clear();
    assert.deepEqual(seen, ['b', 'c']);
    assert.equal(cache.stats().removalsDropped, 1);
  });
});

describe('snapshot, stats, dispose', () => {
  test('snapshot round trip keeps order, settings and absolute expiry times', () => {
    const cache = new FaaSCacheDict({ maxItems: 10, defaultTtl: 30, encoding: 'utf8' });
    cache.set('a', '1').set('b', '2', { ttl: null });
    cache.get('a');
    const snap = cache.snapshot();
    assert.ok(snap instanceof Uint8Array);
    advance(10);
    const restored = FaaSCacheDict.restore(snap, { encoding: 'utf8' });
    assert.deepEqual([...restored], [['b', '2'], ['a', '1']]);
    assert.equal(restored.getTtl('a'), 20);
    assert.equal(restored.maxItems, 10);
    assert.equal(restored.defaultTtl, 30);
  });

  test('corrupt snapshots are CorruptSnapshot errors', () => {
    const snap = new FaaSCacheDict().set('k', 'v').snapshot();
    assert.throws(() => FaaSCacheDict.restore(snap.subarray(0, snap.length - 1)), CorruptSnapshot);
    assert.throws(() => FaaSCacheDict.restore(new Uint8Array([1, 2, 3])), CorruptSnapshot);
    assert.throws(() => FaaSCacheDict.restore('not bytes'), InvalidArgument);
  });

  test('stats count hits, misses, inserts and updates; resetStats zeroes them', () => {
    const cache = new FaaSCacheDict();
    cache.set('a', '1').set('a', '2');
    cache.get('a');
    cache.get('b');
    assert.deepEqual(cache.stats(), {
      hits: 1,
      misses: 1,
      inserts: 1,
      updates: 1,
      removed: 0,
      evictedSize: 0,
      evictedCount: 0,
      expired: 0,
      removalsDropped: 0,
    });
    cache.resetStats();
    assert.equal(cache.stats().hits, 0);
  });

  test('toString describes the cache for logs', () => {
    const cache = new FaaSCacheDict({ maxSizeBytes: '1M', maxItems: 5 });
    assert.match(String(cache), /max_memory=1M, max_items=5/);
    assert.equal(Object.prototype.toString.call(cache), '[object FaaSCacheDict]');
  });

  test('Symbol.dispose frees the cache', () => {
    const dispose = Symbol.dispose ?? Symbol.for('dispose');
    const cache = new FaaSCacheDict();
    cache.set('k', 'v');
    cache[dispose]();
    cache[dispose]();
    assert.throws(
      () => cache.get('k'),
      (e) => e instanceof FaaSCacheError && e.code === 'disposed' && /disposed/.test(e.message),
    );
  });
});

describe('named caches (FaaSCacheDict.open)', () => {
  test('a later open returns the same cache with its entries; dispose keeps it', () => {
    const a = FaaSCacheDict.open('js-users', { maxSizeBytes: '1M', encoding: 'utf8' });
    a.set('k', 'v');
    a[Symbol.dispose]();
    const b = FaaSCacheDict.open('js-users', { maxSizeBytes: '1M', encoding: 'utf8' });
    assert.equal(b.get('k'), 'v');
    const c = FaaSCacheDict.open('js-users', { maxSizeBytes: '1M', maxItems: 1, encoding: 'utf8' });
    c.set('k2', 'w');
    assert.equal(b.size, 1, 'the later open applied its item limit to the one cache');
    assert.ok(FaaSCacheDict.names().includes('js-users'));
  });

  test('the policy stays as first opened; a later open applies the default TTL', () => {
    const a = FaaSCacheDict.open('js-s3', { policy: 's3-fifo', defaultTtl: 10 });
    const b = FaaSCacheDict.open('js-s3', { policy: 'lru' });
    assert.equal(b.policy, 's3-fifo');
    assert.equal(a.defaultTtl, null);
  });

  test('bad names and settings throw InvalidArgument and change nothing', () => {
    for (const name of ['', 'a\u0000b', 'tab\t', '\u0085', 'x'.repeat(256)]) {
      assert.throws(() => FaaSCacheDict.open(name), InvalidArgument, JSON.stringify(name));
    }
    assert.throws(() => FaaSCacheDict.open(42), InvalidArgument);
    const a = FaaSCacheDict.open('js-keep', { maxSizeBytes: '1M' });
    assert.throws(() => FaaSCacheDict.open('js-keep', { maxSizeBytes: '12X' }), InvalidArgument);
    assert.equal(a.maxSizeBytes, 1 << 20);
  });
});
