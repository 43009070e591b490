"""Ad-hoc cost measurement (not a test): python tests/store/store_bench.py [redis_url]

Prints the median time per call of the main operations for each backend, and of `changes()` when
nothing changed (the sync every masked request starts with) in microseconds.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import store_import  # noqa: F401
from maskgate.store import EmbeddedStore, MappingStore, RedisStore, StoreKey


async def timed(fn: Callable[[int], Awaitable[object]], rounds: int) -> float:
    samples = []
    for i in range(rounds):
        t0 = time.perf_counter()
        await fn(i)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000


async def bench(name: str, store: MappingStore, rounds: int = 40) -> None:
    tag = secrets.token_hex(4)

    def items(i: int, count: int) -> list[tuple[str, str]]:
        return [("ec2", f"i-{tag}{i:04x}{j:07x}") for j in range(count)]

    new100 = await timed(lambda i: store.get_or_create(f"b{tag}-{i}", items(i, 100)), rounds)
    old100 = await timed(lambda i: store.get_or_create(f"b{tag}-{i}", items(i, 100)), rounds)
    one = await timed(lambda i: store.get_or_create(f"b{tag}-{i}", items(10_000 + i, 1)), rounds)
    refs = [("ec2", n) for n in range(1, 101)]
    look = await timed(lambda i: store.lookup(f"b{tag}-{i}", refs), rounds)
    big = f"b{tag}-big"
    for k in range(10):
        await store.get_or_create(big, items(20_000 + k, 100))
    load = await timed(lambda i: store.load(big), 10)
    _, mark = await store.changes(big, 0)
    # What every masked request pays first: bringing a namespace up to date when nothing changed.
    unchanged = await timed(lambda i: store.changes(big, mark), 2000) * 1000
    print(
        f"{name:28s} new100 {new100:6.2f} ms  existing100 {old100:6.2f} ms  new1 {one:5.2f} ms  "
        f"lookup100 {look:5.2f} ms  load1000 {load:6.2f} ms  changes(unchanged) {unchanged:5.0f} us"
    )
    await store.aclose()


async def main() -> None:
    key = StoreKey(StoreKey.new_secret())
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as d:
        for sync in ("FULL", "NORMAL"):
            await bench(f"embedded synchronous={sync}", EmbeddedStore(Path(d) / f"{sync}.db", key, synchronous=sync))
    url = sys.argv[1] if len(sys.argv) > 1 else "redis://127.0.0.1:6379/0"
    prefix = f"mgbench-{secrets.token_hex(4)}:"
    store = RedisStore.from_url(url, key, prefix=prefix)
    try:
        await bench(f"redis {url}", store)
    finally:
        cleanup = RedisStore.from_url(url, key, prefix=prefix)
        keys = [k async for k in cleanup._client.scan_iter(match=f"{prefix}*", count=1000)]
        for k in keys:
            await cleanup._client.delete(k)
        await cleanup.aclose()


if __name__ == "__main__":
    asyncio.run(main())
