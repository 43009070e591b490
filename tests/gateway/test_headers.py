"""Every header that goes upstream, name and value, carries no original: a header maskgate must
forward as sent (the protocol's) or a header name that holds one is refused, not forwarded; a
header value that is not ASCII is masked as the text it is, not a 500."""

from __future__ import annotations

import socket
from typing import Any

import httpx2
import pytest

from tests.fake_upstream import FakeUpstream
from tests.gateway.support import new_ids
from tests.proxy import MASTER_KEY

BODY = {"model": "claude-sonnet-4-5", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}


def refused(r: httpx2.Response) -> str:
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    message: str = body["error"]["message"]
    return message


@pytest.mark.parametrize(
    "name", ["user-agent", "anthropic-beta", "anthropic-version", "x-stainless-note", "accept", "x-app"]
)
@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/count_tokens", "/v1/models"])
def test_verbatim_header_holding_an_original_is_refused(
    fake: FakeUpstream, client: httpx2.Client, proxy: Any, name: str, path: str
) -> None:
    ids = new_ids()
    value = f"claude-cli/2.0 {ids['key']} {ids['instance']}"
    if path == "/v1/models":
        r = client.get(path, headers={name: value})
    else:
        r = client.post(path, json=BODY, headers={name: value})
    message = refused(r)
    assert name in message
    assert ids["key"] not in message and ids["instance"] not in message
    assert fake.requests() == []
    assert ids["key"] not in proxy.logs()


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/models"])
def test_header_name_holding_an_original_is_refused(
    fake: FakeUpstream, client: httpx2.Client, proxy: Any, path: str
) -> None:
    ids = new_ids()
    headers = {f"x-{ids['instance']}": "1"}
    r = client.get(path, headers=headers) if path == "/v1/models" else client.post(path, json=BODY, headers=headers)
    message = refused(r)
    assert ids["instance"] not in message
    assert fake.requests() == []


def test_protocol_headers_still_go_byte_for_byte(fake: FakeUpstream, client: httpx2.Client) -> None:
    """A known bucket named like a beta's first word (`oauth`) must not block the beta list."""
    r = client.post("/v1/messages", json={**BODY, "messages": [{"role": "user", "content": "aws s3 ls s3://oauth/"}]})
    assert r.status_code == 200, r.text
    headers = {
        "anthropic-beta": "claude-code-20250219,oauth-2025-04-20",
        "anthropic-version": "2023-06-01",
        "user-agent": "claude-cli/2.0.31 (external, cli)",
        "x-stainless-os": "Linux",
    }
    r = client.post("/v1/messages", json=BODY, headers=headers)
    assert r.status_code == 200, r.text
    [_, req] = fake.requests("/v1/messages")
    for name, value in headers.items():
        assert req["headers"][name] == value


def _raw_post(port: int, extra: bytes) -> bytes:
    body = b'{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}'
    head = (
        b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnection: close\r\n"
        + b"x-api-key: "
        + MASTER_KEY.encode()
        + b"\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\n"
        + extra
        + b"\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head + body)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out


def test_utf8_header_value_is_masked_not_a_500(fake: FakeUpstream, proxy: Any) -> None:
    account = "4" + new_ids()["instance"][2:13].translate(str.maketrans("abcdef", "123456"))
    out = _raw_post(proxy.port, "x-note: 계정 ".encode() + account.encode() + b"\r\n")
    assert out.startswith(b"HTTP/1.1 200"), out[:300]
    [req] = fake.requests("/v1/messages")
    forwarded = req["headers"]["x-note"].encode("latin-1").decode("utf-8")
    assert forwarded.startswith("계정 ") and account not in forwarded
    assert "UnicodeEncodeError" not in proxy.logs()


def test_latin1_header_value_goes_as_sent(fake: FakeUpstream, proxy: Any) -> None:
    out = _raw_post(proxy.port, b"x-note: caf\xe9\r\n")
    assert out.startswith(b"HTTP/1.1 200"), out[:300]
    [req] = fake.requests("/v1/messages")
    assert req["headers"]["x-note"].encode("latin-1") == b"caf\xe9"
