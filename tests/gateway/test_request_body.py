"""The one body reader (gateway, headless endpoint, console forms), in-process."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from maskgate.request_body import BodyTooLarge, read_body
from starlette.requests import Request

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def request(parts: list[bytes], declared: int | None = None, stall: bool = False) -> Request:
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": p, "more_body": i < len(parts) - 1 or stall} for i, p in enumerate(parts)
    ]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    headers = [(b"content-length", str(declared).encode())] if declared is not None else []
    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers, "query_string": b""}
    return Request(scope, receive)


async def test_the_chunks_make_the_body() -> None:
    assert await read_body(request([b"ab", b"", b"cd"]), limit=4) == b"abcd"


async def test_over_the_limit_is_refused() -> None:
    with pytest.raises(BodyTooLarge):
        await read_body(request([b"abc", b"de"]), limit=4)


async def test_a_declared_length_over_the_limit_is_refused_unread() -> None:
    with pytest.raises(BodyTooLarge):
        await read_body(request([], declared=5), limit=4)


async def test_a_body_that_does_not_arrive_in_time() -> None:
    with pytest.raises(TimeoutError):
        await read_body(request([b"ab"], stall=True), limit=4, timeout=0.05)
