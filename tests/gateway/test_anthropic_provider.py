"""The Anthropic provider against its own client library, in process (`httpx2.MockTransport`): what
goes out byte for byte, and which of the client's failures become which answer. A provider that
caught another library's exceptions would let a provider failure escape as a 500 or an unended
stream; the real-process faults are in tests/reliability/test_upstream_faults.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx2
import pytest
from maskgate.errors import ApiError
from maskgate.providers import Outgoing, Reply
from maskgate.providers.anthropic import AnthropicProvider

pytestmark = pytest.mark.anyio
BASE = "https://upstream.test"
# A context word in Korean, as the ASGI server hands a UTF-8 header over: Latin-1 text.
KOREAN = "계정".encode().decode("latin-1")
OUTGOING = Outgoing(
    "/v1/messages", "beta=true", [("x-api-key", "sk-up"), ("x-note", KOREAN)], b'{"model":"m","messages":[]}'
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def provider(handler: Callable[[httpx2.Request], httpx2.Response]) -> AnthropicProvider:
    return AnthropicProvider(BASE, 5.0, httpx2.AsyncClient(transport=httpx2.MockTransport(handler)))


class Broken(httpx2.AsyncByteStream):
    """A reply body that breaks after its first bytes, as a provider connection reset does."""

    def __init__(self, first: bytes) -> None:
        self.first = first

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.first
        raise httpx2.ReadError("connection reset")


async def drain(reply: Reply) -> list[bytes]:
    assert reply.stream is not None
    try:
        return [chunk async for chunk in reply.stream]
    finally:
        await reply.close()


async def test_the_request_goes_out_as_given_and_the_reply_comes_back_whole() -> None:
    seen: list[httpx2.Request] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        headers = {"content-type": "application/json", "retry-after": "3", "connection": "close"}
        return httpx2.Response(429, headers=headers, content=b'{"type":"error"}')

    p = provider(answer)
    reply = await p.messages(OUTGOING)
    await p.aclose()
    (sent,) = seen
    assert str(sent.url) == f"{BASE}/v1/messages?beta=true"
    assert sent.content == OUTGOING.body
    assert sent.headers.get_list("x-api-key") == ["sk-up"]
    assert (b"x-note", "계정".encode()) in sent.headers.raw  # the UTF-8 bytes, not re-encoded
    assert (reply.status, reply.body, reply.stream) == (429, b'{"type":"error"}', None)
    assert reply.headers["retry-after"] == "3" and "connection" not in reply.headers


async def test_an_event_stream_comes_back_as_it_arrives() -> None:
    events = [b"event: ping\ndata: {}\n\n", b"event: message_stop\ndata: {}\n\n"]

    async def arrive() -> AsyncIterator[bytes]:
        for e in events:
            yield e

    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=arrive())

    reply = await provider(answer).messages(OUTGOING)
    assert b"".join(await drain(reply)) == b"".join(events)


async def test_a_stream_that_breaks_raises_what_the_relay_catches() -> None:
    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, stream=Broken(b"event: ping\n\n"))

    reply = await provider(answer).messages(OUTGOING)
    with pytest.raises(reply.broken):
        await drain(reply)


@pytest.mark.parametrize(
    ("failure", "status", "message"),
    [
        (httpx2.ConnectTimeout("slow"), 504, "upstream timed out"),
        (httpx2.ReadTimeout("slow"), 504, "upstream timed out"),
        (httpx2.ConnectError("refused"), 502, "upstream unreachable"),
        (httpx2.RemoteProtocolError("garbage"), 502, "upstream unreachable"),
    ],
)
async def test_no_answer_is_a_502_or_504(failure: Exception, status: int, message: str) -> None:
    def answer(request: httpx2.Request) -> httpx2.Response:
        raise failure

    for call in ("messages", "count_tokens"):
        with pytest.raises(ApiError) as e:
            await getattr(provider(answer), call)(OUTGOING)
        assert (e.value.status, e.value.message) == (status, message)


async def test_a_whole_reply_that_breaks_is_a_502() -> None:
    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "application/json"}, stream=Broken(b'{"con'))

    with pytest.raises(ApiError) as e:
        await provider(answer).messages(OUTGOING)
    assert (e.value.status, e.value.message) == (502, "upstream connection lost")
