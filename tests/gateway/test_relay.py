"""The one relay, in-process with a provider's `Reply` made by hand: what every provider's reply
goes through on the way back (the providers themselves are run against a fake in test_providers)."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from maskgate._core import Unmasker
from maskgate.engine import Engine
from maskgate.gateway.observe import Observer, Record
from maskgate.gateway.relay import _finished, relay
from maskgate.providers import Reply
from maskgate.server import Gateway
from maskgate.settings import Settings
from starlette.requests import Request
from starlette.responses import StreamingResponse

from tests.fake_upstream import parse_sse

pytestmark = pytest.mark.anyio
INSTANCE = "i-0123456789abcdef0"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def gateway(tmp_path: Path) -> Gateway:
    return Gateway(Settings(master_key="k" * 32, store_path=tmp_path / "s.db"))


def unmasker_for(text: str) -> tuple[Unmasker, str]:
    masked = Engine.from_settings(Settings(master_key="k" * 32)).mask(text, "relay-test")
    return masked.unmasker(), masked.text


def record(gateway: Gateway) -> Record:
    scope = {"type": "http", "method": "POST", "path": "/v1/messages", "headers": [], "query_string": b""}
    return Observer(gateway.metrics, gateway.console).begin(Request(scope))


async def chunks(*parts: bytes, error: BaseException | None = None) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
    if error is not None:
        raise error


async def body_of(response: StreamingResponse) -> str:
    return b"".join([bytes(c) async for c in response.body_iterator]).decode()


async def test_a_whole_reply_that_is_not_json_passes_as_it_came(gateway: Gateway) -> None:
    unmasker, _ = unmasker_for(f"stop {INSTANCE}")
    assert len(unmasker)
    page = b"<html>captive portal</html>"
    r = relay(Reply(200, {"content-type": "text/html"}, page), unmasker, record(gateway), gateway.metrics)
    assert (r.status_code, r.body) == (200, page)


async def test_a_whole_reply_is_restored_and_recorded(gateway: Gateway) -> None:
    unmasker, masked = unmasker_for(f"stop {INSTANCE}")
    pseudonym = masked.removeprefix("stop ")
    rec = record(gateway)
    body = b'{"content":[{"type":"text","text":"stopped ' + pseudonym.encode() + b'"}]}'
    r = relay(Reply(200, {"content-type": "application/json"}, body), unmasker, rec, gateway.metrics)
    assert INSTANCE.encode() in r.body
    assert sum(rec.fields["restored"].values()) == 1


def event(name: str, data: str) -> bytes:
    return f"event: {name}\ndata: {data}\n\n".encode()


START = event("message_start", '{"type":"message_start","message":{"id":"m","content":[]}}')
STOP = event("message_stop", '{"type":"message_stop"}')


@pytest.mark.parametrize("with_pairs", [False, True])
async def test_a_finished_stream_gets_nothing_added(gateway: Gateway, with_pairs: bool) -> None:
    unmasker, _ = unmasker_for(f"stop {INSTANCE}" if with_pairs else "nothing to mask")
    rec = record(gateway)
    r = relay(Reply(200, {}, stream=chunks(START, STOP[:9], STOP[9:])), unmasker, rec, gateway.metrics)
    assert isinstance(r, StreamingResponse)
    assert [n for n, _ in parse_sse(await body_of(r))] == ["message_start", "message_stop"]
    assert rec.fields["stream"] == "ok"


@pytest.mark.parametrize("with_pairs", [False, True])
async def test_a_stream_that_ends_early_ends_with_an_error_event(gateway: Gateway, with_pairs: bool) -> None:
    unmasker, _ = unmasker_for(f"stop {INSTANCE}" if with_pairs else "nothing to mask")
    rec = record(gateway)
    r = relay(Reply(200, {}, stream=chunks(START)), unmasker, rec, gateway.metrics)
    assert isinstance(r, StreamingResponse)
    events = parse_sse(await body_of(r))
    assert [n for n, _ in events] == ["message_start", "error"]
    assert rec.fields["stream"] == "ended_early"


async def test_a_broken_stream_ends_with_an_error_event_and_is_closed(gateway: Gateway) -> None:
    closed: list[bool] = []

    async def close() -> None:
        closed.append(True)

    unmasker, _ = unmasker_for(f"stop {INSTANCE}")
    rec = record(gateway)
    stream = chunks(START, error=ConnectionError("reset"))
    reply = Reply(200, {}, stream=stream, close=close, broken=(ConnectionError,))
    r = relay(reply, unmasker, rec, gateway.metrics)
    assert isinstance(r, StreamingResponse)
    events = parse_sse(await body_of(r))
    assert [n for n, _ in events] == ["message_start", "error"]
    assert rec.fields["stream"] == "upstream_broken" and closed == [True]


STOP_DATA_ONLY = b'data: {"type": "message_stop"}\n\n'
QUOTED = b'data: {"type":"content_block_delta","delta":{"text":"\\"type\\":\\"message_stop\\""}}\n\n'
BIG = b"x" * 70_000


@pytest.mark.parametrize(
    ("chunks_out", "finished"),
    [
        ([BIG, STOP], True),
        ([BIG, STOP[:5], STOP[5:]], True),  # the closing event split over reads
        ([BIG + STOP], True),
        ([STOP_DATA_ONLY], True),  # a stream without event lines
        ([STOP, BIG], False),
        ([QUOTED], False),  # model text that quotes the event's data is not the event
        ([], False),
    ],
)
def test_what_counts_as_a_finished_stream(chunks_out: list[bytes], finished: bool) -> None:
    assert _finished(deque(chunks_out)) is finished
