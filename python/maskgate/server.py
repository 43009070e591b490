"""The gateway: Claude Code -> maskgate -> provider, masked both ways, streamed.

`uvicorn maskgate.server:app` serves it with settings from the environment; `create_app`
builds one from explicit `Settings` (tests, `maskgate serve`).
"""

from __future__ import annotations

import hashlib
import logging
import re
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from maskgate import logs
from maskgate._core import BodyError
from maskgate.auth import Client, authenticate
from maskgate.console import Console, console_middleware, mount_console
from maskgate.console.state import FORWARDED_KEY
from maskgate.engine import Engine, LimitExceeded, Limits, MaskedRequest
from maskgate.errors import ApiError, api_error_handler, error_response, http_exception_handler
from maskgate.gateway.observe import Observer
from maskgate.gateway.relay import relay
from maskgate.headless import ClaudeCodeService, analyze_endpoint, run_endpoint
from maskgate.metrics import CONTENT_TYPE, InstrumentedStore, Metrics
from maskgate.providers import Outgoing, Provider
from maskgate.providers.anthropic import AnthropicProvider
from maskgate.settings import Settings, SettingsError
from maskgate.store import MappingStore, StoreError, StoreKeyMismatch, StoreUnavailable, open_store_from_settings
from maskgate.upstream import (
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
    """A masked request, ready to go: what a provider gets (query and header values masked with
    the body), and the request id as logs may show it."""

    prepared: MaskedRequest
    outgoing: Outgoing
    rid: str


def own_keys(settings: Settings) -> tuple[str, ...]:
    """Every key of maskgate's own: none of them ever goes upstream."""
    keys = [t.key for t in settings.all_tenants] + [a.key for a in settings.console.admins]
    keys += [settings.store_key or "", *settings.store_key_previous, settings.claude_code.admin_key or ""]
    return tuple(k for k in keys if k)


class Gateway:
    """Holds what lives as long as the server: settings, engine, store, upstream client."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = Engine.from_settings(settings)
        self.metrics = Metrics()
        self.console = Console(self)
        self.observer = Observer(self.metrics, self.console)
        self.claude_code = ClaudeCodeService(settings)
        self.own_keys = own_keys(settings)
        self.routed: dict[str, Provider] = {}
        self._store: MappingStore | None = None
        self._upstream: AnthropicProvider | None = None

    @property
    def store(self) -> MappingStore:
        assert self._store is not None, "the gateway is not started"
        return self._store

    @property
    def upstream(self) -> AnthropicProvider:
        assert self._upstream is not None, "the gateway is not started"
        return self._upstream

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
        self._upstream = AnthropicProvider(s.upstream_url, s.upstream_timeout)
        if s.routes:
            from maskgate.providers.litellm import LiteLLMProvider  # LiteLLM only when routes use it

            self.routed = {r.model: LiteLLMProvider(r, s.upstream_timeout) for r in s.routes}
        logs.event("started", upstream=s.upstream_url, store="redis" if s.redis_url else "embedded")

    async def stop(self) -> None:
        for provider in [*self.routed.values(), *([self._upstream] if self._upstream else [])]:
            await provider.aclose()
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
        outgoing = Outgoing(request.url.path, query, headers, prepared.masked.output)
        return Forward(prepared, outgoing, rid or uuid.uuid4().hex[:16])

    async def _loggable_model(self, model: str | None, tenant: str) -> str | None:
        """The model name as logs and the console may show it: masked unless it is a plain name."""
        if model is None or _PLAIN_MODEL.fullmatch(model):
            return model
        try:
            return (await self.engine.amask(model, tenant)).text[:128]
        except Exception:  # a model name is worth no failed request: show only its digest
            return "sha256:" + hashlib.sha256(model.encode()).hexdigest()[:16]

    # -- endpoints -----------------------------------------------------------------------

    def _provider(self, model: str | None) -> Provider:
        """Who serves a model: its `[[routes]]` entry, else the Anthropic-compatible upstream."""
        return self.routed.get(model or "") or self.upstream

    async def messages(self, request: Request) -> Response:
        record = self.observer.begin(request)
        try:
            client = self._authenticated(request)
            record.fields["tenant"] = client.tenant
            forward = await self._masked_request(request, client)
            record.rid = forward.rid
            prepared = forward.prepared
            masked_s = time.perf_counter() - record.started
            self.metrics.mask_duration.observe(masked_s)
            counts = prepared.masked.counts()
            self.metrics.count_kinds(self.metrics.masked, counts)
            unmasker = prepared.masked.unmasker()
            model = await self._loggable_model(prepared.model, client.tenant)
            record.fields.update(model=model, masked=counts, mask_ms=round(masked_s * 1000, 2))
            provider = self._provider(prepared.model)
            if provider is not self.upstream:
                record.fields["provider"] = provider.name
            reply = await provider.messages(forward.outgoing)
        except ApiError as e:
            record.finish(e.status)
            raise
        self.metrics.upstream_latency.labels(request.url.path).observe(reply.latency)
        return relay(reply, unmasker, record, self.metrics)

    async def count_tokens(self, request: Request) -> Response:
        record = self.observer.begin(request)
        try:
            client = self._authenticated(request)
            record.fields["tenant"] = client.tenant
            forward = await self._masked_request(request, client)
            record.rid = forward.rid
            provider = self._provider(forward.prepared.model)
            reply = await provider.count_tokens(forward.outgoing)
        except ApiError as e:
            record.finish(e.status)
            raise
        record.fields["masked"] = forward.prepared.masked.counts()
        record.finish(reply.status)
        return Response(reply.body, reply.status, reply.headers)

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
                upstream = await self.upstream.client.get(url, headers=headers)
            except httpx.HTTPError:
                raise ApiError(502, "upstream unreachable") from None
            return Response(upstream.content, upstream.status_code, response_headers(upstream.headers))
        first, last = data[0]["id"], data[-1]["id"]
        return JSONResponse({"data": data, "has_more": False, "first_id": first, "last_id": last})

    async def metrics_page(self, request: Request) -> Response:
        return Response(self.metrics.render(), 200, media_type=CONTENT_TYPE)


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
