"""Model providers behind one interface, so the request path is the same whoever answers.

A `Provider` takes a masked request (`Outgoing`) and gives back a `Reply`: a whole body, or a
stream of bytes the gateway unmasks on the way to the client. When the provider does not answer
at all it raises `ApiError` (502, 504); an answer of its own, errors included, is a `Reply`.
`anthropic.AnthropicProvider` forwards byte-exact over httpx2; `litellm.LiteLLMProvider` reaches
other providers through LiteLLM. A test fakes one with any object of this shape.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol


async def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Outgoing:
    """A masked request as it leaves: nothing in it is an original. `headers` are the client's
    minus ours, with the right credential; `query` is masked like the body."""

    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class Reply:
    """What a provider answered: `body` whole, or (`stream` set) bytes as they come.

    `close` releases the provider's connection (the relay always calls it); a stream raises one of
    `broken` when the provider's connection breaks mid-way. `latency` is the seconds until the
    provider's response headers (or its whole answer, when there is no such thing)."""

    status: int
    headers: dict[str, str]
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None
    close: Callable[[], Awaitable[None]] = _nothing
    broken: tuple[type[BaseException], ...] = ()
    latency: float = 0.0


class Provider(Protocol):
    """One way to reach a model: Messages (whole or streamed) and token counting."""

    name: str

    async def messages(self, request: Outgoing) -> Reply: ...

    async def count_tokens(self, request: Outgoing) -> Reply: ...

    async def aclose(self) -> None: ...


__all__ = ["Outgoing", "Provider", "Reply"]
