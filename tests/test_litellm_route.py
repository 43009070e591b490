"""The LiteLLM route against the fake provider on loopback: OpenAI chat and Anthropic upstreams."""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

# Not importorskip: importing litellm here would bypass the route's own lazy import (and the
# offline setting it makes first).
if importlib.util.find_spec("litellm") is None:
    pytest.skip("needs maskgate's 'litellm' extra (LiteLLM)", allow_module_level=True)

from maskgate.providers import litellm_route
from maskgate.providers.litellm_route import LiteLLMRoute, RouteResponse, call

from tests.fake_upstream import FakeUpstream, parse_sse

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.litellm,
    # LiteLLM's own warnings (pydantic about its TypedDicts, pydantic deprecations it triggers):
    # as errors they break its streams from the inside.
    pytest.mark.filterwarnings("ignore::UserWarning:pydantic.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:litellm.*"),
]

SYSTEM = "You are a careful assistant working on account 123456789012."
CLIENT_HEADERS = {
    "Anthropic-Beta": "claude-code-20250219,context-management-2025-06-27",
    "anthropic-version": "2023-06-01",
    "x-api-key": "sk-client-must-not-travel",
    "authorization": "Bearer client-token-must-not-travel",
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeUpstream]:
    with FakeUpstream.start() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeUpstream) -> FakeUpstream:
    server.clear()
    return server


def openai_route(fake: FakeUpstream) -> LiteLLMRoute:
    return LiteLLMRoute("gpt", "openai/gpt-4o", api_base=fake.url + "/v1", api_key="sk-route-openai")


def anthropic_route(fake: FakeUpstream) -> LiteLLMRoute:
    return LiteLLMRoute("claude", "anthropic/claude-sonnet-4-5", api_base=fake.url, api_key="sk-route-anthropic")


def ask(text: str = "hello", stream: bool = True, **extra: Any) -> dict[str, Any]:
    return {
        "model": "client-model-name",
        "max_tokens": 512,
        "stream": stream,
        "system": [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}],
        **extra,
    }


async def collect(resp: RouteResponse) -> tuple[list[bytes], list[tuple[str, Any]]]:
    assert resp.stream is not None, resp.body
    items = [item async for item in resp.stream]
    return items, parse_sse(b"".join(items).decode())


def error_of(resp: RouteResponse) -> dict[str, Any]:
    assert resp.stream is None
    body = json.loads(resp.body)
    assert body["type"] == "error" and set(body["error"]) == {"type", "message"}
    return dict(body["error"])


def block_deltas(events: list[tuple[str, Any]], index: int, field: str) -> list[str]:
    return [
        d["delta"][field]
        for name, d in events
        if name == "content_block_delta" and d["index"] == index and field in d["delta"]
    ]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------- OpenAI chat completions


async def test_openai_non_streamed_text(fake: FakeUpstream) -> None:
    fake.script([{"type": "text", "text": "Hello from a translated provider"}])
    resp = await call(openai_route(fake), ask(stream=False), CLIENT_HEADERS)
    assert resp.status == 200 and resp.stream is None
    assert resp.headers["content-type"] == "application/json"
    message = json.loads(resp.body)
    assert message["type"] == "message" and message["role"] == "assistant"
    assert message["content"] == [{"type": "text", "text": "Hello from a translated provider"}]
    assert message["stop_reason"] == "end_turn"


