"""Redis going away and coming back, against a private redis-server this test starts and kills."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import free_port, redis_binaries, start_redis, stop
from maskgate.store import RedisStore, StoreKey, StoreUnavailable

pytestmark = pytest.mark.anyio


class PrivateRedis:
    """A redis-server with append-only persistence, so data survives the restart."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port(17000, 17999)
        self.proc = self._start()

    def _start(self):  # type: ignore[no-untyped-def]
        return start_redis(self.port, self.workdir, "--appendonly", "yes", "--appendfsync", "always")

    def kill(self) -> None:
        stop(self.proc)

    def restart(self) -> None:
        self.proc = self._start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if redis_binaries() is None:
        pytest.skip("redis-server/redis-cli not installed: cannot start a private Redis")
    server = PrivateRedis(tmp_path / "redis")
    try:
        yield server
    finally:
        if server.proc.poll() is None:
            os.kill(server.proc.pid, signal.SIGCONT)
        server.kill()


async def test_down_raises_unavailable_then_recovers(private_redis: PrivateRedis) -> None:
    store = RedisStore.from_url(private_redis.url, StoreKey(StoreKey.new_secret()), ttl_seconds=600)
    try:
        ns = "outage"
        refs = await store.get_or_create(ns, [("ec2", "i-0aaaaaaaaaaaaaaa1")])
        assert refs == [("ec2", 1)]

        private_redis.kill()
        t0 = time.monotonic()
        with pytest.raises(StoreUnavailable) as info:
            await store.get_or_create(ns, [("ec2", "i-0aaaaaaaaaaaaaaa2")])
        assert time.monotonic() - t0 < 5, "a dead Redis must fail fast"
        assert "i-0aaaaaaaaaaaaaaa2" not in str(info.value)
        with pytest.raises(StoreUnavailable):
            await store.lookup(ns, refs)
        with pytest.raises(StoreUnavailable):
            await store.load(ns)
        assert await store.ping() is False

        private_redis.restart()
        # Same store object: the pool reconnects by itself.
        assert await store.ping() is True
        assert await store.lookup(ns, refs) == ["i-0aaaaaaaaaaaaaaa1"]
        assert await store.get_or_create(ns, [("ec2", "i-0aaaaaaaaaaaaaaa2")]) == [("ec2", 2)]
    finally:
        await store.aclose()


async def test_hung_redis_times_out_then_recovers(private_redis: PrivateRedis) -> None:
    store = RedisStore.from_url(
        private_redis.url, StoreKey(StoreKey.new_secret()), ttl_seconds=600, socket_timeout=0.3, retries=1
    )
    try:
        refs = await store.get_or_create("hung", [("vpc", "vpc-0123")])
        os.kill(private_redis.proc.pid, signal.SIGSTOP)  # accepts TCP, never answers
        try:
            t0 = time.monotonic()
            with pytest.raises(StoreUnavailable):
                await store.lookup("hung", refs)
            assert time.monotonic() - t0 < 4
        finally:
            os.kill(private_redis.proc.pid, signal.SIGCONT)
        for _ in range(50):  # the first call after a timeout may still meet a stale reply; it recovers
            try:
                if await store.lookup("hung", refs) == ["vpc-0123"]:
                    break
            except StoreUnavailable:
                pass
            await asyncio.sleep(0.1)
        else:
            pytest.fail("store did not recover after Redis resumed")
        assert await store.get_or_create("hung", [("vpc", "vpc-0123"), ("vpc", "vpc-4")]) == [("vpc", 1), ("vpc", 2)]
    finally:
        await store.aclose()
