"""`maskgate doctor`: each problem found, with its fix, and an exit code that says whether all is well."""

from __future__ import annotations

import importlib.util
import json
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.claude_cli import find_claude
from tests.cli.support import CLAUDE_INSTALL_HINT, QUIET, cli_env, run_cli, run_in_terminal
from tests.fake_upstream import FakeUpstream
from tests.proxy import MASTER_KEY, Proxy, drop_redis_prefix, free_port

_upstream: list[str] = []


@pytest.fixture(autouse=True, scope="module")
def reachable_upstream() -> Iterator[None]:
    """doctor asks the upstream for an answer; a healthy set-up points at one that gives it."""
    with FakeUpstream.start() as fake:
        _upstream[:] = [fake.url]
        yield


def healthy_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "MASKGATE_MASTER_KEY": MASTER_KEY,
        "MASKGATE_UPSTREAM_URL": _upstream[0],
        "MASKGATE_UPSTREAM_API_KEY": "sk-ant-test",
        "MASKGATE_PORT": str(free_port()),
        **QUIET,
    }
    claude = find_claude()
    if claude:
        env["MASKGATE_CLAUDE_BIN"] = claude
    env.update(extra)
    return cli_env(tmp_path, **env)


def doctor(env: dict[str, str]) -> tuple[int, dict[str, dict[str, str]]]:
    r = run_cli(["doctor", "--json"], env)
    return r.returncode, {c["check"]: c for c in json.loads(r.stdout)}


