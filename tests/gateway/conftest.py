"""A real fake upstream and real maskgate processes, with the embedded store and with Redis."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx2
import pytest

from tests.fake_upstream import FakeUpstream
from tests.gateway.support import TENANT_B_KEY
from tests.proxy import MASTER_KEY, Proxy, drop_redis_prefix


@pytest.fixture(scope="session", params=["embedded", "redis"])
def proxy(
    request: pytest.FixtureRequest, fake: FakeUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Proxy]:
    tmp = tmp_path_factory.mktemp(f"proxy-{request.param}")
    config = tmp / "maskgate.toml"
    config.write_text(f'[[tenants]]\nname = "team-b"\nkey = "{TENANT_B_KEY}"\n', encoding="utf-8")
    env = {"MASKGATE_CONFIG": str(config), "MASKGATE_STORE_KEY": secrets.token_hex(32)}
    if request.param == "redis":
        env["MASKGATE_REDIS_URL"] = "redis://127.0.0.1:6379/0"
        env["MASKGATE_REDIS_PREFIX"] = f"mgtest-{secrets.token_hex(4)}:"
        request.addfinalizer(lambda: drop_redis_prefix(env["MASKGATE_REDIS_PREFIX"]))
    with Proxy.start(tmp, fake.url, env) as p:
        yield p


@pytest.fixture
def client(proxy: Proxy) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=proxy.url, headers={"x-api-key": MASTER_KEY}, timeout=30) as c:
        yield c
