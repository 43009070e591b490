"""`maskgate claude ARGS...`: the real Claude Code CLI, through maskgate, to the fake provider."""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from tests.claude_cli import final_result, find_claude
from tests.cli.support import CLAUDE_INSTALL_HINT, cli_env, command, run_cli
from tests.fake_upstream import FakeUpstream
from tests.proxy import MASTER_KEY, Proxy, free_port

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(find_claude() is None, reason="claude CLI not installed (run .ci/install-claude.sh)"),
]
STARTED = "maskgate: started a maskgate for this session at "


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeUpstream]:
    with FakeUpstream.start() as f:
        yield f


@pytest.fixture(autouse=True)
def _clean(fake: FakeUpstream) -> None:
    fake.clear()


def session_env(tmp_path: Path, fake: FakeUpstream, **extra: str) -> dict[str, str]:
    """A user's shell: where the provider is, where claude is, a port nothing listens on."""
    claude = find_claude()
    assert claude is not None
    env = {
        "MASKGATE_UPSTREAM_URL": fake.url,
        "MASKGATE_UPSTREAM_API_KEY": "sk-upstream-test",
        "MASKGATE_CLAUDE_BIN": claude,
        "MASKGATE_PORT": str(free_port()),
        "MASKGATE_STORE_KEY": secrets.token_hex(32),
    }
    env.update(extra)
    return cli_env(tmp_path, **env)


def instance_id() -> str:
    return f"i-{secrets.token_hex(9)[:17]}"


def session_url(stderr: str) -> str:
    line = next(line for line in stderr.splitlines() if line.startswith(STARTED))
    return line[len(STARTED) :].strip()


def answers(url: str) -> bool:
    try:
        httpx2.head(url + "/", timeout=1)
        return True
    except httpx2.HTTPError:
        return False


