"""Tests of faas_cache_dict, run inside the guest (guest.py) against the composed faas:cache component.

Invariants: each test builds its own caches; time moves only through `advance()` (the host's fake
`wasi:clocks/wall-clock@0.2.0`, which only the cache component reads), so TTL tests never sleep.
Plain asserts; a test passes when it returns.
"""

from wit_world.imports import test_clock

from faas_cache_dict import JSON, UTF8, CorruptSnapshot, DataTooLarge, FaaSCacheDict, tick


def advance(seconds):
    test_clock.advance(float(seconds))


def now():
    return test_clock.now()


def raises(exc, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except exc as e:
        return e
    raise AssertionError(f"{getattr(fn, '__name__', fn)} did not raise {exc.__name__}")


def abc(**kwargs):
    c = FaaSCacheDict(**kwargs)
    for k in "abc":
        c[k] = k.encode()
    return c


class Hook:
    def __init__(self):
        self.calls = []

    def __call__(self, key, value):
        self.calls.append((key, value))


# --- dict surface --------------------------------------------------------------------------------

def test_getitem_setitem_get():
    c = FaaSCacheDict()
    c["k"] = b"v"
    assert c["k"] == b"v"
    assert c.get("k") == b"v"
    assert c.get("nope") is None and c.get("nope", b"d") == b"d"
    raises(KeyError, lambda: c["nope"])
    c["k"] = bytearray(b"w")
    assert c["k"] == b"w"
    c["empty"] = b""
    assert c["empty"] == b"" and c.get("empty", b"x") == b""
    raises(TypeError, c.__setitem__, "s", "a str")
    raises(TypeError, c.__setitem__, 1, b"v")
    raises(KeyError, lambda: c[1])
    assert c.get(1) is None


def test_delitem_contains_len():
    c = abc()
    assert len(c) == 3 and "a" in c and "z" not in c and 1 not in c
    del c["a"]
    assert "a" not in c and len(c) == 2
    raises(KeyError, c.__delitem__, "a")
    assert bool(c) and not bool(FaaSCacheDict())


def test_lru_order_iteration_keys_values_items():
    c = abc()
    assert c["a"] == b"a"  # read moves a to the MRU end
    assert list(c) == ["b", "c", "a"]
    assert c.keys() == ["b", "c", "a"]
    assert c.values() == [b"b", b"c", b"a"]
    assert c.items() == [("b", b"b"), ("c", b"c"), ("a", b"a")]
    assert list(reversed(c)) == ["a", "c", "b"]
    assert "b" in c and c.keys() == ["b", "c", "a"]  # neither listing nor `in` reorders
    c["b"] = b"B"  # overwrite moves to MRU
    assert c.keys() == ["c", "a", "b"]


def test_pop():
    c = abc()
    assert c.pop("b") == b"b" and "b" not in c
    assert c.pop("b") is None and c.pop("b", b"d") == b"d"
    c.set_ttl("a", 1)
    advance(2)
    assert c.pop("a", b"gone") == b"gone"  # expired: default, like a missing key


def test_popitem():
    c = abc()
    assert c.popitem() == ("c", b"c")
    assert c.popitem(last=False) == ("a", b"a")
    assert c.popitem(last=True) == ("b", b"b")
    raises(KeyError, c.popitem)
    raises(KeyError, c.popitem, last=False)


def test_setdefault():
    c = abc()
    assert c.setdefault("z", b"zz") == b"zz" and c["z"] == b"zz"
    assert c.setdefault("a", b"other") == b"a"
    assert c.keys()[-1] == "a"  # a hit is an MRU touch
    raises(TypeError, c.setdefault, "n")  # default None is not bytes without a codec


def test_move_to_end():
    c = abc()
    c.move_to_end("a")
    assert c.keys() == ["b", "c", "a"]
    c.move_to_end("a", last=False)
    assert c.keys() == ["a", "b", "c"]
    raises(KeyError, c.move_to_end, "nope")
    c.set_ttl("b", 0)
    advance(0.01)
    raises(KeyError, c.move_to_end, "b")
    assert c.is_expired("b") is None  # an expired key is removed by move_to_end


def test_clear():
    hook = Hook()
    c = abc(on_delete_callable=hook)
    c.clear()
    assert len(c) == 0 and c.keys() == []
    assert sorted(hook.calls) == [("a", b"a"), ("b", b"b"), ("c", b"c")]
    c["x"] = b"1"  # settings stay, the cache keeps working
    assert c["x"] == b"1"


def test_copy_fromkeys_not_supported():
    raises(NotImplementedError, FaaSCacheDict().copy)
    raises(NotImplementedError, FaaSCacheDict.fromkeys, ["a"])


def test_repr():
    c = FaaSCacheDict(default_ttl=10, max_size_bytes="128M", max_items=10)
    c["foo"] = b"bar"
    r = repr(c)
    assert r.startswith("<FaaSCacheDict@0x") and r.endswith(">"), r
    for part in ("default_ttl=10", "max_items=10", "current_items=1", "current_memory_bytes="):
        assert part in r, r
    assert "max_memory=" in r and "128" in r, r


# --- TTL -----------------------------------------------------------------------------------------

def test_default_ttl_expires():
    c = FaaSCacheDict(default_ttl=10)
    c["k"] = b"v"
    assert c.default_ttl == 10
    assert 9.99 <= c.get_ttl("k") <= 10
    advance(5)
    assert c["k"] == b"v" and c.is_expired("k") is False
    advance(5.5)
    assert c.is_expired("k") is True  # present but expired; is_expired never removes
    assert "k" not in c and len(c) == 0 and c.keys() == []
    raises(KeyError, lambda: c["k"])
    assert c.is_expired("k") is None  # the read purged it


def test_default_ttl_setter_applies_to_new_keys():
    c = FaaSCacheDict()
    c["old"] = b"1"
    c.default_ttl = 30
    c["new"] = b"2"
    assert c.get_ttl("old") is None and 29.9 <= c.get_ttl("new") <= 30
    c.default_ttl = None
    assert c.default_ttl is None
    raises(ValueError, setattr, c, "default_ttl", -1)


def test_set_ttl_get_ttl():
    c = abc()
    assert c.get_ttl("a") is None
    c.set_ttl("a", 120)
    assert 119.9 <= c.get_ttl("a") <= 120
    c.set_ttl("a", 0.5)
    assert 0 < c.get_ttl("a") <= 0.5
    c.set_ttl("a", None)
    assert c.get_ttl("a") is None
    assert c.keys() == ["a", "b", "c"]  # TTL changes do not reorder
    raises(KeyError, c.set_ttl, "nope", 1)
    raises(KeyError, c.get_ttl, "nope")
    raises(ValueError, c.set_ttl, "a", -1)
    raises(ValueError, c.set_ttl, "a", float("nan"))


def test_ttl_zero_lives_only_the_instant():
    c = abc()
    c.set_ttl("a", 0)
    assert "a" in c  # the clock has not moved: still the instant of writing
    advance(0.001)
    assert "a" not in c
    raises(KeyError, c.get_ttl, "a")


def test_expire_at():
    c = abc()
    c.expire_at("a", now() + 5)
    ttl = c.get_ttl("a")
    assert 4.9 <= ttl <= 5.001, (ttl, now())  # f64 epoch seconds: sub-microsecond rounding
    c.expire_at("b", now() - 1)  # the past: expired at once
    assert c.is_expired("b") is True and "b" not in c
    raises(KeyError, c.expire_at, "nope", now() + 5)
    raises(ValueError, c.expire_at, "a", float("nan"))
    advance(6)
    assert c.keys() == ["c"]


def test_overwrite_resets_expiry():
    c = FaaSCacheDict(default_ttl=10)
    c["k"] = b"1"
    c.set_ttl("k", None)
    c["k"] = b"2"
    assert 9.9 <= c.get_ttl("k") <= 10


def test_purge_expired_and_tick():
    hook = Hook()
    c = abc(default_ttl=1, on_delete_callable=hook)
    advance(2)
    assert c.purge_expired() == 3
    assert sorted(hook.calls) == [("a", b"a"), ("b", b"b"), ("c", b"c")]
    d = abc(default_ttl=1)
    advance(2)
    assert tick() == 3 and d.is_expired("a") is None


# --- size limits ---------------------------------------------------------------------------------

def test_size_strings():
    c = FaaSCacheDict(max_size_bytes="128M")
    assert c.max_size_bytes == 128 * 2**20
    for text, expected in [("64M", 64 * 2**20), ("0.5M", 2**19), ("64k", 65536),
                           ("1G", 2**30), ("2T", 2 * 2**40), ("1048576", 2**20), (4096, 4096)]:
        c.change_byte_size(text)
        assert c.max_size_bytes == expected, (text, c.max_size_bytes)
    c.change_byte_size(None)
    assert c.max_size_bytes is None
    for bad in ("12X", "0", "-1K", "", "abc", 0, -5):
        raises(ValueError, c.change_byte_size, bad)
        raises(ValueError, FaaSCacheDict, max_size_bytes=bad)
    raises(TypeError, c.change_byte_size, True)


def test_byte_budget_evicts_lru():
    hook = Hook()
    c = FaaSCacheDict(max_size_bytes="4K", on_delete_callable=hook)
    for i in range(100):
        c[f"k{i}"] = bytes(100)
        assert c.get_byte_size() <= 4096
    assert 0 < len(c) < 100 and c.keys()[-1] == "k99"
    assert len(hook.calls) == 100 - len(c) and hook.calls[0][0] == "k0"
    before = len(c)
    c.change_byte_size("1K")  # shrinking evicts at once, LRU first
    assert len(c) < before and c.get_byte_size() <= 1024 and c.keys()[-1] == "k99"
    # The removal log keeps its records within the cache's byte limit (cache.wit): this one call
    # evicted more than 1K of records, so the oldest were dropped and counted, never lost.
    dropped = c.stats().removals_dropped
    assert dropped > 0 and len(hook.calls) + dropped == 100 - len(c)


def test_data_too_large():
    c = FaaSCacheDict(max_size_bytes="1K")
    c["small"] = b"x"
    keys, size = c.keys(), c.get_byte_size()
    e = raises(DataTooLarge, c.__setitem__, "huge", bytes(4096))
    assert e.entry_bytes > e.available_bytes > 0
    assert c.keys() == keys and c.get_byte_size() == size and "huge" not in c  # unchanged
    raises(DataTooLarge, c.setdefault, "huge", bytes(4096))


def test_max_items():
    hook = Hook()
    c = FaaSCacheDict(max_items=3, on_delete_callable=hook)
    for k in "abcd":
        c[k] = k.encode()
    assert c.keys() == ["b", "c", "d"] and hook.calls == [("a", b"a")]
    c["b"] = b"B"  # overwrite at the limit: no eviction, no hook
    assert len(c) == 3 and hook.calls == [("a", b"a")]
    c.change_max_items(1)
    assert c.keys() == ["b"] and c.max_items == 1
    c.change_max_items(None)
    assert c.max_items is None
    for k in "xyz":
        c[k] = b"1"
    assert len(c) == 4
    raises(ValueError, c.change_max_items, 0)
    raises(ValueError, c.change_max_items, -1)
    raises(ValueError, FaaSCacheDict, max_items=0)
    assert FaaSCacheDict(max_items=2**63 - 1).max_items is None  # sys.maxsize: no limit


def test_max_items_purges_expired_first():
    c = FaaSCacheDict(max_items=2)
    c["old"] = b"1"
    c["dying"] = b"2"
    c.set_ttl("dying", 1)
    advance(2)
    c["new"] = b"3"
    assert c.keys() == ["old", "new"]


def test_constructor_rejects_bad_settings():
    raises(ValueError, FaaSCacheDict, default_ttl=-1)
    raises(ValueError, FaaSCacheDict, default_ttl=float("inf"))
    raises(ValueError, FaaSCacheDict, max_size_bytes="12X")
    raises(TypeError, FaaSCacheDict, max_items="3")


# --- lifecycle hook ------------------------------------------------------------------------------

def test_on_delete_fires_for_terminal_removals_only():
    hook = Hook()
    c = abc(on_delete_callable=hook)
    c["a"] = b"A"  # overwrite: no call
    assert hook.calls == []
    del c["a"]
    assert c.pop("b") == b"b"
    c["d"] = b"d"
    c.popitem()
    assert hook.calls == [("a", b"A"), ("b", b"b"), ("d", b"d")]
    c.set_ttl("c", 1)
    advance(2)
    assert c.get("c") is None  # expired read removes it: hook
    assert hook.calls[-1] == ("c", b"c") and len(hook.calls) == 4
    assert c.pop("missing") is None and len(hook.calls) == 4


def test_failing_hook_is_contained():
    def boom(key, value):
        raise RuntimeError("hook failed")

    c = abc(on_delete_callable=boom)
    del c["a"]  # the hook raises; the delete still succeeds, nothing propagates
    assert "a" not in c and c.keys() == ["b", "c"]
    c["z"] = b"z"
    assert c["z"] == b"z"


# --- snapshot / restore --------------------------------------------------------------------------

def test_snapshot_restore_keeps_order_settings_and_expiry():
    c = FaaSCacheDict(default_ttl=100, max_size_bytes="64K", max_items=10)
    for k in "abc":
        c[k] = k.encode()
    c.set_ttl("b", 10)
    c.set_ttl("c", None)
    c["a"]  # order: b, c, a
    data = c.snapshot()
    assert isinstance(data, bytes) and len(data) > 0
    r = FaaSCacheDict.restore(data)
    assert r.items() == [("b", b"b"), ("c", b"c"), ("a", b"a")]
    assert r.default_ttl == 100 and r.max_size_bytes == 65536 and r.max_items == 10
    assert r.get_ttl("c") is None and 9.9 <= r.get_ttl("b") <= 10
    advance(11)  # absolute expiry times: b expires at its original wall-clock time
    assert r.keys() == ["c", "a"]
    advance(100)
    later = FaaSCacheDict.restore(data)  # entries already expired are dropped
    assert later.keys() == ["c"]


def test_restore_corrupt():
    e = raises(CorruptSnapshot, FaaSCacheDict.restore, b"not a snapshot")
    assert isinstance(e, ValueError)
    data = FaaSCacheDict().snapshot()
    raises(CorruptSnapshot, FaaSCacheDict.restore, data[:-1] if len(data) > 1 else b"")


def test_restore_with_hook():
    hook = Hook()
    c = abc(on_delete_callable=hook)  # its snapshot carries a removal log, so hooks keep working
    r = FaaSCacheDict.restore(c.snapshot(), on_delete_callable=hook)
    del r["a"]
    assert hook.calls == [("a", b"a")]


# --- codecs, stats, close ------------------------------------------------------------------------

def test_codecs():
    hook = Hook()
    c = FaaSCacheDict(codec=JSON, on_delete_callable=hook)
    c["user"] = {"name": "Ada", "n": [1, 2]}
    assert c["user"] == {"name": "Ada", "n": [1, 2]}
    assert c.setdefault("d", None) is None and c.get("d", 5) is None
    assert c.items()[0] == ("user", {"name": "Ada", "n": [1, 2]})
    del c["user"]
    assert hook.calls == [("user", {"name": "Ada", "n": [1, 2]})]
    s = FaaSCacheDict(codec=UTF8)
    s["k"] = "héllo"
    assert s["k"] == "héllo" and s.values() == ["héllo"]
    assert FaaSCacheDict.restore(s.snapshot(), codec=UTF8)["k"] == "héllo"


def test_stats():
    c = abc()
    c.get("a")
    c.get("zz")
    c["a"] = b"again"
    s = c.stats()
    assert (s.hits, s.misses, s.inserts, s.updates) == (1, 1, 3, 1), s


def test_close():
    c = abc()
    c.close()
    raises(ValueError, len, c)
    c.close()  # twice is harmless


def test_open_by_name_returns_the_same_cache():
    a = FaaSCacheDict.open("py-users", max_size_bytes="1M", codec=UTF8)
    a["k"] = "v"
    a.close()  # the handle, not the cache
    b = FaaSCacheDict.open("py-users", max_size_bytes="1M", max_items=1, codec=UTF8)
    assert b["k"] == "v"
    b["k2"] = "w"
    assert len(b) == 1  # the later open's item limit applies
    assert "py-users" in FaaSCacheDict.names()


def test_open_keeps_the_first_policy_and_rejects_bad_names():
    a = FaaSCacheDict.open("py-s3", policy="s3-fifo", default_ttl=5)
    b = FaaSCacheDict.open("py-s3")
    assert b.default_ttl is None and a.default_ttl is None
    for bad in ["", "a\x00b", "tab\t", "\x85", "x" * 256]:
        raises(ValueError, FaaSCacheDict.open, bad)
    raises(ValueError, FaaSCacheDict.open, "ok", policy="fifo")
    raises(TypeError, FaaSCacheDict.open, 42)
