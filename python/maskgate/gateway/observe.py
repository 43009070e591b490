"""One record per request: filled in as the request goes, written once to metrics, log and console.

Only model requests (/v1/messages, count_tokens) are recorded; /health, /metrics and key checks
are maskgate's own traffic."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from maskgate import logs
from maskgate.metrics import Metrics

if TYPE_CHECKING:
    from maskgate.console import Console


def early_rid(request: Request) -> str:
    """The id of a request not masked (refused before): the client's id only as a digest."""
    given = request.headers.get("x-request-id")
    if not given:
        return uuid.uuid4().hex[:16]
    return "sha256:" + hashlib.sha256(given.encode()).hexdigest()[:16]


class Observer:
    def __init__(self, metrics: Metrics, console: Console) -> None:
        self.metrics = metrics
        self.console = console

    def begin(self, request: Request) -> Record:
        return Record(self, request)


class Record:
    """What the log line, the metrics and the console row of one request say. `fields` must hold
    nothing a client sent unmasked (tenant names, masked model names, counts)."""

    __slots__ = ("_done", "_observer", "fields", "request", "rid", "started")

    def __init__(self, observer: Observer, request: Request) -> None:
        self._observer = observer
        self._done = False
        self.request = request
        self.started = time.perf_counter()
        self.rid = early_rid(request)
        self.fields: dict[str, Any] = {}

    def restored(self, counts: Mapping[str, int]) -> None:
        self.fields["restored"] = counts
        self._observer.metrics.count_kinds(self._observer.metrics.restored, counts)

    def finish(self, status: int) -> None:
        """Writes the record (the first call only: a request ends once)."""
        if self._done:
            return
        self._done = True
        o, route = self._observer, self.request.url.path
        o.metrics.request_done(route, status, self.started)
        ms = round((time.perf_counter() - self.started) * 1000, 2)
        logs.event("request", id=self.rid, route=route, status=status, ms=ms, **self.fields)
        o.console.record(self.request, self.rid, status, self.started, self.fields)
