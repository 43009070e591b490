"""Starting, watching and stopping the processes the gateway benchmarks talk to (loopback only)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx2

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MASTER_KEY = "bench-master-key-" + "x" * 24
LITELLM_KEY = "sk-bench-litellm-master-key-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants, KiB."""
    total = 0
    for p in [pid, *descendants(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its live descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for p in [pid, *descendants(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError):
            pass
    return total


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    out: list[int] = []
    todo = [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


class Service:
    """A process we started, its port, its log, and how long it took to answer."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], log: Path, port: int) -> None:
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self.started = time.monotonic()
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=str(ROOT), start_new_session=True
            )
        self.ready_s: float | None = None

    def wait_ready(self, probe: Callable[[str], bool], timeout: float) -> Service:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.tail()}")
            try:
                if probe(self.url):
                    self.ready_s = time.monotonic() - self.started
                    return self
            except httpx2.HTTPError:
                pass
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer in {timeout:.0f} s: {self.tail()}")

    def tail(self, n: int = 600) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:].replace("\n", " | ")
        except OSError:
            return ""

    def rss_kib(self) -> int:
        return rss_kib(self.proc.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # gunicorn/uvicorn workers of a killed parent: end what is left of this process's own group
        for pid in descendants(self.proc.pid):
            try:
                os.kill(pid, 9)
            except OSError:
                pass

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _get_ok(path: str, method: str = "GET") -> Callable[[str], bool]:
    def probe(url: str) -> bool:
        return httpx2.request(method, url + path, timeout=2).status_code == 200

    return probe


def base_env() -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    return {k: v for k, v in os.environ.items() if k in keep}


def fake_upstream(log_dir: Path, delay: float = 0.0, record: bool = False, name: str = "upstream") -> Service:
    port = free_port()
    cmd = [sys.executable, str(HERE / "upstream.py"), "--port", str(port), "--delay", str(delay)]
    if record:
        cmd.append("--record")
    env = base_env() | {"PYTHONPATH": str(ROOT)}
    return Service(name, cmd, env, log_dir / f"{name}.log", port).wait_ready(_get_ok("/", "HEAD"), 60)


def maskgate(log_dir: Path, upstream: str, home: Path, redis_url: str | None = None, name: str = "maskgate") -> Service:
    """`maskgate serve`, the way users run it (embedded store unless redis_url)."""
    port = free_port()
    env = base_env() | {
        "HOME": str(home),
        "MASKGATE_MASTER_KEY": MASTER_KEY,
        "MASKGATE_UPSTREAM_URL": upstream,
        "MASKGATE_UPSTREAM_API_KEY": "sk-upstream-bench",
        "MASKGATE_HOME": str(home / "data"),
        "MASKGATE_LOG_FORMAT": "json",
    }
    if redis_url:
        import secrets

        env |= {
            "MASKGATE_REDIS_URL": redis_url,
            "MASKGATE_REDIS_PREFIX": f"maskgate-bench-{secrets.token_hex(4)}:",
            "MASKGATE_STORE_KEY": secrets.token_hex(32),
        }
    exe = Path(sys.executable).parent / "maskgate"
    cmd = [str(exe), "serve", "--port", str(port)]
    svc = Service(name, cmd, env, log_dir / f"{name}.log", port)
    svc.redis_prefix = env.get("MASKGATE_REDIS_PREFIX")  # type: ignore[attr-defined]
    return svc.wait_ready(_get_ok("/", "HEAD"), 60)


def passthrough(log_dir: Path, upstream: str, client: str = "httpx", name: str | None = None) -> Service:
    """benches/passthrough.py under uvicorn as `maskgate serve` runs it: the floor with a framework."""
    name = name or f"passthrough-{client}"
    port = free_port()
    env = base_env() | {"PYTHONPATH": str(ROOT), "MASKGATE_BENCH_UPSTREAM": upstream, "MASKGATE_BENCH_CLIENT": client}
    cmd = [sys.executable, "-m", "uvicorn", "benches.passthrough:app", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--log-level", "warning"]
    return Service(name, cmd, env, log_dir / f"{name}.log", port).wait_ready(_get_ok("/", "HEAD"), 60)


def floor(log_dir: Path, upstream: str, name: str = "floor") -> Service:
    """benches/floor.py: an HTTP/1.1 byte relay on asyncio streams, the floor without a framework."""
    port = free_port()
    cmd = [sys.executable, str(HERE / "floor.py"), "--port", str(port), "--upstream", upstream]
    return Service(name, cmd, base_env(), log_dir / f"{name}.log", port).wait_ready(_get_ok("/", "HEAD"), 60)


def drop_redis_prefix(prefix: str, url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        for i in range(0, len(keys), 500):
            client.delete(*keys[i : i + 500])
    finally:
        client.close()


def litellm_proxy(
    log_dir: Path, python: str, upstream: str, presidio: tuple[str, str] | None, name: str = "litellm"
) -> Service:
    """`litellm --config` against the same upstream, optionally with the Presidio guardrail."""
    port = free_port()
    guardrail = ""
    if presidio:
        guardrail = f"""
guardrails:
  - guardrail_name: presidio-pii
    litellm_params:
      guardrail: presidio
      mode: pre_call
      default_on: true
      output_parse_pii: true
      presidio_analyzer_api_base: {presidio[0]}/
      presidio_anonymizer_api_base: {presidio[1]}/
"""
    config = log_dir / f"{name}.yaml"
    config.write_text(
        f"""model_list:
  - model_name: claude-sonnet-4-5-20250929
    litellm_params:
      model: anthropic/claude-sonnet-4-5-20250929
      api_base: {upstream}
      api_key: sk-upstream-bench
  - model_name: claude-haiku-4-5
    litellm_params:
      model: anthropic/claude-haiku-4-5
      api_base: {upstream}
      api_key: sk-upstream-bench
general_settings:
  master_key: {LITELLM_KEY}
litellm_settings:
  telemetry: false
{guardrail}"""
    )
    exe = Path(python).parent / "litellm"
    env = base_env() | {
        "HOME": str(log_dir / f"{name}-home"),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_MASTER_KEY": LITELLM_KEY,
        "LITELLM_LOG": "ERROR",
        "DISABLE_SCHEMA_UPDATE": "True",
    }
    cmd = [str(exe), "--config", str(config), "--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"]
    return Service(name, cmd, env, log_dir / f"{name}.log", port).wait_ready(_get_ok("/health/liveliness"), 300)


def presidio_services(log_dir: Path, python: str) -> tuple[Service, Service]:
    """Presidio's analyzer and anonymizer HTTP services (benches/presidio_service.py under gunicorn)."""
    out = []
    for role in ("analyzer", "anonymizer"):
        port = free_port()
        exe = Path(python).parent / "gunicorn"
        cmd = [
            str(exe),
            "-w",
            "1",
            "-b",
            f"127.0.0.1:{port}",
            "--chdir",
            str(HERE),
            f"presidio_service:create_{role}()",
        ]
        env = base_env() | {"HOME": str(log_dir / "presidio-home")}
        out.append(Service(f"presidio-{role}", cmd, env, log_dir / f"presidio-{role}.log", port))
    return (out[0].wait_ready(_get_ok("/health"), 120), out[1].wait_ready(_get_ok("/health"), 120))
