"""Prometheus metrics of one gateway process. Labels carry routes, statuses and kinds: never an
original, a pseudonym or a key."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from maskgate.store import MappingStore, StoreError

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "maskgate_requests", "Requests served, by route and status", ["route", "status"], registry=r
        )
        self.duration = Histogram(
            "maskgate_request_duration_seconds",
            "Whole request time, to the last byte",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.upstream_latency = Histogram(
            "maskgate_upstream_latency_seconds",
            "Time until the upstream's response headers",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.mask_duration = Histogram(
            "maskgate_mask_duration_seconds",
            "Time to mask a request body (scan, store, rewrite)",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.masked = Counter("maskgate_identifiers_masked", "Identifiers masked, by kind", ["kind"], registry=r)
        self.restored = Counter("maskgate_identifiers_restored", "Pseudonyms restored, by kind", ["kind"], registry=r)
        self.store_ops = Counter("maskgate_store_operations", "Store calls, by operation", ["op"], registry=r)
        self.store_errors = Counter(
            "maskgate_store_errors", "Store calls that failed, by operation", ["op"], registry=r
        )
        self.open_streams = Gauge("maskgate_open_streams", "Streamed responses in flight", registry=r)
        self._children: dict[tuple[Counter | Histogram, tuple[str, ...]], Any] = {}

    def child(self, metric: Counter | Histogram, *labels: str) -> Any:
        """`metric.labels(*labels)`, remembered: prometheus_client checks the labels and takes a
        lock on every call, and each request asks for the same few children (a dozen kinds)."""
        key = (metric, labels)
        got = self._children.get(key)
        if got is None:
            got = self._children[key] = metric.labels(*labels)
        return got

    def count_kinds(self, counter: Counter, counts: Mapping[str, int]) -> None:
        for kind, n in counts.items():
            self.child(counter, kind).inc(n)

    def request_done(self, route: str, status: int, started: float) -> None:
        self.child(self.requests, route, str(status)).inc()
        self.child(self.duration, route).observe(time.perf_counter() - started)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class InstrumentedStore:
    """A `MappingStore` that counts its calls and failures."""

    def __init__(self, inner: MappingStore, metrics: Metrics) -> None:
        self.inner = inner
        self.metrics = metrics

    def _op(self, op: str) -> None:
        self.metrics.child(self.metrics.store_ops, op).inc()

    def _err(self, op: str) -> None:
        self.metrics.store_errors.labels(op).inc()

    async def get_or_create(
        self, namespace: str, items: Sequence[tuple[str, str]], reserve: Sequence[tuple[str, int]] = ()
    ) -> list[tuple[str, int]]:
        self._op("get_or_create")
        try:
            return await self.inner.get_or_create(namespace, items, reserve)
        except StoreError:
            self._err("get_or_create")
            raise

    async def lookup(self, namespace: str, refs: Sequence[tuple[str, int]]) -> list[str | None]:
        self._op("lookup")
        try:
            return await self.inner.lookup(namespace, refs)
        except StoreError:
            self._err("lookup")
            raise

    async def load(self, namespace: str) -> list[tuple[str, int, str]]:
        self._op("load")
        try:
            return await self.inner.load(namespace)
        except StoreError:
            self._err("load")
            raise

    async def changes(self, namespace: str, since: int) -> tuple[list[tuple[str, int, str]], int]:
        self._op("changes")
        try:
            return await self.inner.changes(namespace, since)
        except StoreError:
            self._err("changes")
            raise

    async def ping(self) -> bool:
        self._op("ping")
        ok = await self.inner.ping()
        if not ok:
            self._err("ping")
        return ok

    async def verify(self) -> None:
        self._op("verify")
        try:
            await self.inner.verify()
        except StoreError:
            self._err("verify")
            raise

    async def aclose(self) -> None:
        await self.inner.aclose()
