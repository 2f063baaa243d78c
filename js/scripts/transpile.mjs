// Transpiles the built component (target/faas_cache.wasm) to ES modules with the pinned jco, then
// applies measured fast paths to the generated glue.
//
// Invariant: `generated/` always matches the component it was made from; every patch below must
// match exactly the number of sites it expects, or the build fails (a new jco version that changes
// its output is caught here, not by a slow or wrong cache at run time).
//
// Usage: node scripts/transpile.mjs [path/to/faas_cache.wasm]
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const component = resolve(process.argv[2] ?? join(pkg, '..', 'target', 'faas_cache.wasm'));
const out = join(pkg, 'generated');

if (!existsSync(component)) {
  console.error(`faas-cache: ${component} is missing; build it first (cargo build -p faas-cache-artifact)`);
  process.exit(1);
}

rmSync(out, { recursive: true, force: true });
const jco = join(pkg, 'node_modules', '@bytecodealliance', 'jco', 'src', 'jco.js');
execFileSync(
  process.execPath,
  [
    jco, 'transpile', component,
    '--out-dir', out,
    '--name', 'faas_cache',
    '--quiet',
    // The two imports are served by our own small modules (no preview2-shim): a clock the tests
    // can replace and a seed from crypto.getRandomValues.
    '--no-wasi-shim',
    '--map', 'wasi:clocks/wall-clock@0.2.0=../src/imports/wall-clock.js',
    '--map', 'wasi:random/insecure-seed@0.2.0=../src/imports/insecure-seed.js',
  ],
  { stdio: 'inherit' },
);

const gluePath = join(out, 'faas_cache.js');
let glue = readFileSync(gluePath, 'utf8');

/** Replaces `count` matches of `pattern` exactly, or fails the build. */
function patch(name, pattern, replacement, count) {
  const found = glue.match(new RegExp(pattern.source, 'g'))?.length ?? 0;
  if (found !== count) {
    console.error(`faas-cache: patch "${name}" expected ${count} sites in the jco output, found ${found}`);
    process.exit(1);
  }
  glue = glue.replace(new RegExp(pattern.source, 'g'), replacement);
}

