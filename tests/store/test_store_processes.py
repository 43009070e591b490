"""Cross-process guarantees: several OS processes creating the same originals at once, and kill -9."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import signal
import sqlite3
import time
from typing import Any

import pytest
import store_workers
from conftest import Backend
from maskgate.store import EmbeddedStore, StoreKey

pytestmark = pytest.mark.anyio

PROCESSES = 3


def _run_hammer(backend: Backend, namespace: str, items: list[tuple[str, str]]) -> list[dict[str, Any]]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    out = ctx.Queue()
    procs = [
        ctx.Process(target=store_workers.hammer, args=(backend.spec(), namespace, items, seed, barrier, out))
        for seed in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    try:
        results = [out.get(timeout=120) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
                p.join()
        out.close()
        out.join_thread()
    errors = [r[1] for r in results if r[0] != "ok"]
    assert not errors, "\n".join(errors)
    return [r[1] for r in results]


async def test_processes_agree_on_new_originals(backend: Backend) -> None:
    """3 processes x 2 tasks create the same 300 new originals in different orders and batch sizes.

    For the embedded store the database file does not exist yet: the processes also race to create it.
    """
    ns = backend.ns()
    items = [("ec2", f"i-{i:017x}") for i in range(150)]
    items += [("vpc", f"vpc-{i:017x}") for i in range(100)]
    items += [("account", f"{i:012d}") for i in range(50)]
    results = _run_hammer(backend, ns, items)

    assert all(r == results[0] for r in results), "processes saw different assignments"
    got = results[0]
    assert len(got) == len(items)
    refs = [tuple(v) for v in got.values()]
    assert len(set(refs)) == len(refs), "an n was given to two originals"
    for kind, count in (("ec2", 150), ("vpc", 100), ("account", 50)):
        assert sorted(n for k, n in refs if k == kind) == list(range(1, count + 1))
    # And the store agrees with what the processes were told.
    store = backend.make()
    originals = await store.lookup(ns, [(k, n) for k, n in refs])
    assert originals == list(got.keys())


def test_embedded_survives_kill_9_mid_write(tmp_path: Any) -> None:
    """SIGKILL a writer at random moments; every mapping it reported as committed is still there."""
    secret = StoreKey.new_secret()
    db = tmp_path / "m.db"
    spec = {"name": "embedded", "path": str(db), "url": None, "prefix": "", "secret": secret}
    ctx = multiprocessing.get_context("spawn")
    log = tmp_path / "committed.jsonl"
    ns = "kill9"
    for round_no in range(3):
        start = log.stat().st_size if log.exists() else 0
        proc = ctx.Process(target=store_workers.write_forever, args=(spec, ns, str(log)))
        proc.start()
        deadline = time.monotonic() + 60
        # Wait until it has committed a few more batches, then kill it without warning.
        while (log.stat().st_size if log.exists() else 0) < start + 20_000 * (round_no + 1):
            assert proc.is_alive() and time.monotonic() < deadline
            time.sleep(0.01)
        assert proc.pid is not None
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()
        assert proc.exitcode == -signal.SIGKILL

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)

    committed: dict[str, tuple[str, int]] = {}
    for line in log.read_text().splitlines():
        if line.endswith("]"):  # a torn last line is fine: that batch was not confirmed
            for original, kind, n in json.loads(line):
                committed[original] = (kind, n)
    assert len(committed) > 100

    async def check() -> None:
        store = EmbeddedStore(db, StoreKey(secret))
        try:
            originals = list(committed)
            refs = await store.get_or_create(ns, [("ec2", o) for o in originals])
            assert refs == [committed[o] for o in originals]
            assert await store.lookup(ns, refs) == originals
            fresh = await store.get_or_create(ns, [("ec2", "i-brand-new")])
            assert fresh[0][1] > max(n for _, n in refs)
        finally:
            await store.aclose()

    asyncio.run(check())
