"""The gateway: Claude Code -> maskgate -> provider, masked both ways, streamed.

`uvicorn maskgate.server:app` serves it with settings from the environment; `create_app`
builds one from explicit `Settings` (tests, `maskgate serve`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from maskgate import logs
from maskgate._core import BodyError, Unmasker
from maskgate.auth import Client, authenticate
from maskgate.console import Console, console_middleware, mount_console
from maskgate.console.state import FORWARDED_KEY
from maskgate.engine import Engine, LimitExceeded, Limits, MaskedRequest
from maskgate.errors import ApiError, api_error_handler, error_event, error_response, http_exception_handler
from maskgate.headless import ClaudeCodeService, analyze_endpoint, run_endpoint
from maskgate.metrics import CONTENT_TYPE, InstrumentedStore, Metrics
from maskgate.settings import Route as RouteSetting
from maskgate.settings import Settings, SettingsError
from maskgate.store import MappingStore, StoreError, StoreKeyMismatch, StoreUnavailable, open_store_from_settings
from maskgate.upstream import (
    is_event_stream,
    make_client,
    maskable,
    request_headers,
    response_headers,
    upstream_url,
)

Handler = Callable[[Request], Awaitable[Response]]

# A model name of this shape is a public name (claude-sonnet-4-5, us.anthropic.claude-...-v2:0) and
# is logged as is; anything else (an inference-profile ARN carries the account) is masked first.
_PLAIN_MODEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}(:\d{1,4})?")


STORE_DOWN = "the pseudonym store is unavailable; the request was not forwarded"


class PayloadTooLarge(Exception):
    pass


@dataclass(frozen=True)
class Forward:
    """A masked request, ready to go: the body, the upstream URL and headers (query and header values
    masked with the body), and the request id as logs may show it."""

    prepared: MaskedRequest
    url: str
    headers: list[tuple[str, str]]
    rid: str


def own_keys(settings: Settings) -> tuple[str, ...]:
    """Every key of maskgate's own: none of them ever goes upstream."""
    keys = [t.key for t in settings.all_tenants] + [a.key for a in settings.console.admins]
    keys += [settings.store_key or "", *settings.store_key_previous, settings.claude_code.admin_key or ""]
    return tuple(k for k in keys if k)


def early_rid(request: Request) -> str:
    """The id of a request not masked (refused before): the client's id only as a digest."""
    given = request.headers.get("x-request-id")
    if not given:
        return uuid.uuid4().hex[:16]
    return "sha256:" + hashlib.sha256(given.encode()).hexdigest()[:16]


