"""Gateway sections: added latency against LiteLLM's proxy, concurrent streams, requests/s, start-up.

Every server is a real process (benches/procs.py) and the client is another (benches/drive.py).
"Added" figures are differences to the fake upstream called directly, measured in the same run
with the requests of all set-ups interleaved.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import procs

HERE = Path(__file__).resolve().parent
REDIS_URL = "redis://127.0.0.1:6379/0"


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    k = (len(s) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def _drive(what: str, spec: dict[str, Any], log_dir: Path, timeout: float) -> dict[str, Any]:
    spec_file = log_dir / f"drive-{what}.json"
    spec_file.write_text(json.dumps(spec))
    with (log_dir / f"drive-{what}.log").open("ab") as err:
        proc = subprocess.run(
            [sys.executable, str(HERE / "drive.py"), what, str(spec_file)],
            stdout=subprocess.PIPE,
            stderr=err,
            timeout=timeout,
            check=False,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"driver failed ({proc.returncode}), see {log_dir / f'drive-{what}.log'}")
    return dict(json.loads(proc.stdout))


def _redis_ok() -> str | None:
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
        client.close()
        return None
    except Exception as e:
        return f"Redis at {REDIS_URL} not reachable: {type(e).__name__}"


# -- latency ----------------------------------------------------------------------------------------


PASSTHROUGH, FLOOR = "pass-through", "asyncio floor"
UPSTREAM_HEADERS = {"x-api-key": "sk-upstream-bench"}


def _floors(
    stack: ExitStack, log_dir: Path, upstream: str, clients: list[str]
) -> list[tuple[str, procs.Service | str, str]]:
    """The set-ups that mask nothing: (name, service or why it cannot run, what it is)."""
    wanted = [
        (PASSTHROUGH, lambda: procs.passthrough(log_dir, upstream), "Starlette + httpx pass-through, no masking"),
        *[
            (f"{PASSTHROUGH}, {c}", lambda c=c: procs.passthrough(log_dir, upstream, c), f"the same with {c}")
            for c in clients
        ],
        (FLOOR, lambda: procs.floor(log_dir, upstream), "HTTP/1.1 byte relay on asyncio streams, no library"),
    ]
    out: list[tuple[str, procs.Service | str, str]] = []
    for name, start, what in wanted:
        try:
            out.append((name, stack.enter_context(start()), what))
        except RuntimeError as e:
            out.append((name, f"cannot run: {str(e)[:200]}", what))
    return out


def latency(peers: dict[str, Any], short: bool, log_dir: Path, clients: list[str] | None = None) -> dict[str, Any]:
    """Added latency of maskgate, the floors (pass-through, asyncio relay; `clients`: the pass-through
    again with other HTTP clients) and LiteLLM's proxy, all interleaved in one run."""
    sizes = [10_000, 100_000, 1_000_000] + ([] if short else [4_000_000])
    n = {10_000: 20, 100_000: 20, 1_000_000: 6} if short else {10_000: 150, 100_000: 150, 1_000_000: 30, 4_000_000: 12}
    setups: dict[str, dict[str, Any]] = {}
    result: dict[str, Any] = {"sizes": sizes, "n": {str(k): v for k, v in n.items()}, "setups": setups}
    if short:
        result["note"] = "short run: 4 MB and litellm+presidio skipped"
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="maskgate-bench-") as tmp:
        upstream = stack.enter_context(procs.fake_upstream(log_dir))
        services: dict[str, list[procs.Service]] = {}
        targets = [{"name": "direct", "url": upstream.url, "headers": {"x-api-key": "sk-upstream-bench"}}]
        setups["direct"] = {"status": "ok", "what": "the fake upstream, called directly"}
        mg = stack.enter_context(procs.maskgate(log_dir, upstream.url, Path(tmp)))
        services["maskgate"] = [mg]
        targets.append({"name": "maskgate", "url": mg.url, "headers": {"authorization": f"Bearer {procs.MASTER_KEY}"}})
        setups["maskgate"] = {"status": "ok", "what": "maskgate serve, embedded store", "ready_s": mg.ready_s}
        for fname, svc, what in _floors(stack, log_dir, upstream.url, clients or []):
            if isinstance(svc, str):
                setups[fname] = {"status": svc, "what": what}
                continue
            services[fname] = [svc]
            targets.append({"name": fname, "url": svc.url, "headers": UPSTREAM_HEADERS})
            setups[fname] = {"status": "ok", "what": what, "ready_s": svc.ready_s}

        litellm = peers.get("litellm")
        presidio = peers.get("presidio")
        ll_headers = {"authorization": f"Bearer {procs.LITELLM_KEY}"}
        if litellm is None or not litellm.ok:
            setups["litellm"] = {"status": litellm.status if litellm else "not installed"}
        else:
            try:
                ll = stack.enter_context(procs.litellm_proxy(log_dir, litellm.python, upstream.url, None))
                services["litellm"] = [ll]
                targets.append({"name": "litellm", "url": ll.url, "headers": ll_headers})
                setups["litellm"] = {
                    "status": "ok",
                    "what": "litellm --config, no guardrail",
                    "ready_s": ll.ready_s,
                    "rss_mib_at_ready": ll.rss_kib() / 1024,
                }
            except RuntimeError as e:
                setups["litellm"] = {"status": f"cannot run: {str(e)[:200]}"}
        name = "litellm+presidio"
        if short:
            # no goal is measured against it, and its three services are the slowest setup
            setups[name] = {"status": "skipped (short run)"}
        elif litellm is None or not litellm.ok:
            setups[name] = {"status": litellm.status if litellm else "not installed"}
        elif presidio is None or not presidio.ok:
            setups[name] = {"status": f"presidio {presidio.status if presidio else 'not installed'}"}
        else:
            try:
                analyzer, anonymizer = procs.presidio_services(log_dir, presidio.python)
                stack.enter_context(analyzer)
                stack.enter_context(anonymizer)
                llp = stack.enter_context(
                    procs.litellm_proxy(
                        log_dir, litellm.python, upstream.url, (analyzer.url, anonymizer.url), name="litellm-presidio"
                    )
                )
                services[name] = [llp, analyzer, anonymizer]
                targets.append({"name": name, "url": llp.url, "headers": ll_headers})
                setups[name] = {
                    "status": "ok",
                    "what": "litellm --config + Presidio guardrail (pre_call, output_parse_pii)",
                    "ready_s": llp.ready_s,
                }
            except RuntimeError as e:
                setups[name] = {"status": f"cannot run: {str(e)[:200]}"}

        raw: dict[str, Any] = {t["name"]: {} for t in targets}
        for size in sizes:
            before = {k: sum(s.cpu_seconds() for s in v) for k, v in services.items()}
            spec = {
                "targets": targets,
                "sizes": [size],
                "n": {str(size): n[size]},
                "warmup": 3,
                "timeout": 120,
                "budget_s": 15 if short else 90,
            }
            got = _drive("latency", spec, log_dir, timeout=3600)
            after = {k: sum(s.cpu_seconds() for s in v) for k, v in services.items()}
            for t in targets:
                slot = got[t["name"]][str(size)]
                raw[t["name"]][str(size)] = slot
                reqs = sum(len(slot[m].get("total", slot[m].get("ttlb", []))) for m in slot) + 6
                if t["name"] in before:
                    slot["cpu_ms_per_request"] = (after[t["name"]] - before[t["name"]]) * 1000 / max(reqs, 1)
        result["raw"] = raw
    result["summary"] = _latency_summary(raw, sizes)
    result["vs_passthrough"] = _vs_passthrough(result["summary"], sizes)
    return result


