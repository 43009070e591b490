"""A fake provider and real maskgate processes with the console on, embedded store and Redis."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx2
import pytest

from tests.console.support import ADMIN_KEY, ConsoleClient, console_env
from tests.fake_upstream import FakeUpstream
from tests.proxy import MASTER_KEY, Proxy, drop_redis_prefix


@pytest.fixture(scope="session", params=["embedded", "redis"])
def console_proxy(
    request: pytest.FixtureRequest, fake: FakeUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Proxy]:
    tmp = tmp_path_factory.mktemp(f"console-{request.param}")
    env = console_env(tmp)
    if request.param == "redis":
        env["MASKGATE_REDIS_URL"] = "redis://127.0.0.1:6379/0"
        env["MASKGATE_REDIS_PREFIX"] = f"mgconsole-{secrets.token_hex(4)}:"
        request.addfinalizer(lambda: drop_redis_prefix(env["MASKGATE_REDIS_PREFIX"]))
    with Proxy.start(tmp, fake.url, env) as p:
        yield p


@pytest.fixture
def admin(console_proxy: Proxy) -> Iterator[ConsoleClient]:
    with ConsoleClient(console_proxy.url) as c:
        assert c.login(ADMIN_KEY).status_code == 303
        yield c


@pytest.fixture
def gateway(console_proxy: Proxy) -> Iterator[httpx2.Client]:
    """Claude Code's side: the client key of the default tenant."""
    with httpx2.Client(base_url=console_proxy.url, headers={"x-api-key": MASTER_KEY}, timeout=30) as c:
        yield c
