"""Engine section: throughput (MB/s) and detection quality, maskgate against the peers, one run.

Each implementation runs in its own worker process (benches/engine_worker.py) under the interpreter
of the venv that has it. Timing rounds are interleaved across the workers (a batch of calls from
each in turn, again and again), so that the noise of a shared machine lands on all of them alike;
the figures are medians of single calls.
"""

from __future__ import annotations

import json
import os
import select
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import make_annotated  # noqa: E402
from quality import score  # noqa: E402

SIZES = {"100KB": 100_000, "1MB": 1_000_000, "4MB": 4_000_000}

# The two kinds of request body: the dense AWS-output corpus (corpus.make_body, ~2.7 findings per
# KB) and a session on this repository (session.session_body: mostly code and prose, ~0.2 per KB).
DENSE, SESSION = "maskgate mask_body, AWS-output body", "maskgate mask_body, session body"
NEXT = "maskgate mask_body, session next turn"
BASELINE = "Python re baseline"
# (row name, worker impl, venv: "main" or a section of requirements-peers.txt, input: see engine_worker.py)
IMPLS = [
    (DENSE, "maskgate-body", "main", "body"),
    (SESSION, "maskgate-body", "main", "session"),
    (NEXT, "maskgate-body", "main", "session-next"),
    ("maskgate mask", "maskgate-text", "main", "text"),
    (f"{BASELINE}, AWS-output body", "python-re", "main", "body"),
    (f"{BASELINE}, session body", "python-re", "main", "session"),
    (BASELINE, "python-re", "main", "text"),
    ("Presidio (regex recognizers)", "presidio", "presidio", "text"),
    ("LLM Guard Anonymize", "llm-guard", "llm-guard", "text"),
    ("LLM Guard Anonymize, regex only", "llm-guard-regex", "llm-guard", "text"),
]


class WorkerError(Exception):
    pass


class Worker:
    def __init__(self, impl: str, input_kind: str, python: str, log: Path, start_timeout: float) -> None:
        env = dict(os.environ)
        env["HF_HUB_OFFLINE"] = "1"  # no model hub here: fail at once instead of after minutes of retries
        env["TRANSFORMERS_OFFLINE"] = "1"
        env["TOKENIZERS_PARALLELISM"] = "false"
        self.log = log.open("ab")
        self.proc = subprocess.Popen(
            [python, str(HERE / "engine_worker.py"), impl, input_kind],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=env,
            cwd=str(HERE.parent),
        )
        self.buf = b""
        first = self._read(start_timeout)
        if "error" in first:
            self.close()
            raise WorkerError(first["error"])
        self.version: str = first.get("version", "")
        self.config: str = first.get("config", "")

    def _read(self, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                raise WorkerError(f"timed out after {timeout:.0f} s")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
                if not chunk:
                    self.close()
                    raise WorkerError(f"worker exited ({self.proc.wait()})")
                self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return dict(json.loads(line))

    def call(self, cmd: dict[str, Any], timeout: float) -> dict[str, Any]:
        if self.proc.poll() is not None:
            raise WorkerError("worker is gone")
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(cmd) + "\n").encode())
        self.proc.stdin.flush()
        reply = self._read(timeout)
        if "error" in reply:
            raise WorkerError(reply["error"])
        return reply

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def _short_error(e: Exception) -> str:
    text = str(e).replace("\n", " ")
    return text if len(text) < 160 else text[:157] + "..."


