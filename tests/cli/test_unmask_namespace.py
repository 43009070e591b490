"""`maskgate unmask --namespace` through the installed entry point: a namespace with no mappings is
an error, and pseudonyms the namespace does not know are counted on stderr, not left silently."""

from __future__ import annotations

from pathlib import Path

from tests.cli.support import cli_env, run_cli

INSTANCE = "i-0123456789abcdef0"


def test_a_namespace_with_no_mappings_is_an_error(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    masked = run_cli(["mask", "--namespace", "team-a"], env, stdin=f"stop {INSTANCE}\n")
    assert masked.returncode == 0 and INSTANCE not in masked.stdout, masked.stderr
    r = run_cli(["unmask", "--namespace", "team-typo"], env, stdin=masked.stdout)
    assert r.returncode == 2 and r.stdout == ""
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert lines == ["maskgate: namespace team-typo has no mappings (check --namespace)"], r.stderr
    r = run_cli(["unmask", "--namespace", "t" * 200], env, stdin=masked.stdout)
    assert r.returncode == 2 and len(r.stderr) < 120, "a long namespace is shortened"
    r = run_cli(["unmask", "--namespace", "team-a"], env, stdin=masked.stdout)
    assert r.returncode == 0 and r.stdout == f"stop {INSTANCE}\n" and r.stderr == ""


def test_unknown_pseudonyms_are_counted_on_stderr(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    masked = run_cli(["mask", "--namespace", "team-a"], env, stdin=f"stop {INSTANCE}\n").stdout
    pseudonym = masked.split()[1]
    text = f"{masked.strip()}; also ec2-042, vpc-cidr-assoc-007 and ec2-042 again\n"
    r = run_cli(["unmask", "--namespace", "team-a"], env, stdin=text)
    assert r.returncode == 0
    assert r.stdout == f"stop {INSTANCE}; also ec2-042, vpc-cidr-assoc-007 and ec2-042 again\n"
    assert pseudonym not in r.stdout
    assert r.stderr.strip() == "maskgate: 2 pseudonym(s) not known in namespace team-a were left as they are"
    # Without --namespace (the default one, empty here): nothing to restore, and it says so.
    r = run_cli(["unmask"], env, stdin=masked)
    assert r.returncode == 0 and r.stdout == masked
    assert "1 pseudonym(s) not known in namespace default" in r.stderr
