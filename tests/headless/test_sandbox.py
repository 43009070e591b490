"""What the headless endpoint refuses, against a real maskgate (no Claude Code is started for these)."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import httpx2
import pytest

from tests.fake_upstream import FakeUpstream
from tests.headless.conftest import ADMIN_KEY, TENANT_KEY, Headless, endpoint_env
from tests.proxy import MASTER_KEY, Proxy
from tests.raw_http import drip


@pytest.mark.parametrize(
    "cwd",
    ["../outside", "app/../../outside", "/etc", "/"],
)
def test_cwd_outside_roots_is_refused(headless: Headless, cwd: str) -> None:
    r = headless.post("/v1/claude-code", {"prompt": "hi", "cwd": cwd})
    assert r.status_code == 403, r.text
    assert r.json()["error"]["type"] == "permission_error"


def test_symlink_escape_is_refused(headless: Headless) -> None:
    link = headless.repos / f"escape-{secrets.token_hex(3)}"
    os.symlink(headless.outside, link)
    r = headless.post("/v1/claude-code", {"prompt": "hi", "cwd": link.name})
    assert r.status_code == 403, r.text
    r = headless.post("/v1/claude-code/analyze", {"path": str(link), "question": "?"})
    assert r.status_code == 403, r.text


def test_analyze_path_outside_roots_is_refused(headless: Headless) -> None:
    r = headless.post("/v1/claude-code/analyze", {"path": str(headless.outside), "question": "?"})
    assert r.status_code == 403


def test_bypass_permissions_is_refused_unless_configured(headless: Headless) -> None:
    r = headless.post("/v1/claude-code", {"prompt": "hi", "permission_mode": "bypassPermissions"})
    assert r.status_code == 403 and "allow_bypass_permissions" in r.text


@pytest.mark.parametrize("key", [MASTER_KEY, TENANT_KEY, "", "wrong-" + "k" * 30, ADMIN_KEY + "x"])
def test_only_the_admin_key_is_accepted(headless: Headless, key: str) -> None:
    r = headless.post("/v1/claude-code", {"prompt": "hi"}, key=key)
    assert r.status_code == 401, r.text
    assert r.json()["error"]["type"] == "authentication_error"
    headers = {"authorization": f"Bearer {key}"} if key else {}
    r = httpx2.post(
        headless.proxy.url + "/v1/claude-code/analyze", json={"path": "app", "question": "?"}, headers=headers
    )
    assert r.status_code == 401


def test_admin_key_is_not_a_client_key(headless: Headless) -> None:
    """The admin key runs agents; it does not buy plain gateway access (or the other way round)."""
    r = httpx2.post(
        headless.proxy.url + "/v1/messages",
        json={"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]},
        headers={"x-api-key": ADMIN_KEY},
    )
    assert r.status_code == 401


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "`prompt` is required"),
        ({"prompt": "  "}, "`prompt` is required"),
        ({"prompt": "hi", "allowedTools": ["Read"]}, "unknown field(s): allowedTools"),
        ({"prompt": "hi", "allowed_tools": "Read"}, "wrong type"),
        ({"prompt": "hi", "max_turns": 0}, "max_turns"),
        ({"prompt": "hi", "max_turns": 10_000}, "max_turns"),
        ({"prompt": "hi", "permission_mode": "yolo"}, "permission_mode"),
        ({"prompt": "hi", "stream": "xml"}, "stream"),
        ({"prompt": "hi", "cwd": "app/missing"}, "not a directory"),
    ],
)
def test_bad_requests(headless: Headless, body: dict[str, object], fragment: str) -> None:
    r = headless.post("/v1/claude-code", body)
    assert r.status_code == 400, r.text
    assert fragment in r.json()["error"]["message"]


def test_not_json(headless: Headless) -> None:
    r = httpx2.post(headless.proxy.url + "/v1/claude-code", content=b"{", headers={"x-api-key": ADMIN_KEY})
    assert r.status_code == 400
    r = httpx2.post(
        headless.proxy.url + "/v1/claude-code",
        content=b"prompt",
        headers={"x-api-key": ADMIN_KEY, "content-type": "text/plain"},
    )
    assert r.status_code == 415


def test_disabled_endpoint(fake: FakeUpstream, tmp_path: Path) -> None:
    """Off by default: even the right-looking request gets a 404, and nothing runs."""
    with Proxy.start(tmp_path, fake.url, {"MASKGATE_STORE_KEY": secrets.token_hex(32)}) as proxy:
        for path in ("/v1/claude-code", "/v1/claude-code/analyze"):
            r = httpx2.post(proxy.url + path, json={"prompt": "hi"}, headers={"x-api-key": MASTER_KEY})
            assert r.status_code == 404, r.text
            assert "off" in r.json()["error"]["message"]
    assert fake.requests() == []


@pytest.mark.parametrize("path", ["/v1/claude-code", "/v1/claude-code/analyze"])
def test_slow_body_times_out(fake: FakeUpstream, tmp_path: Path, path: str) -> None:
    """A body trickling in a byte at a time gets the gateway's 408 once MASKGATE_BODY_TIMEOUT
    passes, as on /v1/messages: the request holds no connection for longer, and nothing runs.
    No Claude Code is needed: the body is read before the CLI is looked for."""
    (tmp_path / "repos").mkdir()
    env = endpoint_env(tmp_path, tmp_path / "repos", MASKGATE_BODY_TIMEOUT="1")
    body = json.dumps({"prompt": "x" * 200}).encode()
    with Proxy.start(tmp_path, fake.url, env) as proxy:
        reply = drip(proxy.port, path, {"x-api-key": ADMIN_KEY}, body, until=b'not received in time"}}')
    assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
    error = json.loads(reply.split(b"\r\n\r\n", 1)[1])
    assert error == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "request body not received in time"},
    }
    assert fake.requests() == []


def test_analyze_cannot_read_outside_its_path(fake: FakeUpstream, headless: Headless) -> None:
    """Claude Code's own rule, kept by the preset (no allow rules, dontAsk): reads outside `path`
    are denied, also through a symlink inside it."""
    marker = f"outside-secret-{secrets.token_hex(6)}"
    secret = headless.outside / "secret.txt"
    secret.write_text(marker)
    link = headless.repos / "app" / f"link-{secrets.token_hex(3)}.txt"
    os.symlink(secret, link)
    fake.script(
        [
            {"type": "tool_use", "name": "Read", "input": {"file_path": str(secret)}},
            {"type": "tool_use", "name": "Read", "input": {"file_path": str(link)}},
            {"type": "text", "text": "could not read"},
        ]
    )
    r = headless.post("/v1/claude-code/analyze", {"path": "app", "question": "read it", "max_turns": 5})
    assert r.status_code == 200, r.text
    assert marker not in json.dumps(fake.requests())
    assert marker not in r.text
    assert len(r.json()["permission_denials"]) == 2
