"""Fixtures for the mapping-store tests: one behaviour suite, three backends.

Backends: the embedded SQLite store (temp dir), Redis on 127.0.0.1:6379 (random key prefix per run,
each test its own namespaces, cleaned up afterwards) and a throw-away 3-node Redis Cluster started on
loopback ports 7xxx in a temp dir.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import store_import  # noqa: F401  (must run before maskgate is imported)
from maskgate.store import EmbeddedStore, MappingStore, RedisStore, StoreKey
from redis import Redis as SyncRedis
from redis.cluster import RedisCluster as SyncRedisCluster

from tests.ports import spare_port, wait_port

SHARED_REDIS_URL = os.environ.get("MASKGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RUN_PREFIX = f"mgtest-{secrets.token_hex(4)}:"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# -- helpers used by several test modules -------------------------------------------------------------


free_port = spare_port  # the name this suite's tests import


def redis_binaries() -> tuple[str, str] | None:
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    return (server, cli) if server and cli else None


def start_redis(port: int, workdir: Path, *extra: str) -> subprocess.Popen[bytes]:
    """A private redis-server on 127.0.0.1:port, data in workdir."""
    bins = redis_binaries()
    assert bins is not None
    workdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            bins[0],
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(workdir),
            "--save",
            "",
            "--protected-mode",
            "no",
            "--logfile",
            str(workdir / "redis.log"),
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


def forms(original: str) -> list[bytes]:
    """The original as it could leak: raw, hex (both cases) and base64 (std/urlsafe, +/- padding)."""
    raw = original.encode()
    out = [raw, raw.hex().encode(), raw.hex().upper().encode()]
    for enc in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        out += [enc, enc.rstrip(b"=")]
    return out


# -- Redis cluster (session) --------------------------------------------------------------------------


@dataclass
class ClusterInfo:
    ports: list[int]
    url: str


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterInfo]:
    bins = redis_binaries()
    if bins is None:
        pytest.skip("redis-server/redis-cli not installed: cannot start a local Redis Cluster")
    base = tmp_path_factory.mktemp("redis-cluster")
    procs: list[subprocess.Popen[bytes]] = []
    ports: list[int] = []
    try:
        for i in range(3):
            port = free_port(7000, 7999)
            while port in ports:
                port = free_port(7000, 7999)
            ports.append(port)
            procs.append(
                start_redis(
                    port,
                    base / str(i),
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    str(base / str(i) / "nodes.conf"),
                    "--cluster-node-timeout",
                    "2000",
                    "--appendonly",
                    "no",
                )
            )
        subprocess.run(
            [
                bins[1],
                "--cluster",
                "create",
                *(f"127.0.0.1:{p}" for p in ports),
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        deadline = time.monotonic() + 30
        while True:
            states = [
                subprocess.run(
                    [bins[1], "-p", str(p), "cluster", "info"], capture_output=True, text=True, timeout=5
                ).stdout
                for p in ports
            ]
            if all("cluster_state:ok" in s for s in states):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("redis cluster did not reach cluster_state:ok")
            time.sleep(0.2)
        yield ClusterInfo(ports=ports, url=f"redis+cluster://127.0.0.1:{ports[0]}")
    finally:
        for proc in procs:
            stop(proc)


@pytest.fixture(scope="session")
def shared_redis() -> Iterator[str]:
    """The machine's Redis; everything this run wrote (under RUN_PREFIX) is deleted at the end."""
    client = SyncRedis.from_url(SHARED_REDIS_URL, socket_connect_timeout=1, socket_timeout=2)
    try:
        client.ping()
    except Exception as exc:  # pragma: no cover - depends on the machine
        client.close()
        pytest.skip(f"no Redis at {SHARED_REDIS_URL}: {type(exc).__name__}")
    try:
        yield SHARED_REDIS_URL
    finally:
        leftovers = list(client.scan_iter(match=f"{RUN_PREFIX}*", count=1000))
        if leftovers:
            client.delete(*leftovers)
        client.close()


# -- the parametrized backend --------------------------------------------------------------------------


@dataclass
class Backend:
    """Makes stores of one backend and gives tests raw access for dumps and tampering."""

    name: str
    tmp: Path
    url: str | None = None
    prefix: str = ""
    secret: str = field(default_factory=StoreKey.new_secret)
    stores: list[MappingStore] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)

    @property
    def db_path(self) -> Path:
        return self.tmp / "maskgate.db"

    def key(self) -> StoreKey:
        return StoreKey(self.secret)

    def ns(self) -> str:
        name = f"ns-{secrets.token_hex(6)}"
        self.namespaces.append(name)
        return name

    def make(self, key: StoreKey | None = None, ttl_seconds: float = 3600.0, **kw: Any) -> MappingStore:
        key = key or self.key()
        store: MappingStore
        if self.name == "embedded":
            store = EmbeddedStore(self.db_path, key, ttl_seconds=ttl_seconds, **kw)
        else:
            assert self.url is not None
            store = RedisStore.from_url(self.url, key, ttl_seconds=ttl_seconds, prefix=self.prefix, **kw)
        self.stores.append(store)
        return store

    def spec(self) -> dict[str, Any]:
        """Picklable description for worker processes."""
        return {
            "name": self.name,
            "path": str(self.db_path),
            "url": self.url,
            "prefix": self.prefix,
            "secret": self.secret,
        }

    def sync_client(self) -> Any:
        assert self.url is not None
        if self.name == "redis-cluster":
            return SyncRedisCluster.from_url(self.url.replace("redis+cluster://", "redis://"))
        return SyncRedis.from_url(self.url)

    def redis_keys(self, client: Any) -> list[bytes]:
        """The keys of this test's namespaces (the store-wide key check is not one of them)."""
        return [k for ns in self.namespaces for k in client.scan_iter(match=f"{self.prefix}{{{ns}}}:*")]

    def dump(self) -> bytes:
        """Everything an attacker with the data (not the key) sees."""
        if self.name == "embedded":
            parts = []
            for suffix in ("", "-wal", "-shm", "-journal"):
                p = Path(str(self.db_path) + suffix)
                if p.exists():
                    parts.append(p.read_bytes())
            return b"\n".join(parts)
        client = self.sync_client()
        try:
            parts = []
            for k in client.scan_iter(match=f"{self.prefix}*", count=1000):
                parts.append(k)
                parts.append(client.dump(k) or b"")
                if client.type(k) == b"hash":
                    for f, v in client.hgetall(k).items():
                        parts += [f, v]
            return b"\n".join(parts)
        finally:
            client.close()

    def cleanup(self) -> None:
        if self.url is None:
            return
        client = self.sync_client()
        try:
            for k in [*self.redis_keys(client), f"{self.prefix}keycheck".encode()]:
                client.delete(k)
        finally:
            client.close()


BACKENDS = ["embedded", "redis", "redis-cluster"]


def fresh_prefix(tag: str = "") -> str:
    """A Redis key prefix of this run's own (deleted at its end), new for each call."""
    return f"{RUN_PREFIX}{tag}{secrets.token_hex(4)}:"


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    name = request.param
    if name == "embedded":
        b = Backend(name, tmp_path)
    elif name == "redis":
        # A prefix per test: each test has its own store key, and a prefix is one store (one key check).
        b = Backend(name, tmp_path, url=request.getfixturevalue("shared_redis"), prefix=fresh_prefix())
    else:
        cluster: ClusterInfo = request.getfixturevalue("redis_cluster")
        b = Backend(name, tmp_path, url=cluster.url, prefix=fresh_prefix("c"))
    try:
        yield b
    finally:
        for store in b.stores:
            await store.aclose()
        b.cleanup()
