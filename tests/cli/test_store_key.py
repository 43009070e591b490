"""A wrong store key, through the installed entry point and real gateway processes: `serve` refuses
to start, `mask`/`unmask` stop with one line, `doctor` fails the store check, `/health` is not ok.
Never a new pseudonym for a value the store already maps."""

from __future__ import annotations

import json
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from tests.cli.support import cli_env, run_cli
from tests.fake_upstream import FakeUpstream
from tests.proxy import MASTER_KEY, Proxy, drop_redis_prefix

INSTANCE = "i-0123456789abcdef0"


def one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.fixture(params=["embedded", "redis"])
def store_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The settings of one store (without its key): the embedded file, or a Redis prefix of its own."""
    env = {"MASKGATE_HOME": str(tmp_path / "data")}
    if request.param == "redis":
        env["MASKGATE_REDIS_URL"] = "redis://127.0.0.1:6379/0"
        env["MASKGATE_REDIS_PREFIX"] = f"mgtest-{secrets.token_hex(4)}:"
    yield env
    if request.param == "redis":
        drop_redis_prefix(env["MASKGATE_REDIS_PREFIX"])


def masked_with(tmp_path: Path, store: dict[str, str], key: str, text: str = f"stop {INSTANCE}\n") -> str:
    r = run_cli(["mask"], cli_env(tmp_path, MASKGATE_STORE_KEY=key, **store), stdin=text)
    assert r.returncode == 0, r.stderr
    return r.stdout


def send(url: str, text: str) -> httpx2.Response:
    body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": text}]}
    return httpx2.post(url + "/v1/messages", json=body, headers={"x-api-key": MASTER_KEY}, timeout=30)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_refuses_to_start_with_a_wrong_key(tmp_path: Path, store_env: dict[str, str]) -> None:
    right, wrong = secrets.token_hex(32), secrets.token_hex(32)
    masked_with(tmp_path, store_env, right)
    env = cli_env(tmp_path, MASKGATE_MASTER_KEY=MASTER_KEY, MASKGATE_STORE_KEY=wrong, **store_env)
    r = run_cli(["serve", "--port", str(_port())], env, timeout=60)
    assert r.returncode != 0 and "listening" not in r.stderr
    line = one_line(r.stderr)
    assert "MASKGATE_STORE_KEY does not open this store" in line and "MASKGATE_STORE_KEY_PREVIOUS" in line
    assert right not in r.stderr and wrong not in r.stderr


def test_mask_and_unmask_with_a_wrong_key_are_one_line(tmp_path: Path, store_env: dict[str, str]) -> None:
    right, wrong = secrets.token_hex(32), secrets.token_hex(32)
    masked = masked_with(tmp_path, store_env, right)
    for command, text in (("mask", f"stop {INSTANCE}\n"), ("unmask", masked)):
        r = run_cli([command], cli_env(tmp_path, MASKGATE_STORE_KEY=wrong, **store_env), stdin=text)
        assert r.returncode == 2 and r.stdout == ""
        assert "does not open this store" in one_line(r.stderr)
        assert INSTANCE not in r.stderr and wrong not in r.stderr
    # Rotation: the old key as the previous one opens the store, and the mapping is the same.
    rotating = cli_env(tmp_path, MASKGATE_STORE_KEY=wrong, MASKGATE_STORE_KEY_PREVIOUS=right, **store_env)
    assert run_cli(["mask"], rotating, stdin=f"stop {INSTANCE}\n").stdout == masked
    assert run_cli(["unmask"], rotating, stdin=masked).stdout == f"stop {INSTANCE}\n"


def test_a_lost_key_file_is_named(tmp_path: Path) -> None:
    """Without MASKGATE_STORE_KEY the embedded store's key is a file beside it: a new one is refused."""
    env = cli_env(tmp_path)
    assert run_cli(["mask"], env, stdin=f"stop {INSTANCE}\n").returncode == 0
    key_file = tmp_path / "data" / "store.db.key"
    assert key_file.exists(), sorted(p.name for p in (tmp_path / "data").iterdir())
    key_file.unlink()
    r = run_cli(["mask"], env, stdin=f"stop {INSTANCE}\n")
    assert r.returncode == 2 and r.stdout == ""
    line = one_line(r.stderr)
    assert f"the key file {key_file} does not open this store" in line


def test_doctor_fails_the_store_check(tmp_path: Path, store_env: dict[str, str]) -> None:
    right, wrong = secrets.token_hex(32), secrets.token_hex(32)
    masked_with(tmp_path, store_env, right)
    with FakeUpstream.start() as fake:
        base = {"MASKGATE_MASTER_KEY": MASTER_KEY, "MASKGATE_UPSTREAM_URL": fake.url, **store_env}
        r = run_cli(["doctor", "--json"], cli_env(tmp_path, MASKGATE_STORE_KEY=wrong, **base))
        checks = {c["check"]: c for c in json.loads(r.stdout)}
        assert r.returncode == 1 and checks["store"]["status"] == "fail", checks["store"]
        assert "does not open" in checks["store"]["detail"]
        assert "MASKGATE_STORE_KEY_PREVIOUS" in checks["store"]["fix"]
        assert right not in r.stdout and wrong not in r.stdout
        r = run_cli(["doctor", "--json"], cli_env(tmp_path, MASKGATE_STORE_KEY=right, **base))
        checks = {c["check"]: c for c in json.loads(r.stdout)}
        assert checks["store"]["status"] == "ok" and "key opens it" in checks["store"]["detail"], checks["store"]


def test_health_is_not_ok_when_the_store_changes_keys_under_a_running_gateway(tmp_path: Path) -> None:
    """Redis flushed, then refilled by a process with another key: this gateway's key no longer opens it."""
    prefix = f"mgtest-{secrets.token_hex(4)}:"
    store = {"MASKGATE_REDIS_URL": "redis://127.0.0.1:6379/0", "MASKGATE_REDIS_PREFIX": prefix}
    key = secrets.token_hex(32)
    try:
        with FakeUpstream.start() as fake, Proxy.start(tmp_path, fake.url, {"MASKGATE_STORE_KEY": key, **store}) as p:
            assert httpx2.get(p.url + "/health").json() == {"status": "ok", "store": "ok"}
            for _ in range(2):  # the second one learns the namespace's change mark
                assert send(p.url, f"stop {INSTANCE}").status_code == 200
            drop_redis_prefix(prefix)
            masked_with(tmp_path, store, secrets.token_hex(32), text="stop i-0fedcba9876543210\n")
            health = httpx2.get(p.url + "/health")
            assert health.status_code == 503 and health.json() == {"status": "degraded", "store": "wrong key"}
            # The gateway sees the namespace was recreated, checks the key again, and forwards nothing.
            fake.clear()
            r = send(p.url, f"stop {INSTANCE}")
            assert r.status_code == 503 and fake.requests("/v1/messages") == []
    finally:
        drop_redis_prefix(prefix)


def test_the_gateway_process_refuses_to_start_with_a_wrong_key(tmp_path: Path, store_env: dict[str, str]) -> None:
    """Run as uvicorn runs it (`uvicorn maskgate.server:app`): the start-up check stops it too."""
    right, wrong = secrets.token_hex(32), secrets.token_hex(32)
    masked_with(tmp_path, store_env, right)
    with FakeUpstream.start() as fake, pytest.raises(RuntimeError) as info:
        with Proxy.start(tmp_path, fake.url, {"MASKGATE_STORE_KEY": wrong, **store_env}):
            pass
    assert "maskgate exited" in str(info.value) and "does not open this store" in str(info.value)
    assert wrong not in str(info.value) and right not in str(info.value)
