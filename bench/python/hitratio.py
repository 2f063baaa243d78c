"""Hit-ratio reference numbers from libCacheSim (the `libcachesim` 0.3.5 Python binding) on a
request trace written by the Rust bench, so that faas-cache's policies can be compared with
libCacheSim's LRU, S3FIFO, Sieve, WTinyLFU and ARC on exactly the same request sequence.

Trace file format: libCacheSim's own "oracleGeneral" binary format, read by libCacheSim's
reader (`TraceType.ORACLE_GENERAL_TRACE`). The file is a plain concatenation of packed
24-byte little-endian records, with no header and no padding:

    offset  size  type  field
         0     4  u32   timestamp          request index (i as u32); see the notes below
         4     8  u64   obj_id             object id
        12     4  u32   obj_size           object size in bytes, must be >= 1
        16     8  i64   next_access_vtime  index of the object's next request, -1 for never

    Python: struct.Struct("<IQIq")      Rust: ts.to_le_bytes(), id.to_le_bytes(), ...

Notes:
- Size-0 records would be silently dropped by libCacheSim's reader, so this script rejects
  them. For item-count rows write every size as 1: the cache size is then a number of objects.
- The timestamp is libCacheSim's `clock_time`; none of the algorithms here look at it and this
  build has no TTL expiry (an object inserted at t=0 still hits at t=4e9), so any value works.
- next_access_vtime is only read by the oracle policies (Belady, BeladySize, the offline
  optimum); libCacheSim's reader turns -1 into "never again".
- The file name must not end in `.zst` (libCacheSim would treat it as zstd-compressed).

Usage:
    python hitratio.py --trace FILE --cache-size N [--cache-size M ...]
                       [--algos LRU,S3FIFO,Sieve,WTinyLFU,ARC,Belady]
    python hitratio.py --self-test                    # record-layout round trip, then exit
    python hitratio.py --write-zipf FILE [--zipf-objects 100000 --zipf-requests 1000000
                       --zipf-alpha 1.0 --seed 42]   # validation trace (object size 1)

Output (stdout, one JSON object):
    {"libcachesim_version": "0.3.5", "trace": ..., "requests": R, "unique_objects": U,
     "results": [{"algo": "LRU", "cache_name": "LRU", "cache_size": N, "requests": R,
                  "misses": M, "miss_ratio": x, "byte_miss_ratio": y, "elapsed_s": t}, ...]}
A run that libCacheSim refuses (it aborts the process, e.g. S3FIFO with a cache of fewer than
10 units, whose small queue would be empty) gives a row with "error" and null figures.

How each row is simulated: a fresh cache (e.g. `libcachesim.S3FIFO(N)`) and a freshly opened
`libcachesim.TraceReader(FILE, TraceType.ORACLE_GENERAL_TRACE)` for every (algo, size), then
`cache.process_trace(reader)`, libCacheSim's C loop (`c_process_trace`: resets the reader,
then `cache->get(req)` per request). It returns the object and byte miss ratios; misses is
round(miss_ratio * requests), exact since the ratio is 1 - n_hit / n_req in double precision.
Each run is done in a forked child so that a libCacheSim abort cannot take down the others.
elapsed_s is the wall time of process_trace alone (cache creation excluded).
"""

import argparse
import json
import os
import struct
import sys
import tempfile
import time

import numpy as np

import libcachesim as lcs

RECORD = struct.Struct("<IQIq")
RECORD_DTYPE = np.dtype([("ts", "<u4"), ("obj_id", "<u8"), ("obj_size", "<u4"), ("next", "<i8")])
assert RECORD.size == 24 and RECORD_DTYPE.itemsize == 24

ALGOS = {
    "LRU": lcs.LRU,
    "FIFO": lcs.FIFO,
    "S3FIFO": lcs.S3FIFO,
    "Sieve": lcs.Sieve,
    "WTinyLFU": lcs.WTinyLFU,
    "ARC": lcs.ARC,
    "Belady": lcs.Belady,
    "BeladySize": lcs.BeladySize,
}
DEFAULT_ALGOS = "LRU,S3FIFO,Sieve,WTinyLFU,ARC"


def open_reader(path):
    return lcs.TraceReader(path, lcs.TraceType.ORACLE_GENERAL_TRACE)


