"""faas_cache_dict for componentize-py guests: the dict surface of faas-cache-dict 0.8.0, backed by
the faas:cache component (`faas:cache/cache@0.1.0`, and `faas:cache/named@0.1.0` for caches
opened by name) instead of a Python dict.

Build: put the directory holding this package on the python path (`componentize-py ... -p DIR`)
and name its world, `-w faas:cache-py/guest@0.1.0`, next to your own (componentize-py.toml here
makes componentize-py generate the bindings into `faas_cache_dict.wit`). Then compose the guest
with target/faas_cache.wasm (Spin: a component dependency; else wac / `wasm-tools compose`).

Invariants:
- All entries, LRU order, TTLs and byte accounting live in the component; a `FaaSCacheDict` holds
  only the resource handle, the codec and the hook. The component is single-threaded (no lock,
  no purge thread): expired entries are never returned or counted, and are reclaimed lazily,
  by `purge_expired()` or by the module-level `tick()`.
- Keys are `str`. Values cross the boundary as `bytes`; `codec=(encode, decode)` converts other
  types (see UTF8, JSON, PICKLE). Without a codec, only bytes-like values are accepted.
- Component errors map to Python ones: key-not-found -> KeyError, invalid-argument -> ValueError,
  data-too-large -> DataTooLarge, corrupt-snapshot -> CorruptSnapshot (a ValueError),
  out-of-memory -> MemoryError. A failed call leaves the cache unchanged (the component's rule).
- `on_delete_callable(key, value)` runs after every terminal removal (del, pop, popitem, clear,
  eviction, expiry), never for an overwrite: after each call into the cache, the component's
  removal log is drained and `replaced` records are skipped. A failing hook is logged, never
  raised. The log exists only when a hook is given (capacity 0 otherwise), so a cache restored
  from a snapshot keeps the snapshot's log capacity: a hook on `restore` needs a snapshot taken
  from a cache that had one.
"""

import json
import logging
import pickle
from collections.abc import MutableMapping

from componentize_py_types import Err

try:
    from .wit.imports import faas_cache_cache_0_1_0 as _wit
    from .wit.imports import faas_cache_named_0_1_0 as _named
    from .wit.imports import faas_cache_policy_0_1_0 as _policy
except ImportError as e:  # bindings exist only inside a componentize-py build that names our world
    raise ImportError("faas_cache_dict: no bindings for faas:cache/cache@0.1.0; build with "
                      "componentize-py -w faas:cache-py/guest@0.1.0 (plus your own -w) and this "
                      "package's directory on -p") from e

__all__ = ["FaaSCacheDict", "DataTooLarge", "CorruptSnapshot", "tick", "UTF8", "JSON", "PICKLE"]

_log = logging.getLogger("faas_cache_dict")
_U32_MAX = 2**32 - 1

UTF8 = (lambda s: s.encode("utf-8"), lambda b: b.decode("utf-8"))
JSON = (lambda o: json.dumps(o, separators=(",", ":")).encode("utf-8"), lambda b: json.loads(b))
PICKLE = (pickle.dumps, pickle.loads)


def _bytes_only(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"values are bytes (pass codec= for other types), not {type(value).__name__}")


_BYTES = (_bytes_only, lambda b: b)


class DataTooLarge(Exception):
    """The entry alone does not fit in the byte budget; the cache is unchanged."""

    def __init__(self, entry_bytes, available_bytes):
        super().__init__(f"entry needs {entry_bytes} bytes, the budget leaves {available_bytes}")
        self.entry_bytes = entry_bytes
        self.available_bytes = available_bytes


class CorruptSnapshot(ValueError):
    """The bytes given to `restore` are not a snapshot this version can read."""


def _raise(error, key=None):
    """Raises the Python exception for a `cache-error` value."""
    if isinstance(error, _wit.CacheError_KeyNotFound):
        raise KeyError(key)
    if isinstance(error, _wit.CacheError_InvalidArgument):
        raise ValueError(error.value)
    if isinstance(error, _wit.CacheError_DataTooLarge):
        raise DataTooLarge(error.value.entry_bytes, error.value.available_bytes)
    if isinstance(error, _wit.CacheError_CorruptSnapshot):
        raise CorruptSnapshot(error.value)
    if isinstance(error, _wit.CacheError_OutOfMemory):
        raise MemoryError("the host refused the memory the write needs")
    raise RuntimeError(f"unknown cache error {error!r}")


def _size(max_size_bytes):
    if max_size_bytes is None or isinstance(max_size_bytes, str):
        return max_size_bytes
    if isinstance(max_size_bytes, bool) or not isinstance(max_size_bytes, (int, float)):
        raise TypeError("max_size_bytes is a number of bytes, a string such as '128M', or None")
    return str(max_size_bytes)


