"""The MappingStore contract, run against the embedded, Redis and Redis Cluster backends."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
from typing import Any

import pytest
from conftest import Backend, forms
from maskgate.store import EmbeddedStore, MappingStore, RedisStore, StoreError, StoreKey

pytestmark = pytest.mark.anyio


def ec2(i: int) -> str:
    return f"i-{i:017x}"


async def test_create_then_reuse(backend: Backend) -> None:
    store, ns = backend.make(), backend.ns()
    first = await store.get_or_create(ns, [("ec2", ec2(1)), ("ec2", ec2(2)), ("ec2", ec2(1))])
    assert first == [("ec2", 1), ("ec2", 2), ("ec2", 1)]
    again = await store.get_or_create(ns, [("ec2", ec2(2)), ("ec2", ec2(3)), ("ec2", ec2(1))])
    assert again == [("ec2", 2), ("ec2", 3), ("ec2", 1)]
    assert await store.get_or_create(ns, []) == []


async def test_existing_mapping_keeps_its_kind(backend: Backend) -> None:
    store, ns = backend.make(), backend.ns()
    assert await store.get_or_create(ns, [("account", "123456789012")]) == [("account", 1)]
    # The same string later detected as another kind still maps to what it already is.
    assert await store.get_or_create(ns, [("arn-account", "123456789012")]) == [("account", 1)]
    assert await store.get_or_create(ns, [("arn-account", "210987654321")]) == [("arn-account", 1)]


async def test_counters_are_per_kind(backend: Backend) -> None:
    store, ns = backend.make(), backend.ns()
    items = [("ec2", ec2(1)), ("vpc", "vpc-0a1"), ("ec2", ec2(2)), ("subnet", "subnet-1"), ("vpc", "vpc-2")]
    got = await store.get_or_create(ns, items)
    assert got == [("ec2", 1), ("vpc", 1), ("ec2", 2), ("subnet", 1), ("vpc", 2)]


async def test_namespaces_are_isolated(backend: Backend) -> None:
    store = backend.make()
    a, b = backend.ns(), backend.ns()
    await store.get_or_create(a, [("ec2", ec2(1)), ("ec2", ec2(2))])
    assert await store.get_or_create(b, [("ec2", ec2(2))]) == [("ec2", 1)]
    assert await store.lookup(b, [("ec2", 1), ("ec2", 2)]) == [ec2(2), None]
    assert await store.lookup(a, [("ec2", 1), ("ec2", 2)]) == [ec2(1), ec2(2)]
    assert [m[2] for m in await store.load(b)] == [ec2(2)]


async def test_lookup(backend: Backend) -> None:
    store, ns = backend.make(), backend.ns()
    originals = [f"arn:aws:iam::123456789012:role/Role{i}" for i in range(30)]
    refs = await store.get_or_create(ns, [("iam-role", o) for o in originals])
    assert await store.lookup(ns, list(reversed(refs))) == list(reversed(originals))
    got = await store.lookup(ns, [("iam-role", 31), ("ec2", 1), ("iam-role", 30)])
    assert got == [None, None, originals[-1]]
    assert await store.lookup(ns, []) == []
    assert await store.lookup(backend.ns(), [("iam-role", 1)]) == [None]


async def test_unicode_and_long_originals(backend: Backend) -> None:
    store, ns = backend.make(), backend.ns()
    odd = ["bücket-ñame", "x" * 5000, "with\nnewline and : colon"]
    refs = await store.get_or_create(ns, [("s3", o) for o in odd])
    assert await store.lookup(ns, refs) == odd


async def test_load(backend: Backend) -> None:
    store, ns = backend.make(), backend.ns()
    assert await store.load(ns) == []
    items = [("ec2", ec2(i)) for i in range(5)] + [("vpc", f"vpc-{i:x}") for i in range(3)]
    await store.get_or_create(ns, items)
    loaded = await backend.make().load(ns)  # a second store object, as a fresh worker would have
    assert sorted(loaded) == sorted(
        [("ec2", i + 1, ec2(i)) for i in range(5)] + [("vpc", i + 1, f"vpc-{i:x}") for i in range(3)]
    )


async def test_state_survives_a_new_store_object(backend: Backend) -> None:
    ns = backend.ns()
    first = backend.make()
    refs = await first.get_or_create(ns, [("ec2", ec2(i)) for i in range(10)])
    await first.aclose()
    second = backend.make()
    got = await second.get_or_create(ns, [("ec2", ec2(i)) for i in range(12)])
    assert got == refs + [("ec2", 11), ("ec2", 12)]


async def test_many_tasks_one_store(backend: Backend) -> None:
    store, ns = backend.make(), backend.ns()
    originals = [ec2(i) for i in range(60)]

    async def worker(seed: int) -> dict[str, tuple[str, int]]:
        order = originals[:]
        secrets.SystemRandom().shuffle(order)
        got: dict[str, tuple[str, int]] = {}
        for i in range(0, len(order), 7):
            chunk = order[i : i + 7]
            for o, ref in zip(chunk, await store.get_or_create(ns, [("ec2", o) for o in chunk]), strict=True):
                got[o] = ref
        return got

    results = await asyncio.gather(*(worker(s) for s in range(8)))
    assert all(r == results[0] for r in results)
    assert sorted(n for _, n in results[0].values()) == list(range(1, 61))


async def test_ttl_refreshed_on_use(backend: Backend) -> None:
    store, ns = backend.make(ttl_seconds=2.0), backend.ns()
    refs = await store.get_or_create(ns, [("ec2", ec2(1))])
    for _ in range(3):  # 2.7 s in total, well past the first expiry
        await asyncio.sleep(0.9)
        assert await store.lookup(ns, refs) == [ec2(1)]
    await asyncio.sleep(0.9)
    assert [m[2] for m in await store.load(ns)] == [ec2(1)]
    await asyncio.sleep(0.9)
    assert await store.get_or_create(ns, [("ec2", ec2(1))]) == refs


async def test_expiry_never_reuses_numbers(backend: Backend) -> None:
    store, ns = backend.make(ttl_seconds=0.5), backend.ns()
    assert await store.get_or_create(ns, [("ec2", ec2(1)), ("ec2", ec2(2))]) == [("ec2", 1), ("ec2", 2)]
    await asyncio.sleep(1.0)
    assert await store.lookup(ns, [("ec2", 1), ("ec2", 2)]) == [None, None]
    assert await store.load(ns) == []
    # The namespace expired, but counters did not: a new original never gets ec2-001 again.
    assert await store.get_or_create(ns, [("ec2", ec2(3)), ("ec2", ec2(1))]) == [("ec2", 3), ("ec2", 4)]
    assert await store.lookup(ns, [("ec2", 1), ("ec2", 3), ("ec2", 4)]) == [None, ec2(3), ec2(1)]


@pytest.mark.parametrize("backend", ["redis", "redis-cluster"], indirect=True)
async def test_redis_counters_have_no_ttl(backend: Backend) -> None:
    store, ns = backend.make(ttl_seconds=60), backend.ns()
    await store.get_or_create(ns, [("ec2", ec2(1))])
    client = backend.sync_client()
    try:
        base = f"{backend.prefix}{{{ns}}}:"
        assert client.pttl(base + "ctr") == -1
        assert 0 < client.pttl(base + "o2p") <= 60_000
        assert 0 < client.pttl(base + "p2o") <= 60_000
        assert client.hgetall(base + "ctr") == {b"ec2": b"1"}
        assert client.hkeys(base + "p2o") == [b"ec2:1"]
    finally:
        client.close()


async def test_no_original_in_dump(backend: Backend) -> None:
    store = backend.make()
    originals: list[str] = []
    for _ in range(3):
        ns = backend.ns()
        items = (
            [("ec2", f"i-{secrets.token_hex(8)}{i:x}") for i in range(80)]
            + [("account", f"{secrets.randbelow(10**12):012d}") for _ in range(40)]
            + [
                ("iam-role", f"arn:aws:iam::{secrets.randbelow(10**12):012d}:role/svc-{secrets.token_hex(5)}")
                for _ in range(40)
            ]
        )
        originals += [o for _, o in items]
        refs = await store.get_or_create(ns, items)
        assert await store.lookup(ns, refs) == [o for _, o in items]
        await store.load(ns)
    assert len(set(originals)) >= 480
    dump = backend.dump()
    assert len(dump) > 480 * 40, "the dump should hold every mapping"
    leaks = [o for o in originals if any(f in dump for f in forms(o))]
    assert leaks == []
    if backend.name == "embedded":
        await store.aclose()  # after a checkpoint the main file holds everything: check that too
        leaks = [o for o in originals if any(f in backend.dump() for f in forms(o))]
        assert leaks == []


async def test_value_moved_to_another_slot_does_not_decrypt(backend: Backend) -> None:
    store, ns = backend.make(), backend.ns()
    await store.get_or_create(ns, [("ec2", ec2(1)), ("ec2", ec2(2))])
    other = backend.ns()
    await store.get_or_create(other, [("ec2", ec2(1))])
    if backend.name == "embedded":
        with sqlite3.connect(backend.db_path) as db:
            blob1 = db.execute("SELECT value FROM mappings WHERE ns=? AND n=1", (ns,)).fetchone()[0]
            db.execute("UPDATE mappings SET value=? WHERE ns=? AND n=2", (blob1, ns))
            db.execute("UPDATE mappings SET value=? WHERE ns=? AND n=1", (blob1, other))
    else:
        client = backend.sync_client()
        try:
            blob1 = client.hget(f"{backend.prefix}{{{ns}}}:p2o", "ec2:1")
            client.hset(f"{backend.prefix}{{{ns}}}:p2o", "ec2:2", blob1)
            client.hset(f"{backend.prefix}{{{other}}}:p2o", "ec2:1", blob1)
        finally:
            client.close()
    assert await store.lookup(ns, [("ec2", 1), ("ec2", 2)]) == [ec2(1), None]
    assert await store.lookup(other, [("ec2", 1)]) == [None]


async def test_key_rotation(backend: Backend) -> None:
    old_secret, new_secret = backend.secret, StoreKey.new_secret()
    ns, ns2 = backend.ns(), backend.ns()
    old = backend.make(key=StoreKey(old_secret))
    items = [("ec2", ec2(i)) for i in range(20)]
    refs = await old.get_or_create(ns, items)
    refs2 = await old.get_or_create(ns2, items[:5])

    rotating = backend.make(key=StoreKey(new_secret, previous=[old_secret]))
    assert await rotating.lookup(ns, refs) == [o for _, o in items]
    # Old originals keep their numbers; new ones are written under the new key.
    assert await rotating.get_or_create(ns, items[:3] + [("ec2", ec2(99))]) == refs[:3] + [("ec2", 21)]
    assert sorted(await rotating.load(ns)) == sorted(
        [(k, n, o) for (_, o), (k, n) in zip(items, refs, strict=True)] + [("ec2", 21, ec2(99))]
    )

    assert isinstance(rotating, (EmbeddedStore, RedisStore))
    if isinstance(rotating, EmbeddedStore):
        rewritten = await rotating.rekey()
    else:
        assert {ns, ns2} <= set(await rotating.namespaces())
        rewritten = await rotating.rekey_all()
    assert rewritten >= 17 + 5  # everything not already touched by get_or_create above
    assert (await rotating.rekey(ns)) == 0

    new_only = backend.make(key=StoreKey(new_secret))
    assert await new_only.lookup(ns, refs + [("ec2", 21)]) == [o for _, o in items] + [ec2(99)]
    assert await new_only.lookup(ns2, refs2) == [o for _, o in items[:5]]
    assert await new_only.get_or_create(ns, items + [("ec2", ec2(100))]) == refs + [("ec2", 22)]


async def test_ping_and_close(backend: Backend) -> None:
    store = backend.make()
    assert await store.ping() is True
    await store.aclose()
    await store.aclose()  # idempotent
    assert await store.ping() is False
    with pytest.raises(StoreError):
        await store.get_or_create(backend.ns(), [("ec2", ec2(1))])


async def test_bad_input_messages_are_safe(backend: Backend) -> None:
    store = backend.make()
    secret_original = "i-0feedfacecafebeef"
    bad: list[Any] = [
        ("", [("ec2", secret_original)]),
        ("a{b}", [("ec2", secret_original)]),
        (backend.ns(), [("ec:2", secret_original)]),
        (backend.ns(), [("", secret_original)]),
        (backend.ns(), [("ec2", "")]),
    ]
    for ns, items in bad:
        with pytest.raises(StoreError) as info:
            await store.get_or_create(ns, items)
        assert secret_original not in str(info.value)


async def test_is_a_mapping_store(backend: Backend) -> None:
    assert isinstance(backend.make(), MappingStore)
