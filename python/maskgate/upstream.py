"""Forwarding to the Anthropic-compatible upstream: headers in, headers out, one pooled client."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

import httpx2

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
# What the provider must get byte for byte (the protocol: a masked beta list is a 400); every
# other header value the client sends is masked like the body, since it may say anything.
_VERBATIM = {
    "anthropic-version",
    "anthropic-beta",
    "anthropic-dangerous-direct-browser-access",
    "content-type",
    "accept",
    "user-agent",
    "x-app",
}
_VERBATIM_PREFIXES = ("x-stainless-",)


def request_headers(
    incoming: Iterable[tuple[str, str]],
    passthrough: bool,
    upstream_api_key: str | None,
    own_keys: Collection[str] = (),
) -> list[tuple[str, str]]:
    """The client's headers minus ours; the client's credential only in pass-through mode.

    A header whose value holds one of maskgate's own keys (`own_keys`: client, admin and store
    keys) never goes upstream, whatever its name: in pass-through mode an apiKeyHelper puts the
    maskgate key in `Authorization` and `x-api-key` as well as in `x-maskgate-key`."""
    out = [
        (k, v)
        for k, v in incoming
        if k.lower() not in _REQUEST_DROP
        and (passthrough or k.lower() not in _CLIENT_AUTH)
        and not any(key and key in v for key in own_keys)
    ]
    if not passthrough and upstream_api_key:
        out.append(("x-api-key", upstream_api_key))
    # We rewrite the body, so it must arrive unencoded.
    out.append(("accept-encoding", "identity"))
    return out


def maskable(name: str) -> bool:
    """Whether a forwarded header's value is masked: all but credentials and the protocol's own."""
    n = name.lower()
    if n in _CLIENT_AUTH or n == "accept-encoding":
        return False
    return not verbatim(n)


def verbatim(name: str) -> bool:
    """Whether a header's value must reach the provider as sent (the protocol's own): it is
    checked, not masked (`gateway.headers`)."""
    n = name.lower()
    return n in _VERBATIM or n.startswith(_VERBATIM_PREFIXES)


def header_text(value: str) -> tuple[str, str]:
    """A header value as the text it is, and the encoding it came in. The ASGI server hands bytes
    over as Latin-1; a value that is UTF-8 (a context word in Korean) is read as UTF-8, so the
    catalogue reads what the client wrote."""
    raw = value.encode("latin-1")
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return value, "latin-1"


def header_wire(text: str, encoding: str) -> str:
    """`header_text` undone: the value as the ASGI server would have handed it over (Latin-1)."""
    return text.encode(encoding).decode("latin-1")


def wire_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """Headers as bytes, as they came: httpx2 would encode a `str` value as ASCII (a 500)."""
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]


def response_headers(upstream: httpx2.Headers) -> dict[str, str]:
    """Everything the client's retry logic reads (retry-after, x-should-retry, rate limits, ...)."""
    return {k: v for k, v in upstream.items() if k.lower() not in _RESPONSE_DROP}


def make_client(timeout: float) -> httpx2.AsyncClient:
    """The one pooled client every upstream request goes through.

    httpx2 rather than httpx: httpcore's pool walks every connection for every queued request
    whenever a request starts or ends (quadratic, encode/httpcore#1035), which stalled the event
    loop with hundreds of open streams; httpcore2's does one pass (README, Design notes). No proxy
    or certificate variables from the environment (`trust_env=False`): the provider is reached
    directly and verified against the system's CA certificates."""
    return httpx2.AsyncClient(
        timeout=httpx2.Timeout(timeout, connect=10.0, pool=30.0),
        limits=httpx2.Limits(max_connections=2000, max_keepalive_connections=200, keepalive_expiry=30.0),
        http2=False,
        follow_redirects=False,
        trust_env=False,
    )


def upstream_url(base: str, path: str, query: str) -> str:
    return f"{base}{path}?{query}" if query else f"{base}{path}"


def is_event_stream(headers: Mapping[str, str]) -> bool:
    return headers.get("content-type", "").split(";")[0].strip().lower() == "text/event-stream"
