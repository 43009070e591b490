"""Helpers for the reliability suite: identifiers, requests, process probes, private Redis servers."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2

from tests.fake_upstream import parse_sse
from tests.ports import spare_port, wait_port
from tests.proxy import MASTER_KEY

B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
SECRET_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+"
PSEUDONYM = re.compile(r"\b[a-z][a-z0-9]*-\d{3,}\b")


def instance_id() -> str:
    return f"i-{secrets.token_hex(9)[:17]}"


def fresh_ids() -> dict[str, str]:
    """One new identifier of each common kind; each is masked on its own (see `ID_TEXT`)."""
    h = secrets.token_hex
    account = "".join(secrets.choice("123456789") for _ in range(12))
    return {
        "instance": instance_id(),
        "vpc": f"vpc-{h(4)}",
        "key": "AKIA" + "".join(secrets.choice(B32) for _ in range(16)),
        "account": account,
        "role": f"arn:aws:iam::{account}:role/deploy-{h(3)}",
        "bucket": f"data-{h(5)}",
        "secret": secret_key(),
    }


def secret_key() -> str:
    """40 characters as AWS issues them. Not all letters and slashes: the catalogue leaves such
    a run alone on purpose (it reads as an identifier), and 1 draw in ~3000 would be one."""
    while True:
        key = "".join(secrets.choice(SECRET_CHARS) for _ in range(40))
        if any(c.isdigit() or c == "+" for c in key):
            return key


def id_text(ids: dict[str, str]) -> str:
    """A prompt in which every identifier of `fresh_ids` has the context it needs to be found."""
    return (
        f"Stop {ids['instance']} in {ids['vpc']} using key {ids['key']} for account {ids['account']}, "
        f"assume {ids['role']}, copy s3://{ids['bucket']}/logs and set "
        f"aws_secret_access_key = {ids['secret']}"
    )


def messages(text: str, stream: bool = False, **extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 256,
        "stream": stream,
        "messages": [{"role": "user", "content": text}],
        **extra,
    }


def auth(key: str = MASTER_KEY) -> dict[str, str]:
    return {"x-api-key": key}


def sse(body: str) -> list[tuple[str, Any]]:
    return parse_sse(body)


def stream_text(events: list[tuple[str, Any]]) -> str:
    return "".join(d["delta"].get("text", "") for n, d in events if n == "content_block_delta" and isinstance(d, dict))


def assert_anthropic_error(r: httpx2.Response, status: int, kind: str | None = None) -> str:
    assert r.status_code == status, (r.status_code, r.text[:500])
    body = r.json()
    assert body["type"] == "error", body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if kind is not None:
        assert body["error"]["type"] == kind, body
    message: str = body["error"]["message"]
    return message


def recorded_masked_text(requests: list[dict[str, Any]]) -> list[str]:
    """The user text of every recorded Messages request, as the provider saw it."""
    out = []
    for r in requests:
        body = json.loads(r["body"])
        content = body["messages"][-1]["content"]
        out.append(content if isinstance(content, str) else json.dumps(content))
    return out


def wait_until(check: Callable[[], bool], limit: float = 30.0, step: float = 0.05) -> bool:
    """Polls `check` until it holds or `limit` seconds pass (a safety bound, not a measurement)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return check()


# -- process probes ------------------------------------------------------------------------------------


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def _socket_inodes(pid: int) -> set[str]:
    out = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            out.add(target[8:-1])
    return out


def tcp_connections(pid: int, remote_port: int, states: tuple[str, ...] = ("01",)) -> int:
    """TCP sockets of process `pid` connected to `remote_port` (default: ESTABLISHED only)."""
    inodes = _socket_inodes(pid)
    count = 0
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            remote, state, inode = fields[2], fields[3], fields[9]
            if inode in inodes and int(remote.rsplit(":", 1)[1], 16) == remote_port and state in states:
                count += 1
    return count


def local_ports(pid: int, remote_port: int) -> set[int]:
    """Local ports of the TCP sockets of process `pid` connected to `remote_port`."""
    inodes = _socket_inodes(pid)
    out = set()
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if path.exists():
            for line in path.read_text().splitlines()[1:]:
                fields = line.split()
                if fields[9] in inodes and int(fields[2].rsplit(":", 1)[1], 16) == remote_port:
                    out.add(int(fields[1].rsplit(":", 1)[1], 16))
    return out


def children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


# -- private Redis servers -----------------------------------------------------------------------------


def redis_server() -> str | None:
    return shutil.which("redis-server")


@dataclass
class PrivateRedis:
    """A redis-server of our own on a spare loopback port; `persist` = AOF fsynced on every write."""

    workdir: Path
    port: int
    persist: bool = True
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        server = redis_server()
        assert server is not None
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = ["--appendonly", "yes", "--appendfsync", "always"] if self.persist else ["--appendonly", "no"]
        self.proc = subprocess.Popen(
            [
                server,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.workdir),
                "--save",
                "",
                "--protected-mode",
                "no",
                "--logfile",
                str(self.workdir / "redis.log"),
                *args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port)

    def kill(self) -> None:
        """SIGKILL: no shutdown save, exactly like a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def client(self) -> Any:
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=5)


@contextmanager
def private_redis(workdir: Path, persist: bool = True) -> Iterator[PrivateRedis]:
    server = PrivateRedis(workdir, spare_port(), persist)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@contextmanager
def redis_cluster(workdir: Path, nodes: int = 3) -> Iterator[list[int]]:
    """A throw-away Redis Cluster on loopback ports (no replicas)."""
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    assert server and cli
    procs: list[subprocess.Popen[bytes]] = []
    ports: list[int] = []
    try:
        for i in range(nodes):
            port = spare_port()
            while port in ports:
                port = spare_port()
            ports.append(port)
            d = workdir / f"node{i}"
            d.mkdir(parents=True)
            procs.append(
                subprocess.Popen(
                    [
                        server,
                        "--port",
                        str(port),
                        "--bind",
                        "127.0.0.1",
                        "--dir",
                        str(d),
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--protected-mode",
                        "no",
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        str(d / "nodes.conf"),
                        "--cluster-node-timeout",
                        "2000",
                        "--logfile",
                        str(d / "redis.log"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            wait_port(port)
        subprocess.run(
            [
                cli,
                "--cluster",
                "create",
                *(f"127.0.0.1:{p}" for p in ports),
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        ok = wait_until(
            lambda: all(
                "cluster_state:ok"
                in subprocess.run([cli, "-p", str(p), "cluster", "info"], capture_output=True, text=True).stdout
                for p in ports
            ),
            limit=30,
            step=0.2,
        )
        assert ok, "redis cluster did not reach cluster_state:ok"
        yield ports
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(10)
