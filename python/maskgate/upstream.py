"""Forwarding to the Anthropic-compatible upstream: headers in, headers out, one pooled client."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import httpx

from maskgate.auth import MASKGATE_KEY_HEADER

# Hop-by-hop headers (RFC 9110 7.6.1) and those the new request or response sets itself.
_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}
_REQUEST_DROP = _HOP | {"accept-encoding", MASKGATE_KEY_HEADER}
_CLIENT_AUTH = {"authorization", "x-api-key"}
_RESPONSE_DROP = _HOP | {"content-encoding"}


def request_headers(
    incoming: Iterable[tuple[str, str]], passthrough: bool, upstream_api_key: str | None
) -> list[tuple[str, str]]:
    """The client's headers minus ours; the client's credential only in pass-through mode."""
    out = [
        (k, v) for k, v in incoming if k.lower() not in _REQUEST_DROP and (passthrough or k.lower() not in _CLIENT_AUTH)
    ]
    if not passthrough and upstream_api_key:
        out.append(("x-api-key", upstream_api_key))
    # We rewrite the body, so it must arrive unencoded.
    out.append(("accept-encoding", "identity"))
    return out


def response_headers(upstream: httpx.Headers) -> dict[str, str]:
    """Everything the client's retry logic reads (retry-after, x-should-retry, rate limits, ...)."""
    return {k: v for k, v in upstream.items() if k.lower() not in _RESPONSE_DROP}


def make_client(timeout: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=10.0, pool=30.0),
        limits=httpx.Limits(max_connections=2000, max_keepalive_connections=200, keepalive_expiry=30.0),
        http2=False,
        follow_redirects=False,
        trust_env=False,
    )


def upstream_url(base: str, path: str, query: str) -> str:
    return f"{base}{path}?{query}" if query else f"{base}{path}"


def is_event_stream(headers: Mapping[str, str]) -> bool:
    return headers.get("content-type", "").split(";")[0].strip().lower() == "text/event-stream"
