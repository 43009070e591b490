"""The `maskgate` entry point: help, keygen, mask/unmask through the server's store, patterns."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import httpx2

from tests.cli.support import SCRIPT, cli_env, run_cli, run_in_terminal
from tests.fake_upstream import FakeUpstream
from tests.proxy import MASTER_KEY, Proxy


def test_installed_script_lists_every_command(tmp_path: Path) -> None:
    assert SCRIPT.exists(), "the console script is not installed next to this interpreter"
    r = run_cli(["--help"], cli_env(tmp_path))
    assert r.returncode == 0
    for command in ("serve", "keygen", "mask", "unmask", "scan", "patterns", "claude", "doctor"):
        assert command in r.stdout


def test_keygen(tmp_path: Path) -> None:
    r = run_cli(["keygen"], cli_env(tmp_path))
    key = r.stdout.strip()
    assert r.returncode == 0 and len(key) == 64 and int(key, 16) >= 0


def test_mask_and_unmask_share_the_servers_store(tmp_path: Path) -> None:
    """The CLI and the gateway map an original to the same pseudonym, in both directions."""
    instance = f"i-{secrets.token_hex(9)[:17]}"
    env = cli_env(tmp_path)
    masked = run_cli(["mask"], env, stdin=f"stop {instance} now\n")
    assert masked.returncode == 0, masked.stderr
    assert instance not in masked.stdout and masked.stdout.startswith("stop ec2-")
    pseudonym = masked.stdout.split()[1]
    (tmp_path / "masked.txt").write_text(masked.stdout)
    restored = run_cli(["unmask", str(tmp_path / "masked.txt")], env)
    assert restored.stdout == f"stop {instance} now\n"

    with FakeUpstream.start() as fake, Proxy.start(tmp_path, fake.url, {"MASKGATE_HOME": env["MASKGATE_HOME"]}) as p:
        fake.script([{"type": "text", "text": f"{pseudonym} stopped"}])
        r = httpx2.post(
            p.url + "/v1/messages",
            headers={"x-api-key": MASTER_KEY},
            json={"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": f"stop {instance}"}]},
            timeout=30,
        )
        assert r.json()["content"][0]["text"] == f"{instance} stopped"
        assert fake.requests("/v1/messages")[0]["json"]["messages"][0]["content"] == f"stop {pseudonym}"


def test_patterns_piped_is_tab_separated(tmp_path: Path) -> None:
    r = run_cli(["patterns"], cli_env(tmp_path))
    assert r.returncode == 0
    lines = [line.split("\t") for line in r.stdout.splitlines()]
    assert lines[0] == ["state", "priority", "kind", "name", "group", "origin"]
    rows = {row[3]: row for row in lines[1:]}
    assert rows["ec2-instance"][0] == "on" and rows["ec2-instance"][2] == "ec2"
    assert any(row[0] == "off" for row in lines[1:])  # opt-in groups are listed too
    assert "\x1b[" not in r.stdout


def test_patterns_json(tmp_path: Path) -> None:
    entries = json.loads(run_cli(["patterns", "--json"], cli_env(tmp_path)).stdout)
    assert {"name", "kind", "enabled", "priority", "origin"} <= set(entries[0])


def test_patterns_with_a_user_catalogue(tmp_path: Path) -> None:
    (tmp_path / "corp.toml").write_text(
        'version = 1\n[[pattern]]\nname = "ticket"\nkind = "ticket"\nregex = \'TICKET-[0-9]{4}\'\npriority = 10\n'
        'positive = ["TICKET-1234"]\n'
    )
    (tmp_path / "maskgate.toml").write_text('[masking]\ncatalogues = ["corp.toml"]\n')
    env = cli_env(tmp_path, MASKGATE_CONFIG=str(tmp_path / "maskgate.toml"))
    rows = [line.split("\t") for line in run_cli(["patterns"], env).stdout.splitlines()]
    assert any(row[3] == "ticket" and row[5].endswith("corp.toml") for row in rows)


def test_patterns_test_shows_what_would_be_masked(tmp_path: Path) -> None:
    text = "stop i-0123456789abcdef0 in arn:aws:iam::123456789012:role/deploy"
    r = run_cli(["patterns", "test", text], cli_env(tmp_path))
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert lines[0] == "stop ec2-001 in arn-001"
    assert lines[1].split("\t") == ["span", "kind", "original", "pseudonym"]
    assert lines[2].split("\t") == ["5-24", "ec2", "i-0123456789abcdef0", "ec2-001"]
    data = json.loads(run_cli(["patterns", "test", text, "--json"], cli_env(tmp_path)).stdout)
    assert data["masked"] == "stop ec2-001 in arn-001" and len(data["findings"]) == 2
    assert not (tmp_path / "data").exists()  # a dry run: no store was touched


def test_patterns_on_a_terminal_is_a_table(tmp_path: Path) -> None:
    code, out = run_in_terminal(["patterns"], cli_env(tmp_path))
    assert code == 0
    assert "ec2-instance" in out and "│" in out and "\x1b[" in out  # box drawing and colour


def test_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    r = run_cli(["unmask", str(tmp_path / "missing.txt")], cli_env(tmp_path))
    assert r.returncode == 2 and r.stderr.startswith("maskgate: ") and "Traceback" not in r.stderr
    r = run_cli(["patterns"], cli_env(tmp_path, MASKGATE_CONFIG=str(tmp_path / "nope.toml")))
    assert r.returncode == 2 and "cannot read" in r.stderr
