"""Property-based tests over whole Messages requests (hypothesis).

Requests with arbitrary nesting, unicode, escapes, long strings, identifiers at string edges, in
object keys and written with JSON escapes. Properties: the masked body is valid JSON, holds no
original (raw or decoded), and echoing it back (non-streamed, or streamed and cut anywhere)
restores exactly what the client sent. In process through the engine, many examples; then through
a real gateway to an echo provider, fewer.
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from maskgate import Engine

from tests.proxy import Proxy
from tests.reliability.conftest import ProxyFactory, Watch
from tests.reliability.echo_upstream import start_echo
from tests.reliability.support import B32, auth, sse

HEX = "0123456789abcdef"

instance = st.text(HEX, min_size=17, max_size=17).map(lambda h: f"i-{h}")
vpc = st.text(HEX, min_size=8, max_size=8).map(lambda h: f"vpc-{h}")
access_key = st.text(B32, min_size=16, max_size=16).map(lambda s: f"AKIA{s}")
arn = st.tuples(st.text("123456789", min_size=12, max_size=12), st.text("abcdefgh", min_size=1, max_size=8)).map(
    lambda t: f"arn:aws:iam::{t[0]}:role/{t[1]}"
)
ENGINE = Engine()


def found_alone(value: str) -> bool:
    """The catalogue finds it on its own (it rejects placeholders such as i-00000000000000000)."""
    hits = ENGINE.scan(value)
    return len(hits) == 1 and (hits[0].start, hits[0].end) == (0, len(value))


identifier = st.one_of(instance, vpc, access_key, arn).filter(found_alone)
# Non-word, non-letter separators, so that a planted identifier is a whole token.
separator = st.sampled_from([" ", "\n", "\t", '"', "\\", ",", ";", "(", ")", "😀", "\u2028", "—", "/", "\x00", "{"])
filler = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@st.composite
def prose(draw: st.DrawFn) -> tuple[str, tuple[str, ...]]:
    """Text with identifiers planted among unicode filler; identifiers may open or close it."""
    parts: list[str] = []
    planted: list[str] = []
    for _ in range(draw(st.integers(0, 6))):
        ident = draw(identifier)
        planted.append(ident)
        parts += [draw(filler), draw(separator), ident, draw(separator)]
    if draw(st.booleans()) and planted:
        parts = parts[2:]  # the first identifier opens the string
    if draw(st.integers(0, 20)) == 0:
        parts.append(" " + "long " * draw(st.integers(2000, 20000)))
    elif draw(st.booleans()) and planted:
        parts = parts[:-1]  # the last one closes it
    return "".join(parts), tuple(planted)


json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), prose()
)


def _tree(leaf: Any) -> Any:
    return st.one_of(st.lists(leaf, max_size=4), st.dictionaries(st.one_of(filler, prose()), leaf, max_size=4))


@st.composite
def tool_input(draw: st.DrawFn) -> tuple[dict[str, Any], list[str]]:
    """A nested object; strings and keys may hold identifiers."""
    planted: list[str] = []

    def realise(value: Any) -> Any:
        if isinstance(value, tuple):
            planted.extend(value[1])
            return value[0]
        if isinstance(value, list):
            return [realise(v) for v in value]
        if isinstance(value, dict):
            return {realise(k): realise(v) for k, v in value.items()}
        return value

    raw = draw(st.dictionaries(st.one_of(filler, prose()), st.recursive(json_leaf, _tree, max_leaves=12), max_size=4))
    return realise(raw), planted


def dumps_with_escapes(value: Any, rng: random.Random) -> str:
    """JSON where some characters of strings are written as \\uXXXX, splitting identifiers."""
    if isinstance(value, str):
        out = []
        for ch in value:
            if ch in '"\\' or ord(ch) < 0x20 or (ord(ch) < 0x10000 and rng.random() < 0.15):
                out.append(f"\\u{ord(ch):04x}")
            else:
                out.append(ch)
        return '"' + "".join(out) + '"'
    if isinstance(value, list):
        return "[" + ",".join(dumps_with_escapes(v, rng) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{" + ",".join(f"{dumps_with_escapes(k, rng)}:{dumps_with_escapes(v, rng)}" for k, v in value.items()) + "}"
        )
    return json.dumps(value)


@st.composite
def request(draw: st.DrawFn) -> tuple[bytes, str, dict[str, Any], list[str]]:
    text, planted = draw(prose())
    args, in_tool = draw(tool_input())
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 64,
        "messages": [
            {"role": "user", "content": "start"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": args}]},
            {"role": "user", "content": text},
        ],
    }
    raw = dumps_with_escapes(body, random.Random(draw(st.integers(0, 2**32))))
    assert json.loads(raw) == body
    return raw.encode(), text, args, [*planted, *in_tool]


def strings_of(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from strings_of(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings_of(v)


def assert_masked(output: bytes, planted: list[str]) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(output)
    decoded = "\n".join(strings_of(parsed))
    for original in planted:
        assert original not in decoded, "an original survived masking"
        assert original.encode() not in output
    return parsed


def echo_of(masked: dict[str, Any]) -> tuple[str, Any]:
    return masked["messages"][-1]["content"], masked["messages"][1]["content"][0]["input"]


def streamed(text: str, args: Any, rng: random.Random) -> bytes:
    events = [("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text"}})]
    i = 0
    while i < len(text):
        n = rng.randint(1, 9)
        delta = {"type": "text_delta", "text": text[i : i + n]}
        events.append(("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}))
        i += n
    raw = json.dumps(args, ensure_ascii=False)
    events.append(
        ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use"}})
    )
    for j in range(0, len(raw), 5):
        delta = {"type": "input_json_delta", "partial_json": raw[j : j + 5]}
        events.append(("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": delta}))
    events.append(("message_stop", {"type": "message_stop"}))
    return "".join(f"event: {n}\ndata: {json.dumps(d, ensure_ascii=False)}\n\n" for n, d in events).encode()


def from_stream(body: str) -> tuple[str, Any]:
    events = sse(body)
    deltas = [d["delta"] for n, d in events if n == "content_block_delta"]
    text = "".join(d.get("text", "") for d in deltas)
    partial = "".join(d.get("partial_json", "") for d in deltas)
    return text, json.loads(partial)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(request(), st.randoms(use_true_random=False))
def test_engine_masks_and_restores_whole_requests(
    case: tuple[bytes, str, dict[str, Any], list[str]], rng: random.Random
) -> None:
    raw, text, args, planted = case
    masked = ENGINE.mask_body(raw, namespace=f"ns-{secrets.token_hex(4)}")
    parsed = assert_masked(masked.output, planted)
    unmasker = masked.unmasker()
    echo_text, echo_args = echo_of(parsed)
    reply = json.dumps({"content": [{"type": "text", "text": echo_text}, {"type": "tool_use", "input": echo_args}]})
    restored, _ = unmasker.unmask_response(reply.encode())
    back = json.loads(restored)["content"]
    assert back[0]["text"] == text and back[1]["input"] == args
    # Streamed, and fed to the rewriter in arbitrary pieces.
    stream = streamed(echo_text, echo_args, rng)
    rewriter = unmasker.sse()
    out = b""
    i = 0
    while i < len(stream):
        n = rng.randint(1, 64)
        out += rewriter.feed(stream[i : i + n])
        i += n
    out += rewriter.finish()
    assert from_stream(out.decode()) == (text, args)


@pytest.fixture(scope="module")
def echo() -> Iterator[str]:
    with start_echo() as url:
        yield url


@pytest.fixture
def echo_proxy(echo: str, start_proxy: ProxyFactory) -> Iterator[Proxy]:
    with start_proxy(echo) as p:
        yield p


def test_gateway_masks_and_restores_whole_requests(echo: str, echo_proxy: Proxy, watch: Watch) -> None:
    """The same property through a real gateway process and a real provider that echoes."""

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(request(), st.booleans(), st.integers(1, 13))
    def run(case: tuple[bytes, str, dict[str, Any], list[str]], stream: bool, chunk: int) -> None:
        raw, text, args, planted = case
        watch.original(*planted)
        if stream:
            raw = b'{"stream":true,' + raw[1:]
        headers = {**auth(), "content-type": "application/json", "x-echo-chunk": str(chunk)}
        r = httpx2.post(echo_proxy.url + "/v1/messages", content=raw, headers=headers, timeout=60)
        assert r.status_code == 200, r.text[:300]
        if stream:
            assert from_stream(r.text) == (text, args)
        else:
            content = r.json()["content"]
            assert (content[0]["text"], content[1]["input"]) == (text, args)
        assert_masked(httpx2.get(echo + "/_last").content, planted)

    run()
