"""Capture: for a chosen tenant and a limited time, what the client sent beside what the provider saw.

How the two bodies are had without touching the gateway's hot path: `ConsoleMiddleware` copies the
request body as the gateway reads it (only for a tenant whose capture window is open), and once the
request is done the console pairs that copy with the masking the gateway forwarded: its output is
byte for byte the body that went upstream, and its findings (byte offsets into the client's body)
mark the spans. (Masking the copy again would not do: the known set grows, and a value that went
out raw would then show as masked.) The pair is compressed and sealed with the store key before
it is stored; nothing of it is logged.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from maskgate.auth import authenticate

if TYPE_CHECKING:
    from maskgate.console.state import Console

SCOPE_KEY = "maskgate.console.capture"
CAPTURED_ROUTES = ("/v1/messages",)


@dataclass
class Tee:
    """The client's body as it streams past, up to a limit (a longer body is not captured)."""

    tenant: str
    limit: int
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    over: bool = False

    def add(self, chunk: bytes) -> None:
        if self.over or not chunk:
            return
        self.size += len(chunk)
        if self.size > self.limit:
            self.over, self.chunks = True, []
        else:
            self.chunks.append(chunk)

    def body(self) -> bytes | None:
        return None if self.over or not self.chunks else b"".join(self.chunks)


@dataclass(frozen=True)
class Span:
    """One masked identifier: where it is in the client's body and where its pseudonym is upstream."""

    start: int
    end: int
    out_start: int
    out_end: int
    kind: str
    pseudonym: str


def spans(findings: Sequence[tuple[int, int, str, str]], output: bytes) -> list[Span]:
    """Places each `(start, end, kind, pseudonym)` in the masked body: where splicing puts it, else
    at the next occurrence of the pseudonym; -1 when it is nowhere (nothing is then marked)."""
    out: list[Span] = []
    delta = 0
    cursor = 0
    for start, end, kind, pseudonym in sorted(findings):
        token = pseudonym.encode()
        guess = start + delta
        if token and output[guess : guess + len(token)] == token:
            at = guess
        else:
            at = output.find(token, cursor) if token else -1
        if at >= 0:
            out.append(Span(start, end, at, at + len(token), kind, pseudonym))
            cursor = at + len(token)
            delta = cursor - end
        else:
            out.append(Span(start, end, -1, -1, kind, pseudonym))
    return out


def byte_offsets(text: str, start: int, end: int) -> tuple[int, int]:
    """Character offsets (what text findings carry) as UTF-8 byte offsets."""
    head = len(text[:start].encode())
    return head, head + len(text[start:end].encode())


@dataclass(frozen=True)
class Segment:
    """A run of text for a template: plain when `kind` is None, else a marked identifier."""

    text: str
    kind: str | None = None
    label: str | None = None
    anchor: str | None = None


def segments(data: bytes, marks: Sequence[tuple[int, int, str, str, str]]) -> list[Segment]:
    """Cuts `data` at the marks `(start, end, kind, label, anchor)`; overlapping or invalid marks are skipped."""
    out: list[Segment] = []
    pos = 0
    for start, end, kind, label, anchor in sorted(marks):
        if start < pos or end <= start or end > len(data):
            continue
        if start > pos:
            out.append(Segment(data[pos:start].decode("utf-8", "replace")))
        out.append(Segment(data[start:end].decode("utf-8", "replace"), kind, label, anchor))
        pos = end
    if pos < len(data):
        out.append(Segment(data[pos:].decode("utf-8", "replace")))
    return out


def pack(client: bytes, provider: bytes, found: Sequence[Span]) -> bytes:
    doc = {
        "client": client.decode("latin-1"),
        "provider": provider.decode("latin-1"),
        "spans": [[s.start, s.end, s.out_start, s.out_end, s.kind, s.pseudonym] for s in found],
    }
    return zlib.compress(json.dumps(doc).encode(), 6)


def unpack(blob: bytes) -> tuple[bytes, bytes, list[Span]]:
    doc: dict[str, Any] = json.loads(zlib.decompress(blob))
    found = [Span(int(a), int(b), int(c), int(d), str(k), str(p)) for a, b, c, d, k, p in doc["spans"]]
    return doc["client"].encode("latin-1"), doc["provider"].encode("latin-1"), found


class ConsoleMiddleware:
    """Feeds the console from outside the gateway's handlers: copies request bodies while a capture
    window is open. (The gateway's `stop` closes the console.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @staticmethod
    def _console(scope: Scope) -> Console | None:
        app = scope.get("app")
        gateway = getattr(getattr(app, "state", None), "gateway", None)
        console = getattr(gateway, "console", None)
        return console if console is not None and console.enabled else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        root = scope.get("root_path", "")
        console = self._console(scope) if path in CAPTURED_ROUTES or path[len(root) :] in CAPTURED_ROUTES else None
        if console is None:
            await self.app(scope, receive, send)
            return
        client = authenticate(Headers(scope=scope), console.gateway.settings.all_tenants)
        if client is None or not await console.capturing(client.tenant):
            await self.app(scope, receive, send)
            return
        tee = Tee(client.tenant, console.settings.capture_max_bytes)
        scope[SCOPE_KEY] = tee

        async def copying() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                tee.add(message.get("body", b""))
            return message

        await self.app(scope, copying, send)
