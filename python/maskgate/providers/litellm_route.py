"""Calls a model provider through LiteLLM's Anthropic Messages interface.

The gateway's default route forwards Anthropic Messages requests byte-exact. This route is for
providers reached through LiteLLM (``openai/...``, ``bedrock/...``, ``vertex_ai/...``,
``gemini/...``, ...): it takes the already masked request as a dict, calls
``litellm.anthropic.messages.acreate`` and gives back an Anthropic Messages response, as JSON
bytes or as a stream of Anthropic SSE bytes aligned to whole events, which the gateway feeds to
its own unmasker. Failures come back as Anthropic-shaped error responses, never as exceptions.

LiteLLM is imported on the first call (or by :func:`preload`), in a worker thread: it takes
seconds and some 200 MB, and most gateways never use it. See ``docs/litellm-notes.md``.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import threading
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread

from maskgate.errors import error_body, error_event, error_type
from maskgate.extras import install_hint

__all__ = ["LiteLLMRoute", "LiteLLMUnavailable", "RouteResponse", "call", "count_tokens", "preload"]

logger = logging.getLogger(__name__)

# The Anthropic Messages request fields handed to acreate: its named parameters plus the fields
# LiteLLM's native Anthropic config forwards (1.110.2). Anything else is left out on purpose:
# acreate also takes LiteLLM control keywords (api_base, api_key, client, mock_response, ...),
# which a request body must never be able to set, and for translated providers LiteLLM would
# copy an unknown field verbatim into the provider's request body.
FORWARDED_FIELDS = frozenset(
    {
        "messages",
        "system",
        "tools",
        "tool_choice",
        "max_tokens",
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "metadata",
        "thinking",
        "stream",
        "container",
        "context_management",
        "output_config",
        "output_format",
        "service_tier",
        "inference_geo",
        "speed",
    }
)
# Client headers forwarded to providers that speak the Anthropic format. Never credentials: the
# route has its own key, and LiteLLM would prefer a caller's x-api-key / authorization header.
FORWARDED_HEADERS = ("anthropic-beta", "anthropic-version")
# Upstream error headers the client's retry logic reads.
_ERROR_HEADERS = ("retry-after", "retry-after-ms", "x-should-retry")
# Without an explicit api_base LiteLLM's anthropic provider falls back to ANTHROPIC_BASE_URL,
# which in a shell shared with Claude Code points at this gateway: the request would loop.
_DEFAULT_API_BASES = {"anthropic": "https://api.anthropic.com"}

_GENERIC_MESSAGES = {
    "invalid_request_error": "The model provider rejected the request.",
    "authentication_error": "The model provider did not accept the gateway's credentials.",
    "billing_error": "The model provider refused the request for billing reasons.",
    "permission_error": "The model provider denied access for this request.",
    "not_found_error": "The model provider did not find the model or endpoint.",
    "request_too_large": "The request is too large for the model provider.",
    "rate_limit_error": "The model provider rate-limited the request.",
    "api_error": "The model provider returned an error.",
    "timeout_error": "The model provider did not answer in time.",
    "overloaded_error": "The model provider is overloaded.",
}
_NO_ANSWER_MESSAGE = "The gateway got no answer from the model provider."
_TIMEOUT_NAMES = frozenset({"Timeout", "APITimeoutError", "TimeoutException", "TimeoutError", "ServerTimeoutError"})
_CONNECTION_NAMES = frozenset(
    {
        "APIConnectionError",
        "ConnectError",
        "ConnectionError",
        "ClientConnectorError",
        "ClientConnectionError",
        "ClientOSError",
        "ServerDisconnectedError",
        "RemoteProtocolError",
    }
)
_MAX_PROVIDER_MESSAGE = 300
_ECHO_WINDOW = 16
_KEY_WINDOW = 8  # a route key's stretch this long in a provider's message keeps the message back
_TERMINAL_EVENT = re.compile(rb"(?m)^event:[ \t]*(?:message_stop|error)[ \t]*\r?$")
_LITELLM_SUFFIX = re.compile(r"\.?\s*Handle with `litellm\.\w+`\.?\s*$")
_LITELLM_PREFIX = re.compile(r"^.*?(?:Exception|Error) - ", re.S)


@dataclass(frozen=True)
class LiteLLMRoute:
    """One model name clients send, served by a LiteLLM model.

    ``model`` is a LiteLLM model string (``openai/gpt-4o``, ``bedrock/...``, ``anthropic/...``);
    ``extra`` holds keyword arguments for ``acreate`` set by the operator (``timeout``,
    ``reasoning_effort``, ``aws_region_name``, ``drop_params``, ``max_retries``, ...).

    >>> LiteLLMRoute("gpt", "openai/gpt-4o", api_base="http://127.0.0.1:8000/v1", api_key="sk-...")
    ... # doctest: +SKIP
    """

    name: str
    model: str
    api_base: str | None = None
    api_key: str | None = field(default=None, repr=False)
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class RouteResponse:
    """What the gateway sends back: a whole body, or (``stream`` set) Anthropic SSE bytes.

    Stream items are whole SSE events (one or more per item). Closing the stream early
    (``aclose``) releases the provider connection.
    """

    status: int
    headers: dict[str, str]
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None


class LiteLLMUnavailable(RuntimeError):
    """LiteLLM (or a module its streaming path imports) is not installed."""


# ---------------------------------------------------------------- lazy import

_import_lock = threading.Lock()
_litellm: Any = None


def _import_litellm() -> Any:
    global _litellm
    with _import_lock:  # a thread lock: concurrent first calls run this in several worker threads
        if _litellm is not None:
            return _litellm
        # No fetching of cost maps, beta-header tables or tokenizers from the network at import
        # or on a call; the packaged copies are used. An operator may set it to "false".
        os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")
        try:
            module: Any = importlib.import_module("litellm")
            # The streaming paths import parts of LiteLLM's proxy package (fastapi, orjson,
            # backoff, soundfile) on first use: import them now, off the event loop, so that a
            # missing extra shows up here and the first streamed call does not block the loop.
            importlib.import_module("litellm.llms.anthropic.messages.native.streaming_iterator")
            importlib.import_module("litellm.llms.anthropic.messages.adapters.streaming_iterator")
        except ImportError as exc:
            raise LiteLLMUnavailable(
                f"the LiteLLM route needs maskgate's 'litellm' extra ({exc}); "
                f"install it with: {install_hint('litellm')}"
            ) from exc
        module.suppress_debug_info = True  # no "Give Feedback / Get Help" banners on stdout
        # `openai/` routes speak chat completions, which every OpenAI-compatible server has;
        # LiteLLM's default sends them to the Responses API. Use the model string
        # `openai/responses/<model>` for a route that wants the Responses API.
        module.use_chat_completions_url_for_anthropic_messages = True
        # Its pass-through cost logger logs a traceback at ERROR for every streamed call to a
        # model missing from its cost map; nothing else of use is logged there for this route.
        logging.getLogger("LiteLLM Proxy").setLevel(logging.CRITICAL)
        _litellm = module
        return module


async def preload() -> None:
    """Import LiteLLM now (in a worker thread), e.g. at startup when LiteLLM routes exist.

    Raises :class:`LiteLLMUnavailable` when the ``litellm`` extra is not installed.
    """
    await _load()


async def _load() -> Any:
    if _litellm is not None:
        return _litellm
    return await anyio.to_thread.run_sync(_import_litellm)


# ---------------------------------------------------------------- the call


async def call(route: LiteLLMRoute, body: dict[str, Any], headers: Mapping[str, str]) -> RouteResponse:
    """Send one (already masked) Anthropic Messages request through LiteLLM.

    ``headers`` are the client's request headers; only ``anthropic-beta`` and
    ``anthropic-version`` are used, and only for providers that speak the Anthropic format.
    Never raises for provider or LiteLLM failures: they become Anthropic error responses.
    """
    missing = [name for name in ("messages", "max_tokens") if name not in body]
    if missing:
        return _error_response(400, "invalid_request_error", f"{missing[0]}: Field required")
    try:
        litellm = await _load()
    except LiteLLMUnavailable as exc:
        logger.error("LiteLLM route %s: %s", route.name, exc)
        return _error_response(500, "api_error", "The gateway's LiteLLM route is not installed.")
    provider, native = _provider(litellm, route)
    kwargs = _acreate_kwargs(route, body, headers, provider, native)
    stream = bool(kwargs.get("stream"))
    try:
        result = await litellm.anthropic.messages.acreate(**kwargs)
        if isinstance(result, Mapping) or hasattr(result, "model_dump"):
            message = _as_dict(result)
            if stream:  # e.g. LiteLLM answered a streamed request itself
                return _stream_response(_single(_message_events(message)), None, body, _secrets(route))
            return RouteResponse(200, {"content-type": "application/json"}, _json_bytes(message))
        iterator = aiter(result)
        try:
            first = await anext(iterator)
        except StopAsyncIteration:
            logger.warning("LiteLLM route %s: empty stream", route.name)
            return _error_response(502, "api_error", _NO_ANSWER_MESSAGE)
    except Exception as exc:  # every LiteLLM failure becomes an error response
        return _response_for_exception(route, exc, body)
    return _stream_response(first, iterator, body, _secrets(route))


async def count_tokens(route: LiteLLMRoute, body: Mapping[str, Any]) -> RouteResponse:
    """A routed request's input tokens, counted here with LiteLLM's tokenizer for the route's model
    (an estimate for providers without a counting API): a count never goes to a provider the model
    is not routed to. ``{"input_tokens": n}``, as Anthropic's count_tokens answers."""
    try:
        litellm = await _load()
    except LiteLLMUnavailable as exc:
        logger.error("LiteLLM route %s: %s", route.name, exc)
        return _error_response(500, "api_error", "The gateway's LiteLLM route is not installed.")
    parts = [*_strings(body.get("system")), *_strings(body.get("messages"))]
    if body.get("tools"):
        parts.append(json.dumps(body["tools"], ensure_ascii=False))
    text = "\n".join(parts)
    try:
        # CPU-bound, and the first call loads the tokenizer: off the event loop
        n = await anyio.to_thread.run_sync(lambda: litellm.token_counter(model=route.model, text=text))
    except Exception as exc:
        return _response_for_exception(route, exc, body)
    return RouteResponse(200, {"content-type": "application/json"}, _json_bytes({"input_tokens": int(n)}))


