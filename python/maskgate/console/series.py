"""Chart data from the gateway's own Prometheus counters, sampled into a short history.

Why from the counters: the console then agrees with `/metrics` (and any Grafana on top of it) to
the request. Why sampled lazily (on finished requests and on chart polls, at most every
`interval` seconds) rather than by a timer: no background task to start or stop, and an idle
gateway has nothing to plot anyway. Each point holds what happened since the previous one.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Metric

from maskgate.metrics import Metrics

INTERVAL_SECONDS = 5.0
KEEP_POINTS = 720  # one hour at the default interval


@dataclass(frozen=True)
class Snapshot:
    masked: dict[str, float] = field(default_factory=dict)
    requests: float = 0.0
    client_errors: float = 0.0
    server_errors: float = 0.0
    buckets: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class Point:
    at: float
    masked: dict[str, float]
    requests: float
    client_errors: float
    server_errors: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    open_streams: float


def _samples(metric: Any) -> list[Any]:
    families: list[Metric] = list(metric.collect())
    return [s for fam in families for s in fam.samples]


def snapshot(metrics: Metrics) -> Snapshot:
    masked = {
        s.labels["kind"]: s.value for s in _samples(metrics.masked) if s.name.endswith("_total") and "kind" in s.labels
    }
    requests = client = server = 0.0
    for s in _samples(metrics.requests):
        if not s.name.endswith("_total"):
            continue
        requests += s.value
        status = s.labels.get("status", "")
        if status.startswith("4"):
            client += s.value
        elif status.startswith("5"):
            server += s.value
    buckets = tuple(
        (float(s.labels["le"]), s.value) for s in _samples(metrics.mask_duration) if s.name.endswith("_bucket")
    )
    return Snapshot(masked, requests, client, server, buckets)


def quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """Prometheus' histogram_quantile over cumulative (upper bound, count) pairs, linear inside a bucket."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    total = buckets[-1][1]
    rank = q * total
    lower, below = 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if math.isinf(upper):
                return lower
            inside = count - below
            return lower + (upper - lower) * ((rank - below) / inside if inside else 0.0)
        lower, below = upper, count
    return lower


class Series:
    """The last hour of points; `sample()` is cheap and safe to call on every request."""

    def __init__(self, metrics: Metrics, interval: float = INTERVAL_SECONDS, keep: int = KEEP_POINTS) -> None:
        self.metrics = metrics
        self.interval = interval
        self.points: deque[Point] = deque(maxlen=keep)
        self._last = Snapshot()
        self._last_at = 0.0

    def sample(self, now: float | None = None, force: bool = False) -> None:
        now = time.time() if now is None else now
        if not force and now - self._last_at < self.interval:
            return
        snap = snapshot(self.metrics)
        prev = self._last
        before = dict(prev.buckets)
        delta_buckets = [(le, count - before.get(le, 0.0)) for le, count in snap.buckets]
        kinds = set(snap.masked) | set(prev.masked)
        point = Point(
            at=now,
            masked={k: snap.masked.get(k, 0.0) - prev.masked.get(k, 0.0) for k in sorted(kinds)},
            requests=snap.requests - prev.requests,
            client_errors=snap.client_errors - prev.client_errors,
            server_errors=snap.server_errors - prev.server_errors,
            p50_ms=_ms(quantile(0.50, delta_buckets)),
            p95_ms=_ms(quantile(0.95, delta_buckets)),
            p99_ms=_ms(quantile(0.99, delta_buckets)),
            open_streams=sum(s.value for s in _samples(self.metrics.open_streams)),
        )
        self._last, self._last_at = snap, now
        self.points.append(point)

    def as_json(self) -> dict[str, Any]:
        """Column arrays, the shape uPlot plots directly."""
        points = list(self.points)
        kinds = sorted({k for p in points for k, v in p.masked.items() if v})

        def rate(part: float, whole: float) -> float | None:
            return round(100.0 * part / whole, 2) if whole else None

        return {
            "interval": self.interval,
            "t": [round(p.at, 3) for p in points],
            "masked": {k: [p.masked.get(k, 0.0) for p in points] for k in kinds},
            "requests": [p.requests for p in points],
            "p50_ms": [p.p50_ms for p in points],
            "p95_ms": [p.p95_ms for p in points],
            "p99_ms": [p.p99_ms for p in points],
            "client_error_pct": [rate(p.client_errors, p.requests) for p in points],
            "server_error_pct": [rate(p.server_errors, p.requests) for p in points],
            "open_streams": [p.open_streams for p in points],
        }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)
