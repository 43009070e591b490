"""Profiles for the goals maskgate misses: where a 4 MB request's time goes (full runs only).

- py-spy (`--native`, tools venv) samples `maskgate serve` while it handles 4 MB requests: Python and
  Rust frames, so the split between the engine and the gateway around it shows.
- perf samples the engine alone (`Engine.mask_body` on the 4 MB body) when perf is installed.

The raw profiles go to results/profiles/ (collapsed stacks: feed them to any flame graph tool);
results.json keeps the top frames by own time.
"""

from __future__ import annotations

import collections
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import procs

HERE = Path(__file__).resolve().parent


def _top_collapsed(path: Path, n: int = 14) -> list[str]:
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        total += int(count)
        leaf = stack.split(";")[-1]
        own[_short(leaf)] += int(count)
    return [f"{c / total:6.1%}  {frame}" for frame, c in own.most_common(n)] if total else []


def _short(frame: str) -> str:
    frame = frame.replace(str(HERE.parent) + "/", "")
    for marker in ("site-packages/", "lib/python3"):
        if marker in frame:
            head, _, tail = frame.partition(marker)
            frame = head.split("(")[0] + "(" + tail if "(" in head else tail
    return frame[:150]


def run(results: dict[str, Any], tools: Any, out: Path, log_dir: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    items: list[dict[str, Any]] = []
    missed = [g["goal"] for g in results.get("goals", []) if g["met"] is False]
    if tools is not None and tools.ok:
        items.append(_pyspy_gateway(Path(tools.python).parent / "py-spy", out, log_dir))
    if shutil.which("perf"):
        items.append(_perf_engine(out, log_dir))
    return {"missed_goals": missed, "items": [i for i in items if i]}


def _pyspy_gateway(pyspy: Path, out: Path, log_dir: Path) -> dict[str, Any]:
    raw = out / "gateway-4mb.pyspy.txt"
    with procs.fake_upstream(log_dir, name="upstream-profile") as up, tempfile.TemporaryDirectory() as tmp:
        mg = procs.maskgate(log_dir, up.url, Path(tmp), name="maskgate-profile")
        try:
            spy = subprocess.Popen(
                [
                    str(pyspy),
                    "record",
                    "--native",
                    "--rate",
                    "250",
                    "--format",
                    "raw",
                    "-o",
                    str(raw),
                    "--pid",
                    str(mg.proc.pid),
                ],
                stdout=subprocess.DEVNULL,
                stderr=(log_dir / "py-spy.log").open("ab"),
            )
            time.sleep(1.0)
            target = {"name": "maskgate", "url": mg.url, "headers": {"authorization": f"Bearer {procs.MASTER_KEY}"}}
            spec = {"targets": [target], "sizes": [4_000_000], "n": {"4000000": 15}, "warmup": 1, "modes": ["plain"]}
            spec_file = log_dir / "drive-profile.json"
            spec_file.write_text(json.dumps(spec))
            subprocess.run(
                [sys.executable, str(HERE / "drive.py"), "latency", str(spec_file)],
                stdout=subprocess.DEVNULL,
                timeout=600,
                check=False,
            )
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        finally:
            mg.stop()
    if not raw.exists():
        return {}
    return {
        "title": "maskgate serve handling 4 MB requests, own time by frame",
        "tool": "py-spy --native",
        "file": f"profiles/{raw.name}",
        "top": _top_collapsed(raw),
    }


def _perf_engine(out: Path, log_dir: Path) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp()) / "perf.data"
    script = (
        "import sys, time\n"
        f"sys.path.insert(0, {str(HERE)!r})\n"
        "from corpus import make_body\nfrom maskgate import Engine\n"
        "b = make_body(4_000_000); e = Engine(); e.mask_body(b)\n"
        "end = time.monotonic() + 10\n"
        "while time.monotonic() < end:\n    e.mask_body(b)\n"
    )
    subprocess.run(
        ["perf", "record", "-F", "499", "-g", "-o", str(data), sys.executable, "-c", script],
        stdout=subprocess.DEVNULL,
        stderr=(log_dir / "perf.log").open("ab"),
        timeout=300,
        check=False,
    )
    report = subprocess.run(
        ["perf", "report", "-i", str(data), "--stdio", "--no-children", "--sort", "symbol", "-g", "none"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    ).stdout
    text = out / "engine-4mb-body.perf.txt"
    text.write_text(report)
    top = []
    for line in report.splitlines():
        line = line.strip()
        if line and line[0].isdigit() and "%" in line:
            pct, _, rest = line.partition("%")
            sym = rest.split("[.]")[-1].split("[k]")[-1].strip()
            top.append(f"{float(pct):5.1f}%  {sym[:140]}")
        if len(top) >= 14:
            break
    return {
        "title": "Engine.mask_body on the 4 MB body, own time by symbol",
        "tool": "perf",
        "file": f"profiles/{text.name}",
        "top": top,
    }
