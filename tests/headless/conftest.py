"""A fake provider and a maskgate with the headless endpoint on, running the pinned Claude Code CLI."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest

from tests.claude_cli import find_claude
from tests.fake_upstream import FakeUpstream
from tests.proxy import Proxy

ADMIN_KEY = "claude-code-admin-" + "a" * 24
TENANT = "agents"
TENANT_KEY = "agents-tenant-key-" + "t" * 20
TIMEOUT_SECONDS = 6


@dataclass
class Headless:
    proxy: Proxy
    repos: Path
    outside: Path

    def post(self, path: str, body: dict[str, object], key: str = ADMIN_KEY, accept: str = "") -> httpx2.Response:
        headers = {"x-api-key": key, **({"accept": accept} if accept else {})}
        return httpx2.post(self.proxy.url + path, json=body, headers=headers, timeout=90)


@pytest.fixture(scope="session")
def headless(fake: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Headless]:
    """`cli_path` is the npm-installed CLI the other end-to-end tests use (the pinned 2.1.332), so
    one binary is under test everywhere; the SDK's bundled copy is the same version (see
    test_bundled_cli_is_the_pinned_version)."""
    claude = find_claude()
    if claude is None:
        pytest.skip("claude CLI not installed (run .ci/install-claude.sh)")
    tmp = tmp_path_factory.mktemp("headless")
    repos, outside = tmp / "repos", tmp / "outside"
    (repos / "app").mkdir(parents=True)
    outside.mkdir()
    extra = f'cli_path = "{claude}"\nmax_concurrent = 1\ntimeout_seconds = {TIMEOUT_SECONDS}\n'
    with Proxy.start(tmp, fake.url, endpoint_env(tmp, repos, extra)) as proxy:
        yield Headless(proxy, repos, outside)


def endpoint_env(tmp: Path, repos: Path, claude_code: str = "", **env: str) -> dict[str, str]:
    """The environment of a maskgate with the endpoint on for `repos` (its config file in `tmp`):
    `claude_code` adds lines to the `[claude_code]` table, `env` variables."""
    config = tmp / "maskgate.toml"
    config.write_text(
        f'[[tenants]]\nname = "{TENANT}"\nkey = "{TENANT_KEY}"\n\n'
        "[claude_code]\n"
        "enabled = true\n"
        f'tenant = "{TENANT}"\n'
        'admin_key_env = "CLAUDE_CODE_ADMIN_KEY"\n'
        f'roots = ["{repos}"]\n' + claude_code,
        encoding="utf-8",
    )
    return {
        "MASKGATE_CONFIG": str(config),
        "CLAUDE_CODE_ADMIN_KEY": ADMIN_KEY,
        "MASKGATE_STORE_KEY": secrets.token_hex(32),
        **env,
    }
