"""Bad input gets a clear Anthropic-shaped error, and nothing reaches the upstream."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from tests.fake_upstream import FakeUpstream
from tests.proxy import MASTER_KEY

ID = "i-0123456789abcdef0"


def shape(r: httpx2.Response, status: int, kind: str) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["type"] == "error" and body["error"]["type"] == kind
    message: str = body["error"]["message"]
    assert message
    return message


@pytest.mark.parametrize(
    ("headers", "content", "status", "kind"),
    [
        ({}, b'{"model": "m"}', 401, "authentication_error"),
        ({"x-api-key": "wrong-key-wrong-key"}, b'{"model": "m"}', 401, "authentication_error"),
        ({"authorization": "Bearer nope"}, b'{"model": "m"}', 401, "authentication_error"),
        ({"x-api-key": MASTER_KEY}, b'{"model": "m", ' + ID.encode(), 400, "invalid_request_error"),
        ({"x-api-key": MASTER_KEY}, b'["' + ID.encode() + b'"]', 400, "invalid_request_error"),
        ({"x-api-key": MASTER_KEY}, b"", 400, "invalid_request_error"),
        ({"x-api-key": MASTER_KEY, "content-type": "text/plain"}, ID.encode(), 415, "invalid_request_error"),
        ({"x-api-key": MASTER_KEY}, b"\xff\xfe" + ID.encode(), 400, "invalid_request_error"),
    ],
)
def test_rejected_before_the_upstream(
    fake: FakeUpstream, proxy: Any, headers: dict[str, str], content: bytes, status: int, kind: str
) -> None:
    headers = {"content-type": "application/json", **headers}
    r = httpx2.post(proxy.url + "/v1/messages", content=content, headers=headers)
    message = shape(r, status, kind)
    assert ID not in message and MASTER_KEY not in message
    assert fake.requests() == []
    assert ID not in proxy.logs()


def test_unknown_path_and_method(proxy: Any) -> None:
    shape(httpx2.get(proxy.url + "/v2/nothing"), 404, "not_found_error")
    shape(httpx2.get(proxy.url + "/v1/messages"), 405, "invalid_request_error")


def test_over_the_size_limit(fake: FakeUpstream, proxy: Any) -> None:
    big = b'{"messages": [{"role": "user", "content": "' + b"a" * (33 * 1024 * 1024) + b'"}]}'
    r = httpx2.post(
        proxy.url + "/v1/messages", content=big, headers={"x-api-key": MASTER_KEY, "content-type": "application/json"}
    )
    shape(r, 413, "request_too_large")
    assert fake.requests() == []


def test_upstream_unreachable(tmp_path: Any) -> None:
    from tests.proxy import Proxy, free_port

    with Proxy.start(tmp_path, f"http://127.0.0.1:{free_port()}") as p:
        r = httpx2.post(p.url + "/v1/messages", json={"model": "m", "messages": []}, headers={"x-api-key": MASTER_KEY})
        shape(r, 502, "api_error")


def test_store_down_fails_closed(fake: FakeUpstream, tmp_path: Any) -> None:
    from tests.proxy import Proxy, free_port

    env = {"MASKGATE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0", "MASKGATE_STORE_KEY": "k" * 64}
    with Proxy.start(tmp_path, fake.url, env) as p:
        r = httpx2.post(
            p.url + "/v1/messages",
            json={"model": "m", "messages": [{"role": "user", "content": ID}]},
            headers={"x-api-key": MASTER_KEY},
        )
        shape(r, 503, "api_error")
        assert httpx2.get(p.url + "/health").status_code == 503
    assert fake.requests() == []


def test_no_master_key_refuses_to_start(tmp_path: Any) -> None:
    import subprocess
    import sys

    r = subprocess.run(
        [sys.executable, "-m", "maskgate.cli", "serve", "--port", "0"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode != 0
    assert "MASKGATE_MASTER_KEY" in r.stderr
