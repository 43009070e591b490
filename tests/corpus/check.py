"""What the corpus checks for one document, shared by the tests and the report.

Text: `Engine().mask(text)`; every planted label's span must be replaced (covered by
findings, and neither its raw text, its canonical value nor any piece of it left in the
output), every look-alike must survive byte-exact (no finding touches it, as many copies as
before), and `unmask(masked) == text`. Body: the document is the content of a tool_result in
a Claude Code-shaped Messages request; `mask_body` must give valid JSON in which no planted
value appears in any form (raw, canonical, JSON-escaped), and the look-alikes survive.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from maskgate import Engine

from tests.corpus.corpus import Document, Label

PIECE_SPLIT = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff\u00ad]+")
MIN_PIECE = 6


@dataclass
class Miss:
    label: Label
    reason: str
    found_as: str = ""  # for look-alikes: the kinds of the findings that touched it


@dataclass
class Result:
    doc: Document
    leaks: list[Miss] = field(default_factory=list)
    touched: list[Miss] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # round trip, invalid JSON, engine errors


def pieces(raw: str) -> list[str]:
    return [p for p in PIECE_SPLIT.split(raw) if len(p) >= MIN_PIECE and p != raw]


def json_forms(s: str) -> set[str]:
    return {s, json.dumps(s)[1:-1], json.dumps(s, ensure_ascii=False)[1:-1]}


def leak_reason(lb: Label, out: str, escaped: bool) -> str | None:
    def has(s: str) -> bool:
        return any(f in out for f in (json_forms(s) if escaped else {s}))

    if has(lb.raw):
        return "left in output"
    if lb.canonical != lb.raw and has(lb.canonical):
        return "canonical value left in output"
    for p in pieces(lb.raw):
        if has(p):
            return f"piece {p[:12]!r}… left in output"
    return None


def namespace(doc: Document, mode: str) -> str:
    return f"corpus-{mode}-{doc.family}-{doc.name}"


def check_text(engine: Engine, doc: Document) -> Result:
    res = Result(doc)
    ns = namespace(doc, "text")
    try:
        masked = engine.mask(doc.text, namespace=ns)
    except Exception as e:  # an engine error is a finding of the corpus, not a crash of the run
        res.errors.append(f"mask raised {type(e).__name__}: {e}")
        return res
    out = masked.text
    spans = [(f.start, f.end, f.kind) for f in masked.findings]
    for lb in doc.planted:
        reason = planted_reason(coverage(spans, lb.start, lb.end), leak_reason(lb, out, escaped=False))
        if reason:
            res.leaks.append(Miss(lb, reason))
    for lb in doc.lookalikes:
        kinds = sorted({k for s, e, k in spans if s < lb.end and e > lb.start})
        if kinds:
            res.touched.append(Miss(lb, "masked", ",".join(kinds)))
        elif out.count(lb.raw) < doc.text.count(lb.raw):
            res.touched.append(Miss(lb, "changed"))
    back = engine.unmask(out, namespace=ns)
    if back != doc.text:
        res.errors.append(f"round trip differs: {first_difference(doc.text, back)}")
    return res


def first_difference(a: str, b: str) -> str:
    i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
    line = a.count("\n", 0, i) + 1
    return f"document line {line}: expected {a[i : i + 30]!r}, got {b[i : i + 30]!r}"


CLAUDE_CODE_SYSTEM = (
    "You are Claude Code, Anthropic's official CLI for Claude.\n"
    "You are an interactive CLI tool that helps users with software engineering tasks."
)
BASH_TOOL: dict[str, Any] = {
    "name": "Bash",
    "description": "Executes a given bash command in a persistent shell session with optional timeout.",
    "input_schema": {
        "type": "object",
        "properties": {
            "command": {"type": "string", "description": "The command to execute"},
            "timeout": {"type": "number", "description": "Optional timeout in milliseconds (max 600000)"},
            "description": {"type": "string", "description": "Clear, concise description of what this command does"},
        },
        "required": ["command"],
        "additionalProperties": False,
        "$schema": "http://json-schema.org/draft-07/schema#",
    },
}


def claude_code_body(doc: Document) -> dict[str, Any]:
    """A Claude Code turn: the user asks, the model ran a Bash command, the document is its output."""
    tool_id = "toolu_01" + hashlib.sha256(doc.id.encode()).hexdigest()[:22]
    return {
        "model": "claude-sonnet-4-5-20250929",
        "max_tokens": 32000,
        "stream": True,
        "system": [
            {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.32.b8a; cc_entrypoint=cli;"},
            {"type": "text", "text": CLAUDE_CODE_SYSTEM, "cache_control": {"type": "ephemeral"}},
        ],
        "tools": [BASH_TOOL],
        "metadata": {"user_id": "user_3f1c9a_account__session_9d5e0b7a-2c41-4e8f-9a31-6b0d2e4f8c17"},
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "What does this show? Anything wrong?"}]},
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool_use",
                        "id": tool_id,
                        "name": "Bash",
                        "input": {"command": f"cat {doc.name}.txt", "description": "Show the file"},
                    }
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": tool_id, "content": doc.text, "is_error": False},
                ],
            },
        ],
    }


PLACEHOLDER = "@@corpus-document@@"


def body_bytes(doc: Document) -> tuple[bytes, list[int]]:
    """The request body, and for each character of the document (and its end) its byte offset in it."""
    obj = claude_code_body(doc)
    obj["messages"][2]["content"][0]["content"] = PLACEHOLDER
    s = json.dumps(obj, ensure_ascii=False)
    i = s.index(f'"{PLACEHOLDER}"') + 1
    offsets = [len(s[:i].encode())]
    for c in doc.text:
        offsets.append(offsets[-1] + len(json.dumps(c, ensure_ascii=False)[1:-1].encode()))
    encoded = json.dumps(doc.text, ensure_ascii=False)[1:-1]
    return (s[:i] + encoded + s[i + len(PLACEHOLDER) :]).encode(), offsets


def check_body(engine: Engine, doc: Document) -> Result:
    res = Result(doc)
    body, offsets = body_bytes(doc)
    try:
        masked = engine.mask_body(body, namespace=namespace(doc, "body"))
    except Exception as e:
        res.errors.append(f"mask_body raised {type(e).__name__}: {e}")
        return res
    raw_out = masked.output.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(masked.output)
        content = parsed["messages"][2]["content"][0]["content"]
        assert isinstance(content, str)
    except (ValueError, KeyError, IndexError, TypeError, AssertionError) as e:
        res.errors.append(f"output is not the request it was ({type(e).__name__}: {e})")
        content = ""
    spans = [(f.start, f.end, f.kind) for f in masked.findings]  # byte offsets in the body
    for lb in doc.planted:
        left = leak_reason(lb, raw_out, escaped=True) or leak_reason(lb, content, escaped=False)
        reason = planted_reason(coverage(spans, offsets[lb.start], offsets[lb.end]), left)
        if reason:
            res.leaks.append(Miss(lb, reason))
    for lb in doc.lookalikes:
        kinds = sorted({k for s, e, k in spans if s < offsets[lb.end] and e > offsets[lb.start]})
        if kinds:
            res.touched.append(Miss(lb, "masked", ",".join(kinds)))
        elif content.count(lb.raw) < doc.text.count(lb.raw):
            res.touched.append(Miss(lb, "changed"))
    return res


def planted_reason(cover: str | None, left: str | None) -> str | None:
    """Why a planted label fails: its own span (not masked, partly masked) first; a span that was
    replaced fails too when the value is still somewhere in the output (another occurrence)."""
    if cover is not None:
        return cover
    if left is not None:
        return f"masked here, but {left.replace(' in output', '')} elsewhere in the output"
    return None


def coverage(spans: list[tuple[int, int, str]], start: int, end: int) -> str | None:
    """None when [start, end) is covered by the union of the spans, else what is wrong."""
    hit = sorted((max(s, start), min(e, end)) for s, e, _ in spans if s < end and e > start)
    pos = start
    for s, e in hit:
        if s > pos:
            break
        pos = max(pos, e)
    if pos >= end:
        return None
    return "partly masked" if hit else "not masked"


def describe(m: Miss, doc: Document) -> str:
    lb = m.label
    extra = f" by {m.found_as}" if m.found_as else ""
    before = doc.text[max(0, lb.start - 40) : lb.start].rsplit("\n", 1)[-1]
    return f"{lb.where(doc)}: {lb.kind} ({lb.form}) {lb.raw[:60]!r}: {m.reason}{extra}; after {before!r}"
