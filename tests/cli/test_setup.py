"""`maskgate setup` / `--undo` through the installed entry point, in a throwaway HOME.

The end-to-end test runs a plain `claude -p` (not `maskgate claude`) after setup, from a shell that
still has the user's own Anthropic key and base URL, then resumes that conversation with
`claude --resume`: both go through maskgate, and the fake provider never sees the original.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from tests.claude_cli import final_result, find_claude, parse_stream_json
from tests.cli.support import cli_env, run_cli
from tests.fake_upstream import FakeUpstream
from tests.proxy import free_port

USER_SETTINGS = b'{"theme":"dark",  "env": {"FOO": "bar", "ANTHROPIC_BASE_URL": "https://elsewhere.invalid"}}\n'


def fake_systemctl(bin_dir: Path, works: bool) -> Path:
    """A `systemctl` that records its arguments; `--user` answers only when `works`."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    calls = bin_dir / "systemctl-calls"
    script = bin_dir / "systemctl"
    script.write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexit {0 if works else 1}\n')
    script.chmod(0o755)
    return calls


def setup_env(home: Path, upstream: str, systemctl_works: bool = False, **extra: str) -> dict[str, str]:
    bin_dir = home / "bin"
    fake_systemctl(bin_dir, systemctl_works)
    env = cli_env(
        home,
        MASKGATE_MASTER_KEY=secrets.token_hex(32),
        MASKGATE_UPSTREAM_URL=upstream,
        MASKGATE_UPSTREAM_API_KEY="sk-upstream-test",
        MASKGATE_PORT=str(free_port()),
        **extra,
    )
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    return env


def settings_file(home: Path) -> Path:
    return home / ".claude" / "settings.json"


def write_user_settings(home: Path) -> Path:
    path = settings_file(home)
    path.parent.mkdir(parents=True)
    path.write_bytes(USER_SETTINGS)
    path.chmod(0o644)
    return path


def read_env_file(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out[key] = json.loads(value)
    return out


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeUpstream]:
    with FakeUpstream.start() as f:
        yield f


@pytest.fixture(autouse=True)
def _clean(fake: FakeUpstream) -> None:
    fake.clear()


def test_setup_keeps_other_settings_is_idempotent_and_undo_restores_the_bytes(tmp_path: Path) -> None:
    path = write_user_settings(tmp_path)
    env = setup_env(tmp_path, "http://127.0.0.1:9")
    r = run_cli(["setup"], env)
    assert r.returncode == 0, r.stderr
    assert "no systemd user session" in r.stderr  # the on-demand road, said
    doc = json.loads(path.read_text())
    assert doc["theme"] == "dark" and doc["env"]["FOO"] == "bar"
    assert doc["env"]["ANTHROPIC_BASE_URL"] == f"http://127.0.0.1:{env['MASKGATE_PORT']}"
    assert doc["env"]["ANTHROPIC_AUTH_TOKEN"] == env["MASKGATE_MASTER_KEY"]
    assert doc["env"]["ANTHROPIC_API_KEY"] == "" and doc["env"]["CLAUDE_CODE_USE_BEDROCK"] == ""
    assert doc["env"]["DISABLE_TELEMETRY"] == "1"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds the maskgate key now
    gateway_env = tmp_path / ".config" / "maskgate" / "gateway.env"
    assert stat.S_IMODE(gateway_env.stat().st_mode) == 0o600
    assert read_env_file(gateway_env)["MASKGATE_MASTER_KEY"] == env["MASKGATE_MASTER_KEY"]
    assert env["MASKGATE_MASTER_KEY"] not in r.stdout + r.stderr

    first = path.read_bytes()
    again = run_cli(["setup"], env)
    assert again.returncode == 0, again.stderr
    assert path.read_bytes() == first  # a second setup changes nothing

    r = run_cli(["setup", "--undo"], env)
    assert r.returncode == 0, r.stderr
    assert path.read_bytes() == USER_SETTINGS
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert not gateway_env.exists() and not (tmp_path / ".config" / "maskgate" / "setup.json").exists()
    r = run_cli(["setup", "--undo"], env)
    assert r.returncode == 0 and "nothing to undo" in r.stderr


def test_undo_after_an_edit_keeps_the_edit(tmp_path: Path) -> None:
    path = write_user_settings(tmp_path)
    env = setup_env(tmp_path, "http://127.0.0.1:9")
    assert run_cli(["setup"], env).returncode == 0
    doc = json.loads(path.read_text())
    doc["model"] = "opus"
    doc["env"]["BAR"] = "baz"
    path.write_text(json.dumps(doc))
    r = run_cli(["setup", "--undo"], env)
    assert r.returncode == 0, r.stderr
    after = json.loads(path.read_text())
    assert after == {
        "theme": "dark",
        "model": "opus",
        "env": {"FOO": "bar", "ANTHROPIC_BASE_URL": "https://elsewhere.invalid", "BAR": "baz"},
    }


