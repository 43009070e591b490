"""The real Claude Code CLI through maskgate to the fake provider: the product, end to end."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.claude_cli import final_result, find_claude, run_claude
from tests.fake_upstream import FakeUpstream
from tests.proxy import MASTER_KEY, Proxy, drop_redis_prefix

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(find_claude() is None, reason="claude CLI not installed (run .ci/install-claude.sh)"),
]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeUpstream]:
    with FakeUpstream.start() as f:
        yield f


@pytest.fixture(scope="module", params=["embedded", "redis"])
def proxy(
    request: pytest.FixtureRequest, fake: FakeUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Proxy]:
    env = {"MASKGATE_STORE_KEY": secrets.token_hex(32)}
    if request.param == "redis":
        env["MASKGATE_REDIS_URL"] = "redis://127.0.0.1:6379/0"
        env["MASKGATE_REDIS_PREFIX"] = f"mgtest-{secrets.token_hex(4)}:"
        request.addfinalizer(lambda: drop_redis_prefix(env["MASKGATE_REDIS_PREFIX"]))
    with Proxy.start(tmp_path_factory.mktemp(f"e2e-{request.param}"), fake.url, env) as p:
        yield p


def without_cache_control(value: Any) -> Any:
    """Claude Code moves cache breakpoints to the newest message each turn, and writes a message
    whose breakpoint moved on as a plain string instead of one text block; nothing else may move."""
    if isinstance(value, dict):
        out = {k: without_cache_control(v) for k, v in value.items() if k != "cache_control"}
        content = out.get("content")
        if isinstance(content, list) and len(content) == 1 and set(content[0]) == {"type", "text"}:
            out["content"] = content[0]["text"]
        return out
    if isinstance(value, list):
        return [without_cache_control(v) for v in value]
    return value


def diff(a: Any, b: Any) -> str:
    import difflib

    lines = difflib.unified_diff(
        json.dumps(a, indent=1).splitlines(), json.dumps(b, indent=1).splitlines(), lineterm="", n=1
    )
    return "\n".join(list(lines)[:40])


def test_bash_tool_round_trip(fake: FakeUpstream, proxy: Proxy, tmp_path: Path) -> None:
    fake.clear()
    instance = f"i-{secrets.token_hex(9)[:17]}"
    account = str(secrets.randbelow(9 * 10**11) + 10**11)
    fake.script(
        [
            {
                "type": "tool_use",
                "name": "Bash",
                "input": {"command": "echo {{first:ec2-\\d{3}}} {{first:acct-\\d{3}}} | tee out.txt"},
                "chunk": 3,
            },
            {"type": "text", "text": "Wrote {{first:ec2-\\d{3}}} to out.txt.", "chunk": 2},
        ]
    )
    result = run_claude(
        proxy.url,
        f"Record instance {instance} of AWS account {account} in out.txt",
        tmp_path,
        "--allowedTools",
        "Bash",
        env_extra={"ANTHROPIC_API_KEY": MASTER_KEY},
        timeout=180,
    )
    final = final_result(result.stdout)
    assert final is not None, result.stderr[-2000:] + result.stdout[-2000:]
    assert not final.get("is_error"), final

    # The command ran with the real identifiers...
    assert (tmp_path / "out.txt").read_text().split() == [instance, account]
    # ...and the user sees them in the answer.
    assert final["result"] == f"Wrote {instance} to out.txt."

    turns = [json.loads(r["body"]) for r in fake.requests("/v1/messages")]
    assert len(turns) == 2, [t.get("messages", [])[-1:] for t in turns]
    everything = json.dumps(fake.requests())
    assert instance not in everything and account not in everything, "an original reached the provider"

    # The tool result went upstream masked.
    tool_results = [
        block
        for message in turns[1]["messages"]
        if isinstance(message["content"], list)
        for block in message["content"]
        if block.get("type") == "tool_result"
    ]
    assert tool_results and "ec2-" in json.dumps(tool_results)

    # Turn 2 repeats turn 1's masked history exactly, including the model's own tool call.
    first = without_cache_control(turns[0]["messages"])
    again = without_cache_control(turns[1]["messages"][: len(first)])
    assert again == first, diff(first, again)
    assert without_cache_control(turns[1]["system"]) == without_cache_control(turns[0]["system"])
    assert turns[1]["tools"] == turns[0]["tools"]
    [tool_use] = [b for b in turns[1]["messages"][len(first)]["content"] if b.get("type") == "tool_use"]
    masked_prompt = json.dumps(turns[0]["messages"])
    ec2 = masked_prompt[masked_prompt.index("ec2-") :][:7]
    acct = masked_prompt[masked_prompt.index("acct-") :][:8]
    assert tool_use["input"] == {"command": f"echo {ec2} {acct} | tee out.txt"}


@pytest.fixture(scope="module")
def litellm_proxy(fake: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    pytest.importorskip("litellm", reason="LiteLLM is the optional [litellm] extra (make install puts it in .venv)")
    tmp = tmp_path_factory.mktemp("e2e-litellm")
    config = tmp / "maskgate.toml"
    config.write_text(
        f'[[routes]]\nmodel = "gpt-test"\nlitellm_model = "openai/gpt-test"\napi_base = "{fake.url}/v1"\n'
        'api_key = "sk-openai-test"\n',
        encoding="utf-8",
    )
    env = {"MASKGATE_CONFIG": str(config), "MASKGATE_STORE_KEY": secrets.token_hex(32)}
    with Proxy.start(tmp, fake.url, env, timeout=90) as p:
        yield p


def test_bash_tool_round_trip_through_litellm(fake: FakeUpstream, litellm_proxy: Proxy, tmp_path: Path) -> None:
    """The same loop with the model served by an OpenAI-compatible provider through LiteLLM."""
    fake.clear()
    instance = f"i-{secrets.token_hex(9)[:17]}"
    fake.script(
        [
            {
                "type": "tool_use",
                "name": "Bash",
                "input": {"command": "echo {{first:ec2-\\d{3}}} | tee out.txt"},
                "chunk": 3,
            },
            {"type": "text", "text": "Wrote {{first:ec2-\\d{3}}} to out.txt.", "chunk": 2},
        ]
    )
    result = run_claude(
        litellm_proxy.url,
        f"Record instance {instance} in out.txt",
        tmp_path,
        "--allowedTools",
        "Bash",
        "--model",
        "gpt-test",
        env_extra={"ANTHROPIC_API_KEY": MASTER_KEY},
        timeout=180,
    )
    final = final_result(result.stdout)
    assert final is not None, result.stderr[-2000:] + result.stdout[-2000:]
    assert not final.get("is_error"), final
    assert (tmp_path / "out.txt").read_text().split() == [instance]
    assert final["result"] == f"Wrote {instance} to out.txt."
    calls = fake.requests("/v1/chat/completions")
    assert len(calls) == 2
    assert instance not in json.dumps(fake.requests()), "an original reached the provider"
    assert "ec2-" in calls[1]["body"], "the tool result went upstream masked"
