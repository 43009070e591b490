"""A provider that answers every Messages request with what it was sent: the last user text as a
text block, and the first tool_use input of the conversation as a tool call's arguments. Streamed
replies are cut into deltas of `x-echo-chunk` characters (default 7), so pseudonyms are split.

Run: ``python tests/reliability/echo_upstream.py`` prints ``READY <port>``.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


def _echoed(body: dict[str, Any]) -> tuple[str, Any]:
    text = ""
    tool_input: Any = {}
    found_tool = False
    for message in body.get("messages", []):
        content = message.get("content")
        if message.get("role") == "user":
            text = content if isinstance(content, str) else ""
        if isinstance(content, list) and not found_tool:
            for block in content:
                if isinstance(block, dict) and block.get("type") == "tool_use":
                    tool_input, found_tool = block.get("input", {}), True
                    break
    return text, tool_input


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def _stream(text: str, tool_input: Any, chunk: int) -> Iterator[bytes]:
    message = {"id": "msg_echo", "type": "message", "role": "assistant", "model": "echo", "content": []}
    yield _event("message_start", {"type": "message_start", "message": message})
    yield _event(
        "content_block_start",
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    )
    for i in range(0, len(text), chunk):
        delta = {"type": "text_delta", "text": text[i : i + chunk]}
        yield _event("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta})
    yield _event("content_block_stop", {"type": "content_block_stop", "index": 0})
    start = {"type": "tool_use", "id": "toolu_echo", "name": "echo", "input": {}}
    yield _event("content_block_start", {"type": "content_block_start", "index": 1, "content_block": start})
    raw = json.dumps(tool_input, ensure_ascii=False)
    for i in range(0, len(raw), chunk):
        delta = {"type": "input_json_delta", "partial_json": raw[i : i + chunk]}
        yield _event("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": delta})
    yield _event("content_block_stop", {"type": "content_block_stop", "index": 1})
    yield _event("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {}})
    yield _event("message_stop", {"type": "message_stop"})


LAST: list[bytes] = [b""]


async def messages(request: Request) -> Response:
    raw = await request.body()
    LAST[0] = raw
    body = json.loads(raw)
    text, tool_input = _echoed(body)
    if body.get("stream"):
        chunk = int(request.headers.get("x-echo-chunk", "7"))
        return StreamingResponse(_stream(text, tool_input, chunk), media_type="text/event-stream")
    content = [
        {"type": "text", "text": text},
        {"type": "tool_use", "id": "toolu_echo", "name": "echo", "input": tool_input},
    ]
    return JSONResponse({"id": "msg_echo", "type": "message", "role": "assistant", "model": "echo", "content": content})


async def last(request: Request) -> Response:
    """The raw body of the last Messages request, as the provider received it."""
    return Response(LAST[0], 200, media_type="application/json")


app = Starlette(routes=[Route("/v1/messages", messages, methods=["POST"]), Route("/_last", last)])


@contextmanager
def start_echo() -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, str(Path(__file__))], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("READY "), line
        yield f"http://127.0.0.1:{line.split()[1]}"
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout:
            proc.stdout.close()


def main() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    print(f"READY {sock.getsockname()[1]}", flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off")).run(sockets=[sock])


if __name__ == "__main__":
    main()