def _provider(litellm: Any, route: LiteLLMRoute) -> tuple[str, bool]:
    """The LiteLLM provider of a route, and whether it speaks the Anthropic format natively."""
    key = (route.model, route.api_base)
    found = _provider_cache.get(key)
    if found is None:
        try:
            model, provider, _, _ = litellm.get_llm_provider(model=route.model, api_base=route.api_base)
            config = litellm.ProviderConfigManager.get_provider_anthropic_messages_config(
                model=model, provider=litellm.LlmProviders(provider)
            )
            native = config is not None and bool(config.serves_api_base(model, route.api_base))
            found = (str(provider), native)
        except Exception:  # unknown provider: LiteLLM's call will say so
            prefix = route.model.partition("/")[0]
            found = (prefix, prefix == "anthropic")
        _provider_cache[key] = found
    return found


_provider_cache: dict[tuple[str, str | None], tuple[str, bool]] = {}


def _acreate_kwargs(
    route: LiteLLMRoute, body: Mapping[str, Any], headers: Mapping[str, str], provider: str, native: bool
) -> dict[str, Any]:
    kwargs = {name: value for name, value in body.items() if name in FORWARDED_FIELDS}
    # LiteLLM switches an openai/ request with thinking enabled to the Responses API whatever
    # the chat-completions setting says; OpenAI-compatible servers mostly lack that API.
    thinking = kwargs.get("thinking")
    if (
        provider == "openai"
        and not route.model.startswith("openai/responses/")
        and isinstance(thinking, Mapping)
        and thinking.get("type") == "enabled"
    ):
        del kwargs["thinking"]
    # The client (Claude Code) retries by itself, reading retry-after: no hidden retries here.
    kwargs["max_retries"] = 0
    if not native:
        # Claude Code always sends fields (output_config.effort, context_management, ...) that
        # most translated providers lack: drop them instead of failing the call.
        kwargs["drop_params"] = True
    extra_headers: dict[str, str] = {}
    if native:
        lowered = {name.lower(): value for name, value in headers.items()}
        extra_headers = {name: lowered[name] for name in FORWARDED_HEADERS if name in lowered}
    extra = dict(route.extra)
    extra_headers.update(extra.pop("extra_headers", None) or {})
    if extra_headers:
        kwargs["extra_headers"] = extra_headers
    kwargs.update(extra)
    kwargs["model"] = route.model
    api_base = route.api_base or _DEFAULT_API_BASES.get(provider)
    if api_base is not None:
        kwargs["api_base"] = api_base
    if route.api_key is not None:
        kwargs["api_key"] = route.api_key
    return kwargs