@pytest.fixture
def listening_socket() -> Iterator[int]:
    """A port held by something that is not maskgate (it accepts and never answers)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def test_healthy_setup_exits_0(tmp_path: Path) -> None:
    code, checks = doctor(healthy_env(tmp_path))
    assert code == 0, checks
    assert checks["master key"]["status"] == "ok" and MASTER_KEY not in json.dumps(checks)
    assert checks["store"]["status"] == "ok" and checks["port"]["status"] == "ok"
    assert checks["catalogue"]["status"] == "ok"
    assert checks["upstream"]["status"] == "ok" and checks["side traffic"]["status"] == "ok"
    assert checks["litellm"]["status"] == "skip" and checks["headless"]["status"] == "skip"
    if find_claude():
        assert checks["claude"]["status"] == "ok" and "2.1.332" in checks["claude"]["detail"]


def test_missing_master_key_fails_with_the_fix(tmp_path: Path) -> None:
    env = healthy_env(tmp_path)
    del env["MASKGATE_MASTER_KEY"]
    code, checks = doctor(env)
    assert code == 1
    assert checks["master key"]["status"] == "fail" and "maskgate keygen" in checks["master key"]["fix"]
    code, checks = doctor({**env, "MASKGATE_MASTER_KEY": "short"})
    assert code == 1 and "16" in checks["master key"]["detail"]


def test_redis_down_fails_and_redis_up_passes(tmp_path: Path) -> None:
    key = secrets.token_hex(32)
    down = healthy_env(tmp_path, MASKGATE_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", MASKGATE_STORE_KEY=key)
    code, checks = doctor(down)
    assert code == 1 and checks["store"]["status"] == "fail"
    assert "redis" in checks["store"]["detail"] and "redis-server" in checks["store"]["fix"]
    prefix = f"mgtest-{secrets.token_hex(4)}:"  # doctor's key check writes the store's canary there
    up = healthy_env(
        tmp_path, MASKGATE_REDIS_URL="redis://127.0.0.1:6379/0", MASKGATE_STORE_KEY=key, MASKGATE_REDIS_PREFIX=prefix
    )
    try:
        code, checks = doctor(up)
    finally:
        drop_redis_prefix(prefix)
    assert code == 0 and checks["store"]["status"] == "ok", checks["store"]
    code, checks = doctor(healthy_env(tmp_path, MASKGATE_REDIS_URL="redis://:hunter2@127.0.0.1:6379/0"))
    assert code == 1 and checks["config"]["status"] == "fail" and "MASKGATE_STORE_KEY" in checks["config"]["detail"]


def test_redis_password_is_not_shown(tmp_path: Path) -> None:
    env = healthy_env(
        tmp_path, MASKGATE_REDIS_URL=f"redis://:hunter2@127.0.0.1:{free_port()}/0", MASKGATE_STORE_KEY="0" * 64
    )
    r = run_cli(["doctor"], env)
    assert "hunter2" not in r.stdout + r.stderr


def test_embedded_store_in_an_impossible_place(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    code, checks = doctor(healthy_env(tmp_path, MASKGATE_STORE_PATH=str(tmp_path / "a-file" / "store.db")))
    assert code == 1 and checks["store"]["status"] == "fail" and "MASKGATE_HOME" in checks["store"]["fix"]


def test_port_in_use(tmp_path: Path, listening_socket: int) -> None:
    code, checks = doctor(healthy_env(tmp_path, MASKGATE_PORT=str(listening_socket)))
    assert code == 1 and checks["port"]["status"] == "fail" and "MASKGATE_PORT" in checks["port"]["fix"]


def test_port_held_by_a_running_maskgate_is_fine(tmp_path: Path) -> None:
    with FakeUpstream.start() as fake, Proxy.start(tmp_path, fake.url) as proxy:
        code, checks = doctor(healthy_env(tmp_path, MASKGATE_PORT=str(proxy.port)))
    assert checks["port"]["status"] == "ok" and "already listening" in checks["port"]["detail"], checks["port"]
    assert code == 0


def test_missing_upstream_key_warns(tmp_path: Path) -> None:
    env = healthy_env(tmp_path)
    del env["MASKGATE_UPSTREAM_API_KEY"]
    code, checks = doctor(env)
    assert code == 0 and checks["upstream"]["status"] == "warn"


def test_claude_missing_fails_with_the_install_command(tmp_path: Path) -> None:
    code, checks = doctor(healthy_env(tmp_path, MASKGATE_CLAUDE_BIN=str(tmp_path / "no-claude")))
    assert code == 1 and checks["claude"]["status"] == "fail" and checks["claude"]["fix"] == CLAUDE_INSTALL_HINT
    env = healthy_env(tmp_path, PATH="/nonexistent")
    env.pop("MASKGATE_CLAUDE_BIN", None)
    code, checks = doctor(env)
    # Off PATH, the copy bundled in claude-agent-sdk, else the checkout's .tools copy, is found instead.
    from maskgate.claude import _checkout_cli, bundled_cli

    expected = bundled_cli() or _checkout_cli()
    if expected:
        assert checks["claude"]["status"] != "fail" and expected in checks["claude"]["detail"], checks["claude"]
    else:
        assert code == 1 and "not on PATH" in checks["claude"]["detail"]


def test_side_traffic_from_the_users_shell(tmp_path: Path) -> None:
    env = healthy_env(tmp_path)
    for name in QUIET:
        del env[name]
    code, checks = doctor(env)
    assert checks["side traffic"]["status"] == "warn"
    assert "DISABLE_TELEMETRY=1" in checks["side traffic"]["fix"] and "maskgate claude" in checks["side traffic"]["fix"]
    # Claude Code's own settings file counts: it applies its `env` block on top of the shell's.
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / "settings.json").write_text(json.dumps({"env": QUIET}))
    code, checks = doctor(env)
    assert checks["side traffic"]["status"] == "ok"


@pytest.mark.skipif(importlib.util.find_spec("litellm") is None, reason="litellm not installed")
def test_litellm_routes_are_imported(tmp_path: Path) -> None:
    (tmp_path / "maskgate.toml").write_text('[[routes]]\nmodel = "gpt-x"\nlitellm_model = "openai/gpt-x"\n')
    code, checks = doctor(healthy_env(tmp_path, MASKGATE_CONFIG=str(tmp_path / "maskgate.toml")))
    assert checks["litellm"]["status"] == "ok" and "gpt-x" in checks["litellm"]["detail"]


def test_headless_section(tmp_path: Path) -> None:
    (tmp_path / "repos").mkdir()
    config = tmp_path / "maskgate.toml"
    config.write_text('[claude_code]\nenabled = true\nadmin_key_env = "ADMIN"\nroots = ["repos", "gone"]\n')
    env = healthy_env(tmp_path, MASKGATE_CONFIG=str(config), ADMIN="a" * 32)
    code, checks = doctor(env)
    assert code == 1 and checks["headless"]["status"] == "fail" and "gone" in checks["headless"]["detail"]
    config.write_text('[claude_code]\nenabled = true\nadmin_key_env = "ADMIN"\nroots = ["repos"]\n')
    code, checks = doctor(env)
    assert code == 0 and checks["headless"]["status"] == "ok" and "claude-agent-sdk" in checks["headless"]["detail"]


def test_bad_config_is_reported_and_the_rest_still_runs(tmp_path: Path) -> None:
    (tmp_path / "maskgate.toml").write_text("[[tenants]\n")
    code, checks = doctor(healthy_env(tmp_path, MASKGATE_CONFIG=str(tmp_path / "maskgate.toml")))
    assert code == 1 and checks["config"]["status"] == "fail" and "TOML" in checks["config"]["detail"]
    assert checks["master key"]["status"] == "ok" and "side traffic" in checks


def test_output_piped_and_on_a_terminal(tmp_path: Path) -> None:
    env = healthy_env(tmp_path)
    del env["MASKGATE_MASTER_KEY"]
    r = run_cli(["doctor"], env)
    assert r.returncode == 1
    rows = [line.split("\t") for line in r.stdout.splitlines()]
    assert ["fail", "master key"] == rows[1][:2] and all(len(row) == 4 for row in rows)
    code, out = run_in_terminal(["doctor"], env)
    assert code == 1 and "fix: export MASKGATE_MASTER_KEY" in out and "\x1b[" in out


def test_unreachable_upstream_fails_fast(tmp_path: Path) -> None:
    code, checks = doctor(healthy_env(tmp_path, MASKGATE_UPSTREAM_URL=f"http://127.0.0.1:{free_port()}"))
    assert code == 1 and checks["upstream"]["status"] == "fail"
    assert "cannot be reached" in checks["upstream"]["detail"] and checks["upstream"]["fix"]


def test_upstream_that_never_answers_fails_within_seconds(tmp_path: Path, listening_socket: int) -> None:
    code, checks = doctor(healthy_env(tmp_path, MASKGATE_UPSTREAM_URL=f"http://127.0.0.1:{listening_socket}"))
    assert code == 1 and "no answer within" in checks["upstream"]["detail"]


@pytest.mark.parametrize("content", [None, "garbage = [\n", '[[pattern]]\nkind = "x"\n'])
def test_missing_or_broken_catalogue_fails(tmp_path: Path, content: str | None) -> None:
    if content is not None:
        (tmp_path / "corp.toml").write_text(content, encoding="utf-8")
    config = tmp_path / "maskgate.toml"
    config.write_text('[masking]\ncatalogues = ["corp.toml"]\n', encoding="utf-8")
    code, checks = doctor(healthy_env(tmp_path, MASKGATE_CONFIG=str(config)))
    assert code == 1 and checks["catalogue"]["status"] == "fail" and "corp.toml" in checks["catalogue"]["detail"]
