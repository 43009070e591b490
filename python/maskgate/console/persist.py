"""What the console keeps beyond one process: admin sessions, the audit log, capture windows and
captures.

Why a store at all: with several workers or replicas, a login, a capture switched on, or a lookup
in the audit log must be seen by every one of them, and the audit log must survive restarts. So
it lives beside the map: a small SQLite file next to the embedded store, or keys under the same
Redis prefix. Nothing here is an original in clear: sessions are kept as token hashes, the audit
log names pseudonyms, and capture bodies are sealed with the store key before they get here.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from maskgate.store.embedded import create_private, enable_wal, sqlite_failure
from maskgate.store.redis import redis_call, redis_client

T = TypeVar("T")

BUSY_TIMEOUT = 5.0
"""Seconds a console call waits on a locked file (SQLite's busy timeout, and the WAL switch's retries)."""

AUDIT_KEEP = 100_000
"""Audit entries kept (oldest dropped first); an admin clicking all day stays far below."""


@dataclass(frozen=True)
class AuditEntry:
    at: float
    admin: str
    action: str
    tenant: str
    subject: str
    outcome: str


@dataclass(frozen=True)
class CaptureMeta:
    """What the capture list shows; the bodies themselves are in the sealed blob."""

    id: str
    at: float
    tenant: str
    request_id: str
    model: str
    status: int
    client_bytes: int
    provider_bytes: int
    findings: int


class ConsoleStore(Protocol):
    async def add_session(self, token_hash: str, admin: str, expires_at: float) -> None: ...
    async def session(self, token_hash: str) -> str | None: ...
    async def drop_session(self, token_hash: str) -> None: ...
    async def audit(self, entry: AuditEntry) -> None: ...
    async def audit_log(self, limit: int, tenants: Iterable[str] | None) -> list[AuditEntry]: ...
    async def set_window(self, tenant: str, until: float) -> None: ...
    async def windows(self) -> dict[str, float]: ...
    async def put_capture(self, meta: CaptureMeta, blob: bytes, retention_seconds: float, keep: int) -> None: ...
    async def capture(self, capture_id: str, retention_seconds: float) -> tuple[CaptureMeta, bytes] | None: ...
    async def captures(self, limit: int, retention_seconds: float) -> list[CaptureMeta]: ...
    async def aclose(self) -> None: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions(token_hash TEXT PRIMARY KEY, admin TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS audit(
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, admin TEXT NOT NULL, action TEXT NOT NULL,
    tenant TEXT NOT NULL, subject TEXT NOT NULL, outcome TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS windows(tenant TEXT PRIMARY KEY, until REAL NOT NULL);
CREATE TABLE IF NOT EXISTS captures(id TEXT PRIMARY KEY, at REAL NOT NULL, meta TEXT NOT NULL, blob BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS captures_at ON captures(at);
"""


