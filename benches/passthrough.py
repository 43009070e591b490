"""The floor the gateway is measured against: a bare Starlette pass-through that masks nothing.

    MASKGATE_BENCH_UPSTREAM=http://127.0.0.1:P python -m uvicorn benches.passthrough:app --port Q

It reads the request body, forwards it with the client's headers to the upstream, and relays the
answer: whole, or chunk by chunk when the upstream streams (text/event-stream). No auth, no
masking, no logs, no metrics: what any Python gateway on Starlette and uvicorn costs at least.
`MASKGATE_BENCH_CLIENT` picks the upstream client, configured as maskgate's make_client: `httpx`
(the default), `httpx2` (pydantic's maintained fork, same API: maskgate's own client) or
`aiohttp`. httpx and aiohttp are not maskgate dependencies (LiteLLM brings both): each is
measured where it is installed.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

UPSTREAM = os.environ.get("MASKGATE_BENCH_UPSTREAM", "http://127.0.0.1:9")
CLIENT = os.environ.get("MASKGATE_BENCH_CLIENT", "httpx")
# hop-by-hop and framing headers: each side computes its own
DROP = frozenset({"host", "content-length", "transfer-encoding", "connection", "keep-alive", "accept-encoding"})
DROP_BACK = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive", "date", "server"})

# One upstream call: (method, url, headers, body) -> (status, headers, is_stream, chunks, close)
Send = Callable[
    [str, str, list[tuple[str, str]], bytes],
    Awaitable[tuple[int, list[tuple[str, str]], AsyncIterator[bytes], Callable[[], Awaitable[None]]]],
]


def _httpx_like(module: Any) -> tuple[Send, Callable[[], Awaitable[None]]]:
    client = module.AsyncClient(
        timeout=module.Timeout(600, connect=10.0, pool=30.0),
        limits=module.Limits(max_connections=2000, max_keepalive_connections=200, keepalive_expiry=30.0),
        follow_redirects=False,
        trust_env=False,
    )

    async def send(method: str, url: str, headers: list[tuple[str, str]], body: bytes) -> Any:
        r = await client.send(client.build_request(method, url, headers=headers, content=body), stream=True)
        return r.status_code, list(r.headers.items()), r.aiter_raw(), r.aclose

    return send, client.aclose


def _aiohttp() -> tuple[Send, Callable[[], Awaitable[None]]]:
    import aiohttp

    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=2000, keepalive_timeout=30.0),
        timeout=aiohttp.ClientTimeout(total=600, connect=10.0),
        auto_decompress=False,
        skip_auto_headers=("Accept-Encoding", "User-Agent", "Content-Type"),
    )

    async def send(method: str, url: str, headers: list[tuple[str, str]], body: bytes) -> Any:
        r = await session.request(method, url, headers=headers, data=body, allow_redirects=False)

        async def close() -> None:
            r.release()

        return r.status, list(r.headers.items()), r.content.iter_any(), close

    return send, session.close


def _client() -> tuple[Send, Callable[[], Awaitable[None]]]:
    if CLIENT == "aiohttp":
        return _aiohttp()
    if CLIENT == "httpx2":
        import httpx2

        return _httpx_like(httpx2)
    import httpx

    return _httpx_like(httpx)


async def relay(request: Request) -> Response:
    send: Send = request.app.state.send
    body = await request.body()
    headers = [(k, v) for k, v in request.headers.items() if k not in DROP]
    url = UPSTREAM + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    status, got, chunks, close = await send(request.method, url, headers, body)
    back = {k: v for k, v in got if k.lower() not in DROP_BACK}
    if back.get("content-type", "").startswith("text/event-stream"):
        return StreamingResponse(chunks, status_code=status, headers=back, background=BackgroundTask(close))
    try:
        data = b"".join([c async for c in chunks])
    finally:
        await close()
    return Response(data, status_code=status, headers=back)


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.send, aclose = _client()
    try:
        yield
    finally:
        await aclose()


METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
app = Starlette(routes=[Route("/{path:path}", relay, methods=METHODS)], lifespan=lifespan)
