"""What lives as long as the server: settings, engine, store, providers, metrics, console and the
headless service; built here, started and stopped in `start`/`stop`."""

from __future__ import annotations

import logging

from starlette.requests import Request

from maskgate import logs
from maskgate.auth import Client, authenticate
from maskgate.console import Console
from maskgate.engine import Engine
from maskgate.errors import ApiError
from maskgate.gateway.observe import Observer
from maskgate.headless import ClaudeCodeService
from maskgate.metrics import InstrumentedStore, Metrics
from maskgate.providers import Provider
from maskgate.providers.anthropic import AnthropicProvider
from maskgate.settings import Settings
from maskgate.store import MappingStore, StoreKeyMismatch, StoreUnavailable, open_store_from_settings
from maskgate.upstream import request_headers


def own_keys(settings: Settings) -> tuple[str, ...]:
    """Every key of maskgate's own: none of them ever goes upstream."""
    keys = [t.key for t in settings.all_tenants] + [a.key for a in settings.console.admins]
    keys += [settings.store_key or "", *settings.store_key_previous, settings.claude_code.admin_key or ""]
    return tuple(k for k in keys if k)


class Gateway:
    """One per server process, as `app.state.gateway`."""

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
        await self.console.aclose()  # first: its lookups use the store
        for provider in [*self.routed.values(), *([self._upstream] if self._upstream else [])]:
            await provider.aclose()
        if self._store is not None:
            await self._store.aclose()

    # -- what every endpoint asks ----------------------------------------------------------

    def provider_for(self, model: str | None) -> Provider:
        """Who serves a model: its `[[routes]]` entry, else the Anthropic-compatible upstream."""
        return self.routed.get(model or "") or self.upstream

    def client_of(self, request: Request) -> Client | None:
        return authenticate(request.headers, self.settings.all_tenants)

    def authenticated(self, request: Request) -> Client:
        client = self.client_of(request)
        if client is None:
            raise ApiError(401, "invalid or missing API key")
        return client

    def upstream_headers(self, request: Request, client: Client) -> list[tuple[str, str]]:
        """The client's headers minus ours and minus any that holds one of our keys, with the right
        credential."""
        return request_headers(
            request.headers.items(), client.passthrough, self.settings.upstream_api_key, self.own_keys
        )


def gateway_of(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway
