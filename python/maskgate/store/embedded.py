"""Embedded mapping store: one SQLite file shared by all worker processes of one machine.

Layout (all originals encrypted, see crypto.py)::

    meta(k PRIMARY KEY, v)                              -- schema version; key_check: the sealed canary
    namespaces(ns PRIMARY KEY, expires_at)              -- per-namespace TTL, pushed forward on use
    counters(ns, kind, last_n, PRIMARY KEY(ns, kind))   -- never expire, so n is never handed out twice
    mappings(ns, idx, kind, n, value,
             PRIMARY KEY(ns, idx), UNIQUE(ns, kind, n)) -- idx = HMAC index hash, value = AES-GCM blob
    journals(ns PRIMARY KEY, epoch, seq)                -- per-namespace change log head, dies with it
    journal(ns, seq, kind, n, PRIMARY KEY(ns, seq))     -- (kind, n) in creation order: no originals,
                                                           changes() joins it to the sealed mappings

Why it is correct with several uvicorn workers: every get_or_create is one ``BEGIN IMMEDIATE``
transaction, which takes SQLite's single write lock before reading, so "look up, else allocate
counter + 1" cannot interleave between processes; the unique constraints are a second line of defence.
WAL mode lets readers (lookup/load) run while a writer commits. The journal's seq is taken inside
the same write transaction, so seq order is commit order and a reader's snapshot never has a gap.

Why ``synchronous=FULL``: in WAL mode NORMAL is already safe against corruption and against kill -9 (a
committed transaction is in the OS page cache), but a power cut could drop the last commits. Then a
counter would go backwards and a pseudonym number that was already sent to the model would be given to
a different original. FULL fsyncs the WAL on every commit; get_or_create batches all items into one
commit, so that is one fsync per request at most.

Blocking SQLite calls run on a small thread pool owned by the store, each thread with its own
connection, so the event loop never waits on disk or on another process's lock. Create the store after
forking workers (connections must not cross a fork).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from .base import (
    DEFAULT_TTL_SECONDS,
    StoreError,
    StoreKeyMismatch,
    StoreUnavailable,
    check_kind,
    check_mark,
    check_namespace,
    check_ttl,
    dedupe,
    make_mark,
    mark_epoch,
    mark_seq,
    new_epoch,
    reserve_floors,
)
from .crypto import StoreKey

__all__ = ["EmbeddedStore"]

log = logging.getLogger(__name__)

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(
    k TEXT PRIMARY KEY,
    v TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS namespaces(
    ns TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS namespaces_expiry ON namespaces(expires_at);
CREATE TABLE IF NOT EXISTS counters(
    ns TEXT NOT NULL,
    kind TEXT NOT NULL,
    last_n INTEGER NOT NULL,
    PRIMARY KEY(ns, kind)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mappings(
    ns TEXT NOT NULL,
    idx BLOB NOT NULL,
    kind TEXT NOT NULL,
    n INTEGER NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY(ns, idx),
    UNIQUE(ns, kind, n)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS journals(
    ns TEXT PRIMARY KEY,
    epoch INTEGER NOT NULL,
    seq INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS journal(
    ns TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY(ns, seq)
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta(k, v) VALUES ('schema', '2');
"""
SCHEMA_VERSION = "2"


_KEY_CHECK = "key_check"
_KEY_CHECK_SAMPLE = 16  # entries tried on a store from before the canary

_CHUNK = 400  # keeps every statement well under SQLite's bound-parameter limit


def _chunks(seq: Sequence[T], size: int = _CHUNK) -> list[Sequence[T]]:
    return [seq[i : i + size] for i in range(0, len(seq), size)]


