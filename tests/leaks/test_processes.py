"""Class 2: several processes on one store. A value one gateway learned from its context is masked
by every other gateway when it comes back bare, on the very next request.

Real processes: 3 `maskgate serve` on one embedded SQLite store, on one Redis and on one Redis
Cluster (a case uses 2 or 3 of them), `uvicorn maskgate.server:app --workers 2` and `maskgate serve
--workers 2`. The processes
live as long as the module; hypothesis draws fresh AWS material for every example, so each example
is the first time any process sees its values. What the provider recorded, every gateway's log,
the store's files and every Redis key must hold no original.
"""

from __future__ import annotations

import json
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fake_upstream import FakeUpstream
from tests.leaks.support import (
    EXAMPLES,
    SHARED_REDIS,
    Aws,
    _forms,
    _redis_dump,
    aws,
    echo_text,
    messages,
    reply_text,
    text,
)
from tests.proxy import MASTER_KEY, Proxy, drop_redis_prefix
from tests.reliability.support import children, local_ports, redis_cluster, redis_server

FEW = settings(EXAMPLES, max_examples=5)
GATEWAYS = 3


def context_text(a: Aws) -> str:
    return f"[default]\naws_secret_access_key = {a.secret}\nAccount {a.account}\n"


def bare_text(a: Aws) -> str:
    return f"the tool printed {a.secret} again; is {a.account} the right one?"


@dataclass
class Fleet:
    """Gateway processes on one store, and where their originals must never be."""

    kind: str
    gateways: list[Proxy]
    data: Path
    redis_url: str | None = None
    redis_prefix: str | None = None
    clients: list[httpx2.Client] = field(default_factory=list)

    def send(self, gateway: Proxy, content: str) -> httpx2.Response:
        """One request on a new connection; the provider answers with the text it saw, so the round
        trip is checked too."""
        with httpx2.Client(base_url=gateway.url, headers={"x-api-key": MASTER_KEY}, timeout=60) as c:
            r = c.post("/v1/messages", json=messages([text(content)]), headers={"connection": "close"})
        assert r.status_code == 200, r.text[:300]
        assert reply_text(r) == content, "the client must get back exactly what it sent"
        return r

    def places(self, fake: FakeUpstream) -> Iterator[tuple[str, str]]:
        for i, req in enumerate(fake.requests()):
            yield f"provider request {i}", req["path"] + "?" + req["query"] + json.dumps(req["headers"]) + req["body"]
        for g in self.gateways:
            yield f"log of {g.url}", g.logs()
        for p in sorted(self.data.rglob("*")):
            if p.is_file():
                yield f"file {p.name}", p.read_bytes().decode("latin-1")
        if self.redis_prefix:
            assert self.redis_url is not None
            yield "redis", _redis_dump(self.redis_prefix, self.redis_url)

    def assert_clean(self, fake: FakeUpstream, originals: list[str]) -> None:
        found = [
            f"{label} holds {o[:4]}... (as {form[:8]}...)"
            for label, content in self.places(fake)
            for o in originals
            for form in _forms(o)
            if form in content
        ]
        assert not found, "originals leaked:\n" + "\n".join(found)


def _serve(port: int) -> list[str]:
    return [str(Path(sys.executable).parent / "maskgate"), "serve", "--port", str(port)]


def _workers(port: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "maskgate.server:app", "--port", str(port), "--workers", "2"]


def _serve_workers(port: int) -> list[str]:
    return [*_serve(port), "--workers", "2"]


@pytest.fixture(scope="module")
def fleet(
    request: pytest.FixtureRequest, fake: FakeUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fleet]:
    kind = request.param
    base = tmp_path_factory.mktemp(f"processes-{kind}")
    data = base / "data"
    env = {"MASKGATE_STORE_KEY": secrets.token_hex(32), "MASKGATE_HOME": str(data)}
    url = prefix = None
    with ExitStack() as stack:
        if kind in ("redis", "redis-cluster"):
            if kind == "redis":
                url = SHARED_REDIS
            else:
                if redis_server() is None:
                    pytest.skip("redis-server is not installed")
                ports = stack.enter_context(redis_cluster(base / "cluster"))
                url = f"redis+cluster://127.0.0.1:{ports[0]}"
            prefix = f"mgprocs-{secrets.token_hex(4)}:"
            env |= {"MASKGATE_REDIS_URL": url, "MASKGATE_REDIS_PREFIX": prefix}
            if kind == "redis":
                stack.callback(drop_redis_prefix, prefix)
        count, command = {"workers": (1, _workers), "serve-workers": (1, _serve_workers)}.get(kind, (GATEWAYS, _serve))
        gateways = []
        for i in range(count):
            home = base / f"gateway-{i}"
            home.mkdir()
            gateways.append(stack.enter_context(Proxy.start(home, fake.url, env, command=command)))
        yield Fleet(kind, gateways, data, url, prefix)


@pytest.mark.parametrize("fleet", ["embedded", "redis", "redis-cluster"], indirect=True, scope="module")
@pytest.mark.parametrize("count", [2, 3])
@FEW
@given(a=aws, first=st.integers(0, GATEWAYS - 1))
def test_learned_by_one_gateway_masked_bare_by_the_others(
    fleet: Fleet, fake: FakeUpstream, count: int, a: Aws, first: int
) -> None:
    fake.clear()
    order = [fleet.gateways[(first + i) % count] for i in range(count)]
    fake.script([echo_text("/messages/0/content/0/text")] * count)
    fleet.send(order[0], context_text(a))
    for gateway in order[1:]:
        fleet.send(gateway, bare_text(a))
    recorded = fake.requests()
    assert len(recorded) == count
    fleet.assert_clean(fake, [a.secret, a.account])


@pytest.mark.parametrize("fleet", ["workers", "serve-workers"], indirect=True, scope="module")
@FEW
@given(a=aws)
def test_learned_by_one_worker_masked_bare_by_the_other(fleet: Fleet, fake: FakeUpstream, a: Aws) -> None:
    """Two workers (uvicorn's, `maskgate serve`'s): the kernel picks the worker, so bare requests go
    on new connections until one was served by the other worker (told apart by their connections
    to the provider)."""
    [gateway] = fleet.gateways
    fake.clear()
    fake.script([echo_text("/messages/0/content/0/text")] * 60)
    fleet.send(gateway, context_text(a))
    learner = worker_of(gateway, fake.requests()[-1]["peer"], fake.port)
    other = None
    for _ in range(40):
        fleet.send(gateway, bare_text(a))
        worker = worker_of(gateway, fake.requests()[-1]["peer"], fake.port)
        if worker != learner:
            other = worker
            break
        time.sleep(0.02)
    assert other is not None, "every request went to the worker that learned the value"
    fleet.assert_clean(fake, [a.secret, a.account])


def worker_of(gateway: Proxy, peer: int, provider_port: int) -> int:
    """The worker process whose connection to the provider has local port `peer`."""
    owners = [pid for pid in children(gateway.proc.pid) if peer in local_ports(pid, provider_port)]
    assert len(owners) == 1, f"no single worker owns the provider connection ({owners})"
    return owners[0]
