"""The real Claude Code CLI against the fake upstream directly (no maskgate in between)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.claude_cli import final_result, find_claude, parse_stream_json, run_claude
from tests.fake_upstream import FakeUpstream

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(find_claude() is None, reason="claude CLI not installed (run .ci/install-claude.sh)"),
]


@pytest.fixture
def fake() -> Iterator[FakeUpstream]:
    with FakeUpstream.start() as server:
        yield server


def test_hello(fake: FakeUpstream, tmp_path: Path) -> None:
    proc = run_claude(fake.url, "hello", tmp_path)
    assert proc.returncode == 0, proc.stderr
    messages = parse_stream_json(proc.stdout)
    assert messages[0]["type"] == "system" and messages[0]["subtype"] == "init"
    result = final_result(proc.stdout)
    assert result is not None and result["result"] == "OK" and result["is_error"] is False
    [call] = fake.requests("/v1/messages")
    assert call["method"] == "POST" and call["query"] == "beta=true"
    assert call["headers"]["x-api-key"] == "test"
    assert call["headers"]["anthropic-version"] == "2023-06-01"
    assert "claude-code-20250219" in call["headers"]["anthropic-beta"]
    body = call["json"]
    assert body["stream"] is True and body["tools"] and body["system"]
    assert body["system"][0]["text"].startswith("x-anthropic-billing-header:")


def test_two_turn_bash_run(fake: FakeUpstream, tmp_path: Path) -> None:
    tool = {"command": "echo hi > out.txt", "description": "Write hi to out.txt"}
    fake.script(
        [
            {"type": "tool_use", "id": "toolu_turn1", "name": "Bash", "input": tool},
            {"type": "text", "text": "Wrote out.txt", "when": "toolu_turn1"},
        ]
    )
    proc = run_claude(fake.url, "write hi to out.txt", tmp_path, "--allowedTools", "Bash")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out.txt").read_text() == "hi\n"
    result = final_result(proc.stdout)
    assert result is not None, proc.stdout
    assert result["result"] == "Wrote out.txt" and result["is_error"] is False and result["num_turns"] == 2
    calls = fake.requests("/v1/messages")
    assert len(calls) == 2
    last = calls[1]["json"]["messages"][-1]["content"][-1]
    assert last["type"] == "tool_result" and last["tool_use_id"] == "toolu_turn1" and not last["is_error"]
