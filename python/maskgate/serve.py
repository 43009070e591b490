"""`maskgate serve` under uvicorn: one process, or `workers` processes on one socket (the app they
serve is `maskgate.server`'s).

Several workers are as correct as one: every mapping and the known set live in the store, and each
worker reads what the others learned before it masks (README, Replicas). Either way the
"listening" lines are printed once, when the gateway answers at the bound address.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time

import uvicorn

from maskgate.settings import Settings

# The gateway's own graceful shutdown, for one worker and for each of several.
GRACEFUL_SECONDS = 5
# How long the supervisor waits for workers to answer before it stops announcing (they may still come up).
ANNOUNCE_WITHIN_SECONDS = 120.0


def run(settings: Settings) -> int:
    """Serves until stopped; the exit status is uvicorn's (3 when the app or the socket fails to start)."""
    if settings.workers == 1:
        return _one(settings)
    return _several(settings)


def _url(host: str, port: int) -> str:
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}"


def _announce(url: str, workers: int) -> None:
    processes = f" ({workers} worker processes)" if workers > 1 else ""
    print(f"maskgate listening on {url}{processes}", file=sys.stderr)
    print("Point Claude Code at it:", file=sys.stderr)
    print(f"  export ANTHROPIC_BASE_URL={url}", file=sys.stderr)
    print('  export ANTHROPIC_AUTH_TOKEN="$MASKGATE_MASTER_KEY"', file=sys.stderr, flush=True)


class _AnnouncingServer(uvicorn.Server):
    """Says "listening" only once the socket is bound and the app has started, at the bound address."""

    def __init__(self, config: uvicorn.Config, settings: Settings) -> None:
        super().__init__(config)
        self.settings = settings

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.started:
            return
        bound = [s.getsockname() for srv in self.servers for s in (srv.sockets or ())]
        host, port = (bound[0][0], bound[0][1]) if bound else (self.settings.host, self.settings.port)
        _announce(_url(host, port), 1)


def _one(settings: Settings) -> int:
    from maskgate.server import create_app

    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )
    _AnnouncingServer(config, settings).run()  # exits with status 3 when the app or the socket fails to start
    return 0


def _several(settings: Settings) -> int:
    """uvicorn's supervisor: it binds the socket, starts the workers, restarts one that dies, and
    on SIGINT or SIGTERM stops them all."""
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    # Each worker imports `maskgate.server:app`, which reads its settings from the environment:
    # the command line's host and port must be there too, so every worker's settings are these.
    os.environ.update(
        {"MASKGATE_HOST": settings.host, "MASKGATE_PORT": str(settings.port), "MASKGATE_WORKERS": str(settings.workers)}
    )
    config = uvicorn.Config(
        "maskgate.server:app",
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level="warning",
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )
    sock = config.bind_socket()  # exits with status 3 when the address is taken
    host, port = sock.getsockname()[:2]
    threading.Thread(target=_announce_when_answering, args=(host, port, settings.workers), daemon=True).start()
    supervisor = Multiprocess(config, sockets=[sock])
    supervisor.run()
    return STARTUP_FAILURE if any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes) else 0


def _announce_when_answering(host: str, port: int, workers: int) -> None:
    """The supervisor cannot see a worker's start-up; a worker answering at the socket says it."""
    import httpx2

    from maskgate.claude import local_url

    probe = local_url(host, port)  # a wildcard address is asked on loopback
    deadline = time.monotonic() + ANNOUNCE_WITHIN_SECONDS
    while time.monotonic() < deadline:
        try:
            if httpx2.head(probe + "/", timeout=1, trust_env=False).status_code == 200:
                _announce(_url(host, port), workers)
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.05)
