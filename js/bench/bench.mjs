// faas-cache through jco against npm `lru-cache`, same workload, same run.
//
// Usage: npm run bench            (node --expose-gc bench/bench.mjs)
//        FAAS_CACHE_BENCH_QUICK=1 npm run bench   (a smoke run: fewer iterations)
//
// Workload: string keys `key-<i>`, 100-byte Uint8Array values, single thread. Reports the median of
// five timed rounds per operation as ns/op and ops/s, the ratio to lru-cache, then the memory of
// 100k entries: V8 heap + ArrayBuffers for lru-cache, heap + wasm linear memory for faas-cache.
// Last, garbage collection with 1,000,000 entries held (100k with QUICK), each cache in a child
// process of its own (`--gc-child lru|faas`): a full GC's pause, the scavenges and the p99 latency
// of unrelated work while the cache is read and written, heap and RSS.
import { spawnSync } from 'node:child_process';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

import { LRUCache } from 'lru-cache';

import { FaaSCacheDict, wasmMemoryBytes } from '../src/index.js';

const quick = process.env.FAAS_CACHE_BENCH_QUICK === '1';
const gcChildIndex = process.argv.indexOf('--gc-child');
if (gcChildIndex !== -1) {
  await gcChild(process.argv[gcChildIndex + 1]);
  process.exit(0);
}
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

gcTable();