async def test_openai_streamed_text(fake: FakeUpstream) -> None:
    text = "Streaming through LiteLLM, piece by piece."
    fake.script([{"type": "text", "text": text, "chunk": 3}])
    resp = await call(openai_route(fake), ask(), CLIENT_HEADERS)
    assert resp.status == 200
    assert resp.headers == {"content-type": "text/event-stream"}
    items, events = await collect(resp)
    assert all(item.endswith(b"\n\n") for item in items)
    names = [name for name, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert events[1] == ("content_block_start", {"type": "content_block_start", "index": 0,
                                                 "content_block": {"type": "text", "text": ""}})  # fmt: skip
    assert "".join(block_deltas(events, 0, "text")) == text
    assert len(block_deltas(events, 0, "text")) > 1
    assert dict(events)["message_delta"]["delta"]["stop_reason"] == "end_turn"


async def test_openai_streamed_tool_call_arguments_in_pieces(fake: FakeUpstream) -> None:
    command = {"command": "aws ec2 describe-instances --instance-ids i-0abc1234def567890", "timeout": 30}
    fake.script([{"type": "text", "text": "Let me look.", "then": {"type": "tool_use", "name": "Bash",
                                                                  "input": command}, "chunk": 5}])  # fmt: skip
    resp = await call(openai_route(fake), ask(), CLIENT_HEADERS)
    _, events = await collect(resp)
    starts = [d for name, d in events if name == "content_block_start"]
    assert [s["content_block"]["type"] for s in starts] == ["text", "tool_use"]
    tool = starts[1]
    assert tool["content_block"]["name"] == "Bash" and tool["content_block"]["input"] == {}
    pieces = block_deltas(events, tool["index"], "partial_json")
    assert len(pieces) > 3
    assert "".join(pieces) == json.dumps(command)  # exactly the provider's arguments text
    assert json.loads("".join(pieces)) == command
    assert dict(events)["message_delta"]["delta"]["stop_reason"] == "tool_use"
    assert [name for name, _ in events][-1] == "message_stop"


async def test_openai_request_is_chat_completions_with_system_and_messages(fake: FakeUpstream) -> None:
    body = ask("list my buckets", x_unknown_field=1, api_base="http://127.0.0.1:1", mock_response="no")
    body["thinking"] = {"type": "enabled", "budget_tokens": 2048}  # would switch LiteLLM to /responses
    body["metadata"] = {"user_id": "user_1"}
    body["output_config"] = {"effort": "high"}  # gpt-4o has no reasoning: dropped, not a 400
    resp = await call(openai_route(fake), body, CLIENT_HEADERS)
    await collect(resp)
    [req] = fake.requests()
    assert req["path"] == "/v1/chat/completions"
    sent = req["json"]
    assert sent["model"] == "gpt-4o" and sent["stream"] is True and sent["max_tokens"] == 512
    system, user = sent["messages"]
    assert system["role"] == "system" and SYSTEM in json.dumps(system["content"])
    assert user["role"] == "user" and "list my buckets" in json.dumps(user["content"])
    for field in ("x_unknown_field", "api_base", "mock_response", "thinking", "output_config"):
        assert field not in sent
    headers = req["headers"]
    assert headers["authorization"] == "Bearer sk-route-openai"
    assert "anthropic-beta" not in headers and "x-api-key" not in headers


# ---------------------------------------------------------------- Anthropic-format upstream


async def test_anthropic_stream_is_relayed_as_whole_events(fake: FakeUpstream) -> None:
    fake.script([{"type": "thinking", "thinking": "Checking.", "signature": "sig-1",
                  "then": {"type": "tool_use", "name": "Read", "input": {"path": "/etc/hosts"}},
                  "chunk": 4}])  # fmt: skip
    resp = await call(anthropic_route(fake), ask(), CLIENT_HEADERS)
    assert resp.status == 200 and resp.headers["content-type"] == "text/event-stream"
    items, events = await collect(resp)
    assert all(item.endswith(b"\n\n") for item in items)
    names = [name for name, _ in events]
    assert names[0] == "message_start" and "ping" in names and names[-1] == "message_stop"
    assert events[0][1]["message"]["id"].startswith("msg_fake")  # the upstream's own events
    assert block_deltas(events, 0, "signature") == ["sig-1"]
    assert json.loads("".join(block_deltas(events, 1, "partial_json"))) == {"path": "/etc/hosts"}
    [req] = fake.requests()
    assert req["path"] == "/v1/messages"
    assert req["headers"]["anthropic-beta"] == CLIENT_HEADERS["Anthropic-Beta"]
    assert req["headers"]["anthropic-version"] == "2023-06-01"
    assert req["headers"]["x-api-key"] == "sk-route-anthropic"
    assert "authorization" not in req["headers"]
    sent = req["json"]
    assert sent["model"] == "claude-sonnet-4-5"
    assert sent["system"] == ask()["system"] and sent["messages"] == ask()["messages"]


async def test_anthropic_non_streamed(fake: FakeUpstream) -> None:
    fake.script([{"type": "text", "text": "plain"}])
    resp = await call(anthropic_route(fake), ask(stream=False), {})
    assert resp.status == 200
    message = json.loads(resp.body)
    assert message["id"].startswith("msg_fake") and message["content"] == [{"type": "text", "text": "plain"}]


async def test_anthropic_route_without_api_base_never_uses_anthropic_base_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # In a shell shared with Claude Code, ANTHROPIC_BASE_URL points at the gateway itself.
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:1")
    route = LiteLLMRoute("claude", "anthropic/claude-sonnet-4-5", api_base=None, api_key="k")
    kwargs = litellm_route._acreate_kwargs(route, ask(), {}, "anthropic", True)
    assert kwargs["api_base"] == "https://api.anthropic.com"


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("which", ["openai", "anthropic"])
@pytest.mark.parametrize("stream", [True, False])
async def test_rate_limit_keeps_status_and_retry_after(fake: FakeUpstream, which: str, stream: bool) -> None:
    fake.script([{"type": "error", "status": 429, "headers": {"retry-after": "7"}}])
    route = openai_route(fake) if which == "openai" else anthropic_route(fake)
    resp = await call(route, ask(stream=stream), CLIENT_HEADERS)
    assert resp.status == 429
    assert resp.headers["retry-after"] == "7"
    assert resp.headers["content-type"] == "application/json"
    assert error_of(resp)["type"] == "rate_limit_error"
    assert len(fake.requests()) == 1  # no hidden retries: the client retries by itself


@pytest.mark.parametrize("which", ["openai", "anthropic"])
async def test_overloaded_is_529(fake: FakeUpstream, which: str) -> None:
    fake.script([{"type": "error", "status": 529}])
    route = openai_route(fake) if which == "openai" else anthropic_route(fake)
    resp = await call(route, ask(), {})
    assert resp.status == 529 and error_of(resp)["type"] == "overloaded_error"


@pytest.mark.parametrize("status,kind", [(400, "invalid_request_error"), (401, "authentication_error"),
                                         (500, "api_error")])  # fmt: skip
async def test_status_maps_to_anthropic_error_type(fake: FakeUpstream, status: int, kind: str) -> None:
    fake.script([{"type": "error", "status": status}])
    resp = await call(anthropic_route(fake), ask(), {})
    assert resp.status == status and error_of(resp)["type"] == kind


@pytest.mark.parametrize("which", ["openai", "anthropic"])
async def test_provider_message_shown_unless_it_echoes_the_prompt(fake: FakeUpstream, which: str) -> None:
    route = openai_route(fake) if which == "openai" else anthropic_route(fake)

    def reject(message: str) -> dict[str, Any]:
        if which == "openai":
            body = {"error": {"message": message, "type": "invalid_request_error", "code": None}}
        else:
            body = {"type": "error", "error": {"type": "invalid_request_error", "message": message}}
        return {"type": "error", "status": 400, "body": body}

    fake.script([reject("prompt is too long: 210000 tokens > 200000 maximum")])
    resp = await call(route, ask(), {})
    assert resp.status == 400
    assert "prompt is too long: 210000 tokens > 200000 maximum" in error_of(resp)["message"]

    secret = "the deploy key for arn:aws:iam::123456789012:role/Deployer"
    fake.script([reject('could not parse: {{first:the deploy key[^"]*}}')])
    resp = await call(route, ask(secret), {})
    assert resp.status == 400
    error = error_of(resp)
    assert error["type"] == "invalid_request_error"
    assert "123456789012" not in error["message"] and "deploy key" not in error["message"]
    assert "could not parse" not in error["message"]


@pytest.mark.parametrize("which", ["openai", "anthropic"])
@pytest.mark.parametrize("stream", [True, False])
async def test_connection_refused_is_502_api_error(which: str, stream: bool) -> None:
    base = f"http://127.0.0.1:{closed_port()}"
    route = (
        LiteLLMRoute("gpt", "openai/gpt-4o", api_base=base + "/v1", api_key="k")
        if which == "openai"
        else LiteLLMRoute("claude", "anthropic/claude-sonnet-4-5", api_base=base, api_key="k")
    )
    resp = await call(route, ask(stream=stream), {})
    assert resp.status == 502
    error = error_of(resp)
    assert error["type"] == "api_error" and "127.0.0.1" not in error["message"]


@pytest.mark.parametrize("which", ["openai", "anthropic"])
async def test_stream_cut_mid_way_ends_with_an_error_event(fake: FakeUpstream, which: str) -> None:
    fake.script([{"type": "text", "text": "a long answer that never finishes", "chunk": 2, "drop_after": 6}])
    route = openai_route(fake) if which == "openai" else anthropic_route(fake)
    resp = await call(route, ask(), {})
    assert resp.status == 200
    items, events = await collect(resp)
    assert all(item.endswith(b"\n\n") for item in items)
    assert events[-1][0] == "error" and events[-1][1]["type"] == "error"
    assert "message_stop" not in [name for name, _ in events]


async def test_missing_max_tokens_is_a_400() -> None:
    body = ask()
    del body["max_tokens"]
    resp = await call(LiteLLMRoute("x", "openai/gpt-4o", api_base="http://127.0.0.1:1/v1", api_key="k"), body, {})
    assert resp.status == 400 and error_of(resp)["type"] == "invalid_request_error"


# ---------------------------------------------------------------- what LiteLLM takes, lazy import


def test_forwarded_fields_cover_litellm_native_params() -> None:
    import litellm

    config = litellm.ProviderConfigManager.get_provider_anthropic_messages_config(
        model="claude-sonnet-4-5", provider=litellm.LlmProviders.ANTHROPIC
    )
    supported = set(config.get_supported_anthropic_messages_params("claude-sonnet-4-5"))
    litellm_only = {"model", "reasoning_effort", "safeguards", "compaction"}
    assert supported - litellm_only <= litellm_route.FORWARDED_FIELDS


def test_importing_maskgate_does_not_import_litellm_and_first_calls_import_once() -> None:
    code = """
import asyncio, importlib, sys
calls = []
real = importlib.import_module
def counting(name, *args, **kwargs):
    if name == "litellm" and sys._getframe(1).f_globals["__name__"] == "maskgate.providers.litellm_route":
        calls.append(name)
    return real(name, *args, **kwargs)
importlib.import_module = counting
import maskgate, maskgate.providers.litellm_route as route
assert "litellm" not in sys.modules, "imported at import time"
async def main():
    await asyncio.gather(*(route.preload() for _ in range(4)))
asyncio.run(main())
assert "litellm" in sys.modules and calls == ["litellm"], calls
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("ok")
