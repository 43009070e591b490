"""One behaviour table, run against both providers: the direct Anthropic upstream and a model
routed through LiteLLM (its native Anthropic provider, so both reach the same fake endpoint).
Each row says what the client receives and what the provider saw, whoever serves the model."""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from tests.fake_upstream import FakeUpstream, parse_sse
from tests.gateway.support import new_ids
from tests.proxy import MASTER_KEY, Proxy

pytest.importorskip("litellm", reason="LiteLLM is the optional [litellm] extra (make install puts it in .venv)")
pytestmark = pytest.mark.litellm

TIMEOUT = 2.0  # MASKGATE_UPSTREAM_TIMEOUT: for every provider
DIRECT, ROUTED = "claude-sonnet-4-5", "claude-routed"


@pytest.fixture(scope="module")
def gateway(fake: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    tmp = tmp_path_factory.mktemp("providers")
    config = tmp / "maskgate.toml"
    config.write_text(
        f'[[routes]]\nmodel = "{ROUTED}"\nlitellm_model = "anthropic/claude-sonnet-4-5"\n'
        f'api_base = "{fake.url}"\napi_key = "sk-routed-test"\n',
        encoding="utf-8",
    )
    env = {
        "MASKGATE_CONFIG": str(config),
        "MASKGATE_STORE_KEY": secrets.token_hex(32),
        "MASKGATE_UPSTREAM_TIMEOUT": str(TIMEOUT),
    }
    with Proxy.start(tmp, fake.url, env, timeout=90) as p:
        yield p


@pytest.fixture(params=[DIRECT, ROUTED])
def model(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def ask(gateway: Proxy, model: str, text: str, stream: bool, path: str = "/v1/messages") -> httpx2.Response:
    body: dict[str, Any] = {"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": text}]}
    if path == "/v1/messages":
        body["stream"] = stream
    return httpx2.post(gateway.url + path, json=body, headers={"x-api-key": MASTER_KEY}, timeout=60)


def provider_saw(fake: FakeUpstream, ids: dict[str, str], path: str = "/v1/messages") -> str:
    """The one request the provider got, checked to carry no original."""
    [seen] = fake.requests(path)
    assert all(v not in seen["body"] for v in ids.values()), "an original reached the provider"
    return str(seen["body"])


