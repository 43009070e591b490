"""Runs every benchmark and writes benches/results/: results.json, results.md, latency.png.

    python -m benches.run [--short] [--only engine,latency,load,startup,profile] [--clients httpx2,aiohttp]

From the repository root, in maskgate's venv with the extension built in release mode. Peers are
installed on first use into benches/.venv-peers/ (benches/peers.py); one that fails to install or
to run is reported as such in the table. `--short` is CI's version: fewer requests, 500 streams
(not 100 and 1000), no 4 MB gateway requests, no profile, and only the peers the goals compare
against (Presidio, LiteLLM): LLM Guard, LiteLLM with Presidio's guardrail and the plot are
"skipped (short run)" in the tables, so every ratio the short run reports is measured as in the
full run, on fewer requests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import engine  # noqa: E402
import gateway  # noqa: E402
import peers as peer_venvs  # noqa: E402
import report  # noqa: E402

RESULTS = HERE / "results"
SECTIONS = ["engine", "latency", "load", "startup", "profile"]
# Peer venvs the short run does not install: no goal is measured against them, and they cost most
# of its time (llm-guard pulls torch: 140 s here; tools is matplotlib for the plot).
SHORT_SKIPS = {"llm-guard", "tools"}
SKIPPED_SHORT = "skipped (short run)"


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": mem,
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "load_average_at_start": load,
    }


def maskgate_info() -> dict[str, Any]:
    import maskgate
    from maskgate import _core

    catalogue = HERE.parent / "python" / "maskgate" / "patterns" / "builtin.toml"
    same = catalogue.exists() and _core.BUILTIN_CATALOGUE == catalogue.read_text(encoding="utf-8")
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE.parent, check=False
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--", "rust", "python"],
                capture_output=True,
                text=True,
                cwd=HERE.parent,
                check=False,
            ).stdout.strip()
        )
    except OSError:
        commit, dirty = "", False
    return {
        "version": maskgate.__version__,
        "commit": commit,
        "worktree_dirty": dirty,
        "extension": str(Path(_core.__file__).resolve()),
        "catalogue_entries": _core.BUILTIN_CATALOGUE.count("[[pattern]]"),
        "extension_matches_catalogue_file": same,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--short", action="store_true", help="CI's version (minutes; fewer peers)")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument(
        "--clients",
        default="",
        help="the pass-through again with these HTTP clients, in latency and load (httpx2, aiohttp; where installed)",
    )
    parser.add_argument("--out", default=None, help="where to write (benches/results, or results/short with --short)")
    args = parser.parse_args(argv)
    only = [s for s in args.only.split(",") if s]
    out = Path(args.out) if args.out else RESULTS / "short" if args.short else RESULTS
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    previous: dict[str, Any] = {}
    if set(only) != set(SECTIONS) and (out / "results.json").exists():
        # a partial run updates the sections it runs and keeps the others
        previous = json.loads((out / "results.json").read_text()).get("sections", {})

    results: dict[str, Any] = {
        "created": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "mode": "short" if args.short else "full",
        "machine": machine(),
        "maskgate": maskgate_info(),
        "peers": {},
        "sections": {k: v for k, v in previous.items() if k not in only},
    }
    if not results["maskgate"]["extension_matches_catalogue_file"]:
        print("warning: the built extension embeds a different catalogue than builtin.toml: rebuild it", flush=True)

    need = {"tools"}
    if "engine" in only:
        need |= {"presidio", "llm-guard"}
    if "latency" in only:
        need |= {"presidio", "litellm"}
    peers: dict[str, Any] = {}
    for name in [n for n in peer_venvs.sections() if n in need]:
        if args.short and name in SHORT_SKIPS:
            peers[name] = peer_venvs.Peer(name, SKIPPED_SHORT)
            results["peers"][name] = peers[name].as_dict()
            continue
        print(f"== peer venv {name}", flush=True)
        peers[name] = peer_venvs.ensure(name, logs)
        results["peers"][name] = peers[name].as_dict()
        print(f"   {peers[name].status} ({peers[name].seconds:.0f} s)", flush=True)

    def section(name: str, fn: Any) -> None:
        if name not in only:
            return
        print(f"== {name}", flush=True)
        t0 = time.monotonic()
        try:
            results["sections"][name] = fn()
        except Exception as e:
            traceback.print_exc()
            results["sections"][name] = {"status": f"failed: {type(e).__name__}: {e}"[:400]}
        results["sections"][name]["seconds"] = time.monotonic() - t0
        print(f"   done in {time.monotonic() - t0:.0f} s", flush=True)
        _write(results, out)  # keep what is done if a later section dies

    section("engine", lambda: engine.run(peers, args.short, logs))
    if "engine" in results["sections"] and "throughput" in results["sections"]["engine"]:
        results["sections"]["engine"]["summary"] = engine.summary(results["sections"]["engine"])
    section("latency", lambda: gateway.latency(peers, args.short, logs, [c for c in args.clients.split(",") if c]))
    section("load", lambda: gateway.load(args.short, logs, [c for c in args.clients.split(",") if c]))
    section("startup", lambda: gateway.startup(args.short, logs))
    if not args.short:
        import profiling

        section("profile", lambda: profiling.run(results, peers.get("tools"), out / "profiles", logs))
    results["seconds"] = time.monotonic() - started
    _write(results, out)
    report.plot(results, out / "latency.png", peers.get("tools"), logs)
    if not args.short and out == RESULTS and set(only) == set(SECTIONS):
        report.update_readme(HERE.parent / "README.md", out / "results.md")
    print(report.compact(results, out / "results.md"))
    return 0


def _write(results: dict[str, Any], out: Path) -> None:
    results["goals"] = report.goals(results)
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    (out / "results.md").write_text(report.markdown(results))


if __name__ == "__main__":
    sys.exit(main())