class EmbeddedStore:
    """MappingStore on a local SQLite file (WAL, BEGIN IMMEDIATE, synchronous=FULL)."""

    def __init__(
        self,
        path: Path | str,
        key: StoreKey,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        *,
        threads: int = 4,
        busy_timeout: float = 10.0,
        synchronous: str = "FULL",
        key_file: Path | None = None,
    ) -> None:
        """key_file: where `key` was read from, when not from MASKGATE_STORE_KEY (named in errors)."""
        check_ttl(ttl_seconds)
        if synchronous.upper() not in ("NORMAL", "FULL", "EXTRA"):
            raise StoreError("synchronous must be NORMAL, FULL or EXTRA")
        self.path = Path(path)
        self._key = key
        self._ttl = float(ttl_seconds)
        # Lookups only rewrite the expiry when it moved by more than this, so reads stay read-only.
        self._touch_slack = min(60.0, self._ttl / 10)
        self._sweep_every = min(3600.0, max(0.5, self._ttl / 4))
        self._next_sweep = 0.0
        self._busy_timeout = busy_timeout
        self._synchronous = synchronous.upper()
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="maskgate-sqlite")
        self._closed = False
        self._initialized = False
        self._init_lock = threading.Lock()
        self._verified = False
        self._key_file = str(key_file) if key_file else None
        self._fast: sqlite3.Connection | None = None
        self._fast_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"EmbeddedStore(path={str(self.path)!r}, ttl_seconds={self._ttl:g})"

    # -- MappingStore -----------------------------------------------------------------------------------

    async def get_or_create(
        self, namespace: str, items: Sequence[tuple[str, str]], reserve: Sequence[tuple[str, int]] = ()
    ) -> list[tuple[str, int]]:
        check_namespace(namespace)
        unique, where = dedupe(items)
        if not unique:
            return []
        # Hashing happens before the write lock is taken, to keep the critical section short.
        hashes = [self._key.index_hashes(namespace, original) for _, original in unique]
        floors = reserve_floors(reserve)
        await self._ready()
        got = await self._run(lambda c: self._get_or_create_sync(c, namespace, unique, hashes, floors))
        return [got[i] for i in where]

    async def lookup(self, namespace: str, refs: Sequence[tuple[str, int]]) -> list[str | None]:
        check_namespace(namespace)
        refs = [(kind, int(n)) for kind, n in refs]
        for kind, _ in refs:
            check_kind(kind)
        if not refs:
            return []
        await self._ready()
        rows = await self._run(lambda c: self._lookup_sync(c, namespace, refs))
        out: list[str | None] = []
        for kind, n in refs:
            blob = rows.get((kind, n))
            out.append(None if blob is None else self._decrypt_or_none(namespace, kind, n, blob))
        return out

    async def load(self, namespace: str) -> list[tuple[str, int, str]]:
        check_namespace(namespace)
        await self._ready()
        rows = await self._run(lambda c: self._load_sync(c, namespace))
        out: list[tuple[str, int, str]] = []
        for kind, n, blob in rows:
            original = self._decrypt_or_none(namespace, kind, n, blob)
            if original is not None:
                out.append((kind, n, original))
        return out

    async def changes(self, namespace: str, since: int) -> tuple[list[tuple[str, int, str]], int]:
        check_namespace(namespace)
        check_mark(since)
        await self._ready()
        if since and self._unchanged(namespace, since):
            return [], since
        rows, mark = await self._run(lambda c: self._changes_sync(c, namespace, since))
        out: list[tuple[str, int, str]] = []
        for kind, n, blob in rows:
            original = self._decrypt_or_none(namespace, kind, n, blob)
            if original is not None:
                out.append((kind, n, original))
        return out, mark

    async def ping(self) -> bool:
        try:
            await self._run(lambda c: c.execute("SELECT 1").fetchone())
        except Exception:
            return False
        return True

    async def verify(self) -> None:
        await self._run(self._verify_sync)
        self._verified = True

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(None, self._shutdown)

    async def rekey(self, namespace: str | None = None) -> int:
        """Re-index and re-encrypt under the current key every mapping of `namespace` (None: all).

        Returns how many entries were rewritten. Run it after adding a new current key; once it
        reports 0 on a second run, the previous keys can be removed from the configuration. Each
        namespace is rewritten in its own short transaction.
        """
        await self._ready()
        if namespace is not None:
            check_namespace(namespace)
            return await self._run(lambda c: self._rekey_ns_sync(c, namespace))
        names = await self._run(_namespaces_sync)
        total = 0
        for ns in names:
            total += await self._run(functools.partial(self._rekey_ns_sync, ns=ns))
        return total

    async def purge_expired(self) -> int:
        """Delete the mappings of expired namespaces now (it also happens lazily); returns rows deleted."""
        return await self._run(lambda c: self._sweep_sync(c, time.time(), force=True))

    # -- plumbing ---------------------------------------------------------------------------------------

    def _unchanged(self, ns: str, since: int) -> bool:
        """Whether the namespace is live, fresh and still at the mark `since`: then `changes` has
        nothing to say and nothing to write, and this process asks on its own thread, without the
        hop to the store's threads (the common case: every request asks). One read-only statement on
        a connection that never waits for a lock; any doubt (no such connection yet, busy, an
        error, another thread using it) is a False, and the full round trip answers instead."""
        conn = self._fast
        if conn is None or self._closed or not self._fast_lock.acquire(blocking=False):
            return False
        try:
            rows = conn.execute(
                "SELECT n.expires_at, j.epoch, j.seq FROM namespaces n JOIN journals j ON j.ns = n.ns WHERE n.ns = ?",
                (ns,),
            ).fetchall()  # stepped to the end: no read transaction is left open
        except (sqlite3.Error, OSError):
            return False
        finally:
            self._fast_lock.release()
        if len(rows) != 1:
            return False
        expires_at, epoch, seq = rows[0]
        now = time.time()
        fresh = expires_at - now >= self._ttl - self._touch_slack  # `_touch_read` would not write
        return bool(fresh and make_mark(int(epoch), int(seq)) == since)

    def _open_fast(self) -> None:
        """The connection `_unchanged` reads on, opened on a store thread (never on the event loop)
        once the file and its schema exist: no busy wait (`timeout=0`), read-only."""
        if self._fast is not None:
            return
        conn = sqlite3.connect(self.path, timeout=0, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA query_only=1")
        except BaseException:
            conn.close()
            raise
        with self._conns_lock:
            if self._fast is None and not self._closed:
                self._fast = conn
                self._conns.append(conn)
                return
        conn.close()

    async def _ready(self) -> None:
        """The key check, once per store object, before the first read or write of mappings."""
        if not self._verified:
            await self.verify()

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise StoreError("store is closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, self._call, fn)
        except RuntimeError as exc:  # executor shut down under us
            if self._closed:
                raise StoreError("store is closed") from None
            raise StoreError(f"embedded store failure: {type(exc).__name__}") from None

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        try:
            conn = self._conn()
            return fn(conn)
        except StoreError:
            raise
        except sqlite3.Error as exc:
            # (SQLite messages never quote bound values, so chaining the cause is safe.)
            raise sqlite_failure(exc, "embedded store") from exc
        except OSError as exc:
            raise sqlite_failure(exc, "embedded store") from None

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        create_private(self.path)
        conn = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False)
        try:
            enable_wal(conn, self._busy_timeout)
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            conn.execute("PRAGMA foreign_keys=OFF")
            with self._init_lock:
                if not self._initialized:
                    self._in_write_txn(conn, lambda: _create_schema(conn))
                    self._initialized = True
        except BaseException:
            conn.close()
            raise
        self._local.conn = conn
        with self._conns_lock:
            self._conns.append(conn)
        return conn

    def _shutdown(self) -> None:
        self._executor.shutdown(wait=True)
        with self._fast_lock:
            self._fast = None
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:
                pass

    @staticmethod
    def _in_write_txn(conn: sqlite3.Connection, body: Callable[[], T]) -> T:
        """Run body inside BEGIN IMMEDIATE (write lock taken up front, so read-then-write is atomic)."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = body()
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    def _decrypt_or_none(self, namespace: str, kind: str, n: int, blob: bytes) -> str | None:
        try:
            return self._key.decrypt(namespace, kind, n, blob)[0]
        except StoreError:
            log.warning("embedded store: a stored value did not decrypt (wrong or dropped store key?)")
            return None

    # -- synchronous bodies (run on the store's threads) ---------------------------------------------------

    def _live(self, conn: sqlite3.Connection, ns: str, now: float) -> float | None:
        row = conn.execute("SELECT expires_at FROM namespaces WHERE ns = ?", (ns,)).fetchone()
        if row is None or row[0] <= now:
            return None
        return float(row[0])

    def _touch_write(self, conn: sqlite3.Connection, ns: str, now: float) -> None:
        """Inside a write txn: drop the namespace's mappings if it expired, then push its expiry."""
        row = conn.execute("SELECT expires_at FROM namespaces WHERE ns = ?", (ns,)).fetchone()
        if row is not None and row[0] <= now:
            for table in ("mappings", "journal", "journals"):
                conn.execute(f"DELETE FROM {table} WHERE ns = ?", (ns,))
        conn.execute(
            "INSERT INTO namespaces(ns, expires_at) VALUES (?, ?) "
            "ON CONFLICT(ns) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)",
            (ns, now + self._ttl),
        )

    def _touch_read(self, conn: sqlite3.Connection, ns: str, now: float, expires_at: float) -> None:
        """After a read: extend a live namespace's expiry, skipping the write when it is still fresh.

        Best effort: the read already succeeded, so a busy database must not turn it into an error.
        """
        if expires_at - now >= self._ttl - self._touch_slack:
            return

        def body() -> None:
            conn.execute(
                "UPDATE namespaces SET expires_at = max(expires_at, ?) WHERE ns = ? AND expires_at > ?",
                (now + self._ttl, ns, now),
            )

        try:
            self._in_write_txn(conn, body)
        except sqlite3.OperationalError:
            log.warning("embedded store: could not refresh a namespace's expiry (database busy)")

    def _maybe_sweep(self, conn: sqlite3.Connection, now: float) -> None:
        if now >= self._next_sweep:
            self._next_sweep = now + self._sweep_every
            self._sweep_sync(conn, now, force=False)

    def _sweep_sync(self, conn: sqlite3.Connection, now: float, *, force: bool) -> int:
        def body() -> int:
            cur = conn.execute(
                "DELETE FROM mappings WHERE ns IN (SELECT ns FROM namespaces WHERE expires_at <= ?)", (now,)
            )
            for table in ("journal", "journals"):
                conn.execute(
                    f"DELETE FROM {table} WHERE ns IN (SELECT ns FROM namespaces WHERE expires_at <= ?)", (now,)
                )
            conn.execute("DELETE FROM namespaces WHERE expires_at <= ?", (now,))
            return cur.rowcount

        return self._in_write_txn(conn, body)

    def _get_or_create_sync(
        self,
        conn: sqlite3.Connection,
        ns: str,
        unique: list[tuple[str, str]],
        hashes: list[list[bytes]],
        floors: dict[str, int],
    ) -> list[tuple[str, int]]:
        now = time.time()
        self._maybe_sweep(conn, now)

        def body() -> list[tuple[str, int]]:
            self._touch_write(conn, ns, now)
            found: dict[bytes, tuple[str, int]] = {}
            flat = [h for hs in hashes for h in hs]
            for part in _chunks(flat):
                q = ",".join("?" * len(part))
                for idx, kind, n in conn.execute(
                    f"SELECT idx, kind, n FROM mappings WHERE ns = ? AND idx IN ({q})", (ns, *part)
                ):
                    found[bytes(idx)] = (kind, int(n))
            counters: dict[str, int] = {}
            dirty: set[str] = set()
            out: list[tuple[str, int]] = []
            inserts: list[tuple[str, bytes, str, int, bytes]] = []
            for (kind, original), hs in zip(unique, hashes, strict=True):
                hit = next(((j, found[h]) for j, h in enumerate(hs) if h in found), None)
                if hit is not None:
                    j, ref = hit
                    out.append(ref)
                    if j > 0:  # found under a previous key: move it to the current key now
                        conn.execute(
                            "UPDATE mappings SET idx = ?, value = ? WHERE ns = ? AND idx = ?",
                            (hs[0], self._key.encrypt(ns, ref[0], ref[1], original), ns, hs[j]),
                        )
                    continue
                if kind not in counters:
                    row = conn.execute("SELECT last_n FROM counters WHERE ns = ? AND kind = ?", (ns, kind)).fetchone()
                    counters[kind] = max(int(row[0]) if row else 0, floors.get(kind, 0))
                n = counters[kind] + 1
                counters[kind] = n
                dirty.add(kind)
                inserts.append((ns, hs[0], kind, n, self._key.encrypt(ns, kind, n, original)))
                out.append((kind, n))
            if inserts:
                conn.executemany("INSERT INTO mappings(ns, idx, kind, n, value) VALUES (?, ?, ?, ?, ?)", inserts)
                conn.executemany(
                    "INSERT INTO counters(ns, kind, last_n) VALUES (?, ?, ?) "
                    "ON CONFLICT(ns, kind) DO UPDATE SET last_n = max(last_n, excluded.last_n)",
                    [(ns, k, counters[k]) for k in sorted(dirty)],
                )
                _journal(conn, ns, [(kind, n) for _, _, kind, n, _ in inserts])
            return out

        return self._in_write_txn(conn, body)

    def _lookup_sync(
        self, conn: sqlite3.Connection, ns: str, refs: list[tuple[str, int]]
    ) -> dict[tuple[str, int], bytes]:
        now = time.time()
        rows: dict[tuple[str, int], bytes] = {}
        conn.execute("BEGIN")  # one snapshot for the expiry check and the rows
        try:
            expires_at = self._live(conn, ns, now)
            if expires_at is not None:
                for part in _chunks(refs):
                    values = ",".join("(?, ?)" for _ in part)
                    params: list[object] = [x for ref in part for x in ref]
                    for kind, n, value in conn.execute(
                        f"WITH r(kind, n) AS (VALUES {values}) "
                        "SELECT m.kind, m.n, m.value FROM r JOIN mappings m "
                        "ON m.ns = ? AND m.kind = r.kind AND m.n = r.n",
                        (*params, ns),
                    ):
                        rows[(kind, int(n))] = bytes(value)
        finally:
            conn.execute("COMMIT")
        if expires_at is not None:
            self._touch_read(conn, ns, now, expires_at)
        return rows

    def _load_sync(self, conn: sqlite3.Connection, ns: str) -> list[tuple[str, int, bytes]]:
        now = time.time()
        conn.execute("BEGIN")
        try:
            expires_at = self._live(conn, ns, now)
            rows: list[tuple[str, int, bytes]] = []
            if expires_at is not None:
                rows = [
                    (kind, int(n), bytes(value))
                    for kind, n, value in conn.execute(
                        "SELECT kind, n, value FROM mappings WHERE ns = ? ORDER BY kind, n", (ns,)
                    )
                ]
        finally:
            conn.execute("COMMIT")
        if expires_at is not None:
            self._touch_read(conn, ns, now, expires_at)
        return rows

    def _changes_sync(self, conn: sqlite3.Connection, ns: str, since: int) -> tuple[list[tuple[str, int, bytes]], int]:
        now = time.time()
        conn.execute("BEGIN")  # one snapshot: the head and the entries agree
        try:
            expires_at = self._live(conn, ns, now)
            head = None
            if expires_at is not None:
                head = conn.execute("SELECT epoch, seq FROM journals WHERE ns = ?", (ns,)).fetchone()
            rows: list[tuple[str, int, bytes]] = []
            mark = 0
            if head is not None:
                epoch, seq = int(head[0]), int(head[1])
                mark = make_mark(epoch, seq)
                # Another epoch, or a mark from the future (the file was replaced by an older copy):
                # everything, and the caller starts over.
                start = mark_seq(since) if mark_epoch(since) == epoch and mark_seq(since) <= seq else 0
                if start < seq:
                    rows = [
                        (kind, int(n), bytes(value))
                        for kind, n, value in conn.execute(
                            "SELECT m.kind, m.n, m.value FROM journal j JOIN mappings m "
                            "ON m.ns = j.ns AND m.kind = j.kind AND m.n = j.n "
                            "WHERE j.ns = ? AND j.seq > ? ORDER BY j.seq",
                            (ns, start),
                        )
                    ]
        finally:
            conn.execute("COMMIT")
        if expires_at is not None:
            self._touch_read(conn, ns, now, expires_at)
        if self._fast is None:
            try:
                self._open_fast()
            except (sqlite3.Error, OSError):
                pass  # `_unchanged` says False without it; the next round trip tries again
        return rows, mark

    def _verify_sync(self, conn: sqlite3.Connection) -> None:
        row = conn.execute("SELECT v FROM meta WHERE k = ?", (_KEY_CHECK,)).fetchone()
        if row is not None and self._key.open_canary(base64.b64decode(row[0])):
            return  # the common case, read-only: the current key made the canary

        def body() -> None:
            row = conn.execute("SELECT v FROM meta WHERE k = ?", (_KEY_CHECK,)).fetchone()
            if row is not None:
                opened = self._key.open_canary(base64.b64decode(row[0]))
                if opened is None:
                    raise StoreKeyMismatch(str(self.path), self._key_file)
                if opened:
                    return
            else:
                # A store from before the canary: the key must open one of its entries, if it has any.
                sample = conn.execute(
                    "SELECT ns, kind, n, value FROM mappings LIMIT ?", (_KEY_CHECK_SAMPLE,)
                ).fetchall()
                if sample and not any(self._opens(str(ns), str(k), int(n), bytes(v)) for ns, k, n, v in sample):
                    raise StoreKeyMismatch(str(self.path), self._key_file)
            canary = base64.b64encode(self._key.canary()).decode()
            conn.execute("INSERT OR REPLACE INTO meta(k, v) VALUES (?, ?)", (_KEY_CHECK, canary))

        self._in_write_txn(conn, body)

    def _opens(self, ns: str, kind: str, n: int, blob: bytes) -> bool:
        try:
            self._key.decrypt(ns, kind, n, blob)
        except StoreError:
            return False
        return True

    def _rekey_ns_sync(self, conn: sqlite3.Connection, ns: str) -> int:
        def body() -> int:
            rows = conn.execute("SELECT idx, kind, n, value FROM mappings WHERE ns = ?", (ns,)).fetchall()
            changed = 0
            bad = 0
            for idx, kind, n, value in rows:
                try:
                    original, current = self._key.decrypt(ns, kind, int(n), bytes(value))
                except StoreError:
                    bad += 1
                    continue
                new_idx = self._key.index_hash(ns, original)
                if current and new_idx == bytes(idx):
                    continue
                new_value = bytes(value) if current else self._key.encrypt(ns, kind, int(n), original)
                conn.execute(
                    "UPDATE mappings SET idx = ?, value = ? WHERE ns = ? AND idx = ?",
                    (new_idx, new_value, ns, idx),
                )
                changed += 1
            if bad:
                log.warning("embedded store rekey: %d value(s) did not decrypt under any key", bad)
            return changed

        return self._in_write_txn(conn, body)


def _namespaces_sync(conn: sqlite3.Connection) -> list[str]:
    return [str(r[0]) for r in conn.execute("SELECT DISTINCT ns FROM mappings")]


def _journal(conn: sqlite3.Connection, ns: str, refs: Sequence[tuple[str, int]]) -> None:
    """Inside a write txn: append new (kind, n) to the namespace's change log (started on first use)."""
    head = conn.execute("SELECT seq FROM journals WHERE ns = ?", (ns,)).fetchone()
    seq = int(head[0]) if head else 0
    if head is None:
        conn.execute("INSERT INTO journals(ns, epoch, seq) VALUES (?, ?, 0)", (ns, new_epoch()))
    conn.executemany(
        "INSERT INTO journal(ns, seq, kind, n) VALUES (?, ?, ?, ?)",
        [(ns, seq + i, kind, n) for i, (kind, n) in enumerate(refs, start=1)],
    )
    conn.execute("UPDATE journals SET seq = ? WHERE ns = ?", (seq + len(refs), ns))


def _create_schema(conn: sqlite3.Connection) -> None:
    # Statement by statement: executescript() would COMMIT the surrounding BEGIN IMMEDIATE.
    for stmt in _SCHEMA.split(";"):
        if stmt.strip():
            conn.execute(stmt)
    row = conn.execute("SELECT v FROM meta WHERE k = 'schema'").fetchone()
    if row is not None and row[0] == "1":
        # A file from before the change log: every namespace's mappings become its first entries.
        for (ns,) in conn.execute("SELECT DISTINCT ns FROM mappings").fetchall():
            refs = conn.execute("SELECT kind, n FROM mappings WHERE ns = ? ORDER BY kind, n", (ns,)).fetchall()
            conn.execute("DELETE FROM journal WHERE ns = ?", (ns,))
            conn.execute("DELETE FROM journals WHERE ns = ?", (ns,))
            _journal(conn, ns, [(str(k), int(n)) for k, n in refs])
        conn.execute("UPDATE meta SET v = ? WHERE k = 'schema'", (SCHEMA_VERSION,))


def enable_wal(conn: sqlite3.Connection, busy_timeout: float, what: str = "embedded store") -> None:
    """Switch the file to WAL (persistent). On a brand-new file several workers race to do it, and
    SQLite answers "database is locked" at once instead of calling the busy handler, so retry.
    Shared with the console's SQLite file."""
    deadline = time.monotonic() + busy_timeout
    delay = 0.005
    while True:
        try:
            row = conn.execute("PRAGMA journal_mode=WAL").fetchone()
            if row and str(row[0]).lower() == "wal":
                return
        except sqlite3.OperationalError as exc:
            code = int(getattr(exc, "sqlite_errorcode", 0)) & 0xFF  # primary code of an extended one
            if code not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise
        if time.monotonic() >= deadline:
            raise StoreUnavailable(f"{what} unavailable: could not enable WAL mode (locked)")
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def create_private(path: Path, dir_mode: int = 0o777) -> None:
    """Create a database file private (0600) so SQLite's -wal/-shm files inherit that mode."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=dir_mode)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def sqlite_failure(exc: sqlite3.Error | OSError, what: str) -> StoreError:
    """The store error for a SQLite or file failure, named by code only (safe to log).

    Locked or busy past the timeout, I/O error, disk full, cannot open: unavailable (retrying may
    work); anything else SQLite reports is a store error.
    """
    if isinstance(exc, OSError):
        return StoreUnavailable(f"{what} unavailable: {type(exc).__name__}")
    if isinstance(exc, sqlite3.OperationalError):
        return StoreUnavailable(f"{what} unavailable: {_sqlite_reason(exc)}")
    return StoreError(f"{what} error: {_sqlite_reason(exc)}")


def _sqlite_reason(exc: sqlite3.Error) -> str:
    """Error code name only: SQLite messages can quote SQL, never values, but keep it minimal anyway."""
    name = getattr(exc, "sqlite_errorname", None)
    return f"{type(exc).__name__}({name})" if name else type(exc).__name__
