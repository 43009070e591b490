"""Helpers for the console tests: keys, a config, and an HTTP client that logs in like a browser."""

from __future__ import annotations

import html
import re
import secrets
from pathlib import Path
from typing import Any

import httpx2

from tests.gateway.support import TENANT_B_KEY

ADMIN_KEY = "console-admin-key-" + "a" * 20
TEAM_B_ADMIN_KEY = "team-b-admin-key-" + "b" * 20


def write_config(tmp: Path, **console: Any) -> Path:
    """A config with tenant team-b, the console on, and a second admin scoped to team-b."""
    extra = "".join(f"{k} = {v}\n" for k, v in console.items())  # numbers only
    config = tmp / "maskgate.toml"
    config.write_text(
        f'[[tenants]]\nname = "team-b"\nkey = "{TENANT_B_KEY}"\n\n'
        f"[console]\nenabled = true\n{extra}\n"
        f'[[console.admins]]\nname = "team-b-lead"\nkey = "{TEAM_B_ADMIN_KEY}"\ntenants = ["team-b"]\n',
        encoding="utf-8",
    )
    return config


def console_env(tmp: Path, **console: Any) -> dict[str, str]:
    return {
        "MASKGATE_CONFIG": str(write_config(tmp, **console)),
        "MASKGATE_ADMIN_KEY": ADMIN_KEY,
        "MASKGATE_STORE_KEY": secrets.token_hex(32),
    }


def messages_body(text: str, stream: bool = False, model: str = "claude-sonnet-4-5") -> dict[str, Any]:
    return {"model": model, "max_tokens": 64, "stream": stream, "messages": [{"role": "user", "content": text}]}


def marks(page: str, cls: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(rf'<mark class="{cls}"[^>]*>([^<]*)</mark>', page)]


def pre_text(page: str, element_id: str) -> str:
    """The text of a <pre id=...> with its marks, as the browser shows it."""
    found = re.search(rf'<pre class="body" id="{element_id}">(.*?)</pre>', page, re.S)
    assert found, f"no #{element_id} in the page"
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1)))


class ConsoleClient:
    """An admin's browser, as far as HTTP goes: cookies kept, forms posted with their CSRF token."""

    def __init__(self, url: str) -> None:
        self.http = httpx2.Client(base_url=url, follow_redirects=False, timeout=30)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ConsoleClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def login(self, key: str) -> httpx2.Response:
        form = self.http.get("/console/login")
        assert form.status_code == 200, form.text
        token = re.search(r'name="login_token" value="([^"]+)"', form.text)
        assert token
        return self.http.post("/console/login", data={"login_token": token.group(1), "key": key})

    def csrf(self) -> str:
        page = self.http.get("/console/lookup")
        assert page.status_code == 200, page.status_code
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found
        return found.group(1)

    def post(self, path: str, **data: str) -> httpx2.Response:
        return self.http.post(path, data={"csrf": self.csrf(), **data})

    def get(self, path: str) -> httpx2.Response:
        return self.http.get(path)
