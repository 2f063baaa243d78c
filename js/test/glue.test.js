// The fast paths scripts/transpile.mjs patches into the jco glue: values copied out of guest memory
// into shared chunks (plain Uint8Arrays, independent copies), UTF-8 reads decoded straight from
// guest memory, keys written as ASCII in one pass, and the clock import without BigInt.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { FaaSCacheDict, wasmMemoryBytes } from '../src/index.js';
import { now, setClock, writeNow } from '../src/imports/wall-clock.js';

/** `n` bytes, each from `seed`. */
const pattern = (n, seed) => Uint8Array.from({ length: n }, (_, i) => (seed * 31 + i * 7) & 255);

describe('values out of guest memory', () => {
  test('every size round-trips as a plain Uint8Array of its own', () => {
    const cache = new FaaSCacheDict();
    const sizes = [0, 1, 63, 64, 65, 100, 255, 1023, 1024, 1025, 4096, 70_000];
    for (const n of sizes) cache.set(`k${n}`, pattern(n, n));
    for (const n of sizes) {
      const a = cache.get(`k${n}`);
      const b = cache.peek(`k${n}`);
      assert.equal(Object.getPrototypeOf(a), Uint8Array.prototype, `size ${n}`);
      assert.deepStrictEqual(a, pattern(n, n), `size ${n}`);
      assert.deepStrictEqual(b, pattern(n, n), `size ${n}`);
      assert.notEqual(a, b);
      if (n > 0) {
        a[0] ^= 0xff; // a copy: changes neither the cache nor another copy
        assert.deepStrictEqual(b, pattern(n, n));
        assert.deepStrictEqual(cache.get(`k${n}`), pattern(n, n));
      }
    }
  });

  test('many values held at once stay intact (chunks are never reused)', () => {
    const cache = new FaaSCacheDict();
    for (let i = 0; i < 300; i++) cache.set(`k${i}`, pattern(65 + (i % 200), i));
    const held = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 300; i++) held.push([i, cache.get(`k${i}`)]);
      held.push(...cache.getMany(['k1', 'k2']).map((v, j) => [j + 1, v]));
    }
    for (const [i, v] of held) assert.deepStrictEqual(v, pattern(65 + (i % 200), i));
    for (const [k, v] of cache.entries()) {
      const i = Number(k.slice(1));
      assert.deepStrictEqual(v, pattern(65 + (i % 200), i));
    }
  });

  test('values read before and after guest memory grows', () => {
    const cache = new FaaSCacheDict();
    cache.set('a', pattern(100, 1));
    cache.set('u', 'héllo');
    const before = cache.get('a');
    const grown = wasmMemoryBytes();
    const filler = new FaaSCacheDict();
    for (let i = 0; wasmMemoryBytes() === grown; i++) filler.set(`f${i}`, new Uint8Array(64 * 1024));
    assert.deepStrictEqual(before, pattern(100, 1));
    assert.deepStrictEqual(cache.get('a'), pattern(100, 1));
    const utf8 = FaaSCacheDict.restore(cache.snapshot(), { encoding: 'utf8' });
    assert.equal(utf8.get('u'), 'héllo');
    filler[Symbol.dispose]();
  });

  test('a value cannot detach the values that share its chunk', { skip: typeof process.getBuiltinModule !== 'function' && 'Node < 20.16' }, () => {
    const cache = new FaaSCacheDict();
    cache.set('a', pattern(100, 1));
    cache.set('b', pattern(100, 2));
    const a = cache.get('a');
    const b = cache.get('b');
    try {
      structuredClone(a, { transfer: [a.buffer] }); // Node 22+: DataCloneError; Node 20: a copy
    } catch (e) {
      assert.equal(/** @type {Error} */ (e).name, 'DataCloneError');
    }
    assert.deepStrictEqual(a, pattern(100, 1));
    assert.deepStrictEqual(b, pattern(100, 2));
    // ArrayBuffer.prototype.transfer: refused on Node 24; Node 22 detaches the chunk (and so every
    // value in it: as with Node's own Buffer pool); later reads get a new chunk.
    try {
      /** @type {any} */ (b.buffer).transfer?.();
    } catch {}
    assert.deepStrictEqual(cache.get('a'), pattern(100, 1));
    assert.deepStrictEqual(cache.get('b'), pattern(100, 2));
  });
});

describe("encoding: 'utf8' reads decode guest memory", () => {
  test('get, peek and getMany give what TextDecoder gives', () => {
    const cache = new FaaSCacheDict({ encoding: 'utf8' });
    const values = {
      ascii: 'x'.repeat(100),
      accents: 'clé, ключ, 🔑 '.repeat(20),
      bom: new Uint8Array([0xef, 0xbb, 0xbf, 0x61, 0x62]),
      invalid: new Uint8Array([0x61, 0xff, 0xc3, 0x62]),
      empty: '',
    };
    for (const [k, v] of Object.entries(values)) cache.set(k, v);
    const decode = (/** @type {string | Uint8Array} */ v) => (typeof v === 'string' ? v : new TextDecoder().decode(v));
    for (const [k, v] of Object.entries(values)) {
      assert.equal(cache.get(k), decode(v), k);
      assert.equal(cache.peek(k), decode(v), k);
    }
    assert.equal(cache.get('bom'), 'ab');
    assert.equal(cache.get('invalid'), 'a\uFFFD\uFFFDb');
    assert.deepEqual(cache.getMany(['ascii', 'nope', 'bom']), [values.ascii, undefined, 'ab']);
    assert.equal(cache.get('nope'), undefined);
    assert.equal(cache.peek('nope'), undefined);
    assert.deepEqual(cache.pop('bom'), 'ab');
  });
});

describe('keys into guest memory', () => {
  test('ASCII, non-ASCII and long keys are distinct and read back', () => {
    const cache = new FaaSCacheDict({ encoding: 'utf8' });
    const keys = [
      'a', 'é', 'aé', 'ae', 'ключ', '🔑', 'x🔑', '\uD800', '\uD800x', 'x\uDC00',
      'a'.repeat(255) + 'é', 'a'.repeat(256), 'a'.repeat(257), 'é'.repeat(300), '\u007f', '\u0080',
    ];
    keys.forEach((k, i) => cache.set(k, String(i)));
    // (A lone surrogate is stored as U+FFFD, as TextEncoder writes it.)
    keys.forEach((k, i) => assert.equal(cache.get(k), String(i), JSON.stringify(k)));
    assert.equal(cache.size, keys.length);
    assert.equal(cache.has('a'.repeat(255) + 'e'), false);
    assert.ok([...cache.keys()].includes('ключ'));
  });
});

describe('clock import', () => {
  test('writeNow writes the record now() returns, for any clock value', () => {
    const samples = [
      0, 0.4, 1.5, 999.9999999, 1_700_000_000_123.456, 4_294_967_296_000 + 999.5, 2 ** 53, 1e300,
      Number.MAX_VALUE, -5, -0, NaN, Infinity, -Infinity,
    ];
    try {
      for (const ms of samples) {
        setClock(() => ms);
        const view = new DataView(new ArrayBuffer(12));
        writeNow(view, 0);
        const expected = now();
        assert.equal(view.getBigUint64(0, true), BigInt.asUintN(64, expected.seconds), String(ms));
        assert.equal(view.getUint32(8, true), expected.nanoseconds >>> 0, String(ms));
      }
    } finally {
      setClock(null);
    }
  });
});