def _vs_passthrough(summary: dict[str, Any], sizes: list[int]) -> dict[str, Any]:
    """maskgate's added p50 over the bare pass-through's, per size: non-streamed and first byte."""
    out: dict[str, Any] = {}
    for size in sizes:
        row: dict[str, Any] = {}
        for metric in ("total", "ttfb"):
            ours = summary.get("maskgate", {}).get(str(size), {}).get(metric, {}).get("added_p50_ms")
            floor = summary.get(PASSTHROUGH, {}).get(str(size), {}).get(metric, {}).get("added_p50_ms")
            row[metric] = ours / floor if ours is not None and floor and floor > 0 else None
        out[str(size)] = row
    return out


def _latency_summary(raw: dict[str, Any], sizes: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, by_size in raw.items():
        out[name] = {}
        for size in sizes:
            slot = by_size.get(str(size))
            if slot is None:
                continue
            row: dict[str, Any] = {"cpu_ms_per_request": slot.get("cpu_ms_per_request")}
            for mode, metric in (("plain", "total"), ("stream", "ttfb"), ("stream", "ttlb")):
                values = slot[mode].get(metric, [])
                base = raw["direct"][str(size)][mode].get(metric, [])
                key = f"{metric}"
                row[key] = {
                    "n": len(values),
                    "errors": slot[mode]["errors"],
                    "error": slot[mode]["error"],
                    "p50_ms": _ms(pct(values, 0.5)),
                    "p99_ms": _ms(pct(values, 0.99)),
                    "added_p50_ms": _diff(pct(values, 0.5), pct(base, 0.5)),
                    "added_p99_ms": _diff(pct(values, 0.99), pct(base, 0.99)),
                }
            out[name][str(size)] = row
    return out


def _ms(v: float | None) -> float | None:
    return None if v is None else v * 1000


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else (a - b) * 1000


# -- load ---------------------------------------------------------------------------------------------


class _RssSampler:
    def __init__(self, svc: procs.Service) -> None:
        self.svc = svc
        self.peak = svc.rss_kib()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(0.1):
            self.peak = max(self.peak, self.svc.rss_kib())

    def done(self) -> int:
        self.stop.set()
        self.thread.join()
        return self.peak


def load(short: bool, log_dir: Path, clients: list[str] | None = None) -> dict[str, Any]:
    """Concurrent slow streams and small requests/s: maskgate on both stores, the floors (and the
    pass-through with each of `clients`), the upstream directly."""
    counts = [500] if short else [100, 500, 1000]
    delay = 0.1 if short else 0.2  # seconds between events: ~45 events, so each stream stays open 4.5 s / 9 s
    rps_requests = 400 if short else 3000
    result: dict[str, Any] = {"counts": counts, "event_delay_s": delay, "streams": {}, "rps": {}}
    stores = {"embedded": None, "redis": REDIS_URL}
    redis_problem = _redis_ok()
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="maskgate-bench-") as tmp:
        slow = stack.enter_context(procs.fake_upstream(log_dir, delay=delay, name="upstream-slow"))
        fast = stack.enter_context(procs.fake_upstream(log_dir, name="upstream-fast"))
        direct_slow = {"name": "direct", "url": slow.url, "headers": {"x-api-key": "sk-upstream-bench"}}
        direct_fast = {"name": "direct", "url": fast.url, "headers": {"x-api-key": "sk-upstream-bench"}}
        for n in counts:
            got = _drive("streams", {"n": n, "target": direct_slow}, log_dir, timeout=900)
            result["streams"].setdefault("direct", {})[str(n)] = _stream_summary(got, None, None)
        got = _drive("rps", {"target": direct_fast, "requests": rps_requests, "concurrency": 32}, log_dir, 900)
        result["rps"]["direct"] = _rps_summary(got)
        floors: list[tuple[str, Any]] = [
            (PASSTHROUGH, procs.passthrough),
            *[(f"{PASSTHROUGH}, {c}", lambda d, u, name, c=c: procs.passthrough(d, u, c, name)) for c in clients or []],
            (FLOOR, procs.floor),
        ]
        for fname, start in floors:
            for upstream, what in ((slow, "streams"), (fast, "rps")):
                try:
                    svc = start(log_dir, upstream.url, name=f"{fname.replace(' ', '-').replace(',', '')}-{what}")
                except RuntimeError as e:
                    result[what][fname] = {"status": f"cannot run: {str(e)[:200]}"}
                    continue
                target = {"name": fname, "url": svc.url, "headers": UPSTREAM_HEADERS}
                try:
                    if what == "streams":
                        for n in counts:
                            result["streams"].setdefault(fname, {})[str(n)] = _measure_streams(
                                svc, n, target, result["streams"]["direct"][str(n)], log_dir
                            )
                    else:
                        got = _drive(
                            "rps", {"target": target, "requests": rps_requests, "concurrency": 32}, log_dir, 900
                        )
                        result["rps"][fname] = _rps_summary(got)
                        result["rps"][fname]["rps_vs_direct"] = got["rps"] / result["rps"]["direct"]["rps"]
                finally:
                    svc.stop()
        for store, url in stores.items():
            name = f"maskgate ({store})"
            if url and redis_problem:
                result["streams"][name] = {"status": redis_problem}
                result["rps"][name] = {"status": redis_problem}
                continue
            home = Path(tmp) / store
            for upstream, what in ((slow, "streams"), (fast, "rps")):
                mg = procs.maskgate(log_dir, upstream.url, home, url, name=f"maskgate-{store}-{what}")
                target = {"name": name, "url": mg.url, "headers": {"authorization": f"Bearer {procs.MASTER_KEY}"}}
                try:
                    if what == "streams":
                        for n in counts:
                            result["streams"].setdefault(name, {})[str(n)] = _measure_streams(
                                mg, n, target, result["streams"]["direct"][str(n)], log_dir
                            )
                    else:
                        got = _drive(
                            "rps", {"target": target, "requests": rps_requests, "concurrency": 32}, log_dir, 900
                        )
                        result["rps"][name] = _rps_summary(got)
                        result["rps"][name]["rps_vs_direct"] = got["rps"] / result["rps"]["direct"]["rps"]
                finally:
                    mg.stop()
                    prefix = getattr(mg, "redis_prefix", None)
                    if url and prefix:
                        procs.drop_redis_prefix(prefix, url)
    return result