/** Percentile `p` (0..1) of sorted numbers. */
function percentile(/** @type {number[]} */ sorted, /** @type {number} */ p) {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/**
 * One cache holding ENTRIES values of 100 B in this process (run with --expose-gc); prints its
 * figures as one JSON line. Keys are made as they are needed (`key-<n>`), as a server gets them
 * from requests: no other big structure on the V8 heap than the cache itself.
 * @param {string | undefined} kind 'lru' or 'faas'
 */
async function gcChild(kind) {
  const gc = globalThis.gc;
  if (typeof gc !== 'function') throw new Error('--gc-child needs node --expose-gc');
  const ENTRIES = quick ? 100_000 : 1_000_000;
  const TASKS = quick ? 2_000 : 10_000;
  // Per unrelated task, the cache serves READS gets and WRITES sets of fresh 100 B values.
  const READS = 40;
  const WRITES = 10;
  const GARBAGE = quick ? 500_000 : 2_000_000; // short-lived objects (~100 MB) for the scavenges

  /** @type {{ kind: number, duration: number }[]} */
  let gcs = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const detail = /** @type {any} */ (e).detail;
      gcs.push({ kind: detail?.kind ?? /** @type {any} */ (e).kind, duration: e.duration });
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  /** The GCs V8 reported since the last call (entries arrive through the event loop). */
  const takeGcs = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const taken = gcs;
    gcs = [];
    const of = (/** @type {number} */ k) => taken.filter((g) => g.kind === k).map((g) => g.duration).sort((a, b) => a - b);
    return { minor: of(perfConstants.NODE_PERFORMANCE_GC_MINOR), major: of(perfConstants.NODE_PERFORMANCE_GC_MAJOR) };
  };
  const sum = (/** @type {number[]} */ xs) => xs.reduce((a, b) => a + b, 0);

  gc();
  const m0 = process.memoryUsage();
  await takeGcs();
  const t0 = performance.now();
  /** @type {{ get(k: string): unknown, set(k: string, v: Uint8Array): unknown }} */
  let cache;
  if (kind === 'lru') {
    const lru = new LRUCache({ max: ENTRIES });
    for (let i = 0; i < ENTRIES; i++) {
      lru.set(`key-${i}`, new Uint8Array(100).fill(i & 255));
      if (i % 50_000 === 49_999) await new Promise((resolve) => setImmediate(resolve));
    }
    cache = lru;
  } else if (kind === 'faas') {
    const faas = new FaaSCacheDict({ maxItems: ENTRIES, removalLogCapacity: 0 });
    for (let i = 0; i < ENTRIES; i++) {
      faas.set(`key-${i}`, new Uint8Array(100).fill(i & 255));
      if (i % 50_000 === 49_999) await new Promise((resolve) => setImmediate(resolve));
    }
    cache = faas;
  } else {
    throw new Error(`--gc-child lru|faas, got ${kind}`);
  }
  const fillMs = performance.now() - t0;
  const fill = await takeGcs();
  gc();
  gc();
  const m1 = process.memoryUsage();

  // A full (mark-compact) GC, as global.gc() runs it: wall time around the call.
  const fullGc = [];
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    gc();
    fullGc.push(performance.now() - start);
  }
  fullGc.sort((a, b) => a - b);
  await takeGcs();

  // Scavenges while unrelated code allocates short-lived objects (the cache untouched).
  let junk;
  const g0 = performance.now();
  for (let i = 0; i < GARBAGE; i++) junk = { i, pair: [i, i + 1], tag: 'x' };
  const garbageMs = performance.now() - g0;
  const garbage = await takeGcs();

  // The cache read and written between small unrelated tasks (JSON.stringify of a fresh object),
  // each task timed alone.
  const tasks = new Float64Array(TASKS);
  const rounds = new Float64Array(TASKS);
  let seed = 12345;
  let sink = junk === undefined ? 0 : 1;
  const w0 = performance.now();
  for (let t = 0; t < TASKS; t++) {
    const roundStart = performance.now();
    for (let r = 0; r < READS; r++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      if (cache.get(`key-${seed % ENTRIES}`) !== undefined) sink++;
    }
    for (let w = 0; w < WRITES; w++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      cache.set(`key-${seed % ENTRIES}`, new Uint8Array(100).fill(seed & 255));
    }
    const start = performance.now();
    sink += JSON.stringify({ id: t, name: `user-${t}`, tags: ['a', 'b', 'c'], score: t / 3, ok: true }).length;
    const end = performance.now();
    tasks[t] = end - start;
    rounds[t] = end - roundStart;
    if (t % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
  }
  const workMs = performance.now() - w0;
  const work = await takeGcs();
  observer.disconnect();
  const sortedTasks = [...tasks].sort((a, b) => a - b);
  const sortedRounds = [...rounds].sort((a, b) => a - b);
  const m2 = process.memoryUsage();
  console.log(
    JSON.stringify({
      kind,
      node: process.version,
      entries: ENTRIES,
      tasks: TASKS,
      opsPerTask: READS + WRITES,
      garbageObjects: GARBAGE,
      fillMs,
      fillMajorCount: fill.major.length,
      fillMajorTotal: sum(fill.major),
      fillMinorCount: fill.minor.length,
      fillMinorTotal: sum(fill.minor),
      heapUsed: m1.heapUsed - m0.heapUsed,
      arrayBuffers: m1.arrayBuffers - m0.arrayBuffers,
      wasm: kind === 'faas' ? wasmMemoryBytes() : 0,
      rss: m1.rss,
      rssAfterWork: m2.rss,
      fullGcMedian: percentile(fullGc, 0.5),
      fullGcMax: fullGc[fullGc.length - 1],
      garbageMs,
      garbageMinorCount: garbage.minor.length,
      garbageMinorMedian: percentile(garbage.minor, 0.5),
      garbageMinorP99: percentile(garbage.minor, 0.99),
      garbageMinorTotal: sum(garbage.minor),
      workMs,
      workMinorCount: work.minor.length,
      workMinorMedian: percentile(work.minor, 0.5),
      workMinorMax: work.minor[work.minor.length - 1] ?? NaN,
      workMajorCount: work.major.length,
      workMajorTotal: sum(work.major),
      taskP50: percentile(sortedTasks, 0.5),
      taskP99: percentile(sortedTasks, 0.99),
      taskP999: percentile(sortedTasks, 0.999),
      taskMax: sortedTasks[sortedTasks.length - 1],
      roundP50: percentile(sortedRounds, 0.5),
      roundP99: percentile(sortedRounds, 0.99),
      roundMax: sortedRounds[sortedRounds.length - 1],
      sink,
    }),
  );
}

