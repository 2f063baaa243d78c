"""Spin HTTP app (spin-sdk 5, WASIp3 `wasi:http/handler@0.3.0`) caching a slow lookup in the
faas:cache component through faas_cache_dict.

  GET /item/<id>   the item: computed by a slow backend (20 ms) and cached for 60 s under a
                   256 KiB budget (x-cache: miss), then served from the cache (x-cache: hit)
  GET /big/<kib>   a <kib> KiB item: anything past the budget raises DataTooLarge, so it is
                   served uncached (x-cache: too-large, with the sizes in headers)
  GET /stats       the cache's counters and repr, as JSON

Invariants: one cache per instance, created on first use (not at import: componentize-py runs the
module top level at build time, when the cache import cannot be called). With WASIp3 instance
reuse, requests interleave at `await` points: every cache call is synchronous and no cache
state is held across an `await`.
"""

import json

from spin_sdk import http
from spin_sdk.http import Request, Response
from spin_sdk.wit.imports import wasi_clocks_monotonic_clock_0_3_0 as monotonic

from faas_cache_dict import DataTooLarge, FaaSCacheDict

_cache = None
_served = 0


def cache():
    global _cache
    if _cache is None:
        _cache = FaaSCacheDict(default_ttl=60, max_size_bytes="256K")
    return _cache


async def slow_lookup(item_id):
    """The slow backend: 20 ms of (simulated) network, then the item."""
    await monotonic.wait_for(20_000_000)
    return json.dumps({"id": item_id, "computed": True}).encode()


def reply(status, body, content_type="application/json", **headers):
    head = {"content-type": content_type, "x-instance-requests": str(_served)}
    head.update({k.replace("_", "-"): str(v) for k, v in headers.items()})
    return Response(status, head, body)


class HttpHandler(http.Handler):
    async def handle_request(self, request: Request) -> Response:
        global _served
        _served += 1
        path = request.uri.split("?", 1)[0]
        if path.startswith("/item/") and len(path) > len("/item/"):
            key = "item:" + path[len("/item/"):]
            value = cache().get(key)
            if value is not None:
                return reply(200, value, x_cache="hit", x_cache_entries=len(cache()))
            value = await slow_lookup(path[len("/item/"):])
            cache()[key] = value
            return reply(200, value, x_cache="miss", x_cache_entries=len(cache()))
        if path.startswith("/big/") and path[len("/big/"):].isdigit():
            kib = int(path[len("/big/"):])
            key = f"big:{kib}"
            value = cache().get(key)
            if value is not None:
                return reply(200, value, "application/octet-stream", x_cache="hit")
            value = bytes(kib * 1024)
            try:
                cache()[key] = value
            except DataTooLarge as e:
                return reply(200, value, "application/octet-stream", x_cache="too-large",
                             x_cache_entry_bytes=e.entry_bytes,
                             x_cache_available_bytes=e.available_bytes)
            return reply(200, value, "application/octet-stream", x_cache="miss")
        if path == "/stats":
            s = cache().stats()
            body = {"hits": s.hits, "misses": s.misses, "inserts": s.inserts,
                    "evicted_size": s.evicted_size, "entries": len(cache()),
                    "bytes": cache().get_byte_size(), "repr": repr(cache())}
            return reply(200, json.dumps(body).encode())
        return reply(404, b"GET /item/<id> | /big/<kib> | /stats\n", "text/plain")