def test_print_mode_starts_a_gateway_for_the_session_and_stops_it(fake: FakeUpstream, tmp_path: Path) -> None:
    instance = instance_id()
    fake.script(
        [
            {
                "type": "tool_use",
                "name": "Bash",
                "input": {"command": "env > env.txt; echo {{first:ec2-\\d{3}}} > id.txt"},
            },
            {"type": "text", "text": "Stopped {{first:ec2-\\d{3}}}."},
        ]
    )
    env = session_env(
        tmp_path, fake, ANTHROPIC_API_KEY="sk-ant-users-own", ANTHROPIC_BASE_URL="https://example.invalid"
    )
    del env["MASKGATE_UPSTREAM_API_KEY"]  # the gateway falls back to ANTHROPIC_API_KEY, as documented
    r = run_cli(
        ["claude", "-p", f"Stop {instance}", "--output-format", "stream-json", "--verbose", "--allowedTools", "Bash"],
        env,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    final = final_result(r.stdout)
    assert final is not None and final["result"] == f"Stopped {instance}."  # ARGS reached claude unchanged
    assert (tmp_path / "id.txt").read_text().strip() == instance  # the tool ran on the real ID

    turns = fake.requests("/v1/messages")
    assert len(turns) == 2 and instance not in json.dumps(fake.requests())
    assert {t["headers"]["x-api-key"] for t in turns} == {"sk-ant-users-own"}  # the gateway's credential

    # Claude Code's environment: pointed at the session's gateway, quiet, without the user's key.
    seen = dict(line.split("=", 1) for line in (tmp_path / "env.txt").read_text().splitlines() if "=" in line)
    url = session_url(r.stderr)
    assert seen["ANTHROPIC_BASE_URL"] == url
    assert "ANTHROPIC_API_KEY" not in seen
    assert seen["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == seen["DISABLE_TELEMETRY"] == "1"
    assert seen["DISABLE_ERROR_REPORTING"] == "1"
    # The one-off key authenticates Claude Code to the gateway and is never printed.
    assert seen["ANTHROPIC_AUTH_TOKEN"] not in r.stdout + r.stderr
    assert not answers(url), "the session's gateway is still running"


def test_uses_a_running_maskgate(fake: FakeUpstream, tmp_path: Path) -> None:
    instance = instance_id()
    fake.script([{"type": "text", "text": "It is {{first:ec2-\\d{3}}}."}])
    with Proxy.start(tmp_path, fake.url) as proxy:
        env = session_env(tmp_path, fake, MASKGATE_PORT=str(proxy.port), MASKGATE_MASTER_KEY=MASTER_KEY)
        r = run_cli(["claude", "-p", f"What is {instance}?"], env, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == f"It is {instance}."
        assert f"maskgate: using the maskgate at {proxy.url}" in r.stderr
        assert MASTER_KEY not in r.stdout + r.stderr
        assert '"route":"/v1/messages"' in proxy.logs()
        assert answers(proxy.url)  # someone else's gateway: left running


def test_running_maskgate_with_another_key(fake: FakeUpstream, tmp_path: Path) -> None:
    with Proxy.start(tmp_path, fake.url) as proxy:
        wrong = "some-other-key-" + "w" * 20
        env = session_env(tmp_path, fake, MASKGATE_PORT=str(proxy.port), MASKGATE_MASTER_KEY=wrong)
        r = run_cli(["claude", "-p", "hi"], env)
        assert r.returncode == 2 and "refuses MASKGATE_MASTER_KEY (401)" in r.stderr
        assert wrong not in r.stderr + r.stdout
        r = run_cli(["claude", "-p", "hi"], {k: v for k, v in env.items() if k != "MASKGATE_MASTER_KEY"})
        assert r.returncode == 2 and "MASKGATE_MASTER_KEY is not set" in r.stderr
    assert fake.requests() == []


def test_claude_not_installed(fake: FakeUpstream, tmp_path: Path) -> None:
    from maskgate.claude import _checkout_cli, bundled_cli

    env = session_env(tmp_path, fake, PATH="/nonexistent")
    del env["MASKGATE_CLAUDE_BIN"]
    r = run_cli(["claude", "-p", "hi"], env)
    if bundled_cli() or _checkout_cli():  # off PATH, the bundled or the checkout's copy is used
        assert "Claude Code is not installed" not in r.stderr
    else:
        assert r.returncode == 127
        assert "Claude Code is not installed" in r.stderr and CLAUDE_INSTALL_HINT in r.stderr
    r = run_cli(["claude"], session_env(tmp_path, fake, MASKGATE_CLAUDE_BIN=str(tmp_path / "nope")))
    assert r.returncode == 127 and "MASKGATE_CLAUDE_BIN" in r.stderr


def test_claude_exit_code_is_passed_on(fake: FakeUpstream, tmp_path: Path) -> None:
    fake.script([{"type": "error", "status": 403}])
    r = run_cli(["claude", "-p", "hi"], session_env(tmp_path, fake))
    assert r.returncode == 1, r.stderr  # Claude Code's own exit code for an API error


def test_ctrl_c_stops_claude_and_the_gateway(fake: FakeUpstream, tmp_path: Path) -> None:
    """Ctrl-C at a terminal signals the whole foreground process group: `maskgate claude` and
    Claude Code, but not the gateway (its own session), which is stopped once Claude Code is gone."""
    fake.script([{"type": "text", "text": "late", "headers_delay": 60}])
    env = session_env(tmp_path, fake)
    proc = subprocess.Popen(
        [*command(), "claude", "-p", "hi"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a shell gives a foreground job
    )
    deadline = time.monotonic() + 60
    while not fake.requests("/v1/messages") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fake.requests("/v1/messages"), "claude never reached the provider"
    os.killpg(proc.pid, signal.SIGINT)
    interrupted = time.monotonic()
    out, err = proc.communicate(timeout=30)
    assert time.monotonic() - interrupted < 4  # not held up by the request still waiting upstream
    assert not answers(session_url(err)), "the session's gateway is still running"


class Tmux:
    """An interactive terminal for Claude Code's full-screen UI."""

    def __init__(self, name: str) -> None:
        self.name = name

    def screen(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True).stdout

    def type(self, text: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, "-l", text], check=True)
        time.sleep(0.3)
        subprocess.run(["tmux", "send-keys", "-t", self.name, "Enter"], check=True)

    def key(self, key: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, key], check=True)

    def wait_for(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared:\n{self.screen()}")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")
def test_interactive_session(fake: FakeUpstream, tmp_path: Path) -> None:
    instance = instance_id()
    fake.script(
        [
            {"type": "text", "text": "too slow", "headers_delay": 60, "when": "first question"},
            {"type": "text", "text": "It is {{first:ec2-\\d{3}}}."},
        ]
    )
    work = tmp_path / "work"
    work.mkdir()
    # What a user who has run Claude Code before already has: onboarding done, this folder trusted.
    (tmp_path / ".claude.json").write_text(
        json.dumps({"hasCompletedOnboarding": True, "projects": {str(work): {"hasTrustDialogAccepted": True}}})
    )
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in session_env(tmp_path, fake).items())
    shell = f"env -i {env} {shlex.join(command())} claude; echo EXITED=$?; sleep 60"
    tmux = Tmux(f"maskgate-test-{secrets.token_hex(4)}")
    subprocess.run(["tmux", "new-session", "-d", "-s", tmux.name, "-x", "140", "-y", "40", "-c", str(work), shell])
    try:
        tmux.wait_for("❯")
        tmux.type("first question")
        deadline = time.monotonic() + 30
        while not fake.requests("/v1/messages") and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        tmux.key("C-c")  # interrupts the turn in Claude Code; the session and its gateway carry on
        time.sleep(1)
        tmux.type(f"what is {instance}?")
        tmux.wait_for(f"It is {instance}.")
        tmux.type("/exit")
        screen = tmux.wait_for("EXITED=0")
        assert not answers(session_url(screen))
        assert instance not in json.dumps(fake.requests())
    finally:
        subprocess.run(["tmux", "kill-session", "-t", tmux.name], capture_output=True)
