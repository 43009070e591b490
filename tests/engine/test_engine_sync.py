"""The known set belongs to the store: engines on one store mask what any of them learned.

Two engines with their own store objects stand for two processes here; real gateway processes
are in tests/leaks/test_processes.py.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest
from maskgate import Engine
from maskgate.store import EmbeddedStore, MappingStore, StoreError, StoreKey, StoreUnavailable

from tests.corpus.gen.values import Values

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def new_secret() -> str:
    """A secret access key as they look (the catalogue leaves 40 letters alone: a look-alike)."""
    return Values(secrets.token_hex(8)).secret_key()


def in_context(value: str) -> str:
    return f"[default]\naws_secret_access_key = {value}\n"


class Pair:
    """Two engines, each with its own store object on one SQLite file."""

    def __init__(self, path: Path, ttl: float = 3600.0) -> None:
        key = StoreKey(StoreKey.new_secret())
        self.stores = [EmbeddedStore(path, key, ttl_seconds=ttl) for _ in range(2)]
        self.a, self.b = (Engine(store=s) for s in self.stores)

    async def close(self) -> None:
        for s in self.stores:
            await s.aclose()


async def test_a_value_learned_by_one_engine_is_masked_by_the_other(tmp_path: Path) -> None:
    pair = Pair(tmp_path / "m.db")
    try:
        await pair.b.amask("hello")  # b has synced once before a learns anything
        value = new_secret()
        assert pair.b.scan(value) == [], "the bare value needs context: otherwise this test proves nothing"
        first = await pair.a.amask(in_context(value))
        [finding] = [f for f in first.findings if f.original == value]
        bare = await pair.b.amask(f"the key was {value}, right?")
        assert value not in bare.text
        assert finding.pseudonym in bare.text
    finally:
        await pair.close()


async def test_a_new_number_after_expiry_replaces_the_old_one(tmp_path: Path) -> None:
    pair = Pair(tmp_path / "m.db", ttl=0.5)
    try:
        value = new_secret()
        old = [f.pseudonym for f in (await pair.a.amask(in_context(value))).findings if f.original == value]
        assert old and old[0] in (await pair.b.amask(value)).text
        await asyncio.sleep(1.0)  # the namespace expires; counters do not
        # A process that never held the value maps it again, under a new number.
        fresh = Engine(store=pair.stores[0])
        await fresh.amask(in_context(new_secret()))
        new = [f.pseudonym for f in (await fresh.amask(in_context(value))).findings if f.original == value]
        assert new and new != old
        bare = await pair.b.amask(value)
        assert value not in bare.text and new[0] in bare.text and old[0] not in bare.text
        assert pair.b.core.original("default", old[0]) is None
    finally:
        await pair.close()


def test_learning_replaces_the_old_number() -> None:
    engine = Engine()
    value = new_secret()
    engine.core.learn("default", [("secret", 1, value)])
    engine.core.learn("default", [("secret", 7, value)])
    assert engine.core.original("default", "secret-001") is None
    assert engine.core.original("default", "secret-007") == value
    assert "secret-007" in engine.mask(value).text


async def test_a_flushed_store_is_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    pair = Pair(path)
    try:
        value = new_secret()
        await pair.a.amask(in_context(value))
        assert value not in (await pair.b.amask(value)).text
        with sqlite3.connect(path) as conn:  # everything gone, counters too, under running processes
            for table in ("namespaces", "counters", "mappings", "journals", "journal"):
                conn.execute(f"DELETE FROM {table}")
        other = new_secret()
        masked = await pair.a.amask(in_context(other))
        [p] = [f.pseudonym for f in masked.findings if f.original == other]
        bare = await pair.b.amask(f"{other} {value}")
        assert other not in bare.text and p in bare.text, "b started over on the new epoch"
        assert pair.b.core.original("default", p) == other
    finally:
        await pair.close()


class Failing:
    """A store whose change log cannot be read (`changes` raises `error`)."""

    def __init__(self, inner: MappingStore, error: StoreError) -> None:
        self.inner, self.error, self.calls = inner, error, 0

    async def changes(self, namespace: str, since: int) -> tuple[list[tuple[str, int, str]], int]:
        self.calls += 1
        raise self.error

    async def verify(self) -> None:
        await self.inner.verify()

    async def get_or_create(
        self, namespace: str, items: Sequence[tuple[str, str]], reserve: Sequence[tuple[str, int]] = ()
    ) -> list[tuple[str, int]]:
        raise AssertionError("nothing may be allocated without a sync")


@pytest.mark.parametrize("error", [StoreUnavailable("down"), StoreError("odd reply")])
async def test_a_failed_sync_fails_closed(tmp_path: Path, error: StoreError) -> None:
    inner = EmbeddedStore(tmp_path / "m.db", StoreKey(StoreKey.new_secret()))
    try:
        failing = Failing(inner, error)
        engine = Engine(store=failing)  # type: ignore[arg-type]
        with pytest.raises(StoreUnavailable):
            await engine.amask(in_context(new_secret()))
        with pytest.raises(StoreUnavailable):
            await engine.amask_request(b'{"messages": [{"role": "user", "content": "hi"}]}')
        assert failing.calls == 2
    finally:
        await inner.aclose()


class Wrapped:
    """A real store behind a wrapper that changes one call (the tests below override `changes`)."""

    def __init__(self, inner: MappingStore) -> None:
        self.inner = inner

    async def changes(self, namespace: str, since: int) -> tuple[list[tuple[str, int, str]], int]:
        return await self.inner.changes(namespace, since)

    async def verify(self) -> None:
        await self.inner.verify()

    async def get_or_create(
        self, namespace: str, items: Sequence[tuple[str, str]], reserve: Sequence[tuple[str, int]] = ()
    ) -> list[tuple[str, int]]:
        return await self.inner.get_or_create(namespace, items, reserve)


class Counting(Wrapped):
    def __init__(self, inner: MappingStore) -> None:
        super().__init__(inner)
        self.calls = 0

    async def changes(self, namespace: str, since: int) -> tuple[list[tuple[str, int, str]], int]:
        self.calls += 1
        await asyncio.sleep(0.01)  # a slow store: requests pile up behind the sync
        return await self.inner.changes(namespace, since)


async def test_waiting_requests_share_a_sync(tmp_path: Path) -> None:
    """One sync at a time; requests that arrived while it waited for the lock share the next one."""
    inner = EmbeddedStore(tmp_path / "m.db", StoreKey(StoreKey.new_secret()))
    try:
        counting = Counting(inner)
        engine = Engine(store=counting)  # type: ignore[arg-type]
        values = [new_secret() for _ in range(20)]
        results = await asyncio.gather(*(engine.amask(in_context(v)) for v in values))
        assert all(v not in r.text for v, r in zip(values, results, strict=True))
        assert counting.calls < len(values)
    finally:
        await inner.aclose()


class FlushedMidRequest(Wrapped):
    """A store flushed (every table emptied) right after the first `changes`, and refilled by
    another process before this one numbers its request: the race between sync and allocate."""

    def __init__(self, inner: EmbeddedStore, path: Path, refill: Engine) -> None:
        super().__init__(inner)
        self.path, self.refill, self.armed = path, refill, False

    async def changes(self, namespace: str, since: int) -> tuple[list[tuple[str, int, str]], int]:
        answer = await self.inner.changes(namespace, since)
        if self.armed:
            self.armed = False
            with sqlite3.connect(self.path) as conn:
                for table in ("namespaces", "counters", "mappings", "journals", "journal"):
                    conn.execute(f"DELETE FROM {table}")
            await self.refill.amask(in_context(new_secret()))  # takes secret-001 in the new epoch
        return answer


async def test_a_flush_between_sync_and_allocation_does_not_reuse_a_number(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    pair = Pair(path)
    try:
        racing = FlushedMidRequest(pair.stores[1], path, pair.a)
        engine = Engine(store=racing)  # type: ignore[arg-type]
        old = new_secret()
        [p_old] = [f.pseudonym for f in (await engine.amask(in_context(old))).findings if f.original == old]
        assert p_old == "secret-001"
        racing.armed = True
        new = new_secret()
        masked = await engine.amask(in_context(old) + in_context(new))
        pseudonyms = {f.original: f.pseudonym for f in masked.findings}
        assert old not in masked.text and new not in masked.text
        # The store now says secret-001 is the other process's value: this request must not use it.
        owner = (await pair.stores[0].lookup("default", [("secret", 1)]))[0]
        assert owner not in (old, new)
        assert "secret-001" not in pseudonyms.values()
        for original, p in pseudonyms.items():
            kind, _, n = p.rpartition("-")
            assert (await pair.stores[0].lookup("default", [(kind, int(n))]))[0] == original
    finally:
        await pair.close()
