"""Client faults against a real gateway: disconnects cancel the upstream request, slow bodies time
out, and thousands of aborted requests leave the process's memory flat."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator

import httpx2
import pytest

from tests.fake_upstream import FakeUpstream
from tests.proxy import MASTER_KEY, Proxy
from tests.raw_http import drip, open_post
from tests.reliability.conftest import ProxyFactory, Watch
from tests.reliability.support import auth, id_text, messages, rss_bytes, tcp_connections, wait_until

ABORTS = int(os.environ.get("MASKGATE_TEST_ABORTS", "2000"))


@pytest.fixture
def proxy(fake: FakeUpstream, start_proxy: ProxyFactory) -> Iterator[Proxy]:
    with start_proxy(fake.url, MASKGATE_BODY_TIMEOUT="1") as p:
        yield p


def open_streams(proxy: Proxy) -> float:
    for line in httpx2.get(proxy.url + "/metrics").text.splitlines():
        if line.startswith("maskgate_open_streams "):
            return float(line.split()[1])
    raise AssertionError("no maskgate_open_streams")


def raw_request(proxy: Proxy, body: bytes, declared: int | None = None) -> socket.socket:
    """Sends the head and `body` (perhaps fewer bytes than declared) and returns the open socket."""
    return open_post(proxy.port, "/v1/messages", {"x-api-key": MASTER_KEY}, body, declared)


def test_disconnect_mid_stream_cancels_the_upstream_request(fake: FakeUpstream, proxy: Proxy, watch: Watch) -> None:
    fake.script([{"type": "text", "text": "Stopping {{first:ec2-\\d+}} now", "chunk": 4, "stall_after": 4}])
    with httpx2.Client(base_url=proxy.url, headers=auth(), timeout=30) as c:
        with c.stream("POST", "/v1/messages", json=messages(id_text(watch.ids()), True)) as r:
            assert r.status_code == 200
            chunks = r.iter_text()  # kept: dropping a half-read iterator closes the connection
            seen = ""
            while "content_block_start" not in seen:
                seen += next(chunks)
            # The provider is now stalled (for an hour, unless cancelled) on one connection.
            assert tcp_connections(proxy.proc.pid, fake.port) == 1
            assert open_streams(proxy) == 1
    # The client went away: the gateway drops the upstream request with it.
    assert wait_until(lambda: tcp_connections(proxy.proc.pid, fake.port) == 0, limit=30)
    assert wait_until(lambda: open_streams(proxy) == 0, limit=30)
    assert wait_until(lambda: '"stream":"client_gone"' in proxy.logs(), limit=5), "recorded as the client's"


def test_disconnect_before_the_stream_starts_closes_the_upstream_request(
    fake: FakeUpstream, proxy: Proxy, watch: Watch
) -> None:
    """The client gives up while the provider has not answered yet (Esc during a slow first
    token): once the provider's headers come, the relay closes its request and records it as the
    client's going (it was recorded as "ok")."""
    fake.script([{"type": "text", "text": "hello", "headers_delay": 1.5, "stall_after": 2}])
    body = b'{"model":"m","max_tokens":9,"stream":true,"messages":[{"role":"user","content":"hi"}]}'
    sock = raw_request(proxy, body)
    assert wait_until(lambda: len(fake.requests()) == 1, limit=10)
    sock.close()  # gone before the provider's headers
    time.sleep(2.5)  # the headers came; the provider now stalls (for an hour, unless cancelled)
    assert wait_until(lambda: tcp_connections(proxy.proc.pid, fake.port) == 0, limit=15)
    assert wait_until(lambda: '"stream":"client_gone"' in proxy.logs(), limit=5), proxy.logs()[-2000:]
    assert open_streams(proxy) == 0


def test_slow_body_times_out(fake: FakeUpstream, proxy: Proxy, watch: Watch) -> None:
    """Slowloris: a body trickling in, a byte at a time, gets a 408 once MASKGATE_BODY_TIMEOUT passes."""
    ids = watch.ids()
    body = ('{"model":"m","messages":[{"role":"user","content":"' + id_text(ids) + '"}]}').encode()
    reply = drip(proxy.port, "/v1/messages", {"x-api-key": MASTER_KEY}, body, until=b"not received in time")
    assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
    assert b"request body not received in time" in reply
    assert fake.requests() == []


def test_body_shorter_than_declared_then_gone(fake: FakeUpstream, proxy: Proxy, watch: Watch) -> None:
    sock = raw_request(proxy, b'{"model": "m", "messages": [', declared=5000)
    sock.close()
    time.sleep(0.2)
    r = httpx2.post(proxy.url + "/v1/messages", json=messages(id_text(watch.ids())), headers=auth())
    assert r.status_code == 200
    assert len(fake.requests("/v1/messages")) == 1


def test_thousands_of_aborted_requests_leave_memory_flat(fake: FakeUpstream, proxy: Proxy, watch: Watch) -> None:
    """Three ways to abort, over and over, with the same identifiers (so the map does not grow):
    mid-body, mid-stream, and before reading the answer. RSS after the warm-up is the baseline."""
    ids = watch.ids()
    text = id_text(ids)
    body = ('{"model":"m","stream":true,"messages":[{"role":"user","content":"' + text + '"}]}').encode()

    def abort_mid_body() -> None:
        raw_request(proxy, body[: len(body) // 2], declared=len(body)).close()

    def abort_mid_stream() -> None:
        sock = raw_request(proxy, body)
        sock.recv(4096)  # the head and the first events
        sock.close()

    def abort_before_reading() -> None:
        raw_request(proxy, body).close()

    kinds = [abort_mid_body, abort_mid_stream, abort_before_reading]

    def run(count: int) -> None:
        stalls = [{"type": "text", "text": "x" * 64, "chunk": 8, "stall_after": 3}] * (count // len(kinds) + 1)
        fake.script(stalls)
        per_thread = count // 4
        errors: list[BaseException] = []

        def worker(offset: int) -> None:
            try:
                for i in range(per_thread):
                    kinds[(i + offset) % len(kinds)]()
            except BaseException as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
        assert not errors, errors[:3]
        assert wait_until(lambda: open_streams(proxy) == 0, limit=60)
        reached = len(fake.requests("/v1/messages"))
        assert reached >= per_thread * 4 // len(kinds), "the mid-stream aborts never reached the provider"
        fake.clear()

    run(max(300, ABORTS // 6))
    baseline = rss_bytes(proxy.proc.pid)
    run(ABORTS)
    grown = rss_bytes(proxy.proc.pid) - baseline
    # The gateway still works, holds no upstream connection for the aborted requests, and its
    # memory did not grow with the number of requests (a leak of even 10 KiB each would show).
    r = httpx2.post(proxy.url + "/v1/messages", json=messages(text), headers=auth())
    assert r.status_code == 200
    assert wait_until(lambda: tcp_connections(proxy.proc.pid, fake.port) <= 2, limit=30)
    assert grown < max(16 << 20, ABORTS * 5 << 10), f"RSS grew by {grown >> 10} KiB over {ABORTS} aborted requests"