class Gateway:
    """Holds what lives as long as the server: settings, engine, store, upstream client."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = Engine.from_settings(settings)
        self.routes = {r.model: r for r in settings.routes}
        self.metrics = Metrics()
        self.console = Console(self)
        self.claude_code = ClaudeCodeService(settings)
        self.own_keys = own_keys(settings)
        self._store: MappingStore | None = None
        self._client: httpx.AsyncClient | None = None

    @property
    def store(self) -> MappingStore:
        assert self._store is not None, "the gateway is not started"
        return self._store

    @property
    def client(self) -> httpx.AsyncClient:
        assert self._client is not None, "the gateway is not started"
        return self._client

    async def start(self) -> None:
        s = self.settings
        self._store = InstrumentedStore(open_store_from_settings(s), self.metrics)
        try:
            await self._store.verify()  # a wrong store key must not start handing out new pseudonyms
        except StoreKeyMismatch:
            await self._store.aclose()
            raise
        except StoreUnavailable:
            logs.event("store_unavailable_at_start", logging.WARNING)  # checked again on first use
        self.engine = Engine.from_settings(s, self._store)
        self._client = make_client(s.upstream_timeout)
        logs.event("started", upstream=s.upstream_url, store="redis" if s.redis_url else "embedded")

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        if self._store is not None:
            await self._store.aclose()

    # -- plumbing ------------------------------------------------------------------------

    def _upstream_headers(self, request: Request, client: Client) -> list[tuple[str, str]]:
        """The client's headers minus ours and minus any that holds one of our keys, with the right
        credential."""
        return request_headers(
            request.headers.items(), client.passthrough, self.settings.upstream_api_key, self.own_keys
        )

    def _client_of(self, request: Request) -> Client | None:
        return authenticate(request.headers, self.settings.all_tenants)

    def _authenticated(self, request: Request) -> Client:
        client = self._client_of(request)
        if client is None:
            raise ApiError(401, "invalid or missing API key")
        return client

    async def _read_body(self, request: Request) -> bytes:
        limit = self.settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge
        chunks: list[bytes] = []
        size = 0
        with anyio.fail_after(self.settings.body_timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge
                chunks.append(chunk)
        return b"".join(chunks)

    async def _masked_request(self, request: Request, client: Client) -> Forward:
        """Reads and masks a request body, with the query string and the header values that go
        upstream in the same passes, or raises `ApiError` saying why not."""
        content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise ApiError(415, "content-type must be application/json")
        try:
            body = await self._read_body(request)
        except PayloadTooLarge:
            raise ApiError(413, f"request body is over the {self.settings.max_body_bytes}-byte limit") from None
        except TimeoutError:
            raise ApiError(408, "request body not received in time") from None
        except ClientDisconnect:
            raise ApiError(400, "client disconnected while sending the body") from None
        if not body:
            raise ApiError(400, "request body is empty")
        limits = Limits(self.settings.max_identifiers, self.settings.max_string_bytes)
        headers = self._upstream_headers(request, client)
        slots = [i for i, (name, _) in enumerate(headers) if maskable(name)]
        extras = [request.url.query] + [headers[i][1] for i in slots]
        try:
            prepared = await self.engine.amask_request(body, client.tenant, limits, extras)
        except LimitExceeded as e:
            raise ApiError(413, f"request not forwarded: {e}") from None
        except BodyError as e:
            raise ApiError(400, f"request body: {e}") from None
        except StoreError:
            # Fail closed: without the map nothing can be masked, so nothing is forwarded.
            raise ApiError(503, STORE_DOWN) from None
        query, *values = prepared.extras
        rid = ""
        for i, value in zip(slots, values, strict=True):
            headers[i] = (headers[i][0], value)
            if headers[i][0].lower() == "x-request-id":
                rid = value[:64]
        request.scope[FORWARDED_KEY] = prepared.masked
        url = upstream_url(self.settings.upstream_url, request.url.path, query)
        return Forward(prepared, url, headers, rid or uuid.uuid4().hex[:16])

    async def _loggable_model(self, model: str | None, tenant: str) -> str | None:
        """The model name as logs and the console may show it: masked unless it is a plain name."""
        if model is None or _PLAIN_MODEL.fullmatch(model):
            return model
        try:
            return (await self.engine.amask(model, tenant)).text[:128]
        except Exception:  # a model name is worth no failed request: show only its digest
            return "sha256:" + hashlib.sha256(model.encode()).hexdigest()[:16]

    # -- endpoints -----------------------------------------------------------------------

    async def messages(self, request: Request) -> Response:
        started = time.perf_counter()
        rid = early_rid(request)
        info: dict[str, Any] = {}
        try:
            client = self._authenticated(request)
            info["tenant"] = client.tenant
            forward = await self._masked_request(request, client)
            rid = forward.rid
            return await self._messages(request, client, forward, started, info)
        except ApiError as e:
            self._log(e.status, rid, request, started, **info)
            raise

    async def _messages(
        self, request: Request, client: Client, forward: Forward, started: float, info: dict[str, Any]
    ) -> Response:
        prepared, rid = forward.prepared, forward.rid
        masked_ms = (time.perf_counter() - started) * 1000
        self.metrics.mask_duration.observe(masked_ms / 1000)
        counts = prepared.masked.counts()
        self.metrics.count_kinds(self.metrics.masked, counts)
        unmasker = prepared.masked.unmasker()
        model = await self._loggable_model(prepared.model, client.tenant)
        info.update(model=model, masked=counts, mask_ms=round(masked_ms, 2))
        route = self.routes.get(prepared.model or "")
        if route is not None:
            return await self.via_litellm(route, prepared, request, unmasker, rid, started, info)
        upstream_request = self.client.build_request(
            "POST", forward.url, headers=forward.headers, content=prepared.masked.output
        )
        sent = time.perf_counter()
        try:
            upstream = await self.client.send(upstream_request, stream=True)
            self.metrics.upstream_latency.labels(request.url.path).observe(time.perf_counter() - sent)
        except httpx.TimeoutException:
            raise ApiError(504, "upstream timed out") from None
        except httpx.HTTPError:
            raise ApiError(502, "upstream unreachable") from None
        return await self.relay(upstream, unmasker, rid, request, started, info)

    async def relay(
        self,
        upstream: httpx.Response,
        unmasker: Unmasker,
        rid: str,
        request: Request,
        started: float,
        info: dict[str, Any],
    ) -> Response:
        headers = response_headers(upstream.headers)
        if upstream.status_code >= 300 or not is_event_stream(upstream.headers):
            try:
                raw = await upstream.aread()
            except httpx.HTTPError:
                raise ApiError(502, "upstream connection lost") from None
            finally:
                await upstream.aclose()
            body = raw
            if 200 <= upstream.status_code < 300 and len(unmasker):
                try:
                    body, restored = unmasker.unmask_response(raw)
                    info["restored"] = restored
                    self.metrics.count_kinds(self.metrics.restored, restored)
                except BodyError:
                    body = raw  # not JSON: nothing we could restore, pass it as it came
            self._log(upstream.status_code, rid, request, started, **info)
            return Response(body, upstream.status_code, headers)
        return StreamingResponse(
            self._stream(
                upstream.aiter_raw(), upstream.aclose, upstream.status_code, unmasker, rid, request, started, info
            ),
            upstream.status_code,
            headers,
        )

    async def via_litellm(
        self,
        route: RouteSetting,
        prepared: MaskedRequest,
        request: Request,
        unmasker: Unmasker,
        rid: str,
        started: float,
        info: dict[str, Any],
    ) -> Response:
        """Providers reached through LiteLLM: the masked body goes in as a dict, Anthropic comes out."""
        # LiteLLM fetches a price list from the internet at import unless told not to; gateways
        # run in closed networks, and the packaged copy is what we pin anyway.
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        from maskgate.providers.litellm_route import LiteLLMRoute, call

        target = LiteLLMRoute(route.model, route.litellm_model, route.api_base, route.api_key)
        info["provider"] = "litellm"
        sent = time.perf_counter()
        result = await call(target, json.loads(prepared.masked.output), request.headers)
        self.metrics.upstream_latency.labels(request.url.path).observe(time.perf_counter() - sent)
        if result.stream is None:
            body = result.body
            if 200 <= result.status < 300 and len(unmasker):
                body, restored = unmasker.unmask_response(body)
                self.metrics.count_kinds(self.metrics.restored, restored)
            self._log(result.status, rid, request, started, **info)
            return Response(body, result.status, result.headers)
        stream = result.stream

        async def close() -> None:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()

        return StreamingResponse(
            self._stream(stream, close, result.status, unmasker, rid, request, started, info),
            result.status,
            result.headers,
        )

    async def _stream(
        self,
        chunks: AsyncIterator[bytes],
        close: Callable[[], Awaitable[None]],
        status_code: int,
        unmasker: Unmasker,
        rid: str,
        request: Request,
        started: float,
        info: dict[str, Any],
    ) -> AsyncIterator[bytes]:
        sse = unmasker.sse() if len(unmasker) else None
        status = "ok"
        self.metrics.open_streams.inc()
        try:
            async for chunk in chunks:
                out = sse.feed(chunk) if sse else chunk
                if out:
                    yield out
            if sse:
                tail = sse.finish()
                if tail:
                    yield tail
        except httpx.HTTPError:
            status = "upstream_broken"
            if sse:
                tail = sse.finish(keep_partial=False)
                if tail:
                    yield tail
            yield error_event("upstream connection lost mid-stream")
        finally:
            # Also reached when the client goes away: the upstream request is cancelled with it.
            await close()
            self.metrics.open_streams.dec()
            if sse:
                info["restored"] = sse.restored()
                self.metrics.count_kinds(self.metrics.restored, info["restored"])
            self.metrics.request_done(request.url.path, status_code, started)
            logs.event(
                "request",
                id=rid,
                route=request.url.path,
                status=status_code,
                stream=status,
                ms=round((time.perf_counter() - started) * 1000, 2),
                **info,
            )
            self.console.record(request, rid, status_code, started, {**info, "stream": status})

    async def count_tokens(self, request: Request) -> Response:
        started = time.perf_counter()
        rid = early_rid(request)
        info: dict[str, Any] = {}
        try:
            client = self._authenticated(request)
            info["tenant"] = client.tenant
            forward = await self._masked_request(request, client)
            prepared, rid = forward.prepared, forward.rid
            try:
                upstream = await self.client.post(forward.url, headers=forward.headers, content=prepared.masked.output)
            except httpx.TimeoutException:
                raise ApiError(504, "upstream timed out") from None
            except httpx.HTTPError:
                raise ApiError(502, "upstream unreachable") from None
        except ApiError as e:
            self._log(e.status, rid, request, started, **info)
            raise
        self._log(upstream.status_code, rid, request, started, **info, masked=prepared.masked.counts())
        return Response(upstream.content, upstream.status_code, response_headers(upstream.headers))

    async def health(self, request: Request) -> Response:
        store = "unavailable"
        try:
            with anyio.fail_after(2.0):
                if await self.store.ping():
                    await self.store.verify()
                    store = "ok"
        except StoreKeyMismatch:
            store = "wrong key"
        except (StoreError, TimeoutError, OSError):
            pass
        ok = store == "ok"
        return JSONResponse({"status": "ok" if ok else "degraded", "store": store}, 200 if ok else 503)

    async def hello(self, request: Request) -> Response:
        return Response(status_code=200)

    async def key_check(self, request: Request) -> Response:
        """Whether the presented key is one this gateway knows: 204 or 401, nothing sent upstream.
        maskgate's own check (`maskgate claude` asks before it starts Claude Code), so like /health
        it is neither a request in the metrics nor a client error in the console."""
        self._authenticated(request)
        return Response(status_code=204)

    async def models(self, request: Request) -> Response:
        client = self._authenticated(request)
        data = [
            {"type": "model", "id": r.model, "display_name": r.model, "created_at": "2025-01-01T00:00:00Z"}
            for r in self.settings.routes
        ]
        if not data:
            # No body to mask with: the query (limit=1000) is masked on its own, headers go as for
            # every request (ours dropped), the protocol's verbatim and the rest masked.
            headers = self._upstream_headers(request, client)
            try:
                query = (await self.engine.amask(request.url.query, client.tenant)).text if request.url.query else ""
                for i, (name, value) in enumerate(headers):
                    if maskable(name):
                        headers[i] = (name, (await self.engine.amask(value, client.tenant)).text)
            except StoreError:
                raise ApiError(503, STORE_DOWN) from None
            url = upstream_url(self.settings.upstream_url, request.url.path, query)
            try:
                upstream = await self.client.get(url, headers=headers)
            except httpx.HTTPError:
                raise ApiError(502, "upstream unreachable") from None
            return Response(upstream.content, upstream.status_code, response_headers(upstream.headers))
        first, last = data[0]["id"], data[-1]["id"]
        return JSONResponse({"data": data, "has_more": False, "first_id": first, "last_id": last})

    async def metrics_page(self, request: Request) -> Response:
        return Response(self.metrics.render(), 200, media_type=CONTENT_TYPE)

    def _log(self, status: int, rid: str, request: Request, started: float, **fields: Any) -> None:
        """The one record of a finished request: metrics, the log line, the console."""
        self.metrics.request_done(request.url.path, status, started)
        logs.event(
            "request",
            id=rid,
            route=request.url.path,
            status=status,
            ms=round((time.perf_counter() - started) * 1000, 2),
            **fields,
        )
        self.console.record(request, rid, status, started, fields)


async def _server_error(request: Request, exc: Exception) -> Response:
    logs.event("unhandled error", level=40, route=request.url.path, error=type(exc).__name__)
    return error_response(500, "internal error in maskgate")


def create_app(settings: Settings | None = None) -> Starlette:
    """The ASGI app. Without settings, reads them from the environment at start-up."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            resolved = settings or Settings.from_env()
        except SettingsError as e:
            print(f"maskgate: {e}", file=sys.stderr)
            raise SystemExit(2) from None
        logs.configure(resolved.log_format)
        logs.quiet_access_log()
        gateway = Gateway(resolved)
        try:
            await gateway.start()
        except StoreKeyMismatch as e:
            print(f"maskgate: {e}", file=sys.stderr)
            raise SystemExit(2) from None
        app.state.gateway = gateway
        try:
            yield
        finally:
            await gateway.stop()

    def bound(name: str) -> Handler:
        async def handler(request: Request) -> Response:
            gateway: Gateway = request.app.state.gateway
            method: Handler = getattr(gateway, name)
            return await method(request)

        return handler

    routes = [
        Route("/v1/messages", bound("messages"), methods=["POST"]),
        Route("/v1/messages/count_tokens", bound("count_tokens"), methods=["POST"]),
        Route("/v1/models", bound("models"), methods=["GET"]),
        Route("/health", bound("health"), methods=["GET"]),
        Route("/metrics", bound("metrics_page"), methods=["GET"]),
        Route("/", bound("hello"), methods=["GET", "HEAD"]),
        Route("/api/hello", bound("hello"), methods=["GET", "HEAD"]),
        Route("/api/key", bound("key_check"), methods=["GET"]),
        Route("/v1/claude-code", run_endpoint, methods=["POST"]),
        Route("/v1/claude-code/analyze", analyze_endpoint, methods=["POST"]),
        mount_console(),
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=console_middleware(),
        exception_handlers={ApiError: api_error_handler, HTTPException: http_exception_handler, 500: _server_error},
    )


app = create_app()

__all__ = ["Gateway", "app", "create_app"]