// 1. Strings into guest memory: jco allocates a fresh Uint8Array per string (TextEncoder.encode)
//    and then copies it; short keys (the common case) are written straight into memory as ASCII,
//    one pass that checks as it writes. A string that turns out not to be ASCII grows the same
//    allocation (cabi_realloc) to its UTF-8 length and is encoded as jco does.
patch(
  'ascii keys',
  /function utf8Encode\(s, realloc, memory\) \{\n/,
  `function utf8Encode(s, realloc, memory) {
  if (typeof s === 'string') {
    const n = s.length;
    if (n !== 0 && n <= 256) {
      const ptr = realloc(0, 0, 1, n);
      let bytes = fastBytes;
      if (bytes.byteLength === 0) bytes = fastBytes = new Uint8Array(memory.buffer);
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        bytes[ptr + i] = c;
      }
      if (i === n) {
        utf8EncodedLen = n;
        return ptr;
      }
      const utf8 = utf8Encoder.encode(s);
      const grown = realloc(ptr, n, 1, utf8.length);
      new Uint8Array(memory.buffer).set(utf8, grown);
      utf8EncodedLen = utf8.length;
      return grown;
    }
  }
`,
  1,
);
// \`fastBytes\` views the component's only memory. Reading \`memory.buffer\` costs ~50 ns in V8, so
// staleness is detected without it: growing the memory detaches the old buffer, and a view of a
// detached buffer has byteLength 0.
glue = glue.replace('const T_FLAG = ', 'let fastBytes = new Uint8Array(0);\n\nconst T_FLAG = ');

// 2. Byte lists out of guest memory (every `list<u8>` a call returns: get, peek, getMany, pop,
//    values, items, snapshot, removal records...). jco copies each with
//    `new Uint8Array(memory.buffer.slice(..))`; a fresh Uint8Array above 64 bytes gets its own
//    off-heap backing store, which costs V8 300-900 ns for a 100-byte value, most of a cache hit.
//    `liftBytes` (below) copies values of 65..1024 bytes into views of a shared 8 KiB chunk
//    instead (what Node's Buffer.allocUnsafe does, but the result stays a plain Uint8Array, so
//    `assert.deepStrictEqual(value, new Uint8Array(..))` and `toString` behave as before); other
//    sizes are a slice of the cached view of memory (64 bytes or less stay on the V8 heap).
patch(
  'byte list lift',
  /new Uint8Array\(memory0\.buffer\.slice\((\w+), \1 \+ (\w+) \* 1\)\)/,
  'liftBytes($1, $2)',
  10,
);
// The chunk is only used where Node's `markAsUntransferable` exists (Node >= 20.16, via
// `process.getBuiltinModule`): postMessage/structuredClone then refuse to transfer (detach) the
// shared chunk. Elsewhere (browsers, older Node) every value keeps its own ArrayBuffer, as jco
// made it. A chunk that was detached anyway (ArrayBuffer.prototype.transfer) is replaced, as its
// byteLength reads 0.
glue = glue.replace(
  'const T_FLAG = ',
  `function memoryBytes0() {
  return fastBytes.byteLength === 0 ? (fastBytes = new Uint8Array(memory0.buffer)) : fastBytes;
}

const markUntransferable = (() => {
  try {
    const builtin = globalThis.process?.getBuiltinModule;
    const mark = typeof builtin === 'function' ? builtin('node:worker_threads')?.markAsUntransferable : undefined;
    if (typeof mark !== 'function') return undefined;
    mark(new ArrayBuffer(8));
    return mark;
  } catch {
    return undefined;
  }
})();
const LIFT_CHUNK = 8192;
const LIFT_CHUNKED_MAX = 1024;
let liftChunk = new ArrayBuffer(0);
let liftOffset = 0;
// A detached ArrayBuffer (guest memory grew) has byteLength 0, like a view of one.
let liftBuffer = new ArrayBuffer(0);

/** The ArrayBuffer of guest memory (cached, as \`fastBytes\`). */
function guestBuffer() {
  const buffer = liftBuffer;
  return buffer.byteLength === 0 ? (liftBuffer = memory0.buffer) : buffer;
}

/** A copy of the \`len\` bytes at \`ptr\` in guest memory, as a Uint8Array. */
function liftBytes(ptr, len) {
  if (len <= 64 || len > LIFT_CHUNKED_MAX || markUntransferable === undefined) {
    return memoryBytes0().slice(ptr, ptr + len);
  }
  let off = liftOffset;
  if (len > liftChunk.byteLength - off) {
    liftChunk = new ArrayBuffer(LIFT_CHUNK);
    markUntransferable(liftChunk);
    off = 0;
  }
  liftOffset = (off + len + 7) & ~7;
  // Views made from the ArrayBuffers cost V8 less than \`subarray\` (no species lookup).
  const out = new Uint8Array(liftChunk, off, len);
  out.set(new Uint8Array(guestBuffer(), ptr, len));
  return out;
}

/** The \`len\` bytes at \`ptr\` in guest memory decoded as UTF-8 (as \`TextDecoder\`), without a copy. */
function liftUtf8(ptr, len) {
  return utf8Decoder.decode(new Uint8Array(guestBuffer(), ptr, len));
}

const T_FLAG = `,
);

// 2b. `encoding: 'utf8'` reads: `getUtf8`, `peekUtf8` and `getManyUtf8` are copies of `get`, `peek`
//     and `getMany` whose values are decoded straight from guest memory, with no byte copy.
for (const name of ['get', 'peek', 'getMany']) {
  const fn = new RegExp(`\\nCacheDict\\.prototype\\.${name} = function ${name}\\(arg1\\) \\{\\n[\\s\\S]*?\\n\\};\\n`);
  const found = glue.match(new RegExp(fn.source, 'g')) ?? [];
  const lifts = found[0]?.match(/liftBytes\(/g)?.length ?? 0;
  if (found.length !== 1 || lifts !== 1) {
    console.error(`faas-cache: patch "utf8 ${name}" expected 1 function with 1 byte list lift, found ${found.length} (${lifts})`);
    process.exit(1);
  }
  const copy = found[0]
    .replace(`prototype.${name} = function ${name}(`, `prototype.${name}Utf8 = function ${name}Utf8(`)
    .replace('liftBytes(', 'liftUtf8(');
  glue = glue.replace(found[0], () => found[0] + copy);
}

// 3. Byte lists into guest memory: one copy from the caller's bytes, without two temporary views.
patch(
  'byte list lower',
  /var (src\w+) = new Uint8Array\((val\w+)\.buffer \|\| \2, \2\.byteOffset, (len\w+) \* 1\);\n\s*\(new Uint8Array\(memory0\.buffer, (ptr\w+), \3 \* 1\)\)\.set\(\1\);/,
  `if (fastBytes.byteLength === 0) fastBytes = new Uint8Array(memory0.buffer);
  fastBytes.set($2 instanceof Uint8Array ? $2 : new Uint8Array($2.buffer || $2, $2.byteOffset, $3), $4);`,
  5,
);

// 4. Every load and store goes through \`dataView(memory0)\`, which read \`memory0.buffer\` twice.
patch(
  'data view',
  /const dataView = mem => dv\.buffer === mem\.buffer \? dv : dv = new DataView\(mem\.buffer\);/,
  'const dataView = mem => dv.buffer.byteLength !== 0 ? dv : dv = new DataView(mem.buffer);',
  1,
);

// 5. The clock import (read on each access to an entry with an expiry): jco converts the
//    `{ seconds: bigint }` record `now()` returns with two more BigInt operations, ~100 ns in all;
//    `writeNow` (src/imports/wall-clock.js) writes the same record from plain numbers.
patch(
  'clock import',
  /(function trampoline\d+\(arg0\) \{\n)  const ret = now\(\);\n  var \{seconds: (\w+), nanoseconds: (\w+) \} = ret;\n  dataView\(memory0\)\.setBigInt64\(arg0 \+ 0, toUint64\(\2\), true\);\n  dataView\(memory0\)\.setInt32\(arg0 \+ 8, toUint32\(\3\), true\);\n/,
  '$1  writeNow(dataView(memory0), arg0);\n',
  1,
);
patch(
  'clock import module',
  /import \{ now \} from '\.\.\/src\/imports\/wall-clock\.js';/,
  "import { writeNow } from '../src/imports/wall-clock.js';",
  1,
);

// The wrapper imports both exported interfaces: `cache` and `policy` (`faas:cache/policy`, the
// S3-FIFO opt-in). A component built before the policy interface would fail only when the wrapper
// is imported; fail the build instead.
for (const name of ['cache', 'policy']) {
  if (!new RegExp(`export \\{[^}]*\\bas ${name}\\b`).test(glue)) {
    console.error(`faas-cache: the jco output exports no \`${name}\` interface; rebuild the component`);
    process.exit(1);
  }
}

// 6. One addition: the size of the component's linear memory, for `wasmMemoryBytes()`.
glue += '\n/** Bytes of linear memory the component holds now. */\nexport function memoryBytes() {\n  return memory0 === undefined ? 0 : memory0.buffer.byteLength;\n}\n';

writeFileSync(gluePath, glue);
console.log(`faas-cache: transpiled ${component} into ${out}`);
