"""The gateway: Claude Code -> maskgate -> provider, masked both ways, streamed.

`create_app` builds the ASGI app: the routes, the console's middleware, one handler for
`ApiError` (and Starlette's 404/405) and a lifespan that starts and stops the `Gateway`
(`lifecycle`). The request path is `messages` -> `body` (mask) -> a provider -> `relay`, with one
`observe` record per request. `maskgate.server` re-exports `app` and `create_app`.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from maskgate import logs
from maskgate.console import console_middleware, mount_console
from maskgate.console.access import COOKIE_PATH
from maskgate.console.views import routes as console_routes
from maskgate.errors import ApiError, api_error_handler, error_response, http_exception_handler
from maskgate.gateway import endpoints
from maskgate.gateway.lifecycle import Gateway
from maskgate.gateway.messages import count_tokens, messages
from maskgate.headless import analyze_endpoint, run_endpoint
from maskgate.settings import Settings, SettingsError
from maskgate.store import StoreKeyMismatch


async def _server_error(request: Request, exc: Exception) -> Response:
    logs.event("unhandled error", level=40, route=request.url.path, error=type(exc).__name__)
    return error_response(500, "internal error in maskgate")


def _loggable_paths(routes: list[BaseRoute]) -> tuple[list[str], list[str]]:
    """The paths the access log may print (the app's own, no parameters) and the prefixes it
    prints before `…` for any other path under them."""
    paths, prefixes = [], []
    for route in routes:
        if isinstance(route, Route):
            paths.append(route.path)
        elif isinstance(route, Mount):
            prefixes.append(route.path + "/")
            paths += [route.path, route.path + "/"]
    for sub in console_routes():
        if isinstance(sub, Route) and "{" not in sub.path:
            paths.append(COOKIE_PATH + sub.path)
        elif isinstance(sub, Route | Mount):
            prefixes.append(COOKIE_PATH + sub.path.split("{")[0].rstrip("/") + "/")
    return paths, prefixes


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
        logs.quiet_access_log(*_loggable_paths(routes))
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

    routes = [
        Route("/v1/messages", messages, methods=["POST"]),
        Route("/v1/messages/count_tokens", count_tokens, methods=["POST"]),
        Route("/v1/models", endpoints.models, methods=["GET"]),
        Route("/health", endpoints.health, methods=["GET"]),
        Route("/metrics", endpoints.metrics_page, methods=["GET"]),
        Route("/", endpoints.hello, methods=["GET", "HEAD"]),
        Route("/api/hello", endpoints.hello, methods=["GET", "HEAD"]),
        Route("/api/key", endpoints.key_check, methods=["GET"]),
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


__all__ = ["Gateway", "create_app"]
