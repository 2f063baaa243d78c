// faas-cache for JavaScript: a Map-like wrapper over the cache component transpiled by jco.
//
// Invariant: this file adds no cache state of its own. Every entry, its position (LRU order, or its
// S3-FIFO queue and read counter), its expiry, every counter and the eviction policy live in the
// component's linear memory; the wrapper only converts arguments and results (strings <-> UTF-8
// bytes, seconds, bigint counters) and turns `cache-error` values into `FaaSCacheError` subclasses.
// So the JS cache has exactly the semantics, and the snapshot format, of the Rust and Spin builds.
import {
  cache as component,
  memoryBytes,
  named as namedComponent,
  policy as policyComponent,
} from '../generated/faas_cache.js';

export { setClock } from './imports/wall-clock.js';

const { CacheDict } = component;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });
const symbolDispose = Symbol.dispose ?? Symbol.for('dispose');

/** The base class of every error the cache reports. `code` is the WIT `cache-error` case. */
export class FaaSCacheError extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The entry alone does not fit in the byte budget; the cache is unchanged. */
export class DataTooLarge extends FaaSCacheError {
  /** @param {bigint} entryBytes @param {bigint} availableBytes */
  constructor(entryBytes, availableBytes) {
    super('data-too-large', `entry needs ${entryBytes} accounted bytes, the budget leaves ${availableBytes}`);
    this.entryBytes = Number(entryBytes);
    this.availableBytes = Number(availableBytes);
  }
}

/** An argument is malformed or out of range; the message names it. */
export class InvalidArgument extends FaaSCacheError {
  /** @param {string} message */
  constructor(message) {
    super('invalid-argument', message);
  }
}

/** The key is absent, or present but expired. */
export class KeyNotFound extends FaaSCacheError {
  /** @param {string} [key] */
  constructor(key) {
    super('key-not-found', key === undefined ? 'key not found' : `key not found: ${JSON.stringify(key)}`);
    this.key = key;
  }
}

/** The bytes given to `restore` are not a snapshot this version can read. */
export class CorruptSnapshot extends FaaSCacheError {
  /** @param {string} message */
  constructor(message) {
    super('corrupt-snapshot', message);
  }
}

/** The host refused the memory a write needs; nothing was stored. */
export class OutOfMemory extends FaaSCacheError {
  constructor() {
    super('out-of-memory', 'the host refused the memory this write needs');
  }
}

/**
 * Turns a WIT `cache-error` into its error class.
 * @param {{tag: string, val?: any}} error
 * @param {string} [key]
 */
function toError(error, key) {
  switch (error.tag) {
    case 'data-too-large':
      return new DataTooLarge(error.val.entryBytes, error.val.availableBytes);
    case 'invalid-argument':
      return new InvalidArgument(error.val);
    case 'key-not-found':
      return new KeyNotFound(key);
    case 'corrupt-snapshot':
      return new CorruptSnapshot(error.val);
    case 'out-of-memory':
      return new OutOfMemory();
    default:
      return new FaaSCacheError(String(error.tag), `cache error: ${error.tag}`);
  }
}

/**
 * Runs a call whose WIT result is `result<_, cache-error>`; jco throws its payload.
 * @template T
 * @param {() => T} call
 * @param {string} [key]
 * @returns {T}
 */
function checked(call, key) {
  try {
    return call();
  } catch (e) {
    if (e && typeof e === 'object' && 'payload' in e && e.payload && typeof e.payload.tag === 'string') {
      throw toError(e.payload, key);
    }
    throw e;
  }
}

/** @param {unknown} key */
function checkKey(key) {
  if (typeof key !== 'string') throw new InvalidArgument(`keys are strings, got ${typeof key}`);
  return key;
}

