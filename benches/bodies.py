"""Claude Code-shaped `POST /v1/messages` bodies of an exact size, streamed or not.

From 80 KB up this is corpus.make_body (tools, system prompt, a history of tool calls). Below that
a Claude Code body cannot exist with its 20 tools, so a smaller one keeps the shape of a short
session without tools: billing line and system prompt, a CLAUDE.md reminder, one tool call and its
AWS output (corpus text, so it carries identifiers to mask).

These are the dense kind (AWS output, ~2.7 identifiers per KB). The other kind, a session on this
repository (mostly code and prose), is session.session_body / session.next_turn, re-exported here.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import make_body, make_text
from session import next_turn, session_body

__all__ = ["SIZES", "body", "next_turn", "session_body"]

SIZES = {"10KB": 10_000, "100KB": 100_000, "1MB": 1_000_000, "4MB": 4_000_000}


def _enc(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def _small(size: int, seed: int = 0) -> bytes:
    def build(n: int, pad: int) -> bytes:
        output = make_text(n, seed) + " " * pad
        body = {
            "model": "claude-sonnet-4-5-20250929",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Why do the payments workers keep restarting? Check the instances."},
                    ],
                },
                {
                    "role": "assistant",
                    "content": [
                        {"type": "text", "text": "Let me look at the instances behind the target group."},
                        {
                            "type": "tool_use",
                            "id": "toolu_01AbCdEfGhIjKlMnOpQrStUv",
                            "name": "Bash",
                            "input": {"command": "aws ec2 describe-instances --output json", "description": "List"},
                        },
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "toolu_01AbCdEfGhIjKlMnOpQrStUv", "content": output},
                    ],
                },
            ],
            "system": [
                {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.197.a1b; cc_entrypoint=cli;"},
                {
                    "type": "text",
                    "text": "You are a command-line assistant for software engineering work.",
                    "cache_control": {"type": "ephemeral"},
                },
            ],
            "metadata": {"user_id": "user_" + "0" * 64},
            "max_tokens": 32000,
            "stream": True,
        }
        return _enc(body)

    n = max(100, size - 1500)
    for _ in range(8):
        got = len(build(n, 0))
        if got == size:
            return build(n, 0)
        if got < size and size - got < 50:
            break
        n += size - got
    got = len(build(n, 0))
    if got > size:
        raise ValueError(f"cannot make a {size}-byte body")
    return build(n, size - got)


@cache
def body(size: int, stream: bool) -> bytes:
    raw = make_body(size) if size >= 80_000 else _small(size)
    assert raw.endswith(b'"stream":true}'), "corpus bodies end with the stream flag"
    return raw if stream else raw[: -len(b"true}")] + b"false}"
