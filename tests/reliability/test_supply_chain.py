"""Dependencies: every one pinned, with hashes, in requirements.lock; LiteLLM pinned exactly."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def locked() -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) from requirements.lock."""
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    out: dict[str, tuple[str, list[str]]] = {}
    for entry in re.split(r"\n(?=[A-Za-z0-9])", text):
        m = re.match(r"([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==([^\s\\;]+)", entry)
        if m:
            out[m.group(1).lower().replace("_", "-")] = (m.group(3), re.findall(r"--hash=sha256:([0-9a-f]{64})", entry))
    return out


def declared() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    deps: list[str] = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        deps += extra
    return deps


def test_every_locked_package_is_pinned_with_hashes() -> None:
    lock = locked()
    assert len(lock) > 20
    unhashed = [name for name, (_, hashes) in lock.items() if not hashes]
    assert not unhashed, f"no hash for {unhashed}"


def test_pyproject_pins_exact_versions_and_the_lock_agrees() -> None:
    lock = locked()
    for dep in declared():
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==([0-9][^\s;]*)", dep)
        assert m, f"{dep!r} is not pinned to one exact version"
        name = m.group(1).lower().replace("_", "-")
        assert name in lock, f"{name} is missing from requirements.lock (regenerate it, see its header)"
        assert lock[name][0] == m.group(3), f"{name}: pyproject says {m.group(3)}, the lock {lock[name][0]}"


def test_litellm_is_pinned_to_one_reviewed_version() -> None:
    pins = [d for d in declared() if d.lower().startswith("litellm")]
    assert pins and all(re.fullmatch(r"litellm==\d+\.\d+\.\d+", p) for p in pins), pins
    assert locked()["litellm"][0] == pins[0].split("==")[1]


def test_cargo_lock_is_committed_and_ci_audits_both() -> None:
    assert (ROOT / "Cargo.lock").is_file()
    audit = (ROOT / ".ci" / "audit.sh").read_text(encoding="utf-8")
    assert "pip-audit -r requirements.lock" in audit.replace('"$tools/bin/pip-audit"', "pip-audit")
    assert "cargo audit" in audit
    assert "audit.sh" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
