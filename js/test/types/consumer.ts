// A small consumer of the package's types (src/index.d.ts), type-checked by test/types.test.js
// with tsconfig.json here: strict, "lib": ["es2022"] (no DOM, no esnext.disposable). Never run.
import {
  DataTooLarge,
  FaaSCacheDict,
  FaaSCacheError,
  type FaaSCacheErrorCode,
  type Stats,
} from '../../src/index.js';

/** What the checks below look at (no `console`: lib es2022 has none). */
const seen: unknown[] = [];

const cache = new FaaSCacheDict({ maxSizeBytes: '1M', maxItems: 100, defaultTtl: 60, encoding: 'utf8' });
cache.set('user:42', JSON.stringify({ name: 'Ada' })).set('session:7', 'token', { ttl: 5 });
const text: string | undefined = cache.get('user:42');
// @ts-expect-error: a utf8 cache reads strings, not bytes
const notBytes: Uint8Array | undefined = cache.get('user:42');

const raw = new FaaSCacheDict();
raw.set('k', new Uint8Array([1, 2, 3]));
const bytes: Uint8Array | undefined = raw.get('k');

const shared = FaaSCacheDict.open('sessions', { maxSizeBytes: '64K', encoding: 'utf8', policy: 's3-fifo' });
const policy: 'lru' | 's3-fifo' = shared.policy;
const names: string[] = FaaSCacheDict.names();

const unsubscribe: () => void = cache.onDelete((key: string, value: string, cause) => {
  if (cause === 'evicted-size') seen.push(key, value.length);
});
unsubscribe();
const stats: Stats = cache.stats();

// `using`-free disposal: works without lib esnext.disposable.
cache[Symbol.dispose]();
try {
  cache.get('user:42');
} catch (e) {
  if (e instanceof FaaSCacheError && e.code === 'disposed') {
    const code: FaaSCacheErrorCode = e.code;
    seen.push(code, e.message);
  } else if (e instanceof DataTooLarge) {
    const narrowed: 'data-too-large' = e.code;
    seen.push(narrowed, e.entryBytes, e.availableBytes);
  } else if (e instanceof FaaSCacheError) {
    // @ts-expect-error: not one of the codes the wrapper throws
    if (e.code === 'no-such-code') seen.push(e.index);
  }
}

export { bytes, names, notBytes, policy, seen, stats, text };
