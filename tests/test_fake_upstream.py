"""Tests for the fake model provider itself (tests/fake_upstream.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from tests.fake_upstream import FakeUpstream, parse_sse, schema_instance, substitute

TITLE_SCHEMA = {
    "type": "object",
    "properties": {"title": {"type": "string"}},
    "required": ["title"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def server() -> Iterator[FakeUpstream]:
    with FakeUpstream.start() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeUpstream) -> FakeUpstream:
    server.clear()
    return server


def post(fake: FakeUpstream, body: dict[str, Any], path: str = "/v1/messages", **kw: Any) -> httpx2.Response:
    return httpx2.post(fake.url + path, json=body, timeout=10, **kw)


def ask(stream: bool = True, text: str = "hi", **extra: Any) -> dict[str, Any]:
    messages = [{"role": "user", "content": text}]
    return {"model": "claude-test", "max_tokens": 100, "stream": stream, "messages": messages, **extra}


def names(events: list[tuple[str, Any]]) -> list[str]:
    return [name for name, _ in events]


def deltas(events: list[tuple[str, Any]], index: int, field: str) -> list[str]:
    return [
        d["delta"][field]
        for n, d in events
        if n == "content_block_delta" and d["index"] == index and field in d["delta"]
    ]


def test_stream_text_has_the_real_event_shapes(fake: FakeUpstream) -> None:
    fake.script([{"type": "text", "text": "Hello from the fake upstream", "chunk": 5}])
    resp = post(fake, ask())
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert "event: message_start\ndata: {" in resp.text
    events = parse_sse(resp.text)
    assert names(events) == [
        "message_start",
        "content_block_start",
        "ping",
        *["content_block_delta"] * 6,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert all(data["type"] == name for name, data in events)
    start = events[0][1]["message"]
    assert start["role"] == "assistant" and start["model"] == "claude-test" and start["content"] == []
    assert start["stop_reason"] is None and start["usage"]["input_tokens"] > 0
    assert events[1][1]["content_block"] == {"type": "text", "text": ""}
    assert "".join(deltas(events, 0, "text")) == "Hello from the fake upstream"
    message_delta = events[-2][1]
    assert message_delta["delta"]["stop_reason"] == "end_turn" and "output_tokens" in message_delta["usage"]


def test_tool_use_json_split_at_every_offset(fake: FakeUpstream) -> None:
    tool_input = {"command": "aws ec2 describe-instances --instance-ids i-0123456789abcdef0", "n": '"é\\'}
    fake.script([{"type": "tool_use", "name": "Bash", "input": tool_input, "chunk": 1}])
    events = parse_sse(post(fake, ask()).text)
    start = events[1][1]["content_block"]
    assert start["type"] == "tool_use" and start["name"] == "Bash" and start["input"] == {}
    assert start["id"].startswith("toolu_")
    fragments = deltas(events, 0, "partial_json")
    whole = json.dumps(tool_input, ensure_ascii=False)
    assert fragments == [""] + list(whole)  # an empty first fragment, then one character each
    assert json.loads("".join(fragments)) == tool_input
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


def test_thinking_then_text_then_tool(fake: FakeUpstream) -> None:
    reply = {
        "type": "thinking",
        "thinking": "Let me think about this.",
        "signature": "sig-abc",
        "then": {"type": "text", "text": "Running it.", "then": {"type": "tool_use", "name": "Bash"}},
    }
    fake.script([reply])
    events = parse_sse(post(fake, ask()).text)
    starts = [d["content_block"]["type"] for n, d in events if n == "content_block_start"]
    assert starts == ["thinking", "text", "tool_use"]
    assert "".join(deltas(events, 0, "thinking")) == "Let me think about this."
    assert deltas(events, 0, "signature") == ["sig-abc"]
    assert "".join(deltas(events, 1, "text")) == "Running it."
    assert json.loads("".join(deltas(events, 2, "partial_json"))) == {}


def test_non_stream_message(fake: FakeUpstream) -> None:
    fake.script([{"type": "text", "text": "plain", "then": {"type": "tool_use", "name": "Read", "input": {"a": 1}}}])
    body = post(fake, ask(stream=False)).json()
    assert body["type"] == "message" and body["role"] == "assistant" and body["stop_reason"] == "tool_use"
    assert body["content"][0] == {"type": "text", "text": "plain"}
    assert body["content"][1]["input"] == {"a": 1}
    assert post(fake, ask(stream=False)).json()["content"] == [{"type": "text", "text": "OK"}]


def test_records_requests_and_clears(fake: FakeUpstream) -> None:
    resp = post(fake, ask(text="héllo"), path="/v1/messages?beta=true", headers={"x-api-key": "k1"})
    assert resp.status_code == 200
    httpx2.head(fake.url + "/")
    [first, second] = fake.requests()
    assert first["method"] == "POST" and first["path"] == "/v1/messages" and first["query"] == "beta=true"
    assert first["headers"]["x-api-key"] == "k1"
    assert first["json"]["messages"][0]["content"] == "héllo"
    assert json.loads(first["body"]) == first["json"]
    assert second["method"] == "HEAD" and second["path"] == "/"
    assert len(fake.requests("/v1/messages")) == 1
    fake.clear()
    assert fake.requests() == []


def test_default_reply_matches_stream_mode(fake: FakeUpstream) -> None:
    events = parse_sse(post(fake, ask()).text)
    assert "".join(deltas(events, 0, "text")) == "OK"


def test_when_fifo_and_substitution(fake: FakeUpstream) -> None:
    fake.script(
        [
            {
                "type": "text",
                "text": "second turn saw {{first:ec2-\\d{3}}} and {{last:ec2-\\d{3}}}",
                "when": "turn-2",
            },
            {"type": "text", "text": "first"},
            {"type": "text", "text": "third"},
        ]
    )

    def text_of(resp: httpx2.Response) -> str:
        return "".join(deltas(parse_sse(resp.text), 0, "text"))

    assert text_of(post(fake, ask(text="turn-1"))) == "first"
    assert text_of(post(fake, ask(text="turn-2 ec2-001 ec2-002"))) == "second turn saw ec2-001 and ec2-002"
    assert text_of(post(fake, ask())) == "third"
    assert text_of(post(fake, ask())) == "OK"


def test_substitute_keeps_unmatched_and_handles_braces() -> None:
    body = '{"x": "ec2-004 i-0abc"}'
    assert substitute({"a": ["{{first:ec2-\\d{3}}}!"]}, body) == {"a": ["ec2-004!"]}
    assert substitute("{{first:nope-\\d+}}", body) == "{{first:nope-\\d+}}"


def test_structured_output_side_call_gets_schema_json(fake: FakeUpstream) -> None:
    fake.script([{"type": "text", "text": "main reply"}])
    title_call = ask(output_config={"effort": "medium", "format": {"type": "json_schema", "schema": TITLE_SCHEMA}})
    events = parse_sse(post(fake, title_call).text)
    assert json.loads("".join(deltas(events, 0, "text"))) == {"title": "OK"}
    events = parse_sse(post(fake, ask()).text)  # the scripted reply was kept for the real turn
    assert "".join(deltas(events, 0, "text")) == "main reply"
    fake.script([{"type": "text", "text": '{"title": "Scripted"}', "when": "json_schema"}])
    assert json.loads(post(fake, dict(title_call, stream=False)).json()["content"][0]["text"]) == {"title": "Scripted"}


def test_schema_instance() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "integer"},
            "b": {"enum": ["x", "y"]},
            "c": {"type": ["null", "boolean"]},
            "d": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        },
    }
    assert schema_instance(schema) == {"a": 0, "b": "x", "c": False, "d": ["OK"]}


def test_error_reply_carries_status_headers_and_body(fake: FakeUpstream) -> None:
    fake.script(
        [
            {"type": "error", "status": 429, "headers": {"retry-after": "7", "x-should-retry": "true"}},
            {"type": "error", "status": 529, "body": "upstream exploded"},
            {"type": "error", "status": 500},
        ]
    )
    resp = post(fake, ask())
    assert resp.status_code == 429
    assert resp.headers["retry-after"] == "7" and resp.headers["x-should-retry"] == "true"
    assert resp.json() == {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": "fake upstream error 429"},
    }
    resp = post(fake, ask())
    assert resp.status_code == 529 and resp.text == "upstream exploded"
    resp = post(fake, ask(), path="/v1/chat/completions")
    assert resp.status_code == 500 and resp.json()["error"]["type"] == "api_error"


def test_ping_every(fake: FakeUpstream) -> None:
    fake.script([{"type": "text", "text": "abcdef", "chunk": 1, "ping_every": 2}])
    events = names(parse_sse(post(fake, ask()).text))
    assert events.count("ping") == 5  # after events 2, 4, 6, 8, 10 of 11
    assert events[2] == "ping" and events[-1] == "message_stop"


def test_drop_after_closes_mid_stream(fake: FakeUpstream) -> None:
    fake.script([{"type": "text", "text": "abcdefgh", "chunk": 1, "drop_after": 4}])
    received = b""
    with pytest.raises(httpx2.RemoteProtocolError):
        with httpx2.stream("POST", fake.url + "/v1/messages", json=ask(), timeout=10) as resp:
            for piece in resp.iter_raw():
                received += piece
    assert names(parse_sse(received.decode())) == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
    ]


def test_stall_after_keeps_connection_open(fake: FakeUpstream) -> None:
    fake.script([{"type": "text", "text": "abc", "stall_after": 2}])
    received = b""
    started = time.monotonic()
    with pytest.raises(httpx2.ReadTimeout):
        with httpx2.stream("POST", fake.url + "/v1/messages", json=ask(), timeout=httpx2.Timeout(10, read=0.5)) as r:
            for piece in r.iter_raw():
                received += piece
    assert time.monotonic() - started >= 0.5
    assert names(parse_sse(received.decode())) == ["message_start", "content_block_start"]


def test_delays_and_extra_headers(fake: FakeUpstream) -> None:
    fake.script(
        [
            {
                "type": "text",
                "text": "ab",
                "chunk": 1,
                "delay": 0.05,
                "headers_delay": 0.3,
                "headers": {"x-a": "1"},
            }
        ]
    )
    started = time.monotonic()
    resp = post(fake, ask())
    assert time.monotonic() - started >= 0.3 + 6 * 0.05
    assert resp.headers["x-a"] == "1" and resp.headers["request-id"].startswith("req_")


def test_non_stream_drop(fake: FakeUpstream) -> None:
    fake.script([{"type": "text", "text": "x" * 200, "drop_after": 3}])
    with pytest.raises(httpx2.RemoteProtocolError):
        post(fake, ask(stream=False))


def test_raw_events_pass_verbatim(fake: FakeUpstream) -> None:
    fake.script([{"type": "raw", "events": [{"event": "brand_new", "data": {"type": "brand_new"}}, {"data": "x"}]}])
    assert post(fake, ask()).text == 'event: brand_new\ndata: {"type":"brand_new"}\n\ndata: x\n\n'


def test_openai_stream_with_tool_calls(fake: FakeUpstream) -> None:
    tool_input = {"command": "echo i-0123456789abcdef0"}
    fake.script(
        [
            {
                "type": "text",
                "text": "Sure.",
                "chunk": 2,
                "then": {"type": "tool_use", "name": "Bash", "input": tool_input},
            }
        ]
    )
    body = {"model": "gpt-x", "stream": True, "stream_options": {"include_usage": True}, "messages": []}
    resp = post(fake, body, path="/v1/chat/completions")
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert "event:" not in resp.text and resp.text.endswith("data: [DONE]\n\n")
    chunks = [data for _, data in parse_sse(resp.text)][:-1]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    choices = [c["choices"][0] for c in chunks if c["choices"]]
    assert "".join(ch["delta"].get("content") or "" for ch in choices) == "Sure."
    calls = [tc for ch in choices for tc in ch["delta"].get("tool_calls", [])]
    assert calls[0]["function"]["name"] == "Bash" and calls[0]["id"]
    assert len(calls) > 2
    assert json.loads("".join(tc["function"]["arguments"] for tc in calls)) == tool_input
    assert choices[-1]["finish_reason"] == "tool_calls"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0


def test_openai_non_stream(fake: FakeUpstream) -> None:
    fake.script([{"type": "tool_use", "name": "Bash", "input": {"command": "ls"}}])
    body = post(fake, {"model": "gpt-x", "messages": []}, path="/v1/chat/completions").json()
    message = body["choices"][0]["message"]
    assert body["object"] == "chat.completion" and body["choices"][0]["finish_reason"] == "tool_calls"
    assert json.loads(message["tool_calls"][0]["function"]["arguments"]) == {"command": "ls"}
    body = post(fake, {"model": "gpt-x", "messages": []}, path="/v1/chat/completions").json()
    assert body["choices"][0]["message"]["content"] == "OK"


def test_side_endpoints(fake: FakeUpstream) -> None:
    assert httpx2.head(fake.url + "/").status_code == 200
    assert httpx2.head(fake.url + "/api/hello").status_code == 200
    assert post(fake, ask(), path="/v1/messages/count_tokens").json()["input_tokens"] > 0
    models = httpx2.get(fake.url + "/v1/models?limit=1000").json()
    assert models["data"] and models["has_more"] is False
    assert httpx2.get(fake.url + "/nope").status_code == 404
    assert [r["path"] for r in fake.requests()] == [
        "/",
        "/api/hello",
        "/v1/messages/count_tokens",
        "/v1/models",
        "/nope",
    ]
