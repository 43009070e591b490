"""The fake provider (tests/fake_upstream.py) tuned for benchmarks.

    python benches/upstream.py --port P [--delay SECONDS] [--record]

Same app and same SSE shapes as the tests' fake, with three differences: it forgets requests unless
--record (a load test would otherwise keep every body in memory), every unscripted reply is a
~600-character text streamed in 16-character deltas with --delay seconds between events (a slow
model, for the load test), and it listens with a backlog of 4096 (1000 clients connect at once)
and TCP_NODELAY (see main).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import uvicorn

from tests import fake_upstream

REPLY = (
    "I checked the instances behind the payments target group. Two of them fail the health check "
    "because the security group only allows the old load balancer's subnet; the third is healthy. "
    "Next I would update the ingress rule, then watch the target health for a few minutes before "
    "touching the autoscaling group. Nothing in the CloudTrail events points at a manual change: the "
    "last edits came from the deploy role during yesterday's pipeline run, which replaced the launch "
    "template. Shall I show the exact commands first, or run them and report back when the targets "
    "are healthy again? Either way the change is small and easy to undo if it does not help."
)


class _Forget(list):  # type: ignore[type-arg]
    def append(self, item: Any) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()

    original = fake_upstream.default_reply

    def reply(body: Any) -> dict[str, Any]:
        spec = original(body)
        if spec.get("text") == "OK":
            spec = {"type": "text", "text": REPLY, "chunk": 16}
        if args.delay:
            spec["delay"] = args.delay
        return spec

    fake_upstream.default_reply = reply
    state = fake_upstream.FakeState()
    if not args.record:
        state.requests = _Forget()
    app = fake_upstream.create_app(state)
    logging.getLogger("uvicorn.error").addFilter(fake_upstream._QuietDrops())
    # uvicorn binds the port itself: a socket handed to it pre-bound (as tests/fake_upstream.py does)
    # comes without TCP_NODELAY, and then every response with a body waits ~40 ms for a delayed ACK.
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        lifespan="off",
        timeout_keep_alive=60,
        backlog=4096,
    )
    asyncio.run(uvicorn.Server(config).serve())


if __name__ == "__main__":
    main()
