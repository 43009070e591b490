"""Bad settings, paths and inputs through the installed entry point: one line naming the culprit, no traceback."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from tests.cli.support import cli_env, command, run_cli
from tests.fake_upstream import FakeUpstream

KEY = "k" * 24


def one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize("var", ["MASKGATE_PORT", "MASKGATE_STORE_TTL", "MASKGATE_BODY_TIMEOUT"])
def test_a_bad_number_names_its_variable(tmp_path: Path, var: str) -> None:
    r = run_cli(["patterns"], cli_env(tmp_path, **{var: "abc"}))
    assert r.returncode == 2
    line = one_line(r.stderr)
    assert var in line and "'abc'" in line


def test_doctor_reports_a_bad_number_as_a_failed_check(tmp_path: Path) -> None:
    r = run_cli(["doctor"], cli_env(tmp_path, MASKGATE_MASTER_KEY=KEY, MASKGATE_PORT="80a"))
    assert r.returncode != 0 and "Traceback" not in r.stdout + r.stderr
    assert any(line.startswith("fail") and "MASKGATE_PORT" in line for line in r.stdout.splitlines()), r.stdout


@pytest.mark.parametrize("port", ["0", "99999", "-1"])
def test_serve_refuses_a_port_it_cannot_listen_on(tmp_path: Path, port: str) -> None:
    r = run_cli(["serve", "--port", port], cli_env(tmp_path, MASKGATE_MASTER_KEY=KEY), timeout=60)
    assert r.returncode == 2
    assert port in one_line(r.stderr)
    assert "listening" not in r.stdout + r.stderr
    r = run_cli(["serve"], cli_env(tmp_path, MASKGATE_MASTER_KEY=KEY, MASKGATE_PORT=port), timeout=60)
    assert r.returncode == 2 and "listening" not in r.stdout + r.stderr


def test_unknown_sections_and_keys_are_named(tmp_path: Path) -> None:
    config = tmp_path / "maskgate.toml"
    config.write_text(
        '[sever]\nport = 9000\n[server]\nprot = 9000\n[[tenants]]\nname = "b"\nkye = "x"\n'
        '[console]\n[[console.admins]]\nname = "a"\ntenant = ["b"]\n',
        encoding="utf-8",
    )
    r = run_cli(["patterns"], cli_env(tmp_path, MASKGATE_CONFIG=str(config)))
    assert r.returncode == 2
    line = one_line(r.stderr)
    for name in ("[sever]", "[server] prot", "[[tenants]] kye", "[[console.admins]] tenant"):
        assert name in line
    r = run_cli(["doctor"], cli_env(tmp_path, MASKGATE_MASTER_KEY=KEY, MASKGATE_CONFIG=str(config)))
    assert r.returncode != 0 and "[sever]" in r.stdout


def test_every_documented_key_is_accepted(tmp_path: Path) -> None:
    config = tmp_path / "maskgate.toml"
    config.write_text(
        '[server]\nhost = "127.0.0.1"\nport = 8123\nmax_body_bytes = 1000000\nbody_timeout_seconds = 5\n'
        '[upstream]\nurl = "http://127.0.0.1:9"\ntimeout_seconds = 5\n[store]\nttl_seconds = 60\n'
        "[masking]\nprivate_network = true\n",
        encoding="utf-8",
    )
    r = run_cli(["patterns", "--json"], cli_env(tmp_path, MASKGATE_CONFIG=str(config)))
    assert r.returncode == 0, r.stderr


def test_a_wrong_type_in_the_file_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "maskgate.toml"
    config.write_text('[server]\nport = "eighty"\n', encoding="utf-8")
    r = run_cli(["patterns"], cli_env(tmp_path, MASKGATE_CONFIG=str(config)))
    assert r.returncode == 2 and "[server] port" in one_line(r.stderr)


def test_scan_of_a_missing_path_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("nothing here\n", encoding="utf-8")
    r = run_cli(["scan", str(tmp_path / "real.txt"), str(tmp_path / "nonexistent")], cli_env(tmp_path))
    assert r.returncode == 2
    line = one_line(r.stderr)
    assert "nonexistent" in line and "0 finding" not in line
    r = run_cli(["scan", str(tmp_path / "real.txt")], cli_env(tmp_path))
    assert r.returncode == 0, r.stderr


def test_mask_of_a_non_utf8_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ab\xff\xfe i-0123456789abcdef0\n")
    r = run_cli(["mask", str(bad)], cli_env(tmp_path))
    assert r.returncode == 2
    assert "not UTF-8" in one_line(r.stderr) and r.stdout == ""


def test_mask_with_redis_down_is_one_line(tmp_path: Path) -> None:
    env = cli_env(tmp_path, MASKGATE_REDIS_URL="redis://127.0.0.1:1/0", MASKGATE_STORE_KEY="ab" * 32)
    r = run_cli(["mask", "-"], env, stdin="i-0123456789abcdef0\n")
    assert r.returncode == 2
    line = one_line(r.stderr)
    assert "store" in line and "MASKGATE_REDIS_URL" in line
    assert "i-0123456789abcdef0" not in r.stdout + r.stderr


def _serve(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_cli(["serve", *args], cli_env(tmp_path, MASKGATE_MASTER_KEY=KEY, **env), timeout=60)


def test_serve_on_a_busy_port_fails_without_announcing(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = _serve(tmp_path, "--port", str(port))
    assert r.returncode != 0
    assert "listening" not in r.stderr and "address already in use" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("catalogue", [None, "garbage = [\n"])
def test_serve_with_a_bad_catalogue_is_one_line(tmp_path: Path, catalogue: str | None) -> None:
    if catalogue is not None:
        (tmp_path / "corp.toml").write_text(catalogue, encoding="utf-8")
    config = tmp_path / "maskgate.toml"
    config.write_text('[masking]\ncatalogues = ["corp.toml"]\n', encoding="utf-8")
    r = _serve(tmp_path, "--port", "1", MASKGATE_CONFIG=str(config))
    assert r.returncode == 2
    assert "corp.toml" in one_line(r.stderr) and "listening" not in r.stderr


def test_serve_announces_the_address_it_listens_on(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = cli_env(tmp_path, MASKGATE_MASTER_KEY=KEY)
    proc = subprocess.Popen(
        [*command(), "serve", "--port", str(port)],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stderr is not None
        lines = [proc.stderr.readline() for _ in range(4)]
        announced = next(line for line in lines if "listening" in line)
        assert announced.strip() == f"maskgate listening on http://127.0.0.1:{port}"
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # it was listening when it said so
    finally:
        proc.terminate()
        proc.wait(30)
        if proc.stderr is not None:
            proc.stderr.close()


def _stub_claude(tmp_path: Path) -> Path:
    """Stands in for Claude Code: these sessions must stop before it would run."""
    stub = tmp_path / "claude"
    stub.write_text(f"#!/bin/sh\necho ran > {tmp_path / 'ran'}\n", encoding="utf-8")
    stub.chmod(0o755)
    return stub


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_claude_with_the_provider_unreachable_says_so(tmp_path: Path) -> None:
    env = cli_env(
        tmp_path,
        MASKGATE_CLAUDE_BIN=str(_stub_claude(tmp_path)),
        MASKGATE_PORT=str(_free_port()),
        MASKGATE_UPSTREAM_URL=f"http://127.0.0.1:{_free_port()}",
        MASKGATE_UPSTREAM_API_KEY="sk-test",
    )
    r = run_cli(["claude", "-p", "hello"], env, timeout=60)
    assert r.returncode == 2 and "cannot be reached" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "ran").exists()


def test_claude_with_the_store_down_says_so(tmp_path: Path) -> None:
    with FakeUpstream.start() as fake:  # a provider that answers: this test is about the store
        env = cli_env(
            tmp_path,
            MASKGATE_CLAUDE_BIN=str(_stub_claude(tmp_path)),
            MASKGATE_PORT=str(_free_port()),
            MASKGATE_UPSTREAM_URL=fake.url,
            MASKGATE_UPSTREAM_API_KEY="sk-test",
            MASKGATE_REDIS_URL=f"redis://127.0.0.1:{_free_port()}/0",
            MASKGATE_STORE_KEY="ab" * 32,
        )
        r = run_cli(["claude", "-p", "hello"], env, timeout=90)
    assert r.returncode == 2 and "mapping store" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "ran").exists()


def test_scan_cache_setting() -> None:
    """MASKGATE_SCAN_CACHE reaches the engine; a negative one is refused naming the variable."""
    from maskgate.engine import Engine
    from maskgate.settings import Settings, SettingsError

    s = Settings.from_env({"MASKGATE_MASTER_KEY": "k" * 32, "MASKGATE_SCAN_CACHE": "0"})
    assert s.scan_cache == 0
    Engine.from_settings(s)  # accepted by the core
    with pytest.raises(SettingsError, match="MASKGATE_SCAN_CACHE"):
        Settings.from_env({"MASKGATE_MASTER_KEY": "k" * 32, "MASKGATE_SCAN_CACHE": "-1"})
