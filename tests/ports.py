"""Loopback ports for the Redis servers and clusters that tests start themselves."""

from __future__ import annotations

import secrets
import socket
import time


def spare_port(lo: int = 20000, hi: int = 29999) -> int:
    """A free loopback port in [lo, hi) whose cluster bus port (+10000) is free too."""
    for _ in range(500):
        port = secrets.randbelow(hi - lo) + lo
        if all(_free(p) for p in (port, port + 10000)):
            return port
    raise RuntimeError("no free port")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_port(port: int, timeout: float = 20.0) -> None:
    """Waits until something accepts connections on the port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"redis on port {port} did not come up")
