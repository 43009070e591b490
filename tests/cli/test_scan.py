"""`maskgate scan` as a secret scanner and a pre-commit hook."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from tests.cli.support import cli_env, run_cli, run_in_terminal

REPO = Path(__file__).resolve().parents[2]
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
INSTANCE = "i-0123456789abcdef0"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "src").mkdir(parents=True)
    (root / "src" / "deploy.sh").write_text(f"#!/bin/sh\n\naws ec2 stop-instances --instance-ids {INSTANCE}\n")
    (root / "creds.ini").write_text(f"[default]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET}\n")
    (root / "clean.txt").write_text("nothing to see\n")
    (root / "image.bin").write_bytes(b"\x00\x01" + INSTANCE.encode() + b"\x00")  # binary: skipped
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text(f"{INSTANCE}\n")  # .git: skipped
    (root / "node_modules" / "x").mkdir(parents=True)
    (root / "node_modules" / "x" / "a.js").write_text(f"'{INSTANCE}'\n")
    return root


def test_findings_are_listed_redacted_and_exit_1(tree: Path, tmp_path: Path) -> None:
    r = run_cli(["scan", str(tree)], cli_env(tmp_path))
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert f"{tree}/src/deploy.sh:3:39: ec2 i-01…f0 (19 chars)" in lines
    assert any(line.startswith(f"{tree}/creds.ini:2:") and " iam " in line for line in lines)
    assert any(line.startswith(f"{tree}/creds.ini:3:") for line in lines)
    assert not [line for line in lines if ".git" in line or "image.bin" in line or "node_modules" in line]
    everything = r.stdout + r.stderr
    assert SECRET not in everything and ACCESS_KEY not in everything and INSTANCE not in everything
    assert re.search(r"\d+ finding\(s\) in 4 file\(s\)", r.stderr)


def test_json_output(tree: Path, tmp_path: Path) -> None:
    r = run_cli(["scan", "--json", str(tree)], cli_env(tmp_path))
    assert r.returncode == 1
    found = json.loads(r.stdout)
    assert {f["path"] for f in found} == {f"{tree}/src/deploy.sh", f"{tree}/creds.ini"}
    assert set(found[0]) == {"path", "line", "column", "kind", "preview"}
    assert SECRET not in r.stdout


def test_clean_tree_exits_0(tree: Path, tmp_path: Path) -> None:
    r = run_cli(["scan", str(tree / "clean.txt"), str(tree / "image.bin")], cli_env(tmp_path))
    assert r.returncode == 0 and r.stdout == ""
    assert json.loads(run_cli(["scan", "--json", str(tree / "clean.txt")], cli_env(tmp_path)).stdout) == []


def test_pre_commit_hook(tree: Path, tmp_path: Path) -> None:
    """The hook pre-commit would install: `entry` plus the staged file names."""
    hooks = (REPO / ".pre-commit-hooks.yaml").read_text()
    assert "- id: maskgate-scan" in hooks
    entry = re.search(r"^\s*entry:\s*(.+)$", hooks, re.M)
    assert entry is not None and entry.group(1).split() == ["maskgate", "scan"]
    assert re.search(r"^\s*language:\s*python$", hooks, re.M)
    staged = [str(tree / "src" / "deploy.sh"), str(tree / "clean.txt")]
    assert run_cli(["scan", *staged], cli_env(tmp_path)).returncode == 1
    assert run_cli(["scan", str(tree / "clean.txt")], cli_env(tmp_path)).returncode == 0


def test_terminal_gets_a_table_and_a_progress_bar(tmp_path: Path) -> None:
    root = tmp_path / "many"
    root.mkdir()
    for i in range(400):
        (root / f"f{i:03}.txt").write_text(("filler line\n" * 200) + (f"{INSTANCE}\n" if i == 7 else ""))
    code, out = run_in_terminal(["scan", str(root)], cli_env(tmp_path))
    assert code == 1
    assert "scanning" in out and "/400" in out  # the bar, drawn on stderr while it ran
    assert "f007.txt:201:1" in out and "│" in out  # results as a table
    assert INSTANCE not in out


def test_large_tree_is_fast(tmp_path: Path) -> None:
    """~40 MB in 2,000 files, with binaries and a .git to skip."""
    root = tmp_path / "large"
    chunk = "".join(f"line {n} of ordinary text, nothing secret here at all\n" for n in range(400))
    for d in range(20):
        sub = root / f"pkg{d}"
        sub.mkdir(parents=True)
        for f in range(100):
            (sub / f"m{f}.py").write_text(chunk)
        (sub / "blob.bin").write_bytes(b"\0" * 1_000_000)
    (root / ".git").mkdir()
    (root / ".git" / "pack").write_bytes(b"x" * 5_000_000)
    started = time.monotonic()
    r = run_cli(["scan", str(root)], cli_env(tmp_path))
    took = time.monotonic() - started
    assert r.returncode == 0, r.stdout[:500]
    assert "in 2020 file(s)" in r.stderr
    assert took < 20, f"scan took {took:.1f} s"