def test_no_settings_file_before_means_none_after(tmp_path: Path) -> None:
    env = setup_env(tmp_path, "http://127.0.0.1:9")
    assert run_cli(["setup"], env).returncode == 0
    assert settings_file(tmp_path).exists()
    assert run_cli(["setup", "--undo"], env).returncode == 0
    assert not settings_file(tmp_path).parent.exists()


def test_systemd_user_service(tmp_path: Path) -> None:
    env = setup_env(tmp_path, "http://127.0.0.1:9", systemctl_works=True)
    r = run_cli(["setup"], env)
    assert r.returncode == 0, r.stderr
    unit = tmp_path / ".config" / "systemd" / "user" / "maskgate.service"
    text = unit.read_text()
    gateway_env = tmp_path / ".config" / "maskgate" / "gateway.env"
    assert f"EnvironmentFile={gateway_env}\n" in text
    exec_start = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    binary = exec_start.removeprefix("ExecStart=").removesuffix(" serve")
    assert os.path.isabs(binary) and os.access(binary, os.X_OK)
    assert "WantedBy=default.target" in text
    assert env["MASKGATE_MASTER_KEY"] not in text
    calls = (tmp_path / "bin" / "systemctl-calls").read_text().splitlines()
    assert calls[-3:] == ["--user daemon-reload", "--user enable maskgate.service", "--user restart maskgate.service"]

    assert run_cli(["setup", "--undo"], env).returncode == 0
    assert not unit.exists()
    calls = (tmp_path / "bin" / "systemctl-calls").read_text().splitlines()
    assert "--user disable --now maskgate.service" in calls


def test_setup_without_a_master_key_writes_nothing(tmp_path: Path) -> None:
    write_user_settings(tmp_path)
    env = setup_env(tmp_path, "http://127.0.0.1:9")
    del env["MASKGATE_MASTER_KEY"]
    r = run_cli(["setup"], env)
    assert r.returncode == 2
    assert r.stderr.startswith("maskgate: MASKGATE_MASTER_KEY is not set") and len(r.stderr.splitlines()) == 1
    assert settings_file(tmp_path).read_bytes() == USER_SETTINGS
    assert not (tmp_path / ".config" / "maskgate").exists()


def serve(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """The gateway as the README's on-demand road starts it: `maskgate serve` with gateway.env."""
    from tests.cli.support import command

    with log.open("wb") as out:
        proc = subprocess.Popen([*command(), "serve"], env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{env['MASKGATE_PORT']}/"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            httpx2.head(url, timeout=1)
            return proc
        except httpx2.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"maskgate did not start: {log.read_text(errors='replace')}")


@pytest.mark.e2e
@pytest.mark.skipif(find_claude() is None, reason="claude CLI not installed (run .ci/install-claude.sh)")
def test_plain_claude_and_its_resume_go_through_maskgate(fake: FakeUpstream, tmp_path: Path) -> None:
    claude = find_claude()
    assert claude is not None
    home = tmp_path / "home"
    home.mkdir()
    path = write_user_settings(home)
    env = setup_env(home, fake.url)
    assert run_cli(["setup"], env).returncode == 0

    gateway = dict(read_env_file(home / ".config" / "maskgate" / "gateway.env"))
    proc = serve({"PATH": env["PATH"], "HOME": str(home), **gateway}, tmp_path / "gateway.log")
    try:
        # The user's shell: their own key and base URL still exported, as before setup.
        shell = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "TERM": "dumb",
            "IS_SANDBOX": "1",
            "DISABLE_AUTOUPDATER": "1",
            "ANTHROPIC_API_KEY": "sk-ant-users-own-key",
            "ANTHROPIC_BASE_URL": "https://api.anthropic.invalid",
        }
        instance = f"i-{secrets.token_hex(9)[:17]}"
        fake.script([{"type": "text", "text": "It is {{first:ec2-\\d{3}}}."}])

        def run_claude(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [claude, *args, "--output-format", "stream-json", "--verbose"],
                env=shell,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=120,
                stdin=subprocess.DEVNULL,
                check=False,
            )

        first = run_claude("-p", f"Which instance is {instance}?")
        assert first.returncode == 0, first.stderr[-3000:]
        result = final_result(first.stdout)
        assert result is not None and result["result"] == f"It is {instance}."
        session = next(m["session_id"] for m in parse_stream_json(first.stdout) if m.get("session_id"))

        fake.script([{"type": "text", "text": "Still {{last:ec2-\\d{3}}}."}])
        resumed = run_claude("--resume", session, "-p", "And now?")
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        result = final_result(resumed.stdout)
        assert result is not None and result["result"] == f"Still {instance}."

        seen = json.dumps(fake.requests())
        turns = fake.requests("/v1/messages")
        assert len(turns) >= 2
        assert instance not in seen and "sk-ant-users-own-key" not in seen
        assert {t["headers"].get("x-api-key") for t in turns} == {"sk-upstream-test"}
        assert "Which instance is ec2-" in turns[-1]["body"]  # the resumed turn carries the masked history
    finally:
        proc.terminate()
        proc.wait(10)

    assert run_cli(["setup", "--undo"], env).returncode == 0
    assert path.read_bytes() == USER_SETTINGS