def write_trace(path, ids, sizes):
    """Writes the records with numpy (the same bytes as RECORD.pack per request)."""
    recs = np.empty(len(ids), dtype=RECORD_DTYPE)
    recs["ts"] = np.arange(len(ids), dtype=np.uint64).astype(np.uint32)
    recs["obj_id"] = ids
    recs["obj_size"] = sizes
    recs["next"] = -1
    recs.tofile(path)


def load_trace(path):
    """Reads and checks the trace; returns (requests, unique objects)."""
    n_bytes = os.path.getsize(path)
    if n_bytes == 0 or n_bytes % RECORD.size != 0:
        sys.exit(f"{path}: {n_bytes} bytes, not a non-empty multiple of {RECORD.size}-byte records")
    if path.endswith(".zst"):
        sys.exit(f"{path}: a .zst name makes libCacheSim read it as zstd; rename it")
    recs = np.fromfile(path, dtype=RECORD_DTYPE)
    if (recs["obj_size"] == 0).any():
        first = int(np.argmax(recs["obj_size"] == 0))
        sys.exit(f"{path}: record {first} has obj_size 0 (libCacheSim's reader would drop it)")
    n_req = len(recs)
    seen = open_reader(path).get_num_of_req()
    if seen != n_req:
        sys.exit(f"{path}: libCacheSim counts {seen} requests, the file holds {n_req}")
    return n_req, int(len(np.unique(recs["obj_id"])))


def hashpower_for(n_unique):
    # libCacheSim's default (24) callocs 2^24 buckets per hash table, and S3FIFO has four of
    # them; the tables grow on their own, so size them for the trace instead. It does not
    # change any result (checked: identical miss ratios with 24).
    return max(12, min(24, int(n_unique).bit_length() + 1))


def make_cache(algo, size, hashpower, args):
    cls = ALGOS[algo]
    kw = {"hashpower": hashpower}
    if algo == "S3FIFO":
        kw.update(
            small_size_ratio=args.s3fifo_small_size_ratio,
            ghost_size_ratio=args.s3fifo_ghost_size_ratio,
            move_to_main_threshold=args.s3fifo_move_to_main_threshold,
        )
    return cls(size, **kw)


def simulate(path, algo, size, n_req, hashpower, args):
    cache = make_cache(algo, size, hashpower, args)
    reader = open_reader(path)  # a fresh reader per run; process_trace also resets it
    t0 = time.perf_counter()
    miss_ratio, byte_miss_ratio = cache.process_trace(reader)
    elapsed = time.perf_counter() - t0
    misses = round(miss_ratio * n_req)
    assert abs(miss_ratio * n_req - misses) < 1e-3, (miss_ratio, n_req)
    return {
        "algo": algo,
        "cache_name": cache.cache_name,
        "cache_size": size,
        "requests": n_req,
        "misses": misses,
        "miss_ratio": miss_ratio,
        "byte_miss_ratio": byte_miss_ratio,
        "elapsed_s": round(elapsed, 4),
    }


def simulate_isolated(path, algo, size, n_req, hashpower, args):
    """Runs simulate() in a forked child: libCacheSim abort()s on configurations it refuses."""
    r, w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        code = 0
        try:
            out = json.dumps(simulate(path, algo, size, n_req, hashpower, args)).encode()
        except BaseException as e:  # noqa: BLE001 - reported to the parent
            out = json.dumps({"error": f"{type(e).__name__}: {e}"}).encode()
            code = 1
        with os.fdopen(w, "wb") as f:
            f.write(out)
        os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    row = json.loads(data) if data else {}
    if "error" in row or not data:
        err = row.get("error") or (
            f"libCacheSim ended the run (signal {os.WTERMSIG(status)}); see stderr"
            if os.WIFSIGNALED(status)
            else f"run exited with status {os.WEXITSTATUS(status)}"
        )
        row = {"algo": algo, "cache_name": None, "cache_size": size, "requests": n_req,
               "misses": None, "miss_ratio": None, "byte_miss_ratio": None,
               "elapsed_s": None, "error": err}
    return row


