"""Limits: body size, identifiers per request, string length; each a clear 413 and nothing forwarded."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx2
import pytest

from tests.fake_upstream import FakeUpstream
from tests.proxy import Proxy
from tests.reliability.conftest import ProxyFactory, Watch
from tests.reliability.support import assert_anthropic_error, auth, instance_id, messages

MAX_BODY, MAX_IDS, MAX_STRING = 200_000, 50, 20_000


@pytest.fixture
def proxy(fake: FakeUpstream, start_proxy: ProxyFactory) -> Iterator[Proxy]:
    env = {
        "MASKGATE_MAX_BODY_BYTES": str(MAX_BODY),
        "MASKGATE_MAX_IDENTIFIERS": str(MAX_IDS),
        "MASKGATE_MAX_STRING_BYTES": str(MAX_STRING),
    }
    with start_proxy(fake.url, **env) as p:
        yield p


def post(proxy: Proxy, watch: Watch, **kw: object) -> httpx2.Response:
    r = httpx2.post(proxy.url + "/v1/messages", headers={**auth(), "content-type": "application/json"}, **kw)  # type: ignore[arg-type]
    watch.response(r)
    return r


def store_writes(proxy: Proxy) -> float:
    for line in httpx2.get(proxy.url + "/metrics").text.splitlines():
        if line.startswith('maskgate_store_operations_total{op="get_or_create"}'):
            return float(line.split()[1])
    return 0.0


def test_identifiers_per_request(fake: FakeUpstream, proxy: Proxy, watch: Watch) -> None:
    ids = [instance_id() for _ in range(MAX_IDS + 1)]
    watch.original(*ids)
    writes = store_writes(proxy)
    message = assert_anthropic_error(post(proxy, watch, json=messages(" ".join(ids))), 413, "request_too_large")
    assert "MASKGATE_MAX_IDENTIFIERS" in message and str(MAX_IDS) in message
    assert fake.requests() == [] and store_writes(proxy) == writes, "over the limit, yet the store was written"
    # The same identifier many times is one identifier; exactly at the limit is fine.
    assert post(proxy, watch, json=messages(" ".join(ids[:MAX_IDS] * 3))).status_code == 200


def test_string_length(fake: FakeUpstream, proxy: Proxy, watch: Watch) -> None:
    long = "word " * (MAX_STRING // 5 + 1)
    message = assert_anthropic_error(post(proxy, watch, json=messages(long)), 413, "request_too_large")
    assert "MASKGATE_MAX_STRING_BYTES" in message
    in_a_tool = messages("hi")
    in_a_tool["messages"] = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {"c": long}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}]},
    ]
    assert_anthropic_error(post(proxy, watch, json=in_a_tool), 413)
    assert fake.requests() == []
    # What the model does not read is not scanned, so not limited by it (an image's base64, say).
    image = messages("hi")
    image["messages"][0]["content"] = [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "A" * (MAX_STRING * 2)}},
        {"type": "text", "text": "what is this?"},
    ]
    assert post(proxy, watch, json=image).status_code == 200
    assert post(proxy, watch, json=messages("w" * (MAX_STRING - 10))).status_code == 200


def test_body_size_declared_or_streamed(fake: FakeUpstream, proxy: Proxy, watch: Watch) -> None:
    big = json.dumps(messages("x" * MAX_BODY)).encode()
    assert_anthropic_error(post(proxy, watch, content=big), 413, "request_too_large")

    def chunks() -> Iterator[bytes]:  # no content-length: the limit holds while reading
        for i in range(0, len(big), 8192):
            yield big[i : i + 8192]

    assert_anthropic_error(post(proxy, watch, content=chunks()), 413, "request_too_large")
    assert fake.requests() == []


def test_nesting_depth(fake: FakeUpstream, proxy: Proxy, watch: Watch) -> None:
    deep: object = "i-0123456789abcdef0"
    for _ in range(200):
        deep = [deep]
    body = messages("hi")
    body["messages"][0]["content"] = [{"type": "tool_use", "id": "t", "name": "x", "input": {"a": deep}}]
    message = assert_anthropic_error(post(proxy, watch, json=body), 400, "invalid_request_error")
    assert "deeper" in message
    assert fake.requests() == []
