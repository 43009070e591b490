"""The change log (`changes(namespace, since)`): order, marks, epochs, and nothing in clear."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
from pathlib import Path

import pytest
from conftest import Backend, forms
from maskgate.store import EmbeddedStore, StoreError
from maskgate.store.base import mark_epoch, mark_seq

pytestmark = pytest.mark.anyio


def secret() -> str:
    return secrets.token_urlsafe(30)


async def test_empty_namespace(backend: Backend) -> None:
    store = backend.make()
    assert await store.changes(backend.ns(), 0) == ([], 0)


async def test_order_and_since(backend: Backend) -> None:
    store, ns = backend.make(), backend.ns()
    first = [("secret", secret()) for _ in range(3)]
    refs = await store.get_or_create(ns, first)
    entries, mark = await store.changes(ns, 0)
    assert entries == [(k, n, o) for (k, n), (_, o) in zip(refs, first, strict=True)]
    assert mark_seq(mark) == 3 and mark_epoch(mark) != 0
    assert await store.changes(ns, mark) == ([], mark), "nothing changed: nothing sent, same mark"

    # Existing originals are not logged again; new ones follow in creation order, across kinds.
    second = [("account", f"{secrets.randbelow(10**12):012d}"), ("secret", secret())]
    refs2 = await store.get_or_create(ns, [*first, *second])
    entries, mark2 = await store.changes(ns, mark)
    assert entries == [(k, n, o) for (k, n), (_, o) in zip(refs2[3:], second, strict=True)]
    assert mark_epoch(mark2) == mark_epoch(mark) and mark_seq(mark2) == 5
    everything, _ = await store.changes(ns, 0)
    assert [o for _, _, o in everything] == [o for _, o in first + second]


async def test_another_store_object_sees_the_changes(backend: Backend) -> None:
    """Two store objects stand for two processes (real processes: tests/leaks/test_processes.py)."""
    a, b, ns = backend.make(), backend.make(), backend.ns()
    _, mark = await b.changes(ns, 0)
    value = secret()
    [(kind, n)] = await a.get_or_create(ns, [("secret", value)])
    entries, mark = await b.changes(ns, mark)
    assert entries == [(kind, n, value)]
    assert await b.changes(ns, mark) == ([], mark)


async def test_expiry_starts_a_new_epoch(backend: Backend) -> None:
    store, ns = backend.make(ttl_seconds=0.5), backend.ns()
    old, new = secret(), secret()
    await store.get_or_create(ns, [("secret", old)])
    _, mark = await store.changes(ns, 0)
    await asyncio.sleep(1.0)
    assert await store.changes(ns, mark) == ([], 0), "an expired namespace is empty"
    [(kind, n)] = await store.get_or_create(ns, [("secret", new)])
    assert n == 2, "counters outlive the namespace"
    entries, mark2 = await store.changes(ns, mark)
    assert entries == [(kind, n, new)]
    assert mark_epoch(mark2) != mark_epoch(mark), "the caller must see that it has to start over"


async def test_flushed_store_starts_a_new_epoch(backend: Backend) -> None:
    store, ns = backend.make(), backend.ns()
    await store.get_or_create(ns, [("secret", secret()), ("secret", secret())])
    _, mark = await store.changes(ns, 0)
    await store.aclose()
    if backend.name == "embedded":
        for suffix in ("", "-wal", "-shm"):
            Path(str(backend.db_path) + suffix).unlink(missing_ok=True)
    else:
        backend.cleanup()  # every key of the namespace, counters too: as FLUSHALL would
    store = backend.make()
    value = secret()
    assert await store.get_or_create(ns, [("secret", value)]) == [("secret", 1)]
    entries, mark2 = await store.changes(ns, mark)
    assert entries == [("secret", 1, value)], "a full reload, though `since` was past 1"
    assert mark_epoch(mark2) != mark_epoch(mark)


async def test_a_mark_from_the_future_reloads(backend: Backend) -> None:
    """A store that lost its latest writes (an older file, a Redis without persistence) keeps its
    epoch but is behind the caller: the caller gets everything rather than nothing."""
    store, ns = backend.make(), backend.ns()
    value = secret()
    await store.get_or_create(ns, [("secret", value)])
    _, mark = await store.changes(ns, 0)
    entries, mark2 = await store.changes(ns, mark + 5)
    assert entries == [("secret", 1, value)] and mark2 == mark


async def test_bad_marks_are_refused(backend: Backend) -> None:
    store = backend.make()
    for bad in (-1, "3", 1.5):
        with pytest.raises(StoreError):
            await store.changes(backend.ns(), bad)  # type: ignore[arg-type]


async def test_the_log_is_sealed(backend: Backend) -> None:
    """No original, in any common encoding, in the SQLite files or in any Redis key after the log is
    written and read."""
    store = backend.make()
    originals = []
    for _ in range(3):
        ns = backend.ns()
        items = [("secret", secret()) for _ in range(40)] + [
            ("account", f"{secrets.randbelow(10**12):012d}") for _ in range(20)
        ]
        originals += [o for _, o in items]
        await store.get_or_create(ns, items)
        entries, _ = await store.changes(ns, 0)
        assert len(entries) == len(items)
    if backend.name != "embedded":
        client = backend.sync_client()
        try:
            kinds = {k.rsplit(b":", 1)[1] for k in backend.redis_keys(client)}
        finally:
            client.close()
        assert kinds == {b"o2p", b"p2o", b"ctr", b"log", b"head"}
    dump = backend.dump()
    assert [o for o in originals if any(f in dump for f in forms(o))] == []
    if backend.name == "embedded":
        await store.aclose()  # checkpointed into the main file
        dump = backend.dump()
        assert [o for o in originals if any(f in dump for f in forms(o))] == []


async def test_embedded_file_from_before_the_log(tmp_path: Path, backend: Backend) -> None:
    """A schema-1 file (mappings, no journal) gets its mappings as the first entries of the log."""
    if backend.name != "embedded":
        pytest.skip("SQLite only")
    store, ns = backend.make(), backend.ns()
    values = [secret(), secret()]
    refs = await store.get_or_create(ns, [("secret", v) for v in values])
    await store.aclose()
    with sqlite3.connect(backend.db_path) as conn:
        conn.execute("DROP TABLE journal")
        conn.execute("DROP TABLE journals")
        conn.execute("UPDATE meta SET v = '1' WHERE k = 'schema'")
    store = EmbeddedStore(backend.db_path, backend.key())
    backend.stores.append(store)
    entries, mark = await store.changes(ns, 0)
    assert entries == [(k, n, v) for (k, n), v in zip(refs, values, strict=True)]
    assert mark_seq(mark) == 2
    with sqlite3.connect(backend.db_path) as conn:
        assert conn.execute("SELECT v FROM meta WHERE k = 'schema'").fetchone() == ("2",)


async def test_reserved_numbers_are_never_issued(backend: Backend) -> None:
    """get_or_create(reserve=...) starts a kind's new numbers above the reserved ones (a host
    literally named ec2-002 in the request must not become somebody's pseudonym), bounded."""
    store, ns = backend.make(), backend.ns()
    got = await store.get_or_create(ns, [("ec2", "i-0aaaaaaaaaaaaaaa1")], reserve=[("ec2", 2), ("vpc", 9)])
    assert got == [("ec2", 3)]
    got = await store.get_or_create(ns, [("vpc", "vpc-0bbbbbbb")], reserve=[("vpc", 9)])
    assert got == [("vpc", 10)]
    got = await store.get_or_create(ns, [("sg", "sg-0ccccccc")], reserve=[("sg", 10**12)])
    assert got == [("sg", 1)], "an absurd reservation is ignored, not a counter jump"


