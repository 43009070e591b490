"""Backend-specific promises: open_store, SQLite settings and file modes, Redis round trips."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from conftest import RUN_PREFIX, Backend, fresh_prefix
from maskgate.store import EmbeddedStore, RedisStore, StoreError, StoreKey, open_store

pytestmark = pytest.mark.anyio


async def test_open_store_embedded_creates_key_beside_db(tmp_path: Path) -> None:
    db = tmp_path / "state" / "maskgate.db"
    store = open_store(None, db, None, ttl_seconds=60)
    try:
        assert isinstance(store, EmbeddedStore)
        refs = await store.get_or_create("ns", [("ec2", "i-1")])
    finally:
        await store.aclose()
    key_file = db.with_name("maskgate.db.key")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    reopened = open_store(None, db, None, ttl_seconds=60)
    try:
        assert await reopened.lookup("ns", refs) == ["i-1"]
    finally:
        await reopened.aclose()


async def test_open_store_redis(shared_redis: str) -> None:
    with pytest.raises(StoreError):
        open_store(shared_redis, Path("unused.db"), None, ttl_seconds=60)
    store = open_store(shared_redis, Path("unused.db"), StoreKey(StoreKey.new_secret()), ttl_seconds=60)
    try:
        assert isinstance(store, RedisStore)
        assert await store.ping()
    finally:
        await store.aclose()


async def test_embedded_sqlite_settings(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "m.db", StoreKey(StoreKey.new_secret()))
    try:
        await store.get_or_create("ns", [("ec2", "i-1")])
    finally:
        await store.aclose()
    with sqlite3.connect(tmp_path / "m.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"mappings", "counters", "namespaces"} <= tables
        with pytest.raises(sqlite3.IntegrityError):  # (ns, kind, n) is unique
            db.execute("INSERT INTO mappings VALUES ('ns', x'00', 'ec2', 1, x'00')")
        with pytest.raises(sqlite3.IntegrityError):  # (ns, idx) is unique
            idx = db.execute("SELECT idx FROM mappings").fetchone()[0]
            db.execute("INSERT INTO mappings VALUES ('ns', ?, 'ec2', 2, x'00')", (idx,))


async def test_embedded_rejects_bad_synchronous(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        EmbeddedStore(tmp_path / "m.db", StoreKey(StoreKey.new_secret()), synchronous="OFF")


async def test_embedded_purge_expired(tmp_path: Path) -> None:
    import asyncio

    store = EmbeddedStore(tmp_path / "m.db", StoreKey(StoreKey.new_secret()), ttl_seconds=0.3)
    try:
        await store.get_or_create("a", [("ec2", "i-1"), ("ec2", "i-2")])
        await asyncio.sleep(0.5)
        assert await store.purge_expired() == 2
        assert await store.get_or_create("a", [("ec2", "i-2")]) == [("ec2", 3)]
    finally:
        await store.aclose()


async def test_redis_one_round_trip_per_call(shared_redis: str) -> None:
    """A batch of new items is one script call; a stale counter guess costs exactly one more."""
    key, prefix = StoreKey(StoreKey.new_secret()), fresh_prefix()
    a = RedisStore.from_url(shared_redis, key, ttl_seconds=60, prefix=prefix)
    b = RedisStore.from_url(shared_redis, key, ttl_seconds=60, prefix=prefix)
    ns = "rt-" + RUN_PREFIX.strip(":")
    try:
        items = [("ec2", f"i-{i:017x}") for i in range(100)]
        await a.get_or_create(ns, items[:50])
        assert a.round_trips == 1
        await a.get_or_create(ns, items)  # 50 existing + 50 new, counters known
        assert a.round_trips == 2
        await a.get_or_create(ns, items)  # all existing
        assert a.round_trips == 3
        # b has never seen this namespace: its guess (counter 0) is wrong, one retry fixes it.
        assert await b.get_or_create(ns, [("ec2", "i-new")]) == [("ec2", 101)]
        assert b.round_trips == 2
        assert await b.get_or_create(ns, [("ec2", "i-new2")]) == [("ec2", 102)]
        assert b.round_trips == 3
    finally:
        await a.aclose()
        await b.aclose()
        cleanup = RedisStore.from_url(shared_redis, key, prefix=prefix)
        await cleanup._client.delete(
            prefix + "keycheck", *(f"{prefix}{{{ns}}}:{s}" for s in ("o2p", "p2o", "ctr", "log", "head"))
        )
        await cleanup.aclose()


@pytest.mark.parametrize("backend", ["redis-cluster"], indirect=True)
async def test_redis_cluster_keys_share_a_slot(backend: Backend) -> None:
    store, ns = backend.make(), backend.ns()
    await store.get_or_create(ns, [("ec2", "i-1")])
    client = backend.sync_client()
    try:
        keys = backend.redis_keys(client)
        assert len(keys) == 5  # o2p, p2o, ctr, log, head
        assert len({client.keyslot(k) for k in keys}) == 1
    finally:
        client.close()


def test_redis_prefix_without_braces() -> None:
    with pytest.raises(StoreError):
        RedisStore.from_url("redis://127.0.0.1:6379", StoreKey(StoreKey.new_secret()), prefix="a{b}:")
    with pytest.raises(StoreError):
        RedisStore.from_url("127.0.0.1:6379", StoreKey(StoreKey.new_secret()))
