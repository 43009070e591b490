"""Headless runs with the real Claude Code CLI, through maskgate, to the fake provider."""

from __future__ import annotations

import json
import secrets

import pytest

from tests.fake_upstream import FakeUpstream, parse_sse
from tests.headless.conftest import TENANT, Headless

pytestmark = pytest.mark.e2e


def instance_id() -> str:
    return f"i-{secrets.token_hex(9)[:17]}"


def gateway_requests(headless: Headless) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in headless.proxy.logs().splitlines() if line.startswith("{")]
    return [e for e in lines if e.get("msg") == "request" and e.get("route") == "/v1/messages"]


def test_analyze_answer_is_restored_and_provider_sees_no_original(fake: FakeUpstream, headless: Headless) -> None:
    instance = instance_id()
    (headless.repos / "app" / "deploy.sh").write_text(f"aws ec2 stop-instances --instance-ids {instance}\n")
    fake.script(
        [
            {"type": "tool_use", "name": "Read", "input": {"file_path": str(headless.repos / "app" / "deploy.sh")}},
            {"type": "text", "text": "deploy.sh stops {{first:ec2-\\d{3}}}."},
        ]
    )
    before = len(gateway_requests(headless))
    r = headless.post("/v1/claude-code/analyze", {"path": "app", "question": "Which instance does deploy.sh stop?"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["type"] == "result" and body["is_error"] is False
    assert body["result"] == f"deploy.sh stops {instance}."  # restored on the way back through the gateway

    turns = fake.requests("/v1/messages")
    assert len(turns) == 2
    assert instance not in json.dumps(fake.requests()), "an original reached the provider"
    assert "ec2-" in turns[1]["body"]  # the file's content went up masked
    # It went through maskgate (which swaps in the upstream key), as the configured tenant.
    assert all(t["headers"].get("x-api-key") == "sk-upstream-test" for t in turns)
    assert all("authorization" not in t["headers"] for t in turns)
    logged = gateway_requests(headless)[before:]
    assert len(logged) == 2 and {e["tenant"] for e in logged} == {TENANT}
    # The read-only preset: only Read, Grep and Glob exist in the run.
    assert sorted(t["name"] for t in turns[0]["json"]["tools"] if not t.get("defer_loading")) == [
        "Glob",
        "Grep",
        "Read",
    ]


def test_run_with_bash_uses_real_ids_and_streams_ndjson(fake: FakeUpstream, headless: Headless) -> None:
    instance = instance_id()
    fake.script(
        [
            {"type": "tool_use", "name": "Bash", "input": {"command": "echo {{first:ec2-\\d{3}}} > seen.txt"}},
            {"type": "text", "text": "Recorded {{first:ec2-\\d{3}}}."},
        ]
    )
    r = headless.post(
        "/v1/claude-code",
        {"prompt": f"Record {instance} in seen.txt", "allowed_tools": ["Bash"], "cwd": "app", "max_turns": 3},
        accept="application/x-ndjson",
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert lines[0]["type"] == "system" and lines[0]["subtype"] == "init"
    assert lines[-1]["type"] == "result" and lines[-1]["result"] == f"Recorded {instance}."
    tool_use = next(b for m in lines if m["type"] == "assistant" for b in m["content"] if b["type"] == "tool_use")
    assert tool_use["input"] == {"command": f"echo {instance} > seen.txt"}  # restored before the tool ran
    assert (headless.repos / "app" / "seen.txt").read_text().strip() == instance
    assert instance not in json.dumps(fake.requests())


def test_sse_stream(fake: FakeUpstream, headless: Headless) -> None:
    fake.script([{"type": "text", "text": "hello"}])
    r = headless.post("/v1/claude-code", {"prompt": "hi", "stream": "sse"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(r.text)
    assert [name for name, _ in events] == ["system", "assistant", "result"]
    assert events[-1][1]["result"] == "hello"


def test_agent_environment_holds_no_server_secrets(fake: FakeUpstream, headless: Headless) -> None:
    fake.script(
        [
            {"type": "tool_use", "name": "Bash", "input": {"command": "env > env.txt"}},
            {"type": "text", "text": "done"},
        ]
    )
    r = headless.post("/v1/claude-code", {"prompt": "dump env", "allowed_tools": ["Bash"], "cwd": "app"})
    assert r.status_code == 200, r.text
    env = dict(
        line.split("=", 1) for line in (headless.repos / "app" / "env.txt").read_text().splitlines() if "=" in line
    )
    assert not [k for k in env if k.startswith("MASKGATE_")], "server settings leaked into the agent"
    assert "ANTHROPIC_API_KEY" not in env
    assert env["ANTHROPIC_BASE_URL"] == headless.proxy.url  # this gateway, by the address the request used
    for switch in ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "DISABLE_TELEMETRY", "DISABLE_ERROR_REPORTING"):
        assert env[switch] == "1"
    assert "maskgate-run-" in env["HOME"]  # a HOME of its own, deleted with the run (transcripts included)


def test_python_helper_query(fake: FakeUpstream, headless: Headless) -> None:
    """`maskgate.claude.query` is the SDK pointed at a maskgate: same masking, restored answer."""
    import anyio
    from claude_agent_sdk import ResultMessage
    from maskgate.claude import query

    from tests.claude_cli import find_claude
    from tests.proxy import MASTER_KEY

    instance = instance_id()
    fake.script([{"type": "text", "text": "It is {{first:ec2-\\d{3}}}."}])

    async def ask() -> list[object]:
        out = []
        async for m in query(
            f"Which instance is {instance}?",
            url=headless.proxy.url,
            token=MASTER_KEY,
            cli_path=find_claude(),
            cwd=str(headless.repos),
            max_turns=1,
        ):
            out.append(m)
        return out

    messages = anyio.run(ask)
    result = [m for m in messages if isinstance(m, ResultMessage)][-1]
    assert result.result == f"It is {instance}."
    assert instance not in json.dumps(fake.requests())