# ---------------------------------------------------------------- streams


def _stream_response(
    first: Any, rest: AsyncIterator[Any] | None, body: Mapping[str, Any], secrets: tuple[str, ...]
) -> RouteResponse:
    return RouteResponse(200, {"content-type": "text/event-stream"}, stream=_sse(first, rest, body, secrets))


async def _single(chunk: bytes) -> AsyncIterator[bytes]:
    yield chunk


class _EventAligner:
    """Cuts a byte stream into whole SSE events (LiteLLM relays native providers' raw reads)."""

    def __init__(self) -> None:
        self._pending = bytearray()
        self.finished = False  # a message_stop or error event went by

    def feed(self, data: bytes) -> bytes:
        self._pending += data
        lf, crlf = self._pending.rfind(b"\n\n"), self._pending.rfind(b"\r\n\r\n")
        cut = max(lf + 2 if lf >= 0 else 0, crlf + 4 if crlf >= 0 else 0)
        if not cut:
            return b""
        out = bytes(self._pending[:cut])
        del self._pending[:cut]
        if not self.finished and _TERMINAL_EVENT.search(out):
            self.finished = True
        return out

    @property
    def partial(self) -> bool:
        return bool(self._pending.strip())


async def _sse(
    first: Any, rest: AsyncIterator[Any] | None, body: Mapping[str, Any], secrets: tuple[str, ...]
) -> AsyncIterator[bytes]:
    aligner = _EventAligner()
    try:
        chunk = first
        while True:
            out = aligner.feed(_as_sse_bytes(chunk))
            if out:
                yield out
            if rest is None:
                break
            try:
                chunk = await anext(rest)
            except StopAsyncIteration:
                break
        # A stream that closed without message_stop (possibly in the middle of an event, which
        # is dropped here) is reported by the gateway's relay, as for every provider.
    except Exception as exc:
        if not aligner.finished:
            status, kind, message, _ = _classify(exc, body, secrets)
            logger.warning("LiteLLM stream failed: %s (status %s)", type(exc).__name__, status)
            yield _error_event(kind, message)
    finally:
        close = getattr(rest, "aclose", None)
        if close is not None:
            try:
                await close()
            except Exception:  # closing a broken stream may fail again; nothing left to tell
                logger.debug("closing the LiteLLM stream failed", exc_info=True)


