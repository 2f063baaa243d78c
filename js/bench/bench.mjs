// faas-cache through jco against npm `lru-cache`, same workload, same run.
//
// Usage: npm run bench            (node --expose-gc bench/bench.mjs)
//        FAAS_CACHE_BENCH_QUICK=1 npm run bench   (a smoke run: fewer iterations)
//
// Workload: string keys `key-<i>`, 100-byte Uint8Array values, single thread. Reports the median of
// five timed rounds per operation as ns/op and ops/s, the ratio to lru-cache, then the memory of
// 100k entries: V8 heap + ArrayBuffers for lru-cache, heap + wasm linear memory for faas-cache.
import { LRUCache } from 'lru-cache';

import { FaaSCacheDict, wasmMemoryBytes } from '../src/index.js';

const quick = process.env.FAAS_CACHE_BENCH_QUICK === '1';
const N = 1000;
const ITERS = quick ? 20_000 : 400_000;
const ROUNDS = quick ? 1 : 5;
const keys = Array.from({ length: N }, (_, i) => `key-${i}`);
const value = new Uint8Array(100).fill(7);

/** Median ns/op of `f(i)` over ROUNDS rounds of `iters` calls, after a warm-up. */
function measure(f, iters = ITERS) {
  for (let i = 0; i < Math.min(iters, 50_000); i++) f(i);
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) f(i);
    rounds.push(Number(process.hrtime.bigint() - t0) / iters);
  }
  rounds.sort((a, b) => a - b);
  return rounds[Math.floor(rounds.length / 2)];
}

function fillOurs() {
  const c = new FaaSCacheDict({ maxItems: N, removalLogCapacity: 0 });
  for (const k of keys) c.set(k, value);
  return c;
}
function fillLru() {
  const c = new LRUCache({ max: N });
  for (const k of keys) c.set(k, value);
  return c;
}

const ours = fillOurs();
const lru = fillLru();
// The same with a TTL on every entry: each read then also reads the clock (one import call).
const oursTtl = new FaaSCacheDict({ maxItems: N, defaultTtl: 3600, removalLogCapacity: 0 });
const lruTtl = new LRUCache({ max: N, ttl: 3_600_000 });
for (const k of keys) {
  oursTtl.set(k, value);
  lruTtl.set(k, value);
}
const rows = [];
const k100 = keys.slice(0, 100);
const cases = [
  ['get-hit', (i) => ours.get(keys[i % N]), (i) => lru.get(keys[i % N])],
  ['get-hit, TTL entries', (i) => oursTtl.get(keys[i % N]), (i) => lruTtl.get(keys[i % N])],
  ['get-miss', (i) => ours.get(`nope-${i & 1023}`), (i) => lru.get(`nope-${i & 1023}`)],
  ['set (overwrite)', (i) => ours.set(keys[i % N], value), (i) => lru.set(keys[i % N], value)],
  ['set (new key, evicts)', (i) => ours.set(`new-${i}`, value), (i) => lru.set(`new-${i}`, value)],
  ['has', (i) => ours.has(keys[i % N]), (i) => lru.has(keys[i % N])],
  ['getMany(100), per key', () => ours.getMany(k100), () => k100.map((k) => lru.get(k)), 100],
];
for (const [name, f, g, per = 1] of cases) {
  const iters = Math.max(1000, Math.floor(ITERS / per));
  const a = measure(f, iters) / per;
  const b = measure(g, iters) / per;
  rows.push({ op: name, faas: a, lru: b });
}

console.log(`node ${process.version}, ${N} entries of 100 B, median of ${ROUNDS} rounds`);
console.log('| operation | faas-cache ns/op | faas-cache ops/s | lru-cache ns/op | lru-cache ops/s | ratio |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const ops = (ns) => Math.round(1e9 / ns).toLocaleString('en-US');
  console.log(
    `| ${r.op} | ${r.faas.toFixed(0)} | ${ops(r.faas)} | ${r.lru.toFixed(0)} | ${ops(r.lru)} | ${(r.faas / r.lru).toFixed(1)}x |`,
  );
}

// Memory: 100k entries of 100 B values.
const gc = globalThis.gc;
if (typeof gc !== 'function') {
  console.log('\n(memory: run with node --expose-gc)');
} else {
  const M = quick ? 10_000 : 100_000;
  const used = () => {
    gc();
    gc();
    const m = process.memoryUsage();
    return { heap: m.heapUsed, buffers: m.arrayBuffers };
  };
  const liveLru = [];
  const b0 = used();
  const big = new LRUCache({ max: M });
  for (let i = 0; i < M; i++) big.set(`key-${i}`, new Uint8Array(100).fill(i & 255));
  liveLru.push(big);
  const b1 = used();
  const lruBytes = b1.heap - b0.heap + (b1.buffers - b0.buffers);

  const w0 = wasmMemoryBytes();
  const h0 = used();
  const mine = new FaaSCacheDict({ maxItems: M, removalLogCapacity: 0 });
  const payload = new Uint8Array(100);
  for (let i = 0; i < M; i++) mine.set(`key-${i}`, payload.fill(i & 255));
  const h1 = used();
  const w1 = wasmMemoryBytes();
  const oursBytes = h1.heap - h0.heap + (w1 - w0);
  const mib = (b) => (b / 1048576).toFixed(1);
  console.log(`\nmemory for ${M.toLocaleString('en-US')} entries of 100 B (payload ${mib(M * 100)} MiB):`);
  console.log('| cache | bytes held | per entry | accounted by the cache |');
  console.log('|---|---:|---:|---:|');
  console.log(`| lru-cache (V8 heap + ArrayBuffers) | ${mib(lruBytes)} MiB | ${Math.round(lruBytes / M)} B | - |`);
  console.log(
    `| faas-cache (wasm memory growth + heap) | ${mib(oursBytes)} MiB | ${Math.round(oursBytes / M)} B |` +
      ` ${mib(mine.byteSize)} MiB |`,
  );
  if (liveLru.length !== 1 || mine.size !== M) throw new Error('bench lost entries');
}
