"""What the LiteLLM route costs: first import, and time added per call over a plain httpx call.

Run: ``python tests/litellm_route_bench.py [--calls 200]`` (needs the ``litellm`` extra). Starts the
fake provider, then for each upstream (Anthropic Messages, OpenAI chat) and mode (whole body,
stream) times N calls made directly with httpx and N made through ``litellm_route.call``, one at a
time, and prints medians and p90s of the total time and (streams) of the time to the first byte.
Results are in docs/litellm-notes.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import httpx
from maskgate.providers import litellm_route
from maskgate.providers.litellm_route import LiteLLMRoute

from tests.fake_upstream import FakeUpstream

TEXT = "The quick brown fox jumps over the lazy dog. " * 20  # ~900 characters, 57 deltas of 16


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def body(stream: bool) -> dict[str, Any]:
    return {
        "model": "m",
        "max_tokens": 1024,
        "stream": stream,
        "system": [{"type": "text", "text": "You are terse."}],
        "messages": [{"role": "user", "content": "Say something " * 200}],
    }


def openai_body(stream: bool) -> dict[str, Any]:
    b = body(stream)
    return {
        "model": "gpt-4o",
        "max_tokens": 1024,
        "stream": stream,
        "messages": [{"role": "system", "content": "You are terse."}] + b["messages"],
    }


Timed = Callable[[], Awaitable[tuple[float, float]]]


async def measure(fake: FakeUpstream, n: int, fn: Timed) -> tuple[list[float], list[float]]:
    totals, firsts = [], []
    for _ in range(n):
        fake.script([{"type": "text", "text": TEXT}])
        first, total = await fn()
        totals.append(total)
        firsts.append(first)
    fake.clear()
    return totals, firsts


def summary(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    return f"p50 {statistics.median(ms):6.2f} ms  p90 {ms[int(len(ms) * 0.9) - 1]:6.2f} ms"


async def main(n: int) -> None:
    before = rss_mib()
    started = time.perf_counter()
    await litellm_route.preload()
    print(f"first import (preload): {time.perf_counter() - started:.2f} s, RSS +{rss_mib() - before:.0f} MiB")
    with FakeUpstream.start() as fake:
        client = httpx.AsyncClient(timeout=30)
        routes = {
            "anthropic": (LiteLLMRoute("a", "anthropic/claude-x", fake.url, "k"), "/v1/messages", body),
            "openai": (LiteLLMRoute("o", "openai/gpt-4o", fake.url + "/v1", "k"), "/v1/chat/completions", openai_body),
        }
        for name, (route, path, make) in routes.items():
            for stream in (False, True):

                async def direct(path: str = path, make: Any = make, stream: bool = stream) -> tuple[float, float]:
                    t0 = time.perf_counter()
                    first = 0.0
                    async with client.stream("POST", fake.url + path, json=make(stream)) as resp:
                        async for _ in resp.aiter_raw():
                            first = first or time.perf_counter() - t0
                    return first, time.perf_counter() - t0

                async def via(route: LiteLLMRoute = route, stream: bool = stream) -> tuple[float, float]:
                    t0 = time.perf_counter()
                    result = await litellm_route.call(route, body(stream), {"anthropic-version": "2023-06-01"})
                    assert result.status == 200, result.body
                    first = time.perf_counter() - t0
                    if result.stream is not None:
                        async for _ in result.stream:
                            pass
                    else:
                        json.loads(result.body)
                    return first, time.perf_counter() - t0

                await measure(fake, 5, direct)  # warm up both paths
                await measure(fake, 5, via)
                d_total, d_first = await measure(fake, n, direct)
                v_total, v_first = await measure(fake, n, via)
                mode = "stream" if stream else "whole "
                print(f"{name:9} {mode} direct httpx : total {summary(d_total)}" + (
                    f" | first byte {summary(d_first)}" if stream else ""))  # fmt: skip
                print(f"{name:9} {mode} via LiteLLM  : total {summary(v_total)}" + (
                    f" | first byte {summary(v_first)}" if stream else ""))  # fmt: skip
                added = statistics.median(v_total) - statistics.median(d_total)
                print(f"{name:9} {mode} added p50    : {added * 1000:.1f} ms")
        await client.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    asyncio.run(main(parser.parse_args().calls))