/** @param {unknown} value @returns {Uint8Array} */
function toBytes(value) {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return encoder.encode(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new InvalidArgument(`values are Uint8Array or string, got ${value === null ? 'null' : typeof value}`);
}

/** A bad option value, quoted for an error message (strings in quotes, others as they print). */
function describeValue(/** @type {unknown} */ value) {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol') return value.toString();
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** @param {unknown} seconds @param {string} what */
function checkSeconds(seconds, what) {
  if (typeof seconds !== 'number') throw new InvalidArgument(`${what} must be a number of seconds`);
  return seconds;
}

/**
 * The size limit as the component reads it: a number of bytes or a string such as "128M".
 * @param {string | number | bigint | undefined | null} size
 */
function sizeString(size) {
  if (size === undefined || size === null) return undefined;
  if (typeof size === 'string') return size;
  if (typeof size === 'bigint') return size.toString();
  if (typeof size === 'number' && Number.isFinite(size)) return String(size);
  throw new InvalidArgument(`maxSizeBytes must be a number of bytes or a string such as "128M"`);
}

/**
 * @param {{ttl?: number | null, expireAt?: number} | undefined} options
 * @returns {{tag: 'default-ttl'} | {tag: 'never'} | {tag: 'ttl', val: number} | {tag: 'at', val: number}}
 */
function toExpiry(options) {
  if (options === undefined) return { tag: 'default-ttl' };
  if (options.ttl !== undefined && options.expireAt !== undefined) {
    throw new InvalidArgument('give ttl or expireAt, not both');
  }
  if (options.expireAt !== undefined) return { tag: 'at', val: checkSeconds(options.expireAt, 'expireAt') };
  if (options.ttl === null) return { tag: 'never' };
  if (options.ttl !== undefined) return { tag: 'ttl', val: checkSeconds(options.ttl, 'ttl') };
  return { tag: 'default-ttl' };
}

/** @param {Record<string, bigint>} stats */
function statsToNumbers(stats) {
  /** @type {Record<string, number>} */
  const out = {};
  for (const [name, value] of Object.entries(stats)) out[name] = Number(value);
  return out;
}

const DEFAULT_REMOVAL_LOG = 1024;
/** The eviction policies of the WIT `faas:cache/policy` interface, by their WIT case names. */
const POLICIES = ['lru', 's3-fifo'];
/** Marks the options `restore` passes to the constructor. */
const RESTORE = Symbol('restore');

/** Marks the options `open` passes to the constructor: the cache's name. */
const NAME = Symbol('name');

/**
 * A dictionary bounded by a byte budget, an item count and per-key TTLs, stored in WebAssembly
 * linear memory. It evicts least recently used entries first (`policy: 'lru'`, the default) or by
 * S3-FIFO (`policy: 's3-fifo'`): then reads move nothing, and "least recently used first" in the
 * docs below reads "small queue oldest first, then main queue oldest first".
 */
export class FaaSCacheDict {
  /** @type {any} */
  #dict;
  /** @type {'bytes' | 'utf8'} */
  #encoding;
  /** Each `onDelete` listener, and whether it asked for `replaced` records too. */
  /** @type {Map<(key: string, value: any, cause: string) => void, boolean>} */
  #listeners = new Map();
  /** @type {((error: unknown, key: string, cause: string) => void) | undefined} */
  #onListenerError;

  /**
   * @param {{
   *   maxSizeBytes?: string | number | bigint,
   *   maxItems?: number,
   *   defaultTtl?: number,
   *   removalLogCapacity?: number,
   *   encoding?: 'bytes' | 'utf8',
   *   policy?: 'lru' | 's3-fifo',
   *   onListenerError?: (error: unknown, key: string, cause: string) => void,
   * }} [options]
   */
  constructor(options = {}) {
    if (options.onListenerError !== undefined && typeof options.onListenerError !== 'function') {
      throw new InvalidArgument('onListenerError takes a function');
    }
    this.#onListenerError = options.onListenerError;
    const encoding = options.encoding ?? 'bytes';
    if (encoding !== 'bytes' && encoding !== 'utf8') {
      throw new InvalidArgument(`encoding is "bytes" or "utf8", got ${JSON.stringify(encoding)}`);
    }
    const maxItems = options.maxItems;
    if (maxItems !== undefined && (!Number.isInteger(maxItems) || maxItems < 0 || maxItems > 0xffff_ffff)) {
      throw new InvalidArgument(`maxItems must be an integer from 1 to 4294967295, got ${maxItems}`);
    }
    const log = options.removalLogCapacity ?? DEFAULT_REMOVAL_LOG;
    if (!Number.isInteger(log) || log < 0 || log > 0xffff_ffff) {
      throw new InvalidArgument(`removalLogCapacity must be an integer from 0 to 4294967295, got ${log}`);
    }
    const policy = options.policy ?? 'lru';
    if (!POLICIES.includes(policy)) {
      throw new InvalidArgument(`policy is "lru" or "s3-fifo", got ${describeValue(policy)}`);
    }
    this.#encoding = encoding;
    const snapshot = /** @type {any} */ (options)[RESTORE];
    if (snapshot !== undefined) {
      this.#dict = checked(() => CacheDict.restore(snapshot));
      return;
    }
    if (options.defaultTtl !== undefined) checkSeconds(options.defaultTtl, 'defaultTtl');
    const settings = {
      defaultTtl: options.defaultTtl,
      maxSize: sizeString(options.maxSizeBytes),
      maxItems,
      removalLogCapacity: log,
    };
    const name = /** @type {any} */ (options)[NAME];
    // LRU keeps `cache-dict.create`, exactly as before the policy interface existed.
    this.#dict =
      name !== undefined
        ? checked(() => namedComponent.open(name, settings, policy))
        : policy === 'lru'
          ? checked(() => CacheDict.create(settings))
          : checked(() => policyComponent.create(settings, policy));
  }

  /**
   * The cache called `name` (`faas:cache/named`): the first `open` of a name creates it with
   * `options`; a later one returns the same cache, with its entries, stats and removal log, and
   * applies `options`' byte limit, item limit and default TTL (evicting if a limit shrank; one
   * left out is removed). The policy and removal log capacity stay as first opened. Named caches
   * live as long as the module's component instance: `[Symbol.dispose]()` drops this handle,
   * not the cache. Throws `InvalidArgument` for an empty name, one over 255 bytes of UTF-8 or one
   * holding a control character, and for a bad setting (nothing is created or changed).
   * @param {string} name
   * @param {ConstructorParameters<typeof FaaSCacheDict>[0]} [options]
   */
  static open(name, options = {}) {
    if (typeof name !== 'string') throw new InvalidArgument(`a name is a string, got ${describeValue(name)}`);
    return new FaaSCacheDict({ ...options, [NAME]: name });
  }

  /** The names of the named caches (`open`), in the order they were first opened. */
  static names() {
    return namedComponent.names();
  }

  /**
   * A cache rebuilt from `snapshot()` bytes (made here, in Rust, or in any other host): settings,
   * eviction policy, entries in their order (and S3-FIFO queues and counters) and absolute expiry
   * times. A snapshot of format version 1 restores as LRU. Throws `CorruptSnapshot` on bad input.
   * @param {Uint8Array} bytes
   * @param {{ encoding?: 'bytes' | 'utf8' }} [options]
   */
  static restore(bytes, options = {}) {
    if (!(bytes instanceof Uint8Array)) throw new InvalidArgument('a snapshot is a Uint8Array');
    return new FaaSCacheDict({ encoding: options.encoding, [RESTORE]: bytes });
  }

  /** The component's cache; throws once the cache was disposed. */
  #live() {
    if (this.#dict === undefined) {
      throw new FaaSCacheError('disposed', 'this FaaSCacheDict was disposed ([Symbol.dispose]()) and holds nothing');
    }
    return this.#dict;
  }

  /** @param {Uint8Array} bytes */
  #decode(bytes) {
    return this.#encoding === 'utf8' ? decoder.decode(bytes) : bytes;
  }

  /**
   * Delivers pending removal records to `onDelete` listeners (only when there are listeners):
   * `replaced` records only to listeners that asked for them. A listener that throws is reported
   * (`onListenerError`, else `console.error`) and delivery goes on: the call that removed the
   * entry has succeeded, and its result stands.
   */
  #notify() {
    if (this.#listeners.size === 0) return;
    for (;;) {
      const records = this.#live().drainRemovals(4096);
      for (const record of records) {
        const replaced = record.cause === 'replaced';
        let value;
        for (const [listener, wantsReplaced] of this.#listeners) {
          if (replaced && !wantsReplaced) continue;
          if (value === undefined) value = this.#decode(record.value);
          try {
            listener(record.key, value, record.cause);
          } catch (error) {
            this.#listenerFailed(error, record.key, record.cause);
          }
        }
      }
      if (records.length < 4096) break;
    }
  }

  /**
   * @param {unknown} error
   * @param {string} key
   * @param {string} cause
   */
  #listenerFailed(error, key, cause) {
    const report = this.#onListenerError;
    if (report !== undefined) {
      try {
        report(error, key, cause);
        return;
      } catch (failure) {
        error = failure;
      }
    }
    console.error(`faas-cache: an onDelete listener threw for ${JSON.stringify(key)} (${cause}):`, error);
  }

  /**
   * The live value of `key` (moved to the most-recently-used end; under S3-FIFO, its read counter
   * is raised and nothing moves), or undefined.
   * @param {string} key
   */
  get(key) {
    const dict = this.#live();
    // utf8: the glue decodes the value straight from guest memory (no copy of the bytes).
    const value = this.#encoding === 'utf8' ? dict.getUtf8(checkKey(key)) : dict.get(checkKey(key));
    if (this.#listeners.size !== 0) this.#notify();
    return value;
  }

  /**
   * The live value of `key` without touching LRU order or stats, or undefined.
   * @param {string} key
   */
  peek(key) {
    const dict = this.#live();
    return this.#encoding === 'utf8' ? dict.peekUtf8(checkKey(key)) : dict.peek(checkKey(key));
  }

  /**
   * Stores `value` (Uint8Array, or a string stored as UTF-8) at the most-recently-used end.
   * `options.ttl`: seconds to live (null: never expires); `options.expireAt`: epoch seconds.
   * Without options the default TTL applies. Returns this, like `Map.prototype.set`.
   * @param {string} key
   * @param {Uint8Array | string} value
   * @param {{ ttl?: number | null, expireAt?: number }} [options]
   */
  set(key, value, options) {
    checkKey(key);
    const bytes = toBytes(value);
    const dict = this.#live();
    if (options === undefined) checked(() => dict.set(key, bytes), key);
    else {
      const expiry = toExpiry(options);
      checked(() => dict.setWithExpiry(key, bytes, expiry), key);
    }
    if (this.#listeners.size !== 0) this.#notify();
    return this;
  }

  /** Whether `key` is live. Does not touch LRU order. @param {string} key */
  has(key) {
    return this.#live().contains(checkKey(key));
  }

  /** Removes a live key; false if there was none. @param {string} key */
  delete(key) {
    const removed = this.#live().delete(checkKey(key));
    if (this.#listeners.size !== 0) this.#notify();
    return removed;
  }

  /**
   * Removes and returns a live key's value; `fallback` (undefined by default) if there was none.
   * @template F
   * @param {string} key
   * @param {F} [fallback]
   */
  pop(key, fallback) {
    const value = this.#live().pop(checkKey(key));
    if (this.#listeners.size !== 0) this.#notify();
    return value === undefined ? fallback : this.#decode(value);
  }

  /**
   * As the Python original's `popitem(last=True)`: removes and returns the most recently used
   * entry as [key, value] (the least recently used with `{ last: false }`); throws `KeyNotFound`
   * when the cache holds no live entry.
   * @param {{ last?: boolean }} [options]
   */
  popItem(options = {}) {
    const item = this.#live().popItem(options.last ?? true);
    if (this.#listeners.size !== 0) this.#notify();
    if (item === undefined) throw new KeyNotFound();
    return [item[0], this.#decode(item[1])];
  }

  /**
   * The live value of `key` (a hit); otherwise stores `value` with the default TTL and returns it.
   * @param {string} key
   * @param {Uint8Array | string} value
   */
  setDefault(key, value) {
    checkKey(key);
    const bytes = toBytes(value);
    const dict = this.#live();
    const stored = checked(() => dict.setDefault(key, bytes), key);
    if (this.#listeners.size !== 0) this.#notify();
    return this.#decode(stored);
  }

  /**
   * Moves a live key to the most-recently-used end (or the least, with `last = false`). Under
   * S3-FIFO: to the main queue's newest end (or the small queue's oldest end, counter 0).
   * Throws `KeyNotFound` if the key is not live.
   * @param {string} key
   * @param {boolean} [last]
   */
  moveToEnd(key, last = true) {
    checkKey(key);
    const dict = this.#live();
    checked(() => dict.moveToEnd(key, Boolean(last)), key);
    if (this.#listeners.size !== 0) this.#notify();
  }

  /**
   * The policy this cache evicts by: 'lru' or 's3-fifo' (a restored cache: its snapshot's).
   * @returns {'lru' | 's3-fifo'}
   */
  get policy() {
    return policyComponent.policyOf(this.#live());
  }

  /** Number of live entries. */
  get size() {
    return this.#live().len();
  }

  /** Removes every entry (each reported to `onDelete` as "cleared"). */
  clear() {
    this.#live().clear();
    if (this.#listeners.size !== 0) this.#notify();
  }

  /** Live keys, least recently used first. */
  keys() {
    return this.#live().keys()[Symbol.iterator]();
  }

  /** Live keys, most recently used first. */
  keysReversed() {
    return this.#live().keysReversed()[Symbol.iterator]();
  }

  /** Live values, least recently used first. */
  values() {
    return this.#live().values().map((/** @type {Uint8Array} */ v) => this.#decode(v))[Symbol.iterator]();
  }

  /** Live [key, value] pairs, least recently used first. */
  entries() {
    return this.#live()
      .items()
      .map((/** @type {[string, Uint8Array]} */ [k, v]) => [k, this.#decode(v)])
      [Symbol.iterator]();
  }

  [Symbol.iterator]() {
    return this.entries();
  }

  /**
   * Calls `callback(value, key, cache)` for each live entry, least recently used first.
   * @param {(value: any, key: string, cache: FaaSCacheDict) => void} callback
   */
  forEach(callback) {
    for (const [key, value] of this.entries()) callback(value, key, this);
  }

  /**
   * Seconds until `key` expires, or null if it never does. Throws `KeyNotFound` if it is not live.
   * @param {string} key
   */
  getTtl(key) {
    checkKey(key);
    const dict = this.#live();
    const ttl = checked(() => dict.getTtl(key), key);
    if (this.#listeners.size !== 0) this.#notify();
    return ttl ?? null;
  }

  /**
   * Sets `key` to expire `ttl` seconds from now (null: never). Throws `KeyNotFound` if not live.
   * @param {string} key
   * @param {number | null} ttl
   */
  setTtl(key, ttl) {
    checkKey(key);
    const seconds = ttl === null || ttl === undefined ? undefined : checkSeconds(ttl, 'ttl');
    const dict = this.#live();
    checked(() => dict.setTtl(key, seconds), key);
    if (this.#listeners.size !== 0) this.#notify();
  }

  /**
   * Sets `key` to expire at `epochSeconds` (a past time expires it). Throws `KeyNotFound` if not live.
   * @param {string} key
   * @param {number} epochSeconds
   */
  expireAt(key, epochSeconds) {
    checkKey(key);
    const at = checkSeconds(epochSeconds, 'epochSeconds');
    const dict = this.#live();
    checked(() => dict.expireAt(key, at), key);
    if (this.#listeners.size !== 0) this.#notify();
  }

  /**
   * false: live; true: present but expired, not yet purged; undefined: absent.
   * @param {string} key
   */
  isExpired(key) {
    return this.#live().isExpired(checkKey(key));
  }

  /** The default TTL in seconds; null: entries never expire by default. */
  get defaultTtl() {
    return this.#live().defaultTtl() ?? null;
  }

  /** Sets the default TTL for entries written from now on. @param {number | null} ttl */
  set defaultTtl(ttl) {
    const seconds = ttl === null || ttl === undefined ? undefined : checkSeconds(ttl, 'defaultTtl');
    const dict = this.#live();
    checked(() => dict.setDefaultTtl(seconds));
  }

  /** The byte limit; null: none. */
  get maxSizeBytes() {
    const limit = this.#live().maxSizeBytes();
    return limit === undefined ? null : Number(limit);
  }

  /**
   * Sets the byte limit (bytes or "128M"; null removes it), evicting LRU entries to fit.
   * @param {string | number | bigint | null} size
   */
  set maxSizeBytes(size) {
    const limit = sizeString(size);
    const dict = this.#live();
    checked(() => dict.changeByteSize(limit));
    if (this.#listeners.size !== 0) this.#notify();
  }

  /** The item limit; null: none. */
  get maxItems() {
    return this.#live().maxItems() ?? null;
  }

  /** Sets the item limit (null removes it), evicting LRU entries to fit. @param {number | null} n */
  set maxItems(n) {
    if (n !== null && n !== undefined && (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff)) {
      throw new InvalidArgument(`maxItems must be an integer from 1 to 4294967295, got ${n}`);
    }
    const limit = n ?? undefined;
    const dict = this.#live();
    checked(() => dict.changeMaxItems(limit));
    if (this.#listeners.size !== 0) this.#notify();
  }

  /** Accounted bytes: the fixed overhead plus each entry's postcard size and overhead. */
  get byteSize() {
    return Number(this.#live().byteSize());
  }

  /** Removes this cache's expired entries; returns how many. */
  purgeExpired() {
    const purged = this.#live().purgeExpired();
    if (this.#listeners.size !== 0) this.#notify();
    return purged;
  }

  /** Settings and live entries with absolute expiry times, as bytes `restore` reads anywhere. */
  snapshot() {
    return this.#live().snapshot();
  }

  /** The counters since creation, restore or `resetStats`, as numbers. */
  stats() {
    return statsToNumbers(this.#live().stats());
  }

  /** Sets every counter to zero. */
  resetStats() {
    this.#live().resetStats();
  }

  /** One line for logs. */
  toString() {
    return this.#live().describe();
  }

  /**
   * `get` for each key, in one call into the component.
   * @param {string[]} keys
   */
  getMany(keys) {
    for (const key of keys) checkKey(key);
    const dict = this.#live();
    const values = this.#encoding === 'utf8' ? dict.getManyUtf8(keys) : dict.getMany(keys);
    if (this.#listeners.size !== 0) this.#notify();
    return values;
  }

  /**
   * `set` for each [key, value], in one call, stopping at the first failure: the error thrown
   * carries `index`, the first entry not written.
   * @param {Iterable<[string, Uint8Array | string]>} entries
   */
  setMany(entries) {
    /** @type {[string, Uint8Array][]} */
    const lowered = [];
    for (const [key, value] of entries) lowered.push([checkKey(key), toBytes(value)]);
    try {
      this.#live().setMany(lowered);
    } catch (e) {
      const payload = /** @type {any} */ (e)?.payload;
      if (payload && typeof payload.index === 'number' && payload.error) {
        const error = toError(payload.error, lowered[payload.index]?.[0]);
        /** @type {any} */ (error).index = payload.index;
        if (this.#listeners.size !== 0) this.#notify();
        throw error;
      }
      throw e;
    }
    if (this.#listeners.size !== 0) this.#notify();
  }

  /**
   * `delete` for each key, in one call; returns how many live keys were removed.
   * @param {string[]} keys
   */
  deleteMany(keys) {
    for (const key of keys) checkKey(key);
    const removed = this.#live().deleteMany(keys);
    if (this.#listeners.size !== 0) this.#notify();
    return removed;
  }

  /**
   * The original's `on_delete` hook: calls `listener(key, value, cause)` after each entry leaves
   * the cache (causes: "deleted", "popped", "cleared", "evicted-size", "evicted-count",
   * "expired"). An overwrite is not a removal and calls nothing, unless `{ replaced: true }` asks
   * for "replaced" records too (the old value). Listeners run synchronously after the call that
   * removed the entry, once the cache is consistent again. A listener that throws neither stops
   * the others nor loses a record nor fails the call: its error goes to the `onListenerError`
   * option, else to `console.error`. Records from before the listener was added are not
   * delivered. Returns a function that removes the listener.
   * @param {(key: string, value: any, cause: string) => void} listener
   * @param {{ replaced?: boolean }} [options]
   */
  onDelete(listener, options = {}) {
    if (typeof listener !== 'function') throw new InvalidArgument('onDelete takes a function');
    if (this.#listeners.size === 0) {
      while (this.#live().drainRemovals(4096).length === 4096);
    }
    this.#listeners.set(listener, Boolean(options.replaced));
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Frees the cache's memory now, instead of when it is garbage collected. */
  [symbolDispose]() {
    const dict = this.#dict;
    if (dict === undefined) return;
    this.#dict = undefined;
    this.#listeners.clear();
    dict[symbolDispose]();
  }

  get [Symbol.toStringTag]() {
    return 'FaaSCacheDict';
  }
}

/** Purges expired entries of every cache of this module; returns how many. */
export function tick() {
  return component.tick();
}

/**
 * Bytes of WebAssembly linear memory the component holds now (all caches of this module, plus the
 * allocator's free space; linear memory never shrinks).
 */
export function wasmMemoryBytes() {
  return memoryBytes();
}
