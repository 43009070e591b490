"""Reading a request body under a size limit (and a time limit): one reader for the gateway, the
headless endpoint and the console, linear in the body's size; and one answer, for the JSON API
endpoints, to a body that is not of the right type, too large, too slow or cut off."""

from __future__ import annotations

import anyio
from starlette.requests import ClientDisconnect, Request

from maskgate.errors import ApiError
from maskgate.settings import Settings


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


async def read_api_body(request: Request, settings: Settings) -> bytes:
    """The body of a JSON API request (/v1/messages, count_tokens, the headless endpoint) under the
    server's `max_body_bytes` and `body_timeout`, or the `ApiError` that says why not."""
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ApiError(415, "content-type must be application/json")
    try:
        return await read_body(request, settings.max_body_bytes, settings.body_timeout)
    except BodyTooLarge:
        raise ApiError(413, f"request body is over the {settings.max_body_bytes}-byte limit") from None
    except TimeoutError:
        raise ApiError(408, "request body not received in time") from None
    except ClientDisconnect:
        raise ApiError(400, "client disconnected while sending the body") from None
