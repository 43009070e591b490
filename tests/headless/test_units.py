"""The headless service's parts on their own: path confinement, the tree killer, settings, JSON."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from maskgate.claude import TESTED_VERSION, bundled_cli, cli_version
from maskgate.errors import ApiError
from maskgate.headless import proctree
from maskgate.headless.agent import AgentRun
from maskgate.headless.run import to_json
from maskgate.headless.spec import RunSpec, confine, parse_analyze, parse_run
from maskgate.settings import ClaudeCodeSettings, Settings, SettingsError

MASTER = "m" * 32
ADMIN = "a" * 32


@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, ...]:
    (tmp_path / "repos" / "app" / "src").mkdir(parents=True)
    (tmp_path / "other").mkdir()
    (tmp_path / "repos-evil").mkdir()
    os.symlink(tmp_path / "other", tmp_path / "repos" / "out-link")
    os.symlink(tmp_path / "repos" / "app", tmp_path / "repos" / "in-link")
    return (tmp_path / "repos",)


@pytest.mark.parametrize("raw", ["app", "app/src", "in-link", ".", None])
def test_confine_accepts_paths_inside(roots: tuple[Path, ...], raw: str | None) -> None:
    got = confine(raw, roots)
    assert got == Path(os.path.realpath(got)) and got.is_dir()
    assert got == roots[0].resolve() or roots[0].resolve() in got.parents


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("..", 403),
        ("app/../..", 403),
        ("app/../src", 403),  # `..` is refused even when it would stay inside
        ("out-link", 403),
        ("out-link/x", 403),
        ("/", 403),
        ("../repos-evil", 403),
        ("", 400),
        ("a\0b", 400),
        (5, 400),
        ("app/missing", 400),
    ],
)
def test_confine_refuses(roots: tuple[Path, ...], raw: object, status: int) -> None:
    with pytest.raises(ApiError) as e:
        confine(raw, roots)
    assert e.value.status == status


def test_prefix_sibling_is_outside(roots: tuple[Path, ...]) -> None:
    with pytest.raises(ApiError):
        confine(str(roots[0].parent / "repos-evil"), roots)


def config(roots: tuple[Path, ...], **kw: object) -> ClaudeCodeSettings:
    return ClaudeCodeSettings(enabled=True, admin_key=ADMIN, roots=roots, **kw)  # type: ignore[arg-type]


def test_parse_run_defaults_and_outputs(roots: tuple[Path, ...]) -> None:
    spec = parse_run({"prompt": "hi"}, config(roots), "")
    assert spec.cwd == roots[0].resolve() and spec.permission_mode == "default" and spec.output == "json"
    assert spec.tools is None and spec.allowed_tools == ()
    assert parse_run({"prompt": "hi"}, config(roots), "text/event-stream").output == "sse"
    assert parse_run({"prompt": "hi"}, config(roots), "application/x-ndjson;q=1").output == "ndjson"
    assert parse_run({"prompt": "hi", "stream": True}, config(roots), "").output == "sse"
    assert parse_run({"prompt": "hi", "stream": "json"}, config(roots), "text/event-stream").output == "json"
    bypass = {"prompt": "hi", "permission_mode": "bypassPermissions"}
    with pytest.raises(ApiError):
        parse_run(bypass, config(roots), "")
    assert parse_run(bypass, config(roots, allow_bypass_permissions=True), "").permission_mode == "bypassPermissions"
    with pytest.raises(ApiError):
        parse_run({"prompt": "hi", "max_turns": True}, config(roots), "")


def test_analyze_preset_is_read_only(roots: tuple[Path, ...]) -> None:
    spec = parse_analyze({"path": "app", "question": "?"}, config(roots), "")
    assert spec.tools == ("Read", "Grep", "Glob") and spec.allowed_tools == () and spec.permission_mode == "dontAsk"
    with pytest.raises(ApiError):
        parse_analyze({"path": "app", "question": "?", "allowed_tools": ["Bash"]}, config(roots), "")


def settings_with(tmp_path: Path, toml: str, **env: str) -> Settings:
    path = tmp_path / "maskgate.toml"
    path.write_text(toml, encoding="utf-8")
    return Settings.from_env({"MASKGATE_MASTER_KEY": MASTER, "MASKGATE_CONFIG": str(path), **env})


def test_settings(tmp_path: Path) -> None:
    (tmp_path / "repos").mkdir()
    base = '[claude_code]\nenabled = true\nadmin_key_env = "ADMIN"\nroots = ["repos"]\n'
    s = settings_with(tmp_path, base + "timeout_seconds = 9\n", ADMIN=ADMIN)
    assert s.claude_code.enabled and s.claude_code.roots == (tmp_path / "repos",)  # relative to the config file
    assert s.claude_code.timeout_seconds == 9 and s.claude_code.max_concurrent == 2
    assert "a" * 32 not in repr(s)
    assert settings_with(tmp_path, base + 'cli_path = "bin/claude"\n', ADMIN=ADMIN).claude_bin == str(
        tmp_path / "bin" / "claude"
    )
    assert settings_with(tmp_path, base + 'cli_path = "claude"\n', ADMIN=ADMIN).claude_bin == "claude"
    assert settings_with(tmp_path, base, ADMIN=ADMIN, MASKGATE_CLAUDE_BIN="/opt/c").claude_bin == "/opt/c"
    assert not Settings.from_env({"MASKGATE_MASTER_KEY": MASTER}).claude_code.enabled
    for toml, env, fragment in [
        (base, {}, "admin_key_env"),
        (base, {"ADMIN": MASTER}, "must differ"),
        (base, {"ADMIN": "short"}, "admin_key_env"),
        ('[claude_code]\nenabled = true\nadmin_key_env = "ADMIN"\n', {"ADMIN": ADMIN}, "roots"),
        (base + "max_concurrent = 0\n", {"ADMIN": ADMIN}, "positive"),
        (base + 'tenant = "nobody"\n', {"ADMIN": ADMIN}, "tenant"),
        (base + 'timeout_seconds = "soon"\n', {"ADMIN": ADMIN}, "[claude_code]"),
    ]:
        with pytest.raises(SettingsError, match=fragment.replace("[", r"\[")):
            settings_with(tmp_path, toml, **env)


def test_to_json_tags_messages_and_blocks() -> None:
    from claude_agent_sdk import AssistantMessage, TextBlock, ToolUseBlock

    message = AssistantMessage(content=[TextBlock("hi"), ToolUseBlock("t1", "Bash", {"command": "ls"})], model="m")
    data = to_json(message)
    assert data["type"] == "assistant"
    assert data["content"] == [
        {"type": "text", "text": "hi"},
        {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "ls"}},
    ]


def test_a_kill_asked_before_the_agent_shows_up_stays_asked(roots: tuple[Path, ...]) -> None:
    """A timeout or a disconnect before the shim has written its pid dooms the run (it is killed
    when it shows up); the sweep of background tools after a result must not undo that."""
    run = AgentRun(RunSpec("hi", roots[0]), "/bin/true", "http://127.0.0.1:9", "token", config(roots))
    try:
        run.kill(include_root=False)
        assert not run.doomed  # a sweep alone dooms nothing
        run.kill()
        run.kill(include_root=False)
        assert run.doomed and run.killed == 0
    finally:
        run.cleanup()
    assert not run.dir.exists()


def test_kill_tree_takes_orphans_and_spares_the_caller() -> None:
    script = (
        "import os, subprocess, sys, time\n"
        "kids = [subprocess.Popen(['sleep', '1000']) for _ in range(2)]\n"
        'inner = \'import subprocess; subprocess.Popen(["sleep", "1001"]).wait()\'\n'
        "grand = subprocess.Popen([sys.executable, '-c', inner])\n"
        "print(' '.join(str(k.pid) for k in (*kids, grand)), flush=True)\n"
        "time.sleep(1000)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    pids = [int(p) for p in proc.stdout.readline().split()]
    deadline = time.monotonic() + 10
    while len(proctree.descendants(proc.pid)) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    below = proctree.descendants(proc.pid)
    assert set(pids) <= set(below) and len(below) == 4

    assert proctree.kill_tree(proc.pid, include_root=False) == 4
    while proctree.descendants(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)  # SIGKILL lands asynchronously
    assert proctree.descendants(proc.pid) == []
    assert proc.poll() is None  # paused and resumed, not killed
    assert proctree.kill_tree(proc.pid) == 1
    assert proc.wait(10) == -9
    proc.stdout.close()
    assert proctree.kill_tree(proc.pid) == 0  # already gone: nothing to do


def test_bundled_cli_is_the_pinned_version() -> None:
    """The SDK's own binary is the version everything else is tested with, so the service's
    default (the bundled binary) and the tests' choice (the npm install) run the same CLI."""
    cli = bundled_cli()
    if cli is None:
        pytest.skip("claude-agent-sdk without a bundled binary on this platform")
    assert cli_version(cli) == TESTED_VERSION
