"""A fake model provider for tests and benchmarks.

Speaks the Anthropic Messages API (``POST /v1/messages``, stream and non-stream, the real SSE
event shapes) and OpenAI chat completions (``POST /v1/chat/completions``), records every request,
and answers from a FIFO script of replies pushed through ``POST /_fake/script``.

Run it: ``python tests/fake_upstream.py --host 127.0.0.1 --port 0`` prints ``READY <port>``.
From Python: ``with FakeUpstream.start() as fake: fake.script([...]); ...; fake.requests()``.

A reply spec is a JSON object:

- ``{"type": "text", "text": "..."}``
- ``{"type": "tool_use", "name": "Bash", "input": {...}, "id": "toolu_..."}`` (id optional)
- ``{"type": "thinking", "thinking": "...", "signature": "..."}``; ``{"type": "redacted_thinking",
  "data": "..."}``
- ``{"type": "error", "status": 429, "body": <json or str>, "headers": {...}}``; the default body is
  the real API's error shape for that status.
- ``{"type": "raw", "events": [{"event": "name", "data": <json or str>}, ...]}``: these SSE events
  verbatim (always streamed).

Content replies chain with ``"then": <reply>`` (e.g. thinking, then text, then tool_use); the stop
reason is ``tool_use`` when a tool_use block is present (override with ``"stop_reason"``).
Options read from the outermost reply: ``when`` (only for a request whose raw body contains this
substring), ``chunk`` (delta size in characters, default 16, 0 = one delta), ``delay`` (seconds
between events), ``ping_every`` (a ping after every k events; default one ping after the first
content_block_start, like the real API), ``drop_after`` (close the connection abruptly after k
events), ``stall_after`` (stop sending after k events, keep the connection open), ``headers_delay``
(seconds before the response headers), ``headers`` (extra response headers). A non-stream reply
with ``drop_after``/``stall_after`` sends half of its body first (none when k is 0).

Strings in a reply may hold ``{{first:REGEX}}`` / ``{{last:REGEX}}``: the first / last match of
REGEX in the raw request body (left as is when nothing matches), and ``{{field:POINTER}}``: the
value at that JSON pointer (RFC 6901) of the parsed request, e.g. ``{{field:/messages/0/content}}``
(a string that is only the placeholder becomes the value itself, of any JSON type; a placeholder
inside a longer string becomes the value's text). The echo of exactly what the provider saw.

Requests that match no scripted reply get a default reply: ``OK``, or for a structured-output
request (``output_config.format`` / ``response_format`` with a JSON schema) a JSON text that
satisfies the schema, e.g. ``{"title": "OK"}``. Scripted replies without ``when`` are not used for
structured-output requests (Claude Code's title generation and similar side calls): give those a
``when`` to script them.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

Json = Any
Event = tuple[str, Json]  # (SSE event name, data); name "" means a data-only line

DEFAULT_CHUNK = 16
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
_SUBST = re.compile(r"\{\{(first|last):(.+?)\}\}(?!\})", re.S)
_FIELD = re.compile(r"\{\{field:(/[^}]*)\}\}")
_MISSING = object()


class DroppedConnection(Exception):
    """Raised inside a response body to make uvicorn close the connection mid-response."""


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while exc is not None:
            if isinstance(exc, DroppedConnection):
                return False
            inner = getattr(exc, "exceptions", None)  # ExceptionGroup from a task group
            exc = inner[0] if inner else exc.__cause__ or exc.__context__
        return True


# ---------------------------------------------------------------- reply building (pure functions)


def pointer(doc: Json, ptr: str) -> Json:
    """The value at a JSON pointer (RFC 6901), or ``_MISSING``."""
    node = doc
    for token in ptr.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return _MISSING
    return node


def substitute(value: Json, body: str, parsed: Json = None) -> Json:
    """Replace ``{{first:RE}}`` / ``{{last:RE}}`` in every string of ``value`` with matches in body,
    and ``{{field:POINTER}}`` with the value at that pointer of the parsed body."""

    def repl(m: re.Match[str]) -> str:
        found = [x.group(0) for x in re.finditer(m.group(2), body)]
        if not found:
            return m.group(0)
        return found[0] if m.group(1) == "first" else found[-1]

    def field(m: re.Match[str]) -> str:
        found = pointer(parsed, m.group(1))
        if found is _MISSING:
            return m.group(0)
        return found if isinstance(found, str) else json.dumps(found, ensure_ascii=False)

    if isinstance(value, str):
        whole = _FIELD.fullmatch(value)
        if whole and (found := pointer(parsed, whole.group(1))) is not _MISSING:
            return found
        return _FIELD.sub(field, _SUBST.sub(repl, value))
    if isinstance(value, list):
        return [substitute(v, body, parsed) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, body, parsed) for k, v in value.items()}
    return value


def schema_instance(schema: Json) -> Json:
    """A small value satisfying a JSON schema (enough for structured-output side calls)."""
    if not isinstance(schema, dict):
        return "OK"
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return schema_instance(schema[key][0])
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: schema_instance(sub) for name, sub in props.items()}
    if kind == "array":
        return [schema_instance(schema.get("items", {})) for _ in range(schema.get("minItems", 0))]
    return {"string": "OK", "integer": 0, "number": 0, "boolean": False, "null": None}.get(kind, "OK")


def output_schema(body: Json) -> Json | None:
    """The JSON schema a structured-output request asks for (Anthropic or OpenAI shape), if any."""
    if not isinstance(body, dict):
        return None
    fmt = (body.get("output_config") or {}).get("format") or body.get("output_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        return fmt.get("schema", {})
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        return (fmt.get("json_schema") or {}).get("schema", {})
    return None


def default_reply(body: Json) -> dict[str, Any]:
    schema = output_schema(body)
    if schema is not None:
        return {"type": "text", "text": json.dumps(schema_instance(schema))}
    return {"type": "text", "text": "OK"}


def build_blocks(spec: dict[str, Any], ids: Iterator[int]) -> list[dict[str, Any]]:
    """The content blocks (final Anthropic shape) of a reply and its ``then`` chain."""
    kind = spec.get("type", "text")
    if kind == "text":
        block: dict[str, Any] = {"type": "text", "text": spec.get("text", "")}
    elif kind == "tool_use":
        tool_id = spec.get("id") or f"toolu_fake{next(ids):04d}"
        block = {"type": "tool_use", "id": tool_id, "name": spec["name"], "input": spec.get("input", {})}
    elif kind == "thinking":
        block = {
            "type": "thinking",
            "thinking": spec.get("thinking", ""),
            "signature": spec.get("signature", ""),
        }
    elif kind == "redacted_thinking":
        block = {"type": "redacted_thinking", "data": spec.get("data", "")}
    else:
        raise ValueError(f"unknown reply type {kind!r}")
    then = spec.get("then")
    return [block] + (build_blocks(then, ids) if then else [])


def pieces(text: str, chunk: int) -> list[str]:
    if chunk <= 0 or not text:
        return [text]
    return [text[i : i + chunk] for i in range(0, len(text), chunk)]


def tool_json(block: dict[str, Any]) -> str:
    return json.dumps(block["input"], ensure_ascii=False)


def stop_reason(spec: dict[str, Any], blocks: list[dict[str, Any]]) -> str:
    if "stop_reason" in spec:
        return str(spec["stop_reason"])
    return "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"


def _usage(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output_tokens,
    }


def _block_start_and_deltas(block: dict[str, Any], chunk: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    kind = block["type"]
    if kind == "text":
        deltas = [{"type": "text_delta", "text": p} for p in pieces(block["text"], chunk) if p]
        return {"type": "text", "text": ""}, deltas
    if kind == "tool_use":
        start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
        parts = [""] + pieces(tool_json(block), chunk)  # the real API opens with an empty fragment
        return start, [{"type": "input_json_delta", "partial_json": p} for p in parts]
    if kind == "thinking":
        deltas = [{"type": "thinking_delta", "thinking": p} for p in pieces(block["thinking"], chunk) if p]
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
        return {"type": "thinking", "thinking": "", "signature": ""}, deltas
    return dict(block), []  # redacted_thinking arrives whole


def anthropic_message(
    spec: dict[str, Any], blocks: list[dict[str, Any]], model: str, msg_id: str, input_tokens: int
) -> dict[str, Any]:
    out = sum(len(b.get("text", "") or b.get("thinking", "")) for b in blocks) // 4 + 1
    return {
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": blocks,
        "stop_reason": stop_reason(spec, blocks),
        "stop_sequence": None,
        "usage": _usage(input_tokens, out),
    }


def anthropic_events(
    spec: dict[str, Any], blocks: list[dict[str, Any]], model: str, msg_id: str, input_tokens: int
) -> list[Event]:
    """The SSE events of a streamed Messages reply, without pings."""
    final = anthropic_message(spec, blocks, model, msg_id, input_tokens)
    start = dict(final, content=[], stop_reason=None, usage=_usage(input_tokens, 1))
    chunk = int(spec.get("chunk", DEFAULT_CHUNK))
    events: list[Event] = [("message_start", {"type": "message_start", "message": start})]
    for index, block in enumerate(blocks):
        first, deltas = _block_start_and_deltas(block, chunk)
        events.append(("content_block_start", {"type": "content_block_start", "index": index, "content_block": first}))
        for delta in deltas:
            events.append(("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": final["stop_reason"], "stop_sequence": None},
                "usage": {"output_tokens": final["usage"]["output_tokens"]},
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def with_pings(events: list[Event], ping_every: int | None, ping: Event) -> list[Event]:
    """Insert pings: after every k events, or by default one after the first content_block_start."""
    out: list[Event] = []
    pinged = False
    for n, event in enumerate(events, 1):
        out.append(event)
        if ping_every is None and event[0] == "content_block_start" and not pinged:
            out.append(ping)
            pinged = True
        elif ping_every and n % ping_every == 0 and n < len(events):
            out.append(ping)
    return out


def _finish_reason(reason: str) -> str:
    return {"tool_use": "tool_calls", "end_turn": "stop", "max_tokens": "length"}.get(reason, reason)


def openai_message(
    spec: dict[str, Any], blocks: list[dict[str, Any]], model: str, msg_id: str, input_tokens: int
) -> dict[str, Any]:
    text = "".join(b["text"] for b in blocks if b["type"] == "text")
    calls = [
        {"id": b["id"], "type": "function", "function": {"name": b["name"], "arguments": tool_json(b)}}
        for b in blocks
        if b["type"] == "tool_use"
    ]
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    reasoning = "".join(b["thinking"] for b in blocks if b["type"] == "thinking")
    if reasoning:
        message["reasoning_content"] = reasoning
    if calls:
        message["tool_calls"] = calls
    out = len(text) // 4 + 1
    return {
        "id": msg_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": _finish_reason(stop_reason(spec, blocks))}],
        "usage": {
            "prompt_tokens": input_tokens,
            "completion_tokens": out,
            "total_tokens": input_tokens + out,
        },
    }


def openai_events(
    spec: dict[str, Any],
    blocks: list[dict[str, Any]],
    model: str,
    msg_id: str,
    input_tokens: int,
    include_usage: bool,
) -> list[Event]:
    """The ``data:`` chunks of a streamed chat completion, ending with ``[DONE]``."""
    final = openai_message(spec, blocks, model, msg_id, input_tokens)
    chunk = int(spec.get("chunk", DEFAULT_CHUNK))

    def frame(delta: dict[str, Any], finish: str | None = None) -> Event:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return (
            "",
            {
                "id": msg_id,
                "object": "chat.completion.chunk",
                "created": final["created"],
                "model": model,
                "choices": [choice],
            },
        )

    events = [frame({"role": "assistant", "content": ""})]
    calls = 0
    for block in blocks:
        if block["type"] == "text":
            events += [frame({"content": p}) for p in pieces(block["text"], chunk) if p]
        elif block["type"] == "thinking":
            events += [frame({"reasoning_content": p}) for p in pieces(block["thinking"], chunk) if p]
        elif block["type"] == "tool_use":
            head = {
                "index": calls,
                "id": block["id"],
                "type": "function",
                "function": {"name": block["name"], "arguments": ""},
            }
            events.append(frame({"tool_calls": [head]}))
            events += [
                frame({"tool_calls": [{"index": calls, "function": {"arguments": p}}]})
                for p in pieces(tool_json(block), chunk)
            ]
            calls += 1
    events.append(frame({}, final["choices"][0]["finish_reason"]))
    if include_usage:
        events.append(("", dict(events[-1][1], choices=[], usage=final["usage"])))
    events.append(("", "[DONE]"))
    return events


def error_body(status: int, body: Json, openai: bool) -> Json:
    if body is not None:
        return body
    kind = ERROR_TYPES.get(status, "api_error")
    message = f"fake upstream error {status}"
    if openai:
        return {"error": {"message": message, "type": kind, "param": None, "code": str(status)}}
    return {"type": "error", "error": {"type": kind, "message": message}}


def encode_event(event: Event) -> bytes:
    name, data = event
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if name == ":":
        return f": {text}\n\n".encode()
    return (f"event: {name}\n" if name else "").encode() + f"data: {text}\n\n".encode()


def parse_sse(text: str) -> list[Event]:
    """Split an SSE body into (event name, data) pairs; data is parsed JSON when it parses."""
    events: list[Event] = []
    for frame in text.replace("\r\n", "\n").split("\n\n"):
        name, data = "", []
        for line in frame.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
            elif line.startswith(":") and line[1:].strip():
                name, data = ":", [line[1:].strip()]
        if not data:
            continue
        joined = "\n".join(data)
        try:
            events.append((name, json.loads(joined)))
        except ValueError:
            events.append((name, joined))
    return events


# ---------------------------------------------------------------- the app


class FakeState:
    """What one fake server remembers: the requests it got and the replies still scripted."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: list[dict[str, Any]] = []
        self.ids = itertools.count(1)

    def take_reply(self, body_text: str, parsed: Json) -> dict[str, Any] | None:
        side_call = output_schema(parsed) is not None
        for i, spec in enumerate(self.script):
            when = spec.get("when")
            if (when is None and not side_call) or (when is not None and when in body_text):
                return self.script.pop(i)
        return None