def self_test():
    """Round trip: records written with struct, read back through libCacheSim's reader."""
    recs = [
        (0, 1, 1, -1),
        (1, 2**64 - 1, 4096, -1),
        (2, 2**63 + 5, 2**32 - 1, -1),
        (3, 1, 1, -1),
        (4, 0, 7, 123),
        (2**32 - 1, 42, 100, -1),
    ]
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "roundtrip.oracleGeneral.bin")
        with open(path, "wb") as f:
            for rec in recs:
                f.write(RECORD.pack(*rec))
        assert os.path.getsize(path) == 24 * len(recs)
        reader = open_reader(path)
        assert reader.get_num_of_req() == len(recs), reader.get_num_of_req()
        got = [(q.clock_time, q.obj_id, q.obj_size) for q in reader]
        want = [(t, i, s) for (t, i, s, _) in recs]
        assert got == want, (got, want)
        # numpy writer == struct writer
        path2 = os.path.join(d, "np.bin")
        write_trace(path2, [1, 2, 3], [1, 1, 5])
        with open(path2, "rb") as f:
            assert f.read() == b"".join(RECORD.pack(i, o, s, -1) for i, o, s in
                                        [(0, 1, 1), (1, 2, 1), (2, 3, 5)])
        # process_trace re-reads from the start: one hit of 6 on the first pass (id 1
        # again), then 6 of 6 on a second pass over the same, now warm, cache
        cache = lcs.LRU(2**40, hashpower=12)
        reader = open_reader(path)
        first = cache.process_trace(reader)[0]
        second = cache.process_trace(reader)[0]
        assert abs(first - 5 / 6) < 1e-12 and second == 0.0, (first, second)
    print(json.dumps({"self_test": "ok", "records": len(recs),
                      "libcachesim_version": lcs.__version__}))


def write_zipf(path, n_obj, n_req, alpha, seed):
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, n_obj + 1, dtype=np.float64) ** alpha
    p /= p.sum()
    ids = rng.choice(n_obj, size=n_req, p=p).astype(np.uint64)
    write_trace(path, ids, np.ones(n_req, dtype=np.uint32))
    print(json.dumps({"written": path, "requests": n_req, "objects": n_obj,
                      "alpha": alpha, "seed": seed}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trace")
    ap.add_argument("--cache-size", type=int, action="append", default=[],
                    help="in the unit of the object sizes; repeat for several sizes")
    ap.add_argument("--algos", default=DEFAULT_ALGOS,
                    help=f"comma-separated, from {','.join(ALGOS)} (default {DEFAULT_ALGOS})")
    ap.add_argument("--s3fifo-small-size-ratio", type=float, default=0.1)
    ap.add_argument("--s3fifo-ghost-size-ratio", type=float, default=0.9)
    ap.add_argument("--s3fifo-move-to-main-threshold", type=int, default=2)
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("--write-zipf", metavar="FILE")
    ap.add_argument("--zipf-objects", type=int, default=100_000)
    ap.add_argument("--zipf-requests", type=int, default=1_000_000)
    ap.add_argument("--zipf-alpha", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()

    if args.self_test:
        self_test()
        return
    if args.write_zipf:
        write_zipf(args.write_zipf, args.zipf_objects, args.zipf_requests, args.zipf_alpha,
                   args.seed)
        return
    if not args.trace or not args.cache_size:
        ap.error("--trace and at least one --cache-size are required")
    by_lower = {a.lower(): a for a in ALGOS}
    algos = []
    for name in args.algos.split(","):
        name = name.strip()
        if name.lower() not in by_lower:
            ap.error(f"unknown algorithm {name!r}; known: {','.join(ALGOS)}")
        algos.append(by_lower[name.lower()])
    if any(s <= 0 for s in args.cache_size):
        ap.error("cache sizes must be positive")

    n_req, n_unique = load_trace(args.trace)
    hashpower = hashpower_for(n_unique)
    results = [simulate_isolated(args.trace, algo, size, n_req, hashpower, args)
               for size in args.cache_size for algo in algos]
    json.dump({
        "libcachesim_version": lcs.__version__,
        "trace": args.trace,
        "requests": n_req,
        "unique_objects": n_unique,
        "s3fifo_params": {
            "small_size_ratio": args.s3fifo_small_size_ratio,
            "ghost_size_ratio": args.s3fifo_ghost_size_ratio,
            "move_to_main_threshold": args.s3fifo_move_to_main_threshold,
        },
        "results": results,
    }, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
