"""The corpus is what the benchmarks and the recall measurements assume it is."""

from __future__ import annotations

import json

from corpus import KINDS, make_annotated, make_body, make_labelled, make_text


def test_text_is_exact_deterministic_and_labelled() -> None:
    a = make_annotated(100_000, seed=3)
    assert len(a.text.encode()) == 100_000
    assert make_text(100_000, seed=3) == a.text
    assert make_text(100_000, seed=4) != a.text
    assert {s.kind for s in a.planted} == set(KINDS), "every kind is planted at 100 KB"
    assert a.lookalikes
    for s in a.planted + a.lookalikes:
        assert a.text[s.start : s.end] == s.value
    text, planted, lookalikes = make_labelled(100_000, seed=3)
    assert (text, planted, lookalikes) == (
        a.text,
        [(s.kind, s.value) for s in a.planted],
        [s.value for s in a.lookalikes],
    )
    assert not any("EXAMPLE" in v for _, v in planted)


def test_body_is_an_exact_claude_code_request() -> None:
    raw = make_body(100_000, seed=3)
    assert len(raw) == 100_000
    assert make_body(100_000, seed=3) == raw
    body = json.loads(raw)
    assert list(body)[:4] == ["model", "messages", "system", "tools"]
    assert body["stream"] is True
    assert body["system"][0]["text"].startswith("x-anthropic-billing-header: cc_version=")
    assert len(body["tools"]) == 20
    blocks = [b["type"] for m in body["messages"] for b in m["content"]]
    assert {"thinking", "text", "tool_use", "tool_result"} <= set(blocks)
    assert body["messages"][-1]["role"] == "user"