async def test_embedded_nothing_new_still_refreshes_the_expiry(backend: Backend) -> None:
    """`changes` answers "nothing new" without the store's threads only while the namespace's
    expiry is fresh: past the slack the full round trip runs and pushes the expiry, as before."""
    if backend.name != "embedded":
        pytest.skip("SQLite only")
    store, ns = backend.make(ttl_seconds=3.0), backend.ns()  # slack: 0.3 s
    await store.get_or_create(ns, [("secret", secret())])
    _, mark = await store.changes(ns, 0)

    def expires_at() -> float:
        with sqlite3.connect(backend.db_path) as conn:
            return float(conn.execute("SELECT expires_at FROM namespaces WHERE ns = ?", (ns,)).fetchone()[0])

    before = expires_at()
    assert await store.changes(ns, mark) == ([], mark)
    await asyncio.sleep(0.5)
    assert await store.changes(ns, mark) == ([], mark)
    assert expires_at() > before, "a stale expiry was not refreshed"


async def test_embedded_a_change_is_seen_at_once_by_a_reader_with_nothing_new(backend: Backend) -> None:
    """The quick "nothing new" answer reads the file's head every time: a value another store
    object (another process) adds between two asks is in the second answer."""
    if backend.name != "embedded":
        pytest.skip("SQLite only")
    a, b, ns = backend.make(), backend.make(), backend.ns()
    await a.get_or_create(ns, [("secret", secret())])
    _, mark = await b.changes(ns, 0)
    for _ in range(3):
        assert await b.changes(ns, mark) == ([], mark)
        value = secret()
        [(kind, n)] = await a.get_or_create(ns, [("secret", value)])
        entries, mark = await b.changes(ns, mark)
        assert entries == [(kind, n, value)]
