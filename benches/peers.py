"""The peers' venvs: one per section of requirements-peers.txt, under benches/.venv-peers/.

    python benches/peers.py [NAME ...]     install (or check) and print each venv's status

A venv is reused while its section of requirements-peers.txt is unchanged (a hash beside it). A
failed install is a result, not an error: `ensure()` returns "install failed: <reason>" and the
benchmarks report that peer as such. `MASKGATE_BENCH_PEERS_DIR` moves the venvs elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import venv
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements-peers.txt"
PEERS_DIR = Path(os.environ.get("MASKGATE_BENCH_PEERS_DIR", HERE / ".venv-peers"))
INSTALL_TIMEOUT = float(os.environ.get("MASKGATE_BENCH_INSTALL_TIMEOUT", 1800))


@dataclass
class Peer:
    name: str
    status: str  # "ok", or "install failed: ..."
    python: str = ""
    seconds: float = 0.0
    reused: bool = False
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def sections(path: Path = REQUIREMENTS) -> dict[str, list[str]]:
    """`# [name]` starts a section; other comments and blank lines are dropped."""
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("# [") and "]" in line:
            current = out.setdefault(line[3 : line.index("]")], [])
        elif line and not line.startswith("#") and current is not None:
            current.append(line)
    return out


def _reason(output: str) -> str:
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("ERROR:") or "Error" in ln]
    return (errors[0] if errors else lines[-1] if lines else "no output")[:300]


def ensure(name: str, log_dir: Path | None = None) -> Peer:
    """The venv for section `name`, installed if missing or out of date."""
    reqs = sections().get(name)
    if reqs is None:
        return Peer(name, f"install failed: no section [{name}] in {REQUIREMENTS.name}")
    target = PEERS_DIR / name
    python = target / "bin" / "python"
    digest = hashlib.sha256("\n".join(reqs).encode()).hexdigest()
    marker = target / ".requirements.sha256"
    if python.exists() and marker.exists() and marker.read_text().strip() == digest:
        return Peer(name, "ok", str(python), 0.0, True, _versions(python, reqs))
    started = time.monotonic()
    if target.exists():
        subprocess.run(["rm", "-rf", str(target)], check=False)
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(target)
    except Exception as e:
        return Peer(name, f"install failed: venv: {e}"[:300])
    cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input", *reqs]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
    except subprocess.TimeoutExpired:
        return Peer(name, f"install failed: pip did not finish in {INSTALL_TIMEOUT:.0f} s")
    output = proc.stdout + proc.stderr
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        (log_dir / f"install-{name}.log").write_text(output)
    if proc.returncode != 0:
        return Peer(name, f"install failed: {_reason(output)}", seconds=time.monotonic() - started)
    marker.write_text(digest + "\n")
    return Peer(name, "ok", str(python), time.monotonic() - started, False, _versions(python, reqs))


def _versions(python: Path, reqs: list[str]) -> dict[str, str]:
    names = [r.split("==")[0].split("[")[0] for r in reqs]
    code = (
        "import json, sys\nfrom importlib.metadata import version\nout = {}\n"
        "for n in sys.argv[1:]:\n    try: out[n] = version(n)\n    except Exception: out[n] = '?'\n"
        "print(json.dumps(out))"
    )
    try:
        proc = subprocess.run([str(python), "-c", code, *names[:3]], capture_output=True, text=True, timeout=60)
        return dict(json.loads(proc.stdout))
    except (subprocess.SubprocessError, ValueError):
        return {}


if __name__ == "__main__":
    for peer_name in sys.argv[1:] or list(sections()):
        print(json.dumps(ensure(peer_name, HERE / "results" / "logs").as_dict()), flush=True)
