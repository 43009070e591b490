"""The gateway's other endpoints: the model list, health, metrics, and the checks Claude Code and
`maskgate claude` make. None of them is recorded as a model request."""

from __future__ import annotations

import anyio
import httpx2
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from maskgate.errors import ApiError
from maskgate.gateway.body import STORE_DOWN
from maskgate.gateway.headers import check_headers
from maskgate.gateway.lifecycle import gateway_of
from maskgate.metrics import CONTENT_TYPE
from maskgate.store import StoreError, StoreKeyMismatch
from maskgate.upstream import header_text, header_wire, maskable, response_headers, upstream_url, wire_headers


async def health(request: Request) -> Response:
    gateway = gateway_of(request)
    store = "unavailable"
    try:
        with anyio.fail_after(2.0):
            if await gateway.store.ping():
                await gateway.store.verify()
                store = "ok"
    except StoreKeyMismatch:
        store = "wrong key"
    except (StoreError, TimeoutError, OSError):
        pass
    ok = store == "ok"
    return JSONResponse({"status": "ok" if ok else "degraded", "store": store}, 200 if ok else 503)


async def hello(request: Request) -> Response:
    return Response(status_code=200)


async def key_check(request: Request) -> Response:
    """Whether the presented key is one this gateway knows: 204 or 401, nothing sent upstream.
    maskgate's own check (`maskgate claude` asks before it starts Claude Code), so like /health
    it is neither a request in the metrics nor a client error in the console."""
    gateway_of(request).authenticated(request)
    return Response(status_code=204)


async def models(request: Request) -> Response:
    gateway = gateway_of(request)
    client = gateway.authenticated(request)
    data = [
        {"type": "model", "id": r.model, "display_name": r.model, "created_at": "2025-01-01T00:00:00Z"}
        for r in gateway.settings.routes
    ]
    if not data:
        # No body to mask with: the query (limit=1000) is masked on its own, headers go as for
        # every request (ours dropped), the protocol's verbatim and the rest masked.
        engine = gateway.engine
        headers = gateway.upstream_headers(request, client)
        check_headers(engine, headers)
        try:
            query = (await engine.amask(request.url.query, client.tenant)).text if request.url.query else ""
            for i, (name, value) in enumerate(headers):
                if maskable(name):
                    text, encoding = header_text(value)
                    headers[i] = (name, header_wire((await engine.amask(text, client.tenant)).text, encoding))
        except StoreError:
            raise ApiError(503, STORE_DOWN) from None
        url = upstream_url(gateway.settings.upstream_url, request.url.path, query)
        try:
            upstream = await gateway.upstream.client.get(url, headers=wire_headers(headers))
        except httpx2.HTTPError:
            raise ApiError(502, "upstream unreachable") from None
        return Response(upstream.content, upstream.status_code, response_headers(upstream.headers))
    first, last = data[0]["id"], data[-1]["id"]
    return JSONResponse({"data": data, "has_more": False, "first_id": first, "last_id": last})


async def metrics_page(request: Request) -> Response:
    return Response(gateway_of(request).metrics.render(), 200, media_type=CONTENT_TYPE)
