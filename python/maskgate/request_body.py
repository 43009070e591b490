"""Reading a request body under a size limit (and a time limit): one reader for the gateway, the
headless endpoint and the console, linear in the body's size."""

from __future__ import annotations

import anyio
from starlette.requests import Request


class BodyTooLarge(Exception):
    """The body is (or says it is) over the limit; what was read of it is dropped."""


async def read_body(request: Request, limit: int, timeout: float | None = None) -> bytes:
    """The whole body, or `BodyTooLarge`; `TimeoutError` when it has not all arrived within
    `timeout` seconds (None: no time limit). A declared length over the limit is refused unread."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    with anyio.fail_after(timeout):
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge
            chunks.append(chunk)
    return b"".join(chunks)
