// Types of the faas-cache JavaScript wrapper (src/index.js).
//
// They type-check with "lib": ["es2022"] and need no DOM and no "esnext.disposable": the global
// augmentation below declares `Symbol.dispose` itself. It merges with the same declaration in
// lib.esnext.disposable.d.ts and @types/node when those are present.

declare global {
  interface SymbolConstructor {
    /** The key of `[Symbol.dispose]()` (explicit resource management; Node 20.4+ defines it). */
    readonly dispose: unique symbol;
  }
}

/** Why an entry left the cache ("replaced": overwritten, only for `onDelete(f, { replaced: true })`). */
export type RemovalCause =
  | 'deleted'
  | 'popped'
  | 'cleared'
  | 'evicted-size'
  | 'evicted-count'
  | 'expired'
  | 'replaced';

/** Values are stored as bytes; strings are stored as UTF-8. */
export type Value = Uint8Array | string;

export interface FaaSCacheOptions<E extends 'bytes' | 'utf8' = 'bytes'> {
  /** Byte budget, overheads included: bytes (number) or "64K", "0.5M", "128M", "1G". */
  maxSizeBytes?: string | number | bigint;
  /** Largest number of entries (>= 1). */
  maxItems?: number;
  /** TTL in seconds of entries written without an explicit expiry. */
  defaultTtl?: number;
  /**
   * How many removal records the removal log keeps for `onDelete` (default 1024). Only a cache
   * with an `onDelete` listener drains it; without one, each removal past this many drops the
   * oldest record, counted in `Stats.removalsDropped`. With a byte limit, the records' keys and
   * values together are also kept within it.
   */
  removalLogCapacity?: number;
  /** What reads return: Uint8Array ("bytes", default) or strings decoded as UTF-8 ("utf8"). */
  encoding?: E;
  /**
   * What to evict when a write does not fit: "lru" (default, least recently used first) or
   * "s3-fifo". Anything else throws `InvalidArgument`.
   *
   * S3-FIFO: reads only raise a counter and move nothing; `keys()` lists the small queue (new
   * entries) oldest first, then the main queue oldest first, and `keysReversed()` the reverse.
   * Pick it for small budgets and skewed or scan-heavy traffic, where it keeps more hits than LRU.
   */
  policy?: 'lru' | 's3-fifo';
  /**
   * Called with the error when an `onDelete` listener throws (the call that removed the entry
   * still succeeds); without it the error goes to `console.error`.
   */
  onListenerError?: (error: unknown, key: string, cause: RemovalCause) => void;
}

export interface SetOptions {
  /** Seconds to live; null: never expires. */
  ttl?: number | null;
  /** Expiry as seconds since the Unix epoch (a past time stores the entry already expired). */
  expireAt?: number;
}

export interface Stats {
  hits: number;
  misses: number;
  inserts: number;
  updates: number;
  removed: number;
  evictedSize: number;
  evictedCount: number;
  expired: number;
  removalsDropped: number;
}

type Out<E> = E extends 'utf8' ? string : Uint8Array;

export class FaaSCacheDict<E extends 'bytes' | 'utf8' = 'bytes'> implements Iterable<[string, Out<E>]> {
  constructor(options?: FaaSCacheOptions<E>);
  static restore<E extends 'bytes' | 'utf8' = 'bytes'>(
    snapshot: Uint8Array,
    options?: { encoding?: E },
  ): FaaSCacheDict<E>;
  /**
   * The cache called `name`: created by the first `open`, the same cache (entries, stats, removal
   * log) on a later one, which applies its limits and default TTL. Disposing a handle keeps the cache.
   */
  static open<E extends 'bytes' | 'utf8' = 'bytes'>(name: string, options?: FaaSCacheOptions<E>): FaaSCacheDict<E>;
  /** The named caches' names, in the order first opened. */
  static names(): string[];

