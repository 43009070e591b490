"""The client side of the gateway benchmarks, in its own process (never inside a server it measures).

    python benches/drive.py latency SPEC.json   one request at a time, set-ups interleaved
    python benches/drive.py streams SPEC.json   N streamed requests held open at once
    python benches/drive.py rps SPEC.json       small non-streamed requests, C at a time

SPEC holds the targets ({name, url, headers}) and the sizes and counts; the result is JSON on stdout.
Times are seconds from just before the request is sent: `total` until the whole non-streamed body
is read, `ttfb` until the first body bytes of a stream, `ttlb` until its last. The client is httpx2:
httpx's pool would do the quadratic work it is measuring in the gateways (README, Design notes)
in the driver too, on the same two cores.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bodies import body

HEADERS = {"content-type": "application/json", "anthropic-version": "2023-06-01"}


def _headers(target: dict[str, Any]) -> dict[str, str]:
    return HEADERS | target.get("headers", {})


def _one(client: httpx2.Client, target: dict[str, Any], data: bytes, stream: bool) -> dict[str, float]:
    url = target["url"] + "/v1/messages"
    t0 = time.perf_counter()
    if not stream:
        r = client.post(url, content=data, headers=_headers(target))
        r.read()
        total = time.perf_counter() - t0
        if r.status_code != 200:
            raise RuntimeError(f"HTTP {r.status_code}: {r.text[:200]}")
        return {"total": total}
    ttfb = None
    tail = b""
    with client.stream("POST", url, content=data, headers=_headers(target)) as r:
        for chunk in r.iter_raw():
            if ttfb is None:
                ttfb = time.perf_counter() - t0
            tail = (tail + chunk)[-200:]
        ttlb = time.perf_counter() - t0
        if r.status_code != 200:
            raise RuntimeError(f"HTTP {r.status_code}: {tail[:200]!r}")
    if b"message_stop" not in tail:
        raise RuntimeError(f"stream ended without message_stop: {tail[-120:]!r}")
    return {"ttfb": ttfb if ttfb is not None else ttlb, "ttlb": ttlb}


def latency(spec: dict[str, Any]) -> dict[str, Any]:
    """For each size: warm-up, then n rounds; in each round every target gets one request per mode,
    in an order that rotates from round to round."""
    targets = spec["targets"]
    out: dict[str, Any] = {t["name"]: {} for t in targets}
    clients = {t["name"]: httpx2.Client(timeout=spec.get("timeout", 300), trust_env=False) for t in targets}
    modes = spec.get("modes", ["plain", "stream"])
    try:
        for size in spec["sizes"]:
            n = spec["n"][str(size)]
            datas = {m: body(size, m == "stream") for m in modes}
            for t in targets:
                out[t["name"]][str(size)] = {m: {"errors": 0, "error": None} for m in modes}
            for i in range(spec.get("warmup", 3) + n):
                order = targets[i % len(targets) :] + targets[: i % len(targets)]
                for t in order:
                    for m in modes:
                        slot = out[t["name"]][str(size)][m]
                        if slot["errors"] >= 3:
                            continue  # this set-up fails at this size: stop sending it
                        if slot.setdefault("spent_s", 0.0) > spec.get("budget_s", 1e9):
                            slot["budget_exhausted"] = True
                            continue  # a slow set-up: fewer requests rather than a run without end
                        t0 = time.perf_counter()
                        try:
                            got = _one(clients[t["name"]], t, datas[m], m == "stream")
                        except (httpx2.HTTPError, RuntimeError) as e:
                            slot["spent_s"] += time.perf_counter() - t0
                            slot["errors"] += 1
                            slot["error"] = f"{type(e).__name__}: {e}"[:300]
                            continue
                        slot["spent_s"] += time.perf_counter() - t0
                        if i < spec.get("warmup", 3):
                            continue
                        for k, v in got.items():
                            slot.setdefault(k, []).append(v)
    finally:
        for c in clients.values():
            c.close()
    return out


async def _stream_one(
    client: httpx2.AsyncClient, target: dict[str, Any], data: bytes, opened: list[int]
) -> dict[str, Any]:
    t0 = time.perf_counter()
    ttfb = None
    tail = b""
    try:
        async with client.stream("POST", target["url"] + "/v1/messages", content=data, headers=_headers(target)) as r:
            opened.append(1)
            async for chunk in r.aiter_raw():
                if ttfb is None:
                    ttfb = time.perf_counter() - t0
                tail = (tail + chunk)[-200:]
            status = r.status_code
    except httpx2.HTTPError as e:
        return {"error": f"{type(e).__name__}: {e}"[:200], "t": time.perf_counter() - t0}
    t = time.perf_counter() - t0
    if status != 200:
        return {"error": f"HTTP {status}", "t": t}
    if b"message_stop" not in tail:
        return {"error": "stream ended without message_stop", "t": t}
    return {"ttfb": ttfb, "ttlb": t}


async def _streams(spec: dict[str, Any]) -> dict[str, Any]:
    n = int(spec["n"])
    target = spec["target"]
    data = body(int(spec.get("size", 10_000)), True)
    limits = httpx2.Limits(max_connections=n + 10, max_keepalive_connections=n + 10)
    timeout = httpx2.Timeout(spec.get("timeout", 300), connect=60, pool=120)
    opened: list[int] = []
    async with httpx2.AsyncClient(limits=limits, timeout=timeout, trust_env=False) as client:
        t0 = time.perf_counter()
        tasks = [asyncio.create_task(_stream_one(client, target, data, opened)) for _ in range(n)]
        all_open = None
        while not all(t.done() for t in tasks):
            if all_open is None and len(opened) >= n:
                all_open = time.perf_counter() - t0
                print("ALL-OPEN", flush=True, file=sys.stderr)
            await asyncio.sleep(0.01)
        results = [t.result() for t in tasks]
        wall = time.perf_counter() - t0
    errors = [r["error"] for r in results if "error" in r]
    return {
        "n": n,
        "wall_s": wall,
        "all_open_s": all_open,
        "errors": len(errors),
        "error_examples": sorted(set(errors))[:3],
        "ttfb": [r["ttfb"] for r in results if "ttfb" in r],
        "ttlb": [r["ttlb"] for r in results if "ttlb" in r],
    }


async def _rps(spec: dict[str, Any]) -> dict[str, Any]:
    target, total, conc = spec["target"], int(spec["requests"]), int(spec["concurrency"])
    data = body(int(spec.get("size", 10_000)), False)
    url = target["url"] + "/v1/messages"
    limits = httpx2.Limits(max_connections=conc, max_keepalive_connections=conc)
    errors = 0
    done = 0
    times: list[float] = []

    async def worker(client: httpx2.AsyncClient) -> None:
        nonlocal errors, done
        while done < total:
            done += 1
            t0 = time.perf_counter()
            try:
                r = await client.post(url, content=data, headers=_headers(target))
                if r.status_code != 200:
                    errors += 1
            except httpx2.HTTPError:
                errors += 1
            times.append(time.perf_counter() - t0)

    async with httpx2.AsyncClient(limits=limits, timeout=60, trust_env=False) as client:
        for _ in range(min(conc, 8)):  # warm the connections
            await client.post(url, content=data, headers=_headers(target))
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(conc)))
        wall = time.perf_counter() - t0
    return {"requests": len(times), "errors": errors, "wall_s": wall, "rps": len(times) / wall, "latency": times}


def main() -> None:
    what, spec_path = sys.argv[1], sys.argv[2]
    spec = json.loads(Path(spec_path).read_text())
    if what == "latency":
        result = latency(spec)
    elif what == "streams":
        result = asyncio.run(_streams(spec))
    elif what == "rps":
        result = asyncio.run(_rps(spec))
    else:
        raise SystemExit(f"unknown: {what}")
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
