"""Upstream faults, through a real gateway to a real fake provider: the client always gets a
faithful, well-formed answer, and no connection to the provider is left behind."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from tests.fake_upstream import FakeUpstream
from tests.proxy import Proxy, free_port
from tests.reliability.conftest import ProxyFactory, Watch
from tests.reliability.support import (
    assert_anthropic_error,
    auth,
    id_text,
    messages,
    sse,
    stream_text,
    tcp_connections,
    wait_until,
)

TIMEOUT = "2"  # MASKGATE_UPSTREAM_TIMEOUT for these tests: stalls and slow headers end in seconds


@pytest.fixture
def proxy(fake: FakeUpstream, start_proxy: ProxyFactory) -> Iterator[Proxy]:
    with start_proxy(fake.url, MASKGATE_UPSTREAM_TIMEOUT=TIMEOUT) as p:
        yield p


def post(proxy: Proxy, body: dict[str, Any], watch: Watch) -> httpx2.Response:
    r = httpx2.post(proxy.url + "/v1/messages", json=body, headers=auth(), timeout=60)
    watch.response(r)
    return r


def well_formed_stream(body: str) -> list[tuple[str, Any]]:
    """Every event is complete and its data is JSON; returns the events."""
    assert body.endswith("\n\n"), "the stream ends inside an event"
    events = sse(body)
    assert events and all(isinstance(data, dict) for _, data in events), "an event's data is not JSON"
    assert all(name == data["type"] for name, data in events)
    return events


def upstream_connections(proxy: Proxy, fake: FakeUpstream) -> int:
    return tcp_connections(proxy.proc.pid, fake.port)


def test_connection_refused(start_proxy: ProxyFactory, watch: Watch) -> None:
    ids = watch.ids()
    with start_proxy(f"http://127.0.0.1:{free_port()}") as p:
        for stream in (False, True):
            message = assert_anthropic_error(post(p, messages(id_text(ids), stream), watch), 502, "api_error")
            assert all(v not in message for v in ids.values())


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("status", [429, 500, 529])
def test_errors_with_retry_headers_pass_through(
    fake: FakeUpstream, proxy: Proxy, watch: Watch, status: int, stream: bool
) -> None:
    body = {"type": "error", "error": {"type": "overloaded_error", "message": "busy, retry"}}
    headers = {"retry-after": "3", "x-should-retry": "true", "anthropic-ratelimit-tokens-reset": "2030-01-01T00:00:00Z"}
    fake.script([{"type": "error", "status": status, "body": body, "headers": headers}])
    r = post(proxy, messages(id_text(watch.ids()), stream), watch)
    assert r.status_code == status
    assert r.json() == body
    for k, v in headers.items():
        assert r.headers[k] == v


@pytest.mark.parametrize(
    ("status", "content_type", "text"),
    [
        (502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>"),
        (503, "text/plain", "upstream connect error or disconnect/reset before headers"),
        (500, "application/json", "{not json"),
        (200, "text/html", "<html>captive portal</html>"),
    ],
)
def test_non_json_bodies_pass_through_unchanged(
    fake: FakeUpstream, proxy: Proxy, watch: Watch, status: int, content_type: str, text: str
) -> None:
    fake.script(
        [
            {
                "type": "error",
                "status": status,
                "body": text,
                "headers": {"content-type": content_type, "retry-after": "1"},
            }
        ]
    )
    r = post(proxy, messages(id_text(watch.ids())), watch)
    assert (r.status_code, r.text, r.headers["retry-after"]) == (status, text, "1")
    assert r.headers["content-type"].startswith(content_type)


def test_reset_mid_stream_ends_with_an_error_event(fake: FakeUpstream, proxy: Proxy, watch: Watch) -> None:
    ids = watch.ids()
    fake.script([{"type": "text", "text": "Working on {{first:ec2-\\d+}} " + "x" * 200, "chunk": 8, "drop_after": 6}])
    r = post(proxy, messages(id_text(ids), True), watch)
    assert r.status_code == 200
    events = well_formed_stream(r.text)
    assert events[-1][0] == "error" and events[-1][1]["error"]["type"] == "api_error"
    assert "message_stop" not in [n for n, _ in events]
    assert stream_text(events).startswith(f"Working on {ids['instance']}"[:16])


def test_reset_before_a_non_streamed_body_ends(fake: FakeUpstream, proxy: Proxy, watch: Watch) -> None:
    fake.script([{"type": "text", "text": "y" * 2000, "drop_after": 1}])
    assert_anthropic_error(post(proxy, messages(id_text(watch.ids())), watch), 502, "api_error")


def test_slow_headers(fake: FakeUpstream, proxy: Proxy, watch: Watch) -> None:
    ids = watch.ids()
    fake.script([{"type": "text", "text": "late {{first:ec2-\\d+}}", "headers_delay": 0.3}])
    r = post(proxy, messages(id_text(ids)), watch)
    assert r.status_code == 200 and r.json()["content"][0]["text"] == f"late {ids['instance']}"
    fake.script([{"type": "text", "text": "too late", "headers_delay": float(TIMEOUT) * 3}])
    assert_anthropic_error(post(proxy, messages(id_text(watch.ids()), True), watch), 504, "timeout_error")


def test_stalled_stream_ends_with_an_error_event(fake: FakeUpstream, proxy: Proxy, watch: Watch) -> None:
    ids = watch.ids()
    fake.script([{"type": "text", "text": "Stopping {{first:ec2-\\d+}} now, then more", "chunk": 4, "stall_after": 5}])
    r = post(proxy, messages(id_text(ids), True), watch)
    assert r.status_code == 200
    events = well_formed_stream(r.text)
    assert events[-1][0] == "error"
    assert ids["instance"] not in json.dumps(fake.requests())


def test_stalled_non_streamed_body(fake: FakeUpstream, proxy: Proxy, watch: Watch) -> None:
    fake.script([{"type": "text", "text": "z" * 500, "stall_after": 1}])
    r = post(proxy, messages(id_text(watch.ids())), watch)
    assert r.status_code in (502, 504)
    assert_anthropic_error(r, r.status_code, "api_error")


def test_no_upstream_connection_is_leaked(fake: FakeUpstream, proxy: Proxy, watch: Watch) -> None:
    """Many rounds of every fault, then count the gateway's sockets to the provider: only the
    keep-alive pool's few idle connections may remain, whatever the number of rounds."""

    def round_of_faults() -> None:
        fake.script(
            [
                {"type": "text", "text": "ok " * 50, "chunk": 8, "drop_after": 4},
                {"type": "text", "text": "ok " * 50, "chunk": 8, "stall_after": 3},
                {"type": "error", "status": 529, "headers": {"retry-after": "1"}},
                {"type": "error", "status": 502, "body": "<html>bad</html>", "headers": {"content-type": "text/html"}},
                {"type": "text", "text": "fine", "chunk": 2},
                {"type": "text", "text": "y" * 300, "drop_after": 1},
            ]
        )
        for stream in (True, True, True, False, True, False):
            post(proxy, messages(id_text(watch.ids()), stream), watch)

    round_of_faults()
    after_one = upstream_connections(proxy, fake)
    for _ in range(8):
        round_of_faults()
    # Closing a broken connection is asynchronous: let it settle (a bound, not a measurement).
    assert wait_until(lambda: upstream_connections(proxy, fake) <= max(after_one, 2), limit=20), (
        f"{upstream_connections(proxy, fake)} connections to the provider after 9 rounds, {after_one} after 1"
    )
    metrics = httpx2.get(proxy.url + "/metrics").text
    assert "maskgate_open_streams 0.0" in metrics
