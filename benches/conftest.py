"""Collects the engine benchmarks' timings and prints MB/s and the maskgate/baseline ratio at the end."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

RESULTS = Path(__file__).resolve().parent / "results" / "engine.json"
BASELINE = "PythonMasker.mask(text)"
_rows = pytest.StashKey[list[dict[str, Any]]]()


@pytest.fixture
def record_throughput(request: pytest.FixtureRequest, benchmark: Any) -> Callable[..., None]:
    """Call after `benchmark(...)`: remembers this run's timing for the summary table."""

    def record(workload: str, size: str, nbytes: int, findings: int) -> None:
        if benchmark.stats is None:  # --benchmark-disable: ran once as a smoke test, nothing measured
            return
        s = benchmark.stats.stats
        request.config.stash.setdefault(_rows, []).append(
            {
                "workload": workload,
                "size": size,
                "bytes": nbytes,
                "findings": findings,
                "rounds": s.rounds,
                "median_s": s.median,
                "mean_s": s.mean,
                "min_s": s.min,
                "stddev_s": s.stddev,
                "mb_per_s": nbytes / s.median / 1e6,
            }
        )

    return record


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    rows = config.stash.get(_rows, [])
    if not rows:
        return
    baseline = {r["size"]: r["mb_per_s"] for r in rows if r["workload"] == BASELINE}
    for r in rows:
        r["vs_baseline"] = r["mb_per_s"] / baseline[r["size"]] if r["size"] in baseline else None
    tr = terminalreporter
    tr.section("maskgate engine throughput")
    tr.write_line("MB/s = input bytes / median seconds per call / 10^6; warm map (see benches/README.md).")
    tr.write_line(f"{'size':<6} {'workload':<28} {'rounds':>6} {'median ms':>10} {'MB/s':>9} {'vs baseline':>12}")
    for r in sorted(rows, key=lambda r: (r["bytes"], r["workload"])):
        ratio = f"{r['vs_baseline']:.1f}x" if r["vs_baseline"] is not None else "-"
        tr.write_line(
            f"{r['size']:<6} {r['workload']:<28} {r['rounds']:>6} {r['median_s'] * 1e3:>10.2f} "
            f"{r['mb_per_s']:>9.1f} {ratio:>12}"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "machine": {
                    "python": sys.version.split()[0],
                    "platform": platform.platform(),
                    "processor": platform.processor() or platform.machine(),
                    "cpus": os.cpu_count(),
                },
                "baseline": BASELINE,
                "results": rows,
            },
            indent=2,
        )
        + "\n"
    )
    tr.write_line(f"written to {RESULTS}")
