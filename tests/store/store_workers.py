"""Code run in child processes (multiprocessing spawn) by the store tests."""

from __future__ import annotations

import asyncio
import json
import os
import random
import traceback
from pathlib import Path
from typing import Any

import store_import  # noqa: F401  (makes maskgate.store importable in the child)
from maskgate.store import EmbeddedStore, MappingStore, RedisStore, StoreKey


def make_store(spec: dict[str, Any]) -> MappingStore:
    key = StoreKey(spec["secret"])
    if spec["name"] == "embedded":
        return EmbeddedStore(Path(spec["path"]), key, ttl_seconds=3600)
    return RedisStore.from_url(spec["url"], key, ttl_seconds=3600, prefix=spec["prefix"])


def hammer(
    spec: dict[str, Any], namespace: str, items: list[tuple[str, str]], seed: int, barrier: Any, out: Any
) -> None:
    """Create the same originals as the sibling processes, in a different order and batching."""

    async def run() -> dict[str, tuple[str, int]]:
        store = make_store(spec)
        rng = random.Random(seed)
        mine = list(items)
        rng.shuffle(mine)
        got: dict[str, tuple[str, int]] = {}
        try:
            barrier.wait(timeout=60)
            i = 0
            while i < len(mine):
                size = rng.randint(1, 25)
                batch = mine[i : i + size]
                i += size
                # Several tasks at once inside each process as well.
                halves = [batch[: len(batch) // 2], batch[len(batch) // 2 :]]
                results = await asyncio.gather(*(store.get_or_create(namespace, h) for h in halves))
                for h, res in zip(halves, results, strict=True):
                    for (_, original), ref in zip(h, res, strict=True):
                        got[original] = ref
        finally:
            await store.aclose()
        return got

    try:
        out.put(("ok", asyncio.run(run())))
    except BaseException as exc:  # report instead of hanging the parent
        out.put(("error", "".join(traceback.format_exception(exc))))


def write_forever(spec: dict[str, Any], namespace: str, log_path: str) -> None:
    """Create batches of new mappings forever, appending each *committed* batch to log_path.

    The parent kills this process with SIGKILL at a random moment.
    """

    async def run() -> None:
        store = make_store(spec)
        fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        batch_no = 0
        while True:
            items = [("ec2", f"i-{batch_no:08x}{j:09x}") for j in range(20)]
            refs = await store.get_or_create(namespace, items)
            line = json.dumps([[o, k, n] for (_, o), (k, n) in zip(items, refs, strict=True)]) + "\n"
            os.write(fd, line.encode())
            batch_no += 1

    asyncio.run(run())


def load_key_hash(path: str) -> bytes:
    """Used by the key-file race test: every worker returns a hash made with the key it loaded."""
    return StoreKey.load_or_create(path).index_hash("ns", "probe")