def anthropic_error(r: httpx2.Response, status: int, kind: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["type"] == "error" and body["error"]["type"] == kind, body


def restored_total(gateway: Proxy) -> float:
    text = httpx2.get(gateway.url + "/metrics").text
    return sum(float(v) for v in re.findall(r"^maskgate_identifiers_restored_total\{[^}]*\} (\S+)$", text, re.M))


def last_request_line(gateway: Proxy, wait: float = 5.0) -> dict[str, Any]:
    """The gateway's last `request` log line that has an outcome (a stream's comes at its end)."""
    deadline = time.monotonic() + wait
    while True:
        lines = [json.loads(x) for x in gateway.logs().splitlines() if x.startswith("{")]
        found = [x for x in lines if x.get("msg") == "request"]
        if found and ("restored" in found[-1] or time.monotonic() > deadline):
            return found[-1]
        time.sleep(0.05)


def test_whole_reply_is_restored_and_counted(fake: FakeUpstream, gateway: Proxy, model: str) -> None:
    ids = new_ids()
    before = restored_total(gateway)
    fake.script([{"type": "text", "text": "Stopped {{first:ec2-\\d+}}."}])
    r = ask(gateway, model, f"stop {ids['instance']}", stream=False)
    assert r.status_code == 200, r.text
    assert r.json()["content"][0]["text"] == f"Stopped {ids['instance']}."
    assert "ec2-" in provider_saw(fake, ids)
    assert restored_total(gateway) == before + 1
    assert sum(last_request_line(gateway)["restored"].values()) == 1


def test_streamed_reply_is_restored_and_counted(fake: FakeUpstream, gateway: Proxy, model: str) -> None:
    ids = new_ids()
    before = restored_total(gateway)
    fake.script([{"type": "text", "text": "Stopped {{first:ec2-\\d+}}.", "chunk": 3}])
    r = ask(gateway, model, f"stop {ids['instance']}", stream=True)
    assert r.status_code == 200, r.text
    events = parse_sse(r.text)
    assert events[-1][0] == "message_stop"
    text = "".join(d["delta"].get("text", "") for n, d in events if n == "content_block_delta")
    assert text == f"Stopped {ids['instance']}."
    provider_saw(fake, ids)
    assert restored_total(gateway) == before + 1
    line = last_request_line(gateway)
    assert sum(line["restored"].values()) == 1 and line["stream"] == "ok"


@pytest.mark.parametrize("stream", [False, True])
def test_provider_error_keeps_its_status_and_retry_headers(
    fake: FakeUpstream, gateway: Proxy, model: str, stream: bool
) -> None:
    ids = new_ids()
    fake.script([{"type": "error", "status": 529, "headers": {"retry-after": "3"}}])
    r = ask(gateway, model, f"look at {ids['vpc']}", stream)
    anthropic_error(r, 529, "overloaded_error")
    assert r.headers["retry-after"] == "3"
    provider_saw(fake, ids)


def test_non_json_reply_is_not_a_gateway_failure(fake: FakeUpstream, gateway: Proxy, model: str) -> None:
    """An HTML page from a proxy in front of the provider: the client gets its status and either
    the page as it came or an Anthropic error, never maskgate's own 500."""
    ids = new_ids()
    page = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    fake.script([{"type": "error", "status": 502, "body": page, "headers": {"content-type": "text/html"}}])
    r = ask(gateway, model, f"look at {ids['instance']}", stream=False)
    assert r.status_code == 502, r.text
    if r.headers["content-type"].startswith("text/html"):
        assert r.text == page
    else:
        anthropic_error(r, 502, "api_error")
    provider_saw(fake, ids)


@pytest.mark.parametrize("stream", [False, True])
def test_no_answer_in_time_is_a_504(fake: FakeUpstream, gateway: Proxy, model: str, stream: bool) -> None:
    ids = new_ids()
    fake.script([{"type": "text", "text": "too late", "headers_delay": TIMEOUT * 3}])
    anthropic_error(ask(gateway, model, f"look at {ids['instance']}", stream), 504, "timeout_error")
    provider_saw(fake, ids)


def test_a_broken_stream_ends_with_an_error_event(fake: FakeUpstream, gateway: Proxy, model: str) -> None:
    ids = new_ids()
    fake.script([{"type": "text", "text": "Working on {{first:ec2-\\d+}} " + "x" * 200, "chunk": 8, "drop_after": 6}])
    r = ask(gateway, model, f"fix {ids['instance']}", stream=True)
    assert r.status_code == 200
    assert r.text.endswith("\n\n"), "the stream ends inside an event"
    events = parse_sse(r.text)
    assert events[-1][0] == "error" and events[-1][1]["error"]["type"] == "api_error"
    assert "message_stop" not in [n for n, _ in events]
    provider_saw(fake, ids)


def test_a_stream_that_ends_early_says_so(fake: FakeUpstream, gateway: Proxy, model: str) -> None:
    """The provider closes the stream cleanly but before message_stop: the client must not take
    the cut answer for a whole one."""
    ids = new_ids()
    start = {
        "type": "message_start",
        "message": {
            "id": "msg_cut",
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": "fake",
            "usage": {"input_tokens": 1, "output_tokens": 1},
        },
    }
    block = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    fake.script(
        [
            {
                "type": "raw",
                "events": [{"event": "message_start", "data": start}, {"event": "content_block_start", "data": block}],
            }
        ]
    )
    r = ask(gateway, model, f"fix {ids['instance']}", stream=True)
    assert r.status_code == 200
    events = parse_sse(r.text)
    assert [n for n, _ in events][:2] == ["message_start", "content_block_start"]
    assert events[-1][0] == "error" and "ended early" in events[-1][1]["error"]["message"]
    provider_saw(fake, ids)


def test_count_tokens_goes_where_the_model_is_routed(fake: FakeUpstream, gateway: Proxy, model: str) -> None:
    ids = new_ids()
    r = ask(gateway, model, f"how long is {ids['instance']}", stream=False, path="/v1/messages/count_tokens")
    assert r.status_code == 200, r.text
    assert r.json()["input_tokens"] > 0
    if model == DIRECT:
        provider_saw(fake, ids, "/v1/messages/count_tokens")
    else:  # counted in the gateway with the route's tokenizer: nothing went to the default upstream
        assert fake.requests() == []
