"""The floors of the gateway benchmarks (benches/passthrough.py, benches/floor.py) relay what the
fake upstream says, whole and streamed, as real processes driven like every set-up (drive.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import gateway
import procs
import pytest


@pytest.mark.parametrize("client", ["httpx", "httpx2", "aiohttp", "floor"])
def test_floor_relays_whole_and_streamed_replies(tmp_path: Path, client: str) -> None:
    if client != "floor" and importlib.util.find_spec(client) is None:
        pytest.skip(f"{client} is not installed")
    with procs.fake_upstream(tmp_path) as upstream:
        start = (
            (lambda: procs.floor(tmp_path, upstream.url))
            if client == "floor"
            else (lambda: procs.passthrough(tmp_path, upstream.url, client))
        )
        with start() as svc:
            targets = [
                {"name": "direct", "url": upstream.url, "headers": gateway.UPSTREAM_HEADERS},
                {"name": "floor", "url": svc.url, "headers": gateway.UPSTREAM_HEADERS},
            ]
            spec = {"targets": targets, "sizes": [10_000, 100_000], "n": {"10000": 2, "100000": 1}, "warmup": 0}
            got = gateway._drive("latency", spec, tmp_path, timeout=120)
    for size in ("10000", "100000"):
        slot = got["floor"][size]
        assert (slot["plain"]["errors"], slot["stream"]["errors"]) == (0, 0), slot
        assert len(slot["plain"]["total"]) == len(got["direct"][size]["plain"]["total"])
        assert len(slot["stream"]["ttlb"]) == len(got["direct"][size]["stream"]["ttlb"])


def test_floor_says_upstream_errors_as_they_are(tmp_path: Path) -> None:
    """A 404 from the upstream reaches the client with its status and body, through both floors."""
    import httpx2

    with procs.fake_upstream(tmp_path) as upstream, procs.passthrough(tmp_path, upstream.url) as p:
        with procs.floor(tmp_path, upstream.url) as f, httpx2.Client(trust_env=False, timeout=30) as c:
            answers = [c.post(u + "/v1/nothing-here", content=b"{}") for u in (upstream.url, p.url, f.url)]
    assert [r.status_code for r in answers] == [404, 404, 404]
    assert len({r.content for r in answers}) == 1
