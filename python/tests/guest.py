"""The test guest (world faas:cache-py-tests/tests@0.1.0). `run-tests` runs every `test_*`
function of cases.py in definition order and reports one line per test and a closing
"N passed, N failed" line; ok when none failed, err otherwise. `run-bench` times a hit through
the component against a plain dict lookup in the same interpreter."""

import json
import time
import traceback

import wit_world
from componentize_py_types import Err

import cases


class WitWorld(wit_world.WitWorld):
    def run_tests(self) -> str:
        lines, passed, failed = [], 0, 0
        for name, fn in vars(cases).items():
            if not (name.startswith("test_") and callable(fn)):
                continue
            try:
                fn()
                passed += 1
                lines.append(f"ok   {name}")
            except Exception:  # noqa: BLE001 - every failure is reported, none stops the run
                failed += 1
                lines.append(f"FAIL {name}\n{traceback.format_exc()}")
        lines.append(f"{passed} passed, {failed} failed")
        report = "\n".join(lines)
        if failed:
            raise Err(report)
        return report

    def run_bench(self, iterations: int) -> str:
        from faas_cache_dict import FaaSCacheDict

        cache, plain = FaaSCacheDict(), {}
        cache["key"] = plain["key"] = b"v" * 64
        handle = cache._cache

        def per_op(op):
            started = time.perf_counter_ns()
            for _ in range(iterations):
                op()
            return (time.perf_counter_ns() - started) / iterations

        figures = {
            "loop-overhead": per_op(lambda: None),
            "faas-cache-get": per_op(lambda: cache.get("key")),
            "faas-cache-getitem": per_op(lambda: cache["key"]),
            "faas-cache-set": per_op(lambda: cache.__setitem__("key", b"w" * 64)),
            "dict-getitem": per_op(lambda: plain["key"]),
            # The generated binding alone, without the package's wrapper.
            "binding-get": per_op(lambda: handle.get("key")),
            "binding-len": per_op(lambda: handle.len()),
        }
        cache.close()
        return json.dumps(figures)
