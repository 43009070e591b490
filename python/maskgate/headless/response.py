"""What the client of a run gets: the result as one JSON body (or an Anthropic-shaped error), or
the messages as they come, as SSE or NDJSON, ended by an error event when the run failed. A client
that went away is noticed (False), never raised."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import Message, Send

from maskgate.errors import error_body, error_event
from maskgate.headless.run import Outcome


class Writer:
    """Sends a JSON answer, or an SSE / NDJSON stream; reports a client that went away as False."""

    def __init__(self, send: Send, output: str) -> None:
        self.send = send
        self.output = output
        self.streaming = False
        self.open = True

    async def _send(self, message: Message) -> bool:
        if not self.open:
            return False
        try:
            await self.send(message)
            return True
        except OSError:
            self.open = False
            return False

    async def start(self) -> None:
        media = "text/event-stream" if self.output == "sse" else "application/x-ndjson"
        headers = [(b"content-type", media.encode()), (b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]
        self.streaming = await self._send({"type": "http.response.start", "status": 200, "headers": headers})

    async def message(self, data: dict[str, Any]) -> bool:
        text = json.dumps(data, ensure_ascii=False)
        chunk = f"event: {data['type']}\ndata: {text}\n\n" if self.output == "sse" else text + "\n"
        return await self._send({"type": "http.response.body", "body": chunk.encode(), "more_body": True})

    async def finish(self, outcome: Outcome, timeout: float) -> None:
        """The end of the reply: the result, or why there is none (nothing to a client that left)."""
        if outcome.reason == "disconnect":
            return
        if outcome.reason == "timeout":
            status, message = 504, f"Claude Code did not finish within {timeout:g} s and was stopped"
        elif outcome.reason == "error":
            status, message = 502, outcome.error or "Claude Code failed"
        else:
            status, message = 200, ""
        if self.streaming:
            await self._end(None if status == 200 else message)
        elif status == 200:
            await self._whole(200, json.dumps(outcome.result).encode())
        else:
            await self._whole(status, error_body(status, message))

    async def _end(self, error: str | None) -> None:
        tail = b""
        if error is not None:
            tail = error_event(error) if self.output == "sse" else error_body(500, error, "api_error") + b"\n"
        await self._send({"type": "http.response.body", "body": tail, "more_body": False})

    async def _whole(self, status: int, body: bytes) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if await self._send({"type": "http.response.start", "status": status, "headers": headers}):
            await self._send({"type": "http.response.body", "body": body, "more_body": False})