def _measure_streams(
    svc: procs.Service, n: int, target: dict[str, Any], direct: dict[str, Any], log_dir: Path
) -> dict[str, Any]:
    """n streams at once through svc: the summary, its memory per stream and its CPU per stream."""
    idle = svc.rss_kib()
    sampler = _RssSampler(svc)
    cpu0 = svc.cpu_seconds()
    got = _drive("streams", {"n": n, "target": target}, log_dir, timeout=900)
    peak = sampler.done()
    summary = _stream_summary(got, direct, (idle, peak))
    summary["cpu_ms_per_stream"] = (svc.cpu_seconds() - cpu0) * 1000 / n
    return summary


def _stream_summary(got: dict[str, Any], direct: dict[str, Any] | None, rss: tuple[int, int] | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "n": got["n"],
        "errors": got["errors"],
        "error_examples": got["error_examples"],
        "all_open_s": got["all_open_s"],
        "ttfb_p50_ms": _ms(pct(got["ttfb"], 0.5)),
        "ttfb_p99_ms": _ms(pct(got["ttfb"], 0.99)),
        "ttlb_p50_ms": _ms(pct(got["ttlb"], 0.5)),
        "ttlb_p99_ms": _ms(pct(got["ttlb"], 0.99)),
    }
    if direct is not None:
        for k in ("ttfb_p50_ms", "ttfb_p99_ms", "ttlb_p50_ms", "ttlb_p99_ms"):
            a, b = out[k], direct.get(k)
            out["added_" + k] = None if a is None or b is None else a - b
    if rss is not None:
        idle, peak = rss
        out["rss_idle_mib"] = idle / 1024
        out["rss_peak_mib"] = peak / 1024
        out["kib_per_stream"] = (peak - idle) / got["n"]
    return out


