"""Runs maskgate as a real uvicorn process for tests, the way users run it."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2

MASTER_KEY = "test-master-key-" + "x" * 16


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Proxy:
    def __init__(self, proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.proc = proc
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log

    def logs(self) -> str:
        return self.log.read_text(errors="replace")

    @classmethod
    @contextmanager
    def start(
        cls,
        tmp: Path,
        upstream_url: str,
        env: dict[str, str] | None = None,
        timeout: float = 30,
        log_level: str = "warning",
        command: Callable[[int], list[str]] | None = None,
    ) -> Iterator[Proxy]:
        """`command(port)`: another way to run it (`maskgate serve`, uvicorn with workers); the
        default is one uvicorn process."""
        port = free_port()
        base = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp),
            "MASKGATE_MASTER_KEY": MASTER_KEY,
            "MASKGATE_UPSTREAM_URL": upstream_url,
            "MASKGATE_UPSTREAM_API_KEY": "sk-upstream-test",
            "MASKGATE_HOME": str(tmp / "data"),
            "MASKGATE_LOG_FORMAT": "json",
        }
        if os.environ.get("PYTHONPATH"):
            # The process runs the code under test (a worktree's `PYTHONPATH=python`), not whatever
            # maskgate the interpreter has installed.
            paths = os.environ["PYTHONPATH"].split(os.pathsep)
            base["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in paths if p)
        base.update(env or {})
        log = tmp / f"maskgate-{port}.log"
        cmd = [sys.executable, "-m", "uvicorn", "maskgate.server:app", "--port", str(port), "--log-level", log_level]
        if command is not None:
            cmd = command(port)
        with log.open("wb") as out:
            proc = subprocess.Popen(cmd, env=base, stdout=out, stderr=subprocess.STDOUT)
        proxy = cls(proc, port, log)
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"maskgate exited with {proc.returncode}:\n{proxy.logs()}")
                try:
                    if httpx2.head(proxy.url + "/", timeout=1).status_code == 200:
                        break
                except httpx2.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"maskgate did not start:\n{proxy.logs()}")
                time.sleep(0.05)
            yield proxy
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def random_namespace_env() -> dict[str, str]:
    return {"MASKGATE_STORE_KEY": secrets.token_hex(32)}


def drop_redis_prefix(prefix: str, url: str = "redis://127.0.0.1:6379/0") -> None:
    """Removes what a test run wrote to the shared Redis (counters never expire on their own)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
