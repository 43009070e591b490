"""The session body is what benches/session.py says: exact, a Claude Code request, mostly code and
prose, deterministic, and its next turn resends every earlier string byte for byte."""

from __future__ import annotations

import json

from session import next_turn, session_body


def _strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    if isinstance(node, dict):
        return [s for k, v in node.items() if k != "cache_control" for s in _strings(v)]
    return []


def test_session_body_is_an_exact_claude_code_request() -> None:
    raw = session_body(300_000)
    assert len(raw) == 300_000 and session_body(300_000) == raw
    body = json.loads(raw)
    assert list(body)[:4] == ["model", "messages", "system", "tools"]
    assert body["system"][0]["text"].startswith("x-anthropic-billing-header: cc_version=")
    assert len(body["tools"]) == 20 and all("input_schema" in t for t in body["tools"])
    blocks = [b for m in body["messages"] for b in m["content"]]
    assert {"thinking", "text", "tool_use", "tool_result"} <= {b["type"] for b in blocks}
    assert {b["name"] for b in blocks if b["type"] == "tool_use"} >= {"Read", "Bash"}
    roles = [m["role"] for m in body["messages"]]
    assert roles[0] == roles[-1] == "user" and all(a != b for a, b in zip(roles, roles[1:], strict=False))
    text = raw.decode()
    assert "def " in text and "fn " in text and "diff --git" in text, "code, Rust and diffs"
    assert "⟦" not in text and "⟪" not in text, "corpus labels are removed"


def test_next_turn_resends_the_previous_body() -> None:
    base, one, two = (
        json.loads(session_body(200_000)),
        json.loads(next_turn(200_000)),
        json.loads(next_turn(200_000, 2)),
    )
    n = len(base["messages"])
    assert len(one["messages"]) == n + 2 and len(two["messages"]) == n + 4
    assert _strings(one["messages"][:n]) == _strings(base["messages"])
    assert _strings(one["messages"]) == _strings(two["messages"][: n + 2])
    marked = [i for i, m in enumerate(one["messages"]) for b in m["content"] if "cache_control" in b]
    assert marked == [n + 1], "cache_control moves to the last message"
    assert {k: v for k, v in one.items() if k != "messages"} == {k: v for k, v in base.items() if k != "messages"}