async def _record(state: FakeState, request: Request) -> dict[str, Any]:
    raw = await request.body()
    text = raw.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    headers: dict[str, str] = {}
    for key, value in request.headers.items():
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    entry = {
        "method": request.method,
        "path": request.url.path,
        "query": request.url.query,
        "headers": headers,
        "raw": raw,
        "body": text,
        "json": parsed,
        "time": time.time(),
        "peer": request.client.port if request.client else None,  # tells a gateway's workers apart
    }
    state.requests.append(entry)
    return entry


async def _emit(request: Request, chunks: list[bytes], spec: dict[str, Any]) -> AsyncIterator[bytes]:
    drop_after, stall_after = spec.get("drop_after"), spec.get("stall_after")
    delay = float(spec.get("delay", 0))
    for n, chunk in enumerate(chunks):
        if drop_after is not None and n >= int(drop_after):
            raise DroppedConnection()
        if stall_after is not None and n >= int(stall_after):
            deadline = time.monotonic() + float(spec.get("stall_seconds", 3600))
            while time.monotonic() < deadline and not await request.is_disconnected():
                await asyncio.sleep(0.05)
            return
        if n and delay:
            await asyncio.sleep(delay)
        yield chunk


def _respond(request: Request, spec: dict[str, Any], status: int, chunks: list[bytes], media_type: str) -> Response:
    headers = {"request-id": f"req_fake{id(spec):x}", **spec.get("headers", {})}
    if media_type == "text/event-stream":
        headers.setdefault("cache-control", "no-cache")
        return StreamingResponse(_emit(request, chunks, spec), status, headers=headers, media_type=media_type)
    body = b"".join(chunks)
    if "drop_after" not in spec and "stall_after" not in spec:
        return Response(body, status, headers=headers, media_type=media_type)
    # non-stream: send half the body (none when k == 0), then drop or stall
    headers["content-length"] = str(len(body))
    halves = [body[: len(body) // 2], body[len(body) // 2 :]]
    limits: dict[str, int] = {k: min(int(spec[k]), 1) for k in ("drop_after", "stall_after") if k in spec}
    return StreamingResponse(_emit(request, halves, {**spec, **limits}), status, headers=headers, media_type=media_type)


async def _model_reply(state: FakeState, request: Request, openai: bool) -> Response:
    entry = await _record(state, request)
    body = entry["json"] if isinstance(entry["json"], dict) else {}
    spec = state.take_reply(entry["body"], body) or default_reply(body)
    spec = substitute(spec, entry["body"], body)
    if spec.get("headers_delay"):
        await asyncio.sleep(float(spec["headers_delay"]))
    stream = bool(body.get("stream"))
    model = str(body.get("model", "fake-model"))
    input_tokens = max(1, len(entry["raw"]) // 4)
    n = next(state.ids)
    if spec.get("type") == "error":
        status = int(spec.get("status", 500))
        err = error_body(status, spec.get("body"), openai)
        raw = err.encode() if isinstance(err, str) else json.dumps(err).encode()
        return _respond(request, spec, status, [raw], "application/json")
    if spec.get("type") == "raw":
        events = [(e.get("event", ""), e.get("data", "")) for e in spec.get("events", [])]
        return _respond(request, spec, 200, [encode_event(e) for e in events], "text/event-stream")
    blocks = build_blocks(spec, state.ids)
    if openai:
        msg_id = f"chatcmpl-fake{n:04d}"
        if not stream:
            message = openai_message(spec, blocks, model, msg_id, input_tokens)
            return _respond(request, spec, 200, [json.dumps(message).encode()], "application/json")
        usage = bool((body.get("stream_options") or {}).get("include_usage"))
        events = openai_events(spec, blocks, model, msg_id, input_tokens, usage)
        ping: Event = (":", "ping")
    else:
        msg_id = f"msg_fake{n:04d}"
        if not stream:
            message = anthropic_message(spec, blocks, model, msg_id, input_tokens)
            return _respond(request, spec, 200, [json.dumps(message).encode()], "application/json")
        events = anthropic_events(spec, blocks, model, msg_id, input_tokens)
        ping = ("ping", {"type": "ping"})
    ping_every = spec.get("ping_every")
    if openai and ping_every is None:
        ping_every = 0
    events = with_pings(events, None if ping_every is None else int(ping_every), ping)
    return _respond(request, spec, 200, [encode_event(e) for e in events], "text/event-stream")


def create_app(state: FakeState | None = None) -> Starlette:
    """The fake provider as an ASGI app; ``app.state.fake`` is its :class:`FakeState`."""
    fake = state or FakeState()

    async def messages(request: Request) -> Response:
        return await _model_reply(fake, request, openai=False)

    async def chat_completions(request: Request) -> Response:
        return await _model_reply(fake, request, openai=True)

    async def count_tokens(request: Request) -> Response:
        entry = await _record(fake, request)
        return JSONResponse({"input_tokens": max(1, len(entry["raw"]) // 4)})

    async def models(request: Request) -> Response:
        await _record(fake, request)
        data = [
            {
                "type": "model",
                "object": "model",
                "id": m,
                "display_name": m,
                "created_at": "2025-01-01T00:00:00Z",
                "owned_by": "fake",
            }
            for m in ("claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1")
        ]
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "has_more": False,
                "first_id": data[0]["id"],
                "last_id": data[-1]["id"],
            }
        )

    async def fallback(request: Request) -> Response:
        await _record(fake, request)
        if request.url.path in ("/", "/api/hello"):
            return Response(status_code=200)
        return JSONResponse(error_body(404, None, False), 404)

    async def list_requests(request: Request) -> Response:
        return JSONResponse([{k: v for k, v in r.items() if k != "raw"} for r in fake.requests])

    async def clear_requests(request: Request) -> Response:
        fake.requests.clear()
        return Response(status_code=204)

    async def push_script(request: Request) -> Response:
        replies = await request.json()
        fake.script.extend(replies if isinstance(replies, list) else [replies])
        return JSONResponse({"pending": len(fake.script)})

    async def clear_script(request: Request) -> Response:
        fake.script.clear()
        return Response(status_code=204)

    any_method = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    app = Starlette(
        routes=[
            Route("/v1/messages", messages, methods=["POST"]),
            Route("/v1/messages/count_tokens", count_tokens, methods=["POST"]),
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/_fake/requests", list_requests, methods=["GET"]),
            Route("/_fake/requests", clear_requests, methods=["DELETE"]),
            Route("/_fake/script", push_script, methods=["POST"]),
            Route("/_fake/script", clear_script, methods=["DELETE"]),
            Route("/{path:path}", fallback, methods=any_method),
        ]
    )
    app.state.fake = fake
    return app


# ---------------------------------------------------------------- serving


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


async def serve(host: str = "127.0.0.1", port: int = 0) -> None:
    """Serve the fake until cancelled or signalled; prints ``READY <port>`` once accepting."""
    logging.getLogger("uvicorn.error").addFilter(_QuietDrops())
    sock = _bind(host, port)
    config = uvicorn.Config(
        create_app(), log_level="warning", lifespan="off", timeout_graceful_shutdown=1, timeout_keep_alive=30
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    print(f"READY {sock.getsockname()[1]}", flush=True)
    await task


class FakeUpstream:
    """A fake provider running in a subprocess, driven over HTTP. Use ``FakeUpstream.start()``."""

    def __init__(self, proc: subprocess.Popen[str], host: str, port: int) -> None:
        self.proc = proc
        self.port = port
        self.url = f"http://{host}:{port}"

    @classmethod
    @contextmanager
    def start(cls, host: str = "127.0.0.1", port: int = 0, timeout: float = 20) -> Iterator[FakeUpstream]:
        cmd = [sys.executable, os.path.abspath(__file__), "--host", host, "--port", str(port)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            deadline = time.monotonic() + timeout
            line = ""
            while not line.startswith("READY ") and time.monotonic() < deadline and proc.poll() is None:
                line = proc.stdout.readline()
            if not line.startswith("READY "):
                raise RuntimeError(f"fake upstream did not start (last line {line!r})")
            host_in_url = f"[{host}]" if ":" in host else host
            yield cls(proc, host_in_url, int(line.split()[1]))
        finally:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout:
                proc.stdout.close()

    def _call(self, method: str, path: str, body: Json = None) -> Json:
        import httpx2

        resp = httpx2.request(method, self.url + path, json=body, timeout=10)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        """Recorded requests (method, path, query, headers, body text, json), optionally one path's."""
        found: list[dict[str, Any]] = self._call("GET", "/_fake/requests")
        return [r for r in found if path is None or r["path"] == path]

    def script(self, replies: list[dict[str, Any]]) -> None:
        """Queue scripted replies (FIFO)."""
        self._call("POST", "/_fake/script", replies)

    def clear(self) -> None:
        """Forget recorded requests and pending scripted replies."""
        self._call("DELETE", "/_fake/requests")
        self._call("DELETE", "/_fake/script")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.host, args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