def _as_sse_bytes(chunk: Any) -> bytes:
    """LiteLLM 1.110.2 yields bytes; older and future versions may yield events as objects."""
    if isinstance(chunk, bytes):
        return chunk
    if isinstance(chunk, (bytearray, memoryview)):
        return bytes(chunk)
    if isinstance(chunk, str):
        return chunk.encode()
    event = _as_dict(chunk)
    return _event(str(event.get("type", "message")), event)


def _event(name: str, data: Mapping[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + _json_bytes(data) + b"\n\n"


def _error_event(kind: str, message: str) -> bytes:
    return error_event(message, kind)


def _message_events(message: Mapping[str, Any]) -> bytes:
    """A whole Messages response as the SSE events that stream it."""
    start = dict(message, content=[], stop_reason=None, stop_sequence=None)
    events = [_event("message_start", {"type": "message_start", "message": start})]
    for index, block in enumerate(message.get("content") or []):
        first, delta = _block_start_and_delta(block)
        events.append(
            _event("content_block_start", {"type": "content_block_start", "index": index, "content_block": first})
        )
        if delta is not None:
            events.append(
                _event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
            )
        events.append(_event("content_block_stop", {"type": "content_block_stop", "index": index}))
    usage = message.get("usage") or {}
    delta = {"stop_reason": message.get("stop_reason"), "stop_sequence": message.get("stop_sequence")}
    tail = {"type": "message_delta", "delta": delta, "usage": {"output_tokens": usage.get("output_tokens", 0)}}
    events.append(_event("message_delta", tail))
    events.append(_event("message_stop", {"type": "message_stop"}))
    return b"".join(events)


def _block_start_and_delta(block: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    kind = block.get("type")
    if kind == "text":
        return dict(block, text=""), {"type": "text_delta", "text": block.get("text", "")}
    if kind == "tool_use":
        partial = json.dumps(block.get("input", {}), ensure_ascii=False)
        return dict(block, input={}), {"type": "input_json_delta", "partial_json": partial}
    if kind == "thinking":
        # the signature comes whole in the start block rather than as a signature_delta
        return dict(block, thinking=""), {"type": "thinking_delta", "thinking": block.get("thinking", "")}
    return dict(block), None


# ---------------------------------------------------------------- errors


def _response_for_exception(route: LiteLLMRoute, exc: BaseException, body: Mapping[str, Any]) -> RouteResponse:
    status, kind, message, headers = _classify(exc, body, _secrets(route))
    logger.warning("LiteLLM route %s: %s (status %s)", route.name, type(exc).__name__, status)
    logger.debug("LiteLLM route %s failure", route.name, exc_info=exc)
    return _error_response(status, kind, message, headers)


def _error_response(status: int, kind: str, message: str, headers: Mapping[str, str] | None = None) -> RouteResponse:
    out = {"content-type": "application/json", **(headers or {})}
    return RouteResponse(status, out, error_body(status, message, kind))


def _secrets(route: LiteLLMRoute) -> tuple[str, ...]:
    """What a provider's message must never carry to the client: the route's own key."""
    return (route.api_key,) if route.api_key else ()


def _classify(
    exc: BaseException, body: Mapping[str, Any], secrets: tuple[str, ...] = ()
) -> tuple[int, str, str, dict[str, str]]:
    """(status, Anthropic error type, message, headers to pass) for a LiteLLM exception."""
    upstream = _upstream_headers(exc)
    passed = {name: value for name, value in upstream.items() if _passes(name)}
    status = getattr(exc, "status_code", None)
    status = status if isinstance(status, int) and 400 <= status <= 599 else None
    names = {cls.__name__ for err in _chain(exc) for cls in type(err).__mro__}
    if names & _TIMEOUT_NAMES and not upstream:
        return 504, error_type(504), _GENERIC_MESSAGES["timeout_error"], passed
    if not upstream and (names & _CONNECTION_NAMES or status is None or status >= 500):
        # No upstream answer at all: a connection failure, or LiteLLM failing on its own
        # (it reports both as a 500 "InternalServerError" / "APIConnectionError").
        return 502, "api_error", _NO_ANSWER_MESSAGE, passed
    provider_kind, provider_message = _provider_error(exc)
    if status is None:
        status = 500
    if provider_kind == "overloaded_error":
        status = 529  # LiteLLM reports Anthropic's 529 as a 500
    kind = error_type(status)
    message = _GENERIC_MESSAGES.get(kind, _GENERIC_MESSAGES["api_error"])
    if provider_message and _safe_to_show(provider_message, body, secrets):
        message = f"{message} Provider said: {provider_message}"
    return status, kind, message, passed


def _passes(name: str) -> bool:
    return name in _ERROR_HEADERS or name.startswith("anthropic-ratelimit-")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _upstream_headers(exc: BaseException) -> dict[str, str]:
    """The provider's response headers as LiteLLM keeps them (lower-cased), if it answered."""
    found: dict[str, str] = {}
    response = getattr(exc, "response", None)
    for source in (getattr(response, "headers", None), getattr(exc, "litellm_response_headers", None)):
        if source is None:
            continue
        try:
            items = list(source.items())
        except Exception:
            continue
        for name, value in items:
            found[str(name).lower()] = str(value)
    return found


def _provider_error(exc: BaseException) -> tuple[str | None, str | None]:
    """The provider's error type and message, dug out of LiteLLM's exception text."""
    body = getattr(exc, "body", None)
    if isinstance(body, Mapping):
        found = _error_fields(body)
        if found[1]:
            return found
    text = getattr(exc, "message", None)
    text = text if isinstance(text, str) else str(exc)
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", text):
        try:
            parsed, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(parsed, Mapping):
            found = _error_fields(parsed)
            if found[1]:
                return found
    stripped = _LITELLM_SUFFIX.sub("", _LITELLM_PREFIX.sub("", text, count=1)).strip()
    return None, stripped or None


def _error_fields(data: Mapping[str, Any]) -> tuple[str | None, str | None]:
    error = data.get("error")
    source = error if isinstance(error, Mapping) else data
    kind, message = source.get("type"), source.get("message")
    return (kind if isinstance(kind, str) else None, message if isinstance(message, str) else None)


def _safe_to_show(message: str, body: Mapping[str, Any], secrets: tuple[str, ...] = ()) -> bool:
    """Whether a provider's message may go to the client: short, echoing no request text and no
    8-character stretch of the route's key (`secrets`).

    Providers sometimes quote the offending input; any 16-character stretch of the message found
    in a string of the request (or a short request string found in the message) rules it out.
    """
    if len(message) > _MAX_PROVIDER_MESSAGE or any(ord(c) < 32 for c in message):
        return False
    for secret in secrets:  # the key whole, or a stretch of it (a provider showing it half starred)
        step = min(len(secret), _KEY_WINDOW)
        if any(secret[i : i + step] in message for i in range(len(secret) - step + 1)):
            return False
    strings = list(_strings(body))
    corpus = "\x00".join(s for s in strings if len(s) >= _ECHO_WINDOW)
    step = _ECHO_WINDOW // 2  # an echo of 24+ characters covers one of these windows whole
    for start in range(0, max(len(message) - _ECHO_WINDOW, 0) + 1, step):
        if message[start : start + _ECHO_WINDOW] in corpus:
            return False
    if len(message) >= _ECHO_WINDOW and message[-_ECHO_WINDOW:] in corpus:
        return False
    return not any(8 <= len(s) < 3 * step and s in message for s in strings)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


# ---------------------------------------------------------------- helpers


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    dump = getattr(value, "model_dump", None)
    if dump is not None:
        dumped = dump()
        if isinstance(dumped, Mapping):
            return dict(dumped)
    raise TypeError(f"unexpected LiteLLM result {type(value).__name__}")


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
