"""`maskgate doctor` checks what `maskgate setup` installed, in a throwaway HOME: the gateway every
`claude` is pointed at answers, or a service starts it; otherwise every `claude` fails, so it fails."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.support import run_cli
from tests.cli.test_setup import setup_env
from tests.fake_upstream import FakeUpstream
from tests.proxy import MASTER_KEY, Proxy, free_port


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeUpstream]:
    with FakeUpstream.start() as f:
        yield f


def setup_check(env: dict[str, str]) -> tuple[int, dict[str, str]]:
    r = run_cli(["doctor", "--json"], env)
    return r.returncode, {c["check"]: c for c in json.loads(r.stdout)}["setup"]


def test_without_setup_the_check_is_skipped(tmp_path: Path, fake: FakeUpstream) -> None:
    _, check = setup_check(setup_env(tmp_path, fake.url))
    assert check["status"] == "skip" and "not installed" in check["detail"]


def test_setup_without_a_gateway_or_a_service_fails(tmp_path: Path, fake: FakeUpstream) -> None:
    env = setup_env(tmp_path, fake.url)  # its systemctl does not answer: no service
    assert run_cli(["setup"], env).returncode == 0
    code, check = setup_check(env)
    assert code == 1 and check["status"] == "fail", check
    assert f"127.0.0.1:{env['MASKGATE_PORT']}" in check["detail"] and "nothing answers" in check["detail"]
    assert "maskgate serve" in check["fix"] and "setup --undo" in check["fix"]
    assert env["MASKGATE_MASTER_KEY"] not in json.dumps(check)
    assert run_cli(["setup", "--undo"], env).returncode == 0
    _, check = setup_check(env)
    assert check["status"] == "skip"


def test_setup_with_its_service_installed_warns_when_it_is_down(tmp_path: Path, fake: FakeUpstream) -> None:
    env = setup_env(tmp_path, fake.url, systemctl_works=True)
    r = run_cli(["setup"], env)
    assert r.returncode == 0 and "maskgate.service" in r.stderr, r.stderr
    _, check = setup_check(env)
    assert check["status"] == "warn" and "systemctl --user restart maskgate.service" in check["fix"], check


def test_setup_with_its_gateway_answering_passes(tmp_path: Path, fake: FakeUpstream) -> None:
    with Proxy.start(tmp_path, fake.url) as proxy:
        env = {**setup_env(tmp_path, fake.url), "MASKGATE_PORT": str(proxy.port), "MASKGATE_MASTER_KEY": MASTER_KEY}
        assert run_cli(["setup"], env).returncode == 0
        _, check = setup_check(env)
    assert check["status"] == "ok" and f"127.0.0.1:{proxy.port}" in check["detail"], check


def test_setup_pointing_at_something_else_fails(tmp_path: Path, fake: FakeUpstream) -> None:
    port = fake.url.rsplit(":", 1)[1]  # the fake provider answers, but it is not a maskgate
    env = {**setup_env(tmp_path, fake.url), "MASKGATE_PORT": port}
    assert run_cli(["setup"], env).returncode == 0
    _, check = setup_check(env)
    assert check["status"] == "fail" and "not maskgate" in check["detail"], check


def test_setup_with_its_gateway_up_but_its_store_down_fails(tmp_path: Path, fake: FakeUpstream) -> None:
    down = {"MASKGATE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0", "MASKGATE_STORE_KEY": "ab" * 32}
    with Proxy.start(tmp_path, fake.url, down) as proxy:
        env = {**setup_env(tmp_path, fake.url), "MASKGATE_PORT": str(proxy.port), "MASKGATE_MASTER_KEY": MASTER_KEY}
        assert run_cli(["setup"], env).returncode == 0
        _, check = setup_check(env)
    assert check["status"] == "fail" and "its store is unavailable" in check["detail"], check