def _rps_summary(got: dict[str, Any]) -> dict[str, Any]:
    return {
        "requests": got["requests"],
        "errors": got["errors"],
        "rps": got["rps"],
        "p50_ms": _ms(pct(got["latency"], 0.5)),
        "p99_ms": _ms(pct(got["latency"], 0.99)),
    }


# -- start-up -----------------------------------------------------------------------------------------


def startup(short: bool, log_dir: Path) -> dict[str, Any]:
    """`maskgate serve` from exec to its first answer, and its resident memory then and after work."""
    runs = 3 if short else 7
    times, rss_ready, rss_after = [], [], []
    with procs.fake_upstream(log_dir, name="upstream-startup") as upstream:
        for i in range(runs):
            with tempfile.TemporaryDirectory(prefix="maskgate-bench-") as tmp:
                mg = procs.maskgate(log_dir, upstream.url, Path(tmp), name="maskgate-startup")
                try:
                    assert mg.ready_s is not None
                    times.append(mg.ready_s)
                    time.sleep(0.3)
                    rss_ready.append(mg.rss_kib() / 1024)
                    if i == 0:
                        spec_target = {
                            "name": "maskgate",
                            "url": mg.url,
                            "headers": {"authorization": f"Bearer {procs.MASTER_KEY}"},
                        }
                        _drive(
                            "latency",
                            {
                                "targets": [spec_target],
                                "sizes": [4_000_000],
                                "n": {"4000000": 3},
                                "warmup": 0,
                                "modes": ["plain"],
                            },
                            log_dir,
                            600,
                        )
                        rss_after.append(mg.rss_kib() / 1024)
                finally:
                    mg.stop()
    return {
        "runs": runs,
        "ready_s_median": statistics.median(times),
        "ready_s_min": min(times),
        "rss_mib_at_ready": statistics.median(rss_ready),
        "rss_mib_after_4mb_requests": rss_after[0] if rss_after else None,
    }