  get(key: string): Out<E> | undefined;
  peek(key: string): Out<E> | undefined;
  set(key: string, value: Value, options?: SetOptions): this;
  has(key: string): boolean;
  delete(key: string): boolean;
  pop<F = undefined>(key: string, fallback?: F): Out<E> | F;
  /** As Python's `popitem(last=True)`: the most recent entry by default; throws `KeyNotFound` when empty. */
  popItem(options?: { last?: boolean }): [string, Out<E>];
  setDefault(key: string, value: Value): Out<E>;
  moveToEnd(key: string, last?: boolean): void;
  /**
   * The policy this cache evicts by (a restored cache: its snapshot's; a format-1 snapshot: "lru").
   * Under "s3-fifo" reads move nothing and `keys()` is small queue then main queue, oldest first.
   */
  readonly policy: 'lru' | 's3-fifo';
  readonly size: number;
  clear(): void;
  keys(): IterableIterator<string>;
  keysReversed(): IterableIterator<string>;
  values(): IterableIterator<Out<E>>;
  entries(): IterableIterator<[string, Out<E>]>;
  [Symbol.iterator](): IterableIterator<[string, Out<E>]>;
  forEach(callback: (value: Out<E>, key: string, cache: this) => void): void;

  getTtl(key: string): number | null;
  setTtl(key: string, ttl: number | null): void;
  expireAt(key: string, epochSeconds: number): void;
  isExpired(key: string): boolean | undefined;
  defaultTtl: number | null;
  get maxSizeBytes(): number | null;
  set maxSizeBytes(size: string | number | bigint | null);
  maxItems: number | null;
  readonly byteSize: number;
  purgeExpired(): number;

  snapshot(): Uint8Array;
  stats(): Stats;
  resetStats(): void;
  toString(): string;

  getMany(keys: string[]): (Out<E> | undefined)[];
  setMany(entries: Iterable<[string, Value]>): void;
  deleteMany(keys: string[]): number;

  /** After each removal (not an overwrite, unless `{ replaced: true }`); returns an unsubscribe function. */
  onDelete(
    listener: (key: string, value: Out<E>, cause: RemovalCause) => void,
    options?: { replaced?: boolean },
  ): () => void;
  [Symbol.dispose](): void;
}

/** Purges expired entries of every cache of this module; returns how many. */
export function tick(): number;

/** Bytes of WebAssembly linear memory the component holds now (it never shrinks). */
export function wasmMemoryBytes(): number;

/** Replaces the clock (milliseconds since the epoch) every cache reads; null restores Date.now. */
export function setClock(nowMillis: (() => number) | null): void;

/**
 * Every `FaaSCacheError.code` the wrapper throws: the WIT `cache-error` cases, and "disposed" for
 * a call on a cache after `[Symbol.dispose]()`.
 */
export type FaaSCacheErrorCode =
  | 'data-too-large'
  | 'invalid-argument'
  | 'key-not-found'
  | 'corrupt-snapshot'
  | 'out-of-memory'
  | 'disposed';

export class FaaSCacheError extends Error {
  constructor(code: FaaSCacheErrorCode, message: string);
  readonly code: FaaSCacheErrorCode;
  /** For a failed `setMany`: the first entry not written. */
  index?: number;
}
export class DataTooLarge extends FaaSCacheError {
  constructor(entryBytes: bigint, availableBytes: bigint);
  readonly code: 'data-too-large';
  readonly entryBytes: number;
  readonly availableBytes: number;
}
export class InvalidArgument extends FaaSCacheError {
  constructor(message: string);
  readonly code: 'invalid-argument';
}
export class KeyNotFound extends FaaSCacheError {
  constructor(key?: string);
  readonly code: 'key-not-found';
  readonly key?: string;
}
export class CorruptSnapshot extends FaaSCacheError {
  constructor(message: string);
  readonly code: 'corrupt-snapshot';
}
export class OutOfMemory extends FaaSCacheError {
  constructor();
  readonly code: 'out-of-memory';
}