def _items(max_items):
    """None or a positive int; values past u32 (e.g. the original's sys.maxsize) mean no limit."""
    if max_items is None:
        return None
    if isinstance(max_items, bool) or not isinstance(max_items, int):
        raise TypeError("max_items is an int or None")
    if max_items <= 0:
        raise ValueError(f"max_items must be positive, got {max_items}")
    return None if max_items > _U32_MAX else max_items


def _ttl(ttl):
    return None if ttl is None else float(ttl)


def _options(default_ttl, max_size_bytes, max_items, on_delete_callable):
    """The component's options for the constructor's and `open`'s arguments; the removal log
    exists only when a hook is given."""
    return _wit.Options(
        default_ttl=_ttl(default_ttl),
        max_size=_size(max_size_bytes),
        max_items=_items(max_items),
        removal_log_capacity=_U32_MAX if on_delete_callable else 0,
    )


def tick():
    """Purges expired entries from every cache of this instance; returns how many.
    Hooks are not run for these (their records stay in each cache's log until its next call)."""
    return _wit.tick()


class FaaSCacheDict(MutableMapping):
    """An LRU/TTL/byte-bounded cache dict; iteration and keys() go least recently used first."""

    def __init__(self, default_ttl=None, max_size_bytes=None, max_items=None,
                 on_delete_callable=None, codec=None, *, _handle=None):
        self._encode, self._decode = codec or _BYTES
        self._on_delete = on_delete_callable
        if _handle is not None:
            self._cache = _handle
            return
        options = _options(default_ttl, max_size_bytes, max_items, on_delete_callable)
        try:
            self._cache = _wit.CacheDict.create(options)
        except Err as e:
            _raise(e.value)

    @classmethod
    def open(cls, name, default_ttl=None, max_size_bytes=None, max_items=None,
             on_delete_callable=None, codec=None, policy="lru"):
        """The cache called `name` (`faas:cache/named`): the first open creates it; a later open
        returns the same cache (entries, stats, removal log) and applies this call's byte limit,
        item limit and default TTL (a shrunk limit evicts; None removes one). The policy ("lru" or
        "s3-fifo") and the removal log stay as first opened. It lives as long as the component
        instance, or, on a host that provides faas:cache (faas-cache-serve), as long as the app's
        scope: later instances open it again with its entries. `close()` drops this handle, not
        the cache. ValueError for an empty name, one over 255 bytes of UTF-8 or holding a control
        character, or a bad setting (nothing is created or changed)."""
        if not isinstance(name, str):
            raise TypeError(f"a name is a str, not {type(name).__name__}")
        policies = {"lru": _policy.EvictionPolicy.LRU, "s3-fifo": _policy.EvictionPolicy.S3_FIFO}
        if policy not in policies:
            raise ValueError(f'policy is "lru" or "s3-fifo", not {policy!r}')
        options = _options(default_ttl, max_size_bytes, max_items, on_delete_callable)
        try:
            handle = _named.open(name, options, policies[policy])
        except Err as e:
            _raise(e.value)
        cache = cls(on_delete_callable=on_delete_callable, codec=codec, _handle=handle)
        cache._fire()  # entries a shrunk limit evicted
        return cache

    @staticmethod
    def names():
        """The names of the caches opened by name, in the order first opened."""
        return _named.names()

    @classmethod
    def restore(cls, data, on_delete_callable=None, codec=None):
        """A cache rebuilt from `snapshot()` bytes (settings, LRU order, absolute expiry times)."""
        try:
            handle = _wit.CacheDict.restore(bytes(data))
        except Err as e:
            _raise(e.value)
        cache = cls(on_delete_callable=on_delete_callable, codec=codec, _handle=handle)
        cache._fire()  # entries expired since the snapshot, or evicted by its limits
        return cache

    # --- plumbing -----------------------------------------------------------------------------

    def _call(self, method, *args, key=None):
        """Calls a component method, maps a `cache-error` to an exception, then runs the hook."""
        try:
            return method(*args)
        except Err as e:
            _raise(e.value, key)
        finally:
            if self._on_delete is not None:
                self._fire()

    def _fire(self):
        """Drains the removal log into `on_delete_callable` (terminal removals only)."""
        if self._on_delete is None:
            return
        while True:
            batch = self._cache.drain_removals(256)
            for removal in batch:
                if removal.cause == _wit.RemovalCause.REPLACED:
                    continue
                try:
                    self._on_delete(removal.key, self._decode(removal.value))
                except Exception:  # noqa: BLE001 - the original logs hook failures, never raises
                    _log.exception("on_delete_callable failed for key %r", removal.key)
            if len(batch) < 256:
                return

    # --- the dict surface ---------------------------------------------------------------------

    def __getitem__(self, key):
        # The lookups call the binding directly: they return no `result`, so nothing to map.
        value = self._cache.get(key) if isinstance(key, str) else None
        if self._on_delete is not None:
            self._fire()
        if value is None:
            raise KeyError(key)
        return self._decode(value)

    def __setitem__(self, key, value):
        if not isinstance(key, str):
            raise TypeError(f"keys are str, not {type(key).__name__}")
        self._call(self._cache.set, key, self._encode(value), key=key)

    def __delitem__(self, key):
        if not (isinstance(key, str) and self._call(self._cache.delete, key)):
            raise KeyError(key)

    def __contains__(self, key):
        found = isinstance(key, str) and self._cache.contains(key)
        if self._on_delete is not None:
            self._fire()
        return found

    def __len__(self):
        n = self._cache.len()
        if self._on_delete is not None:
            self._fire()
        return n

    def __iter__(self):
        return iter(self.keys())

    def __reversed__(self):
        return iter(self._call(self._cache.keys_reversed))

    def __repr__(self):
        line = self._call(self._cache.describe)
        if line.startswith("FaaSCacheDict(") and line.endswith(")"):
            line = line[len("FaaSCacheDict("):-1]
        return f"<FaaSCacheDict@{id(self):#x}; {line}>"

    def get(self, key, default=None):
        value = self._cache.get(key) if isinstance(key, str) else None
        if self._on_delete is not None:
            self._fire()
        return default if value is None else self._decode(value)

    def keys(self):
        return self._call(self._cache.keys)

    def values(self):
        return [self._decode(v) for v in self._call(self._cache.values)]

    def items(self):
        return [(k, self._decode(v)) for k, v in self._call(self._cache.items)]

    def pop(self, key, default=None):
        """Removes and returns the value; `default` for a missing or expired key, never KeyError
        (the original's pop, semantics.md T8; dict.pop would raise)."""
        value = self._call(self._cache.pop, key) if isinstance(key, str) else None
        return default if value is None else self._decode(value)

    def popitem(self, last=True):
        """Removes and returns the MRU (`last`) or LRU entry; KeyError when empty."""
        item = self._call(self._cache.pop_item, bool(last))
        if item is None:
            raise KeyError("popitem(): cache dict is empty")
        return item[0], self._decode(item[1])

    def setdefault(self, key, default=None):
        if not isinstance(key, str):
            raise TypeError(f"keys are str, not {type(key).__name__}")
        return self._decode(self._call(self._cache.set_default, key, self._encode(default), key=key))

    def move_to_end(self, key, last=True):
        self._call(self._cache.move_to_end, key, bool(last), key=key)

    def clear(self):
        self._call(self._cache.clear)

    def copy(self):
        raise NotImplementedError("copy() is not supported; use snapshot() and restore()")

    @classmethod
    def fromkeys(cls, *args, **kwargs):
        raise NotImplementedError("fromkeys() is not supported")

    # --- TTL ----------------------------------------------------------------------------------

    def get_ttl(self, key):
        """Seconds left (float), or None if the key never expires; KeyError if missing/expired."""
        return self._call(self._cache.get_ttl, key, key=key)

    def set_ttl(self, key, ttl):
        """Expire `ttl` seconds from now (None: never). Does not change LRU order."""
        self._call(self._cache.set_ttl, key, _ttl(ttl), key=key)

    def expire_at(self, key, epoch_seconds):
        self._call(self._cache.expire_at, key, float(epoch_seconds), key=key)

    def is_expired(self, key):
        """False: live; True: present but expired, not yet purged; None: absent."""
        return self._call(self._cache.is_expired, key)

    @property
    def default_ttl(self):
        return self._call(self._cache.default_ttl)

    @default_ttl.setter
    def default_ttl(self, ttl):
        self._call(self._cache.set_default_ttl, _ttl(ttl))

    # --- size limits --------------------------------------------------------------------------

    def change_byte_size(self, max_size_bytes):
        """New byte limit (1024, "64K", "0.5M", "128M", "1G"; None: no limit); evicts LRU to fit."""
        self._call(self._cache.change_byte_size, _size(max_size_bytes))

    def get_byte_size(self):
        return self._call(self._cache.byte_size)

    @property
    def max_size_bytes(self):
        return self._call(self._cache.max_size_bytes)

    def change_max_items(self, max_items):
        self._call(self._cache.change_max_items, _items(max_items))

    @property
    def max_items(self):
        return self._call(self._cache.max_items)

    # --- the component's extras ---------------------------------------------------------------

    def snapshot(self):
        """Settings and live entries as the component's versioned bytes (not pickle)."""
        return self._call(self._cache.snapshot)

    def purge_expired(self):
        return self._call(self._cache.purge_expired)

    def stats(self):
        """The component's counters (hits, misses, inserts, updates, removed, evicted_*, ...)."""
        return self._call(self._cache.stats)

    def close(self):
        """Releases the component resource; any later use raises ValueError (a call on a dropped
        handle would trap the whole instance, so the handle is replaced, not kept)."""
        handle, self._cache = self._cache, _Closed()
        if not isinstance(handle, _Closed):
            handle.__exit__(None, None, None)


class _Closed:
    """Stands in for the handle of a closed cache."""

    def __getattr__(self, name):
        raise ValueError("operation on a closed FaaSCacheDict")