class SqliteConsoleStore:
    """One SQLite file; every call opens its own short-lived connection on a worker thread, so
    nothing is shared across threads or forks and nothing needs closing."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        if not self._ready:
            # The file holds sealed captures and session hashes: private from the first byte.
            create_private(self.path, dir_mode=0o700)
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        if not self._ready:
            try:
                enable_wal(conn, BUSY_TIMEOUT, "console store")
                conn.executescript(_SCHEMA)
            except BaseException:
                conn.close()
                raise
            self._ready = True
        return conn

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def work() -> T:
            with closing(self._connect()) as conn:
                return fn(conn)

        try:
            return await asyncio.to_thread(work)
        except (sqlite3.Error, OSError) as e:
            raise sqlite_failure(e, "console store") from None

    async def add_session(self, token_hash: str, admin: str, expires_at: float) -> None:
        def fn(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM sessions WHERE expires_at < ?", (time.time(),))
            c.execute("INSERT OR REPLACE INTO sessions VALUES (?, ?, ?)", (token_hash, admin, expires_at))

        await self._run(fn)

    async def session(self, token_hash: str) -> str | None:
        def fn(c: sqlite3.Connection) -> str | None:
            row = c.execute(
                "SELECT admin FROM sessions WHERE token_hash = ? AND expires_at > ?", (token_hash, time.time())
            ).fetchone()
            return str(row[0]) if row else None

        return await self._run(fn)

    async def drop_session(self, token_hash: str) -> None:
        def fn(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))

        await self._run(fn)

    async def audit(self, entry: AuditEntry) -> None:
        def fn(c: sqlite3.Connection) -> None:
            c.execute(
                "INSERT INTO audit(at, admin, action, tenant, subject, outcome) VALUES (?, ?, ?, ?, ?, ?)",
                (entry.at, entry.admin, entry.action, entry.tenant, entry.subject, entry.outcome),
            )
            c.execute("DELETE FROM audit WHERE seq <= (SELECT MAX(seq) FROM audit) - ?", (AUDIT_KEEP,))

        await self._run(fn)

    async def audit_log(self, limit: int, tenants: Iterable[str] | None) -> list[AuditEntry]:
        allowed = None if tenants is None else set(tenants)

        def fn(c: sqlite3.Connection) -> list[AuditEntry]:
            rows = c.execute(
                "SELECT at, admin, action, tenant, subject, outcome FROM audit ORDER BY seq DESC LIMIT ?",
                (limit if allowed is None else limit * 20,),
            ).fetchall()
            entries = [AuditEntry(*row) for row in rows]
            return [e for e in entries if allowed is None or e.tenant in allowed][:limit]

        return await self._run(fn)

    async def set_window(self, tenant: str, until: float) -> None:
        def fn(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM windows WHERE until < ?", (time.time(),))
            c.execute("INSERT OR REPLACE INTO windows VALUES (?, ?)", (tenant, until))

        await self._run(fn)

    async def windows(self) -> dict[str, float]:
        def fn(c: sqlite3.Connection) -> dict[str, float]:
            rows = c.execute("SELECT tenant, until FROM windows WHERE until > ?", (time.time(),)).fetchall()
            return {str(t): float(u) for t, u in rows}

        return await self._run(fn)

    async def put_capture(self, meta: CaptureMeta, blob: bytes, retention_seconds: float, keep: int) -> None:
        def fn(c: sqlite3.Connection) -> None:
            c.execute("INSERT INTO captures VALUES (?, ?, ?, ?)", (meta.id, meta.at, json.dumps(asdict(meta)), blob))
            c.execute("DELETE FROM captures WHERE at < ?", (time.time() - retention_seconds,))
            c.execute(
                "DELETE FROM captures WHERE id NOT IN (SELECT id FROM captures ORDER BY at DESC LIMIT ?)", (keep,)
            )

        await self._run(fn)

    async def capture(self, capture_id: str, retention_seconds: float) -> tuple[CaptureMeta, bytes] | None:
        def fn(c: sqlite3.Connection) -> tuple[CaptureMeta, bytes] | None:
            row = c.execute(
                "SELECT meta, blob FROM captures WHERE id = ? AND at >= ?",
                (capture_id, time.time() - retention_seconds),
            ).fetchone()
            return (CaptureMeta(**json.loads(row[0])), bytes(row[1])) if row else None

        return await self._run(fn)

    async def captures(self, limit: int, retention_seconds: float) -> list[CaptureMeta]:
        def fn(c: sqlite3.Connection) -> list[CaptureMeta]:
            # Retention is enforced on reads too, so an idle gateway still forgets on time.
            c.execute("DELETE FROM captures WHERE at < ?", (time.time() - retention_seconds,))
            rows = c.execute("SELECT meta FROM captures ORDER BY at DESC LIMIT ?", (limit,)).fetchall()
            return [CaptureMeta(**json.loads(r[0])) for r in rows]

        return await self._run(fn)

    async def aclose(self) -> None:
        return None


class RedisConsoleStore:
    """The same on Redis, for replicas. Plain single-key commands only, so Redis Cluster works too;
    Redis expiry does the retention (sessions, windows and capture bodies carry TTLs)."""

    def __init__(self, client: Any, prefix: str) -> None:
        self._client = client
        self._p = prefix + "console:"

    @classmethod
    def from_url(cls, url: str, prefix: str) -> RedisConsoleStore:
        """The mapping store's client set-up (timeouts, retries, Redis Cluster): `redis_client`."""
        return cls(redis_client(url), prefix)

    async def _do(self, name: str, *args: Any) -> Any:
        return await redis_call(self._client, self._client.execute_command(name, *args), 5.0, "console store")

    async def add_session(self, token_hash: str, admin: str, expires_at: float) -> None:
        ttl = max(1, int(expires_at - time.time()))
        await self._do("SET", f"{self._p}session:{token_hash}", admin, "EX", ttl)

    async def session(self, token_hash: str) -> str | None:
        value = await self._do("GET", f"{self._p}session:{token_hash}")
        return value.decode() if value else None

    async def drop_session(self, token_hash: str) -> None:
        await self._do("DEL", f"{self._p}session:{token_hash}")

    async def audit(self, entry: AuditEntry) -> None:
        await self._do("LPUSH", f"{self._p}audit", json.dumps(asdict(entry)))
        await self._do("LTRIM", f"{self._p}audit", 0, AUDIT_KEEP - 1)

    async def audit_log(self, limit: int, tenants: Iterable[str] | None) -> list[AuditEntry]:
        allowed = None if tenants is None else set(tenants)
        span = limit if allowed is None else limit * 20
        raw = await self._do("LRANGE", f"{self._p}audit", 0, span - 1)
        entries = [AuditEntry(**json.loads(r)) for r in raw]
        return [e for e in entries if allowed is None or e.tenant in allowed][:limit]

    async def set_window(self, tenant: str, until: float) -> None:
        await self._do("HSET", f"{self._p}windows", tenant, repr(until))

    async def windows(self) -> dict[str, float]:
        raw = await self._do("HGETALL", f"{self._p}windows")
        pairs = dict(zip(raw[::2], raw[1::2], strict=True)) if isinstance(raw, list) else dict(raw)
        now = time.time()
        live = {k.decode(): float(v) for k, v in pairs.items() if float(v) > now}
        stale = [k for k, v in pairs.items() if float(v) <= now]
        if stale:
            await self._do("HDEL", f"{self._p}windows", *stale)
        return live

    async def put_capture(self, meta: CaptureMeta, blob: bytes, retention_seconds: float, keep: int) -> None:
        ttl = int(meta.at + retention_seconds - time.time())
        if ttl <= 0:
            return
        await self._do("SET", f"{self._p}capture:{meta.id}", blob, "EX", ttl)
        await self._do("SET", f"{self._p}capmeta:{meta.id}", json.dumps(asdict(meta)), "EX", ttl)
        await self._do("ZADD", f"{self._p}captures", meta.at, meta.id)
        await self._trim(retention_seconds, keep)

    async def _trim(self, retention_seconds: float, keep: int) -> None:
        index = f"{self._p}captures"
        await self._do("ZREMRANGEBYSCORE", index, "-inf", time.time() - retention_seconds)
        extra: list[bytes] = await self._do("ZRANGE", index, 0, -(keep + 1))
        for old in extra:
            await self._do("DEL", f"{self._p}capture:{old.decode()}")
            await self._do("DEL", f"{self._p}capmeta:{old.decode()}")
            await self._do("ZREM", index, old)

    async def capture(self, capture_id: str, retention_seconds: float) -> tuple[CaptureMeta, bytes] | None:
        meta = await self._do("GET", f"{self._p}capmeta:{capture_id}")
        blob = await self._do("GET", f"{self._p}capture:{capture_id}")
        if not meta or not blob:
            return None
        found = CaptureMeta(**json.loads(meta))
        return (found, bytes(blob)) if found.at >= time.time() - retention_seconds else None

    async def captures(self, limit: int, retention_seconds: float) -> list[CaptureMeta]:
        await self._do("ZREMRANGEBYSCORE", f"{self._p}captures", "-inf", time.time() - retention_seconds)
        ids: list[bytes] = await self._do("ZREVRANGE", f"{self._p}captures", 0, limit - 1)
        out = []
        for cid in ids:
            meta = await self._do("GET", f"{self._p}capmeta:{cid.decode()}")
            if meta:
                out.append(CaptureMeta(**json.loads(meta)))
        return out

    async def aclose(self) -> None:
        await self._client.aclose()