/** Runs one child per cache and prints the GC table. */
function gcTable() {
  const self = fileURLToPath(import.meta.url);
  /** @type {Record<string, any>} */
  const results = {};
  for (const kind of ['lru', 'faas']) {
    const child = spawnSync(process.execPath, ['--expose-gc', self, '--gc-child', kind], {
      encoding: 'utf8',
      env: process.env,
      maxBuffer: 1 << 20,
    });
    if (child.status !== 0) {
      throw new Error(`bench --gc-child ${kind} failed (${child.status}): ${child.stderr}`);
    }
    results[kind] = JSON.parse(child.stdout.trim().split('\n').pop() ?? '');
  }
  const { lru, faas } = results;
  const missing = (/** @type {number | null} */ x) => x === null || Number.isNaN(x);
  const mib = (/** @type {number} */ b) => `${(b / 1048576).toFixed(1)} MiB`;
  const ms = (/** @type {number | null} */ x) => (missing(x) ? '-' : `${x.toFixed(x < 10 ? 2 : 0)} ms`);
  const us = (/** @type {number} */ x) => `${(x * 1000).toFixed(1)} us`;
  const gcs = (/** @type {number} */ n, /** @type {number} */ total) => (n === 0 ? '0' : `${n} (${ms(total)})`);
  /** @type {[string, (r: any) => string][]} */
  const rows = [
    ['fill: one set per entry', (r) => ms(r.fillMs)],
    ['fill: mark-compact GCs (their time)', (r) => gcs(r.fillMajorCount, r.fillMajorTotal)],
    ['fill: scavenges (their time)', (r) => gcs(r.fillMinorCount, r.fillMinorTotal)],
    ['V8 heap used by the cache', (r) => mib(r.heapUsed)],
    ['ArrayBuffers (off-heap values)', (r) => mib(r.arrayBuffers)],
    ['wasm linear memory', (r) => (r.kind === 'faas' ? mib(r.wasm) : '-')],
    ['process RSS', (r) => mib(r.rss)],
    ['full GC pause, gc(): median / max of 5', (r) => `${ms(r.fullGcMedian)} / ${ms(r.fullGcMax)}`],
    [
      `${(lru.garbageObjects / 1e6).toFixed(1)}M short-lived objects: scavenges (their time) in (phase)`,
      (r) => `${gcs(r.garbageMinorCount, r.garbageMinorTotal)} in ${ms(r.garbageMs)}`,
    ],
    ['  scavenge pause median / p99', (r) => `${ms(r.garbageMinorMedian)} / ${ms(r.garbageMinorP99)}`],
    [`work: ${lru.tasks.toLocaleString('en-US')} x (${lru.opsPerTask} cache ops + 1 task)`, (r) => ms(r.workMs)],
    ['  scavenges (median / max pause)', (r) => `${r.workMinorCount} (${ms(r.workMinorMedian)} / ${ms(r.workMinorMax)})`],
    ['  mark-compact GCs (their time)', (r) => gcs(r.workMajorCount, r.workMajorTotal)],
    ['  unrelated task p50 / p99', (r) => `${us(r.taskP50)} / ${us(r.taskP99)}`],
    ['  unrelated task p99.9 / max', (r) => `${us(r.taskP999)} / ${us(r.taskMax)}`],
    ['  a whole round (cache ops + task) p50 / p99 / max', (r) => `${us(r.roundP50)} / ${us(r.roundP99)} / ${us(r.roundMax)}`],
  ];
  console.log(
    `\ngarbage collection with ${lru.entries.toLocaleString('en-US')} entries of 100 B held, one child process per cache` +
      ` (work: random gets, sets of fresh 100 B values, then a timed JSON.stringify task):`,
  );
  console.log('| measure | lru-cache | faas-cache |');
  console.log('|---|---:|---:|');
  for (const [name, cell] of rows) console.log(`| ${name} | ${cell(lru)} | ${cell(faas)} |`);
}
