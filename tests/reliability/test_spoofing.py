"""Pseudonym spoofing through the real gateway: text that looks like pseudonyms, the client's own or
another tenant's, never comes back as an original the client did not send in that request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from tests.fake_upstream import FakeUpstream
from tests.proxy import MASTER_KEY, Proxy
from tests.reliability.conftest import TENANT_B_KEY, ProxyFactory, Watch
from tests.reliability.support import auth, id_text, messages, sse, stream_text

KINDS = ("ec2", "vpc", "iam", "acct", "arn", "bucket", "secret")
SWEEP = " ".join(f"{k}-{n:03d}" for k in KINDS for n in range(1, 31))


@pytest.fixture(params=["embedded", "redis"])
def proxy(request: pytest.FixtureRequest, fake: FakeUpstream, start_proxy: ProxyFactory) -> Iterator[Proxy]:
    with start_proxy(fake.url, store=request.param) as p:
        yield p


def echo(fake: FakeUpstream, text: str) -> None:
    """The model repeats `text` in prose and in a tool call's arguments."""
    fake.script([{"type": "text", "text": text, "then": {"type": "tool_use", "name": "Bash", "input": {"cmd": text}}}])


def ask(proxy: Proxy, key: str, body: dict[str, Any], watch: Watch) -> str:
    """The whole reply as text (stream or not), for searching."""
    passthrough = {"x-maskgate-key": TENANT_B_KEY, "authorization": "Bearer sk-ant-b"}
    headers = passthrough if key == "passthrough-b" else auth(key)
    r = httpx2.post(proxy.url + "/v1/messages", json=body, headers=headers, timeout=60)
    watch.response(r)
    assert r.status_code == 200, r.text
    if body.get("stream"):
        events = sse(r.text)
        partial = "".join(
            d["delta"].get("partial_json", "") for n, d in events if n == "content_block_delta" and isinstance(d, dict)
        )
        return stream_text(events) + "\n" + partial
    return json.dumps(r.json(), ensure_ascii=False)


def tenant_a_originals(proxy: Proxy, fake: FakeUpstream, watch: Watch, rounds: int = 4) -> list[str]:
    """Tenant A maps several identifiers of every kind; returns them."""
    originals: list[str] = []
    for _ in range(rounds):
        ids = watch.ids()
        originals += ids.values()
        r = httpx2.post(proxy.url + "/v1/messages", json=messages(id_text(ids)), headers=auth(MASTER_KEY))
        assert r.status_code == 200
    fake.clear()
    return originals


@pytest.mark.parametrize("stream", [False, True])
def test_pseudonym_lookalikes_are_never_restored(fake: FakeUpstream, proxy: Proxy, watch: Watch, stream: bool) -> None:
    originals = tenant_a_originals(proxy, fake, watch)
    for key in (MASTER_KEY, TENANT_B_KEY, "passthrough-b"):
        echo(fake, SWEEP)
        reply = ask(proxy, key, messages(f"what are {SWEEP}?", stream), watch)
        leaked = [o for o in originals if o in reply]
        assert not leaked, f"{key[:8]}...: the reply restored originals the client did not send"
        assert "ec2-001" in reply, "the lookalikes should come back as sent"
    # Tenant A's namespace has issued these pseudonyms: its literals are masked as originals of
    # their own (so the provider cannot confuse them with A's values). Tenant B issued none:
    # its literals go out as written, and their numbers are reserved.
    a, b, passthrough_b = (r["body"] for r in fake.requests("/v1/messages"))
    assert SWEEP not in a
    assert SWEEP in b and SWEEP in passthrough_b


def test_only_what_this_request_sent_is_restored(fake: FakeUpstream, proxy: Proxy, watch: Watch) -> None:
    """A sends X and, beside it, the pseudonym its earlier original Y has: X comes back, Y does not."""
    first = watch.ids()
    r = httpx2.post(proxy.url + "/v1/messages", json=messages(f"stop {first['instance']}"), headers=auth())
    assert r.status_code == 200
    y_pseudonym = json.loads(fake.requests("/v1/messages")[-1]["body"])["messages"][0]["content"].split()[-1]
    second = watch.ids()
    for stream in (False, True):
        echo(fake, "{{first:ec2-\\d+}} and {{last:ec2-\\d+}}")
        reply = ask(proxy, MASTER_KEY, messages(f"{y_pseudonym} vs {second['instance']}", stream), watch)
        assert second["instance"] in reply
        assert first["instance"] not in reply and y_pseudonym in reply


def test_tenant_b_cannot_reach_tenant_a_by_any_route(fake: FakeUpstream, proxy: Proxy, watch: Watch) -> None:
    originals = tenant_a_originals(proxy, fake, watch)
    b = httpx2.Client(base_url=proxy.url, headers=auth(TENANT_B_KEY), timeout=60)
    seen: list[str] = []
    body = messages(f"lookup {SWEEP}")
    body["system"] = [{"type": "text", "text": SWEEP}]
    body["tools"] = [{"name": "t", "description": SWEEP, "input_schema": {"type": "object"}}]
    for path in ("/v1/messages", "/v1/messages/count_tokens", "/v1/messages?beta=true"):
        echo(fake, SWEEP)
        seen.append(b.post(path, json=body).text)
    for path in ("/v1/models", "/health", "/metrics", "/", "/v1/nothing"):
        seen.append(b.get(path).text)
    # Tool results and tool inputs written as A's pseudonyms: B's own namespace does not know them.
    body = messages("go")
    body["messages"] = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {SWEEP: SWEEP}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": SWEEP}]},
    ]
    echo(fake, SWEEP)
    seen.append(b.post("/v1/messages", json=body).text)
    b.close()
    everything = "\n".join(seen)
    assert not [o for o in originals if o in everything], "tenant B obtained an original of tenant A"
