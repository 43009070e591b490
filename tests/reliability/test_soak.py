"""Soak: many streamed requests of mixed sizes through a real gateway, on the embedded store and on
Redis, loopback only and bounded in count and time. Reports requests served, errors (goal: zero),
p50/p99 latency and the gateway's memory at start and end.

The default run is short. The long one is opt-in: `pytest -m soak tests/reliability` (or
`make soak`); MASKGATE_SOAK_REQUESTS and MASKGATE_SOAK_SECONDS bound it (defaults 5000 and 600 per
store). MASKGATE_SOAK_REPORT names a file to append the JSON report to.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import threading
import time
from dataclasses import asdict, dataclass, field

import httpx2
import pytest

from tests.fake_upstream import FakeUpstream
from tests.proxy import Proxy
from tests.reliability.conftest import ProxyFactory, Watch
from tests.reliability.support import auth, instance_id, messages, rss_bytes, sse, stream_text

THREADS = 6
POOL = 400  # identifiers reused across requests, as in a long session


@dataclass
class Report:
    store: str
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    rss_start_mb: float = 0.0
    rss_end_mb: float = 0.0
    error_samples: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        lat = sorted(self.latencies_ms) or [0.0]
        out = {k: v for k, v in asdict(self).items() if k != "latencies_ms"}
        out.update(
            p50_ms=round(statistics.median(lat), 1),
            p99_ms=round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 1),
            max_ms=round(lat[-1], 1),
            per_second=round(self.requests / self.seconds, 1) if self.seconds else 0.0,
        )
        return out


def soak(proxy: Proxy, fake: FakeUpstream, store: str, count: int, limit_seconds: float, ids: list[str]) -> Report:
    report = Report(store)
    lock = threading.Lock()
    deadline = time.monotonic() + limit_seconds
    rng = random.Random(7)
    sizes = rng.choices(["small", "medium", "large"], weights=[70, 25, 5], k=count)
    fake.script(
        [
            {
                "type": "text",
                "text": "Done: {{first:ec2-\\d+}} " + "ok " * rng.randint(5, 400),
                "chunk": rng.choice([3, 16, 64]),
            }
            for _ in range(count)
        ]
    )
    next_index = iter(range(count))
    report.rss_start_mb = rss_bytes(proxy.proc.pid) / 2**20
    started = time.monotonic()

    def one(c: httpx2.Client, size: str) -> None:
        picked = rng.sample(ids, {"small": 2, "medium": 40, "large": 200}[size])
        filler = {"small": 1, "medium": 2000, "large": 20000}[size]
        text = "Fix " + " and ".join(picked) + ". " + "context line\n" * filler
        t0 = time.perf_counter()
        try:
            r = c.post("/v1/messages", json=messages(text, stream=True))
            events = sse(r.text) if r.status_code == 200 else []
            ok = r.status_code == 200 and events and events[-1][0] == "message_stop"
            restored = ok and stream_text(events).startswith(f"Done: {picked[0]} ")
            problem = None if restored else f"{r.status_code} {r.text[-200:]!r}"
        except httpx2.HTTPError as e:
            problem = type(e).__name__
        ms = (time.perf_counter() - t0) * 1000
        with lock:
            report.requests += 1
            report.latencies_ms.append(ms)
            if problem:
                report.errors += 1
                if len(report.error_samples) < 5:
                    report.error_samples.append(problem)

    def worker() -> None:
        with httpx2.Client(base_url=proxy.url, headers=auth(), timeout=120) as c:
            for i in next_index:
                if time.monotonic() > deadline:
                    return
                one(c, sizes[i])

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(limit_seconds + 300)
    report.seconds = round(time.monotonic() - started, 1)
    report.rss_end_mb = round(rss_bytes(proxy.proc.pid) / 2**20, 1)
    report.rss_start_mb = round(report.rss_start_mb, 1)
    fake.clear()
    return report


def run(fake: FakeUpstream, start_proxy: ProxyFactory, watch: Watch, store: str, count: int, seconds: float) -> Report:
    ids = [instance_id() for _ in range(POOL)]
    watch.original(*ids)
    with start_proxy(fake.url, store=store) as proxy:
        report = soak(proxy, fake, store, count, seconds, ids)
    summary = report.summary()
    print(f"\nsoak {store}: {json.dumps(summary)}")
    if os.environ.get("MASKGATE_SOAK_REPORT"):
        with open(os.environ["MASKGATE_SOAK_REPORT"], "a", encoding="utf-8") as f:
            f.write(json.dumps(summary) + "\n")
    assert report.requests > 0
    assert report.errors == 0, report.error_samples
    return report


@pytest.mark.parametrize("store", ["embedded", "redis"])
def test_soak_short(
    fake: FakeUpstream, start_proxy: ProxyFactory, watch: Watch, store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with capsys.disabled():
        report = run(fake, start_proxy, watch, store, count=240, seconds=240)
    assert report.requests == 240


@pytest.mark.soak
@pytest.mark.parametrize("store", ["embedded", "redis"])
def test_soak_long(
    fake: FakeUpstream, start_proxy: ProxyFactory, watch: Watch, store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    count = int(os.environ.get("MASKGATE_SOAK_REQUESTS", "5000"))
    seconds = float(os.environ.get("MASKGATE_SOAK_SECONDS", "600"))
    with capsys.disabled():
        report = run(fake, start_proxy, watch, store, count, seconds)
    # Memory: the identifiers are a fixed pool, so the map stops growing after the first requests.
    assert report.rss_end_mb - report.rss_start_mb < 256, "the gateway's memory kept growing"