def run(peers: dict[str, Any], short: bool, log_dir: Path) -> dict[str, Any]:
    log_dir.mkdir(parents=True, exist_ok=True)
    rounds = 5 if short else 15
    budget = 10.0 if short else 60.0  # seconds of timed calls per implementation and size
    slow_limit = 120.0 if short else 600.0  # one call longer than this is reported as timed out
    rows: dict[str, dict[str, Any]] = {}
    workers: dict[str, Worker] = {}
    for row, impl, venv_name, input_kind in IMPLS:
        entry: dict[str, Any] = {"impl": impl, "input": input_kind, "sizes": {}}
        rows[row] = entry
        python = sys.executable if venv_name == "main" else None
        if python is None:
            peer = peers.get(venv_name)
            if peer is None or not peer.ok:
                entry["status"] = peer.status if peer is not None else "not installed"
                continue
            python = peer.python
        try:
            w = Worker(impl, input_kind, python, log_dir / f"engine-{impl}-{input_kind}.log", start_timeout=600)
        except WorkerError as e:
            entry["status"] = f"cannot run: {_short_error(e)}"
            continue
        entry.update(status="ok", version=w.version, config=w.config)
        workers[row] = w

    for size_name, size in SIZES.items():
        live: dict[str, Worker] = {}
        per_call: dict[str, float] = {}
        samples: dict[str, list[float]] = {}
        spent: dict[str, float] = {}
        for row, w in workers.items():
            if (
                short
                and size >= 1_000_000
                and rows[row]["input"] == "text"
                and not row.startswith(("maskgate", "Python"))
            ):
                rows[row]["sizes"][size_name] = {"status": "skipped (short run)"}
                continue
            try:
                first = w.call({"cmd": "time", "size": size, "calls": 1}, slow_limit)  # warms, then one call
            except WorkerError as e:
                rows[row]["sizes"][size_name] = {"status": f"fails: {_short_error(e)}"}
                continue
            live[row] = w
            per_call[row] = first["times"][0]
            samples[row] = list(first["times"])
            spent[row] = first["times"][0]
            rows[row]["sizes"][size_name] = {"findings": first["findings"], "input_sha256": first["sha256"]}
        for _ in range(rounds):
            for row, w in list(live.items()):
                if spent[row] > budget:
                    continue
                calls = max(1, min(200, round(0.25 / max(per_call[row], 1e-6))))
                if rows[row]["input"] == "session-next":
                    calls = min(calls, 4)  # each call adds a turn: keep the body near its size
                try:
                    reply = w.call({"cmd": "time", "size": size, "calls": calls}, slow_limit * calls)
                except WorkerError as e:
                    rows[row]["sizes"][size_name]["status"] = f"fails: {_short_error(e)}"
                    del live[row]
                    continue
                samples[row] += reply["times"]
                spent[row] += sum(reply["times"])
        for row, times in samples.items():
            med = statistics.median(times)
            rows[row]["sizes"][size_name].update(
                status=rows[row]["sizes"][size_name].get("status", "ok"),
                bytes=size,
                calls=len(times),
                median_s=med,
                min_s=min(times),
                mb_per_s=size / med / 1e6,
            )

    quality_size = 200_000 if short else 1_000_000
    annotated = make_annotated(quality_size)
    quality: dict[str, Any] = {"bytes": quality_size, "rows": {}}
    for row, w in workers.items():
        if rows[row]["input"] != "text":
            continue
        try:
            reply = w.call({"cmd": "quality", "size": quality_size}, slow_limit)
        except WorkerError as e:
            quality["rows"][row] = {"status": f"fails: {_short_error(e)}"}
            continue
        if rows[row]["impl"] == "llm-guard" and not reply["findings"]:
            continue
        quality["rows"][row] = {"status": "ok", **score(annotated, [tuple(f) for f in reply["findings"]])}
    for w in workers.values():
        w.close()

    return {"throughput": rows, "quality": quality, "rounds": rounds, "budget_s": budget}


def summary(engine: dict[str, Any]) -> dict[str, Any]:
    """The goal figures: each body kind's MB/s at 4 MB and its ratio to the Python baseline on the
    same body, the next turn's time, and maskgate text against each text peer at each size."""
    rows = engine["throughput"]

    def mbps(row: str, size: str) -> float | None:
        s = rows.get(row, {}).get("sizes", {}).get(size, {})
        return s.get("mb_per_s") if s.get("status") == "ok" else None

    nxt = rows.get(NEXT, {}).get("sizes", {}).get("4MB", {})
    out: dict[str, Any] = {
        "body_4mb_mb_per_s": mbps(DENSE, "4MB"),
        "session_4mb_mb_per_s": mbps(SESSION, "4MB"),
        "next_turn_4mb_ms": nxt["median_s"] * 1000 if nxt.get("status") == "ok" else None,
        "vs_baseline": {},
        "ratios": {},
    }
    for row, base in ((DENSE, f"{BASELINE}, AWS-output body"), (SESSION, f"{BASELINE}, session body")):
        for size in SIZES:
            ours, theirs = mbps(row, size), mbps(base, size)
            out["vs_baseline"].setdefault(row, {})[size] = ours / theirs if ours and theirs else None
    for size in SIZES:
        ours = mbps("maskgate mask", size)
        for row in rows:
            if row.startswith("maskgate") or rows[row].get("input") != "text":
                continue
            theirs = mbps(row, size)
            out["ratios"].setdefault(row, {})[size] = ours / theirs if ours and theirs else None
    return out
