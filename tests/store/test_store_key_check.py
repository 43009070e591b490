"""The store key check: a store refuses a key that does not open it, instead of handing out new
pseudonyms for values it already maps (embedded, Redis and Redis Cluster)."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from conftest import Backend
from maskgate.store import StoreKey
from maskgate.store.base import StoreKeyMismatch

pytestmark = pytest.mark.anyio

ORIGINAL = "i-0123456789abcdef0"


def drop_canary(backend: Backend) -> None:
    """Make the store look like one written before the key check existed."""
    if backend.name == "embedded":
        with sqlite3.connect(backend.db_path) as conn:
            assert conn.execute("DELETE FROM meta WHERE k = 'key_check'").rowcount == 1
        return
    client = backend.sync_client()
    try:
        assert client.delete(f"{backend.prefix}keycheck") == 1
    finally:
        client.close()


async def test_the_right_key_passes_and_keeps_its_mappings(backend: Backend) -> None:
    ns = backend.ns()
    first = backend.make()
    await first.verify()
    refs = await first.get_or_create(ns, [("ec2", ORIGINAL)])
    again = backend.make()
    await again.verify()
    assert await again.lookup(ns, refs) == [ORIGINAL]


async def test_a_wrong_key_is_refused_everywhere(backend: Backend) -> None:
    ns = backend.ns()
    refs = await backend.make().get_or_create(ns, [("ec2", ORIGINAL)])
    wrong_secret = StoreKey.new_secret()
    stranger = backend.make(key=StoreKey(wrong_secret))
    calls = [
        stranger.verify(),
        stranger.get_or_create(ns, [("ec2", "i-0fedcba9876543210")]),
        stranger.lookup(ns, refs),
        stranger.load(ns),
        stranger.changes(ns, 0),
    ]
    for call in calls:
        with pytest.raises(StoreKeyMismatch) as info:
            await call
        message = str(info.value)
        assert "MASKGATE_STORE_KEY_PREVIOUS" in message and "created with" in message
        assert wrong_secret not in message and backend.secret not in message and ORIGINAL not in message
    # Nothing was handed out under the wrong key: the next new original gets number 2.
    assert await backend.make().get_or_create(ns, [("ec2", "i-0fedcba9876543210")]) == [("ec2", 2)]


async def test_rotation_moves_the_check_to_the_new_key(backend: Backend) -> None:
    old_secret, new_secret = backend.secret, StoreKey.new_secret()
    ns = backend.ns()
    refs = await backend.make().get_or_create(ns, [("ec2", ORIGINAL)])
    with pytest.raises(StoreKeyMismatch):
        await backend.make(key=StoreKey(new_secret)).verify()  # the new key alone: not yet
    rotating = backend.make(key=StoreKey(new_secret, previous=[old_secret]))
    await rotating.verify()
    assert await rotating.lookup(ns, refs) == [ORIGINAL]
    await backend.make(key=StoreKey(new_secret)).verify()  # the check is sealed under the new key now
    with pytest.raises(StoreKeyMismatch):
        await backend.make(key=StoreKey(old_secret)).verify()  # a replica left on the old key alone


async def test_a_store_from_before_the_check_is_checked_against_its_entries(backend: Backend) -> None:
    ns = backend.ns()
    store = backend.make()
    refs = await store.get_or_create(ns, [("ec2", ORIGINAL)])
    drop_canary(backend)
    with pytest.raises(StoreKeyMismatch):
        await backend.make(key=StoreKey(StoreKey.new_secret())).verify()
    right = backend.make()
    await right.verify()  # opens an entry, then writes the canary
    assert await right.lookup(ns, refs) == [ORIGINAL]
    drop_canary(backend)  # the canary was written again (drop_canary asserts it existed)
    with pytest.raises(StoreKeyMismatch):
        await backend.make(key=StoreKey(StoreKey.new_secret())).verify()


async def test_an_empty_store_takes_the_first_key(backend: Backend) -> None:
    stores = [backend.make() for _ in range(4)]
    await asyncio.gather(*(s.verify() for s in stores))  # racing first uses agree
    drop_canary(backend)
    await backend.make(key=StoreKey(StoreKey.new_secret())).verify()  # nothing to protect yet
    with pytest.raises(StoreKeyMismatch):
        await backend.make().verify()  # from then on that key is the store's
