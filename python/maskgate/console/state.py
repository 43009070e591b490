"""One gateway process's console: the recorder the gateway feeds, and what the pages read.

The gateway holds one `Console` as `gateway.console` and calls `record()` once per finished
request; that call must be cheap and can never fail the request, so anything slow (sealing and
storing a capture) runs as a task after the response, and any error is logged and dropped.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from maskgate import logs
from maskgate.console.access import LoginThrottle
from maskgate.console.activity import ActivityLog
from maskgate.console.capture import SCOPE_KEY, Tee, pack, spans
from maskgate.console.persist import AuditEntry, CaptureMeta, ConsoleStore, RedisConsoleStore, SqliteConsoleStore
from maskgate.console.series import Series
from maskgate.engine import Engine, Masked
from maskgate.settings import ConsoleSettings
from maskgate.store import StoreError, StoreKey, key_file_for, key_from_settings

if TYPE_CHECKING:
    from maskgate.gateway.lifecycle import Gateway

FORWARDED_KEY = "maskgate.forwarded"
"""Where the gateway leaves, in a request's scope, the masking whose output it forwarded."""

WINDOWS_REFRESH_SECONDS = 1.0
"""How stale a worker's view of the open capture windows may be (they are switched in the store)."""

CONSOLE_DB = "console.db"


def capture_context(capture_id: str, tenant: str) -> bytes:
    """What a sealed capture is bound to: moved to another id or tenant, it no longer opens."""
    return b"console-capture\x00" + capture_id.encode() + b"\x00" + tenant.encode()


class Console:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.activity = ActivityLog()
        self.series = Series(gateway.metrics)
        self.throttle = LoginThrottle()
        self._store: ConsoleStore | None = None
        self._key: StoreKey | None = None
        self._trial: Engine | None = None
        self._windows: dict[str, float] = {}
        self._windows_at = float("-inf")
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def settings(self) -> ConsoleSettings:
        return self.gateway.settings.console

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    # -- resources, opened on first use (the console has no hook in the gateway's start/stop) --

    def store(self) -> ConsoleStore:
        if self._store is None:
            s = self.gateway.settings
            if s.redis_url:
                self._store = RedisConsoleStore.from_url(s.redis_url, s.redis_prefix)
            else:
                self._store = SqliteConsoleStore(self.settings.path or s.store_path.with_name(CONSOLE_DB))
        return self._store

    def key(self) -> StoreKey:
        """The map's key (the same secret or key file the store uses), for sealing captures."""
        if self._key is None:
            s = self.gateway.settings
            self._key = key_from_settings(s) or StoreKey.load_or_create(key_file_for(s.store_path))
        return self._key

    def trial_engine(self) -> Engine:
        """The gateway's catalogue with a map in memory: "try it" allocates nothing in the store."""
        if self._trial is None:
            self._trial = Engine.from_settings(self.gateway.settings)
        return self._trial

    def try_mask(self, text: str) -> Masked:
        engine = self.trial_engine()
        namespace = "console-trial-" + secrets.token_hex(8)
        try:
            return engine.mask(text, namespace)
        finally:
            engine.core.forget(namespace)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._store is not None:
            store, self._store = self._store, None
            try:
                await store.aclose()
            except Exception as e:  # shutting down: a broken connection must not fail the server's exit
                logs.event("console: store not closed cleanly", level=logging.WARNING, error=type(e).__name__)

    # -- the recorder ------------------------------------------------------------------------

    def record(self, request: Request, rid: str, status: int, started: float, fields: Mapping[str, Any]) -> None:
        """One finished request. Called by the gateway; never raises."""
        if not self.enabled:
            return
        try:
            capture_id = None
            tee = request.scope.get(SCOPE_KEY)
            forwarded = request.scope.get(FORWARDED_KEY)
            if isinstance(tee, Tee) and isinstance(forwarded, Masked) and tee.body() is not None:
                capture_id = secrets.token_urlsafe(12)
                self._spawn(self._capture(capture_id, tee, forwarded, rid, status, fields))
            ms = (time.perf_counter() - started) * 1000
            self.activity.add(
                request_id=rid, route=request.url.path, status=status, ms=ms, fields=fields, capture=capture_id
            )
            self.series.sample()
        except Exception as e:  # the console must never break a request
            logs.event("console: could not record a request", level=logging.WARNING, error=type(e).__name__)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _capture(
        self, capture_id: str, tee: Tee, forwarded: Masked, rid: str, status: int, fields: Mapping[str, Any]
    ) -> None:
        """Seals and stores the client's body beside the bytes that went upstream: the very output
        that was forwarded, never a masking run again later (the known set grows meanwhile, and a
        second run would show as masked what went out raw)."""
        raw = tee.body()
        if raw is None:
            return
        try:
            output = forwarded.output
            found = spans([(f.start, f.end, f.kind, f.pseudonym or "") for f in forwarded.findings], output)
            meta = CaptureMeta(
                id=capture_id,
                at=time.time(),
                tenant=tee.tenant,
                request_id=rid[:64],
                model=str(fields.get("model") or "")[:128],
                status=status,
                client_bytes=len(raw),
                provider_bytes=len(output),
                findings=len(found),
            )
            blob = self.key().seal(capture_context(capture_id, tee.tenant), pack(raw, output, found))
            s = self.settings
            await self.store().put_capture(meta, blob, s.capture_retention_seconds, s.capture_max_entries)
        except Exception as e:
            logs.event("console: capture not kept", level=logging.WARNING, error=type(e).__name__)

    # -- capture windows ---------------------------------------------------------------------

    async def capturing(self, tenant: str) -> bool:
        """Whether this tenant's requests are captured, from this process's view of the windows.

        A stale view is refreshed in the background, never in the request's path: a slow or
        unreachable console store must not delay a client's request."""
        now = time.time()
        if now - self._windows_at >= WINDOWS_REFRESH_SECONDS:
            self._windows_at = now  # one refresh at a time; requests meanwhile use the last view
            self._spawn(self._refresh_windows())
        return self._windows.get(tenant, 0.0) > now

    async def _refresh_windows(self) -> None:
        try:
            self._windows = await self.store().windows()
        except StoreError as e:
            logs.event("console: capture windows unreadable", level=logging.WARNING, error=str(e))

    async def windows(self) -> dict[str, float]:
        self._windows = await self.store().windows()
        self._windows_at = time.time()
        return dict(self._windows)

    async def set_window(self, tenant: str, until: float) -> None:
        await self.store().set_window(tenant, until)
        await self.windows()

    # -- audit ------------------------------------------------------------------------------

    async def audit(self, admin: str, action: str, tenant: str, subject: str, outcome: str) -> None:
        """Stores and logs an admin action. `subject` is a pseudonym or an id, never an original."""
        entry = AuditEntry(time.time(), admin, action, tenant, subject, outcome)
        logs.event("console audit", admin=admin, action=action, tenant=tenant, subject=subject, outcome=outcome)
        await self.store().audit(entry)
