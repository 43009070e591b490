"""Class 11: the console's capture shows the bytes the provider actually got.

The capture used to mask the client's body again once the request was done; meanwhile the known
set grows (here: the next request declares what the first one held bare), so the second run
showed as masked a value that had gone out raw. The capture must be the forwarded output.
"""

from __future__ import annotations

import html
import re
import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings

from tests.console.support import pre_text
from tests.leaks.support import EXAMPLES, Aws, Leaks, aws, messages, text
from tests.reliability.support import wait_until

pytestmark = pytest.mark.parametrize("store", ["embedded", "redis"], indirect=True, scope="module")


def provider_side(page: str) -> str:
    return pre_text(page, "provider-body")


@settings(EXAMPLES, max_examples=3)  # each waits for a slow stream
@given(aws)
def test_capture_holds_exactly_what_went_upstream(gw: Leaks, a: Aws) -> None:
    rid1, rid2 = f"cap-{secrets.token_hex(6)}", f"cap-{secrets.token_hex(6)}"
    gw.fake.clear()
    gw.fake.script([{"type": "text", "text": "a slow answer " * 3, "chunk": 1, "delay": 0.03}])
    # A bare 40-character string is no secret to anyone yet: it goes out as written. Its reply is
    # still streaming (the capture is made when it ends) when the next request declares it.
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(
            gw.http.post,
            "/v1/messages",
            json=messages([text(f"what is {a.secret}?")], stream=True),
            headers={"x-request-id": rid1},
        )
        assert wait_until(lambda: len(gw.fake.requests()) == 1)
        [first] = gw.fake.requests()
        declared = messages([text(f"aws_secret_access_key = {a.secret}")])
        r = gw.http.post("/v1/messages", json=declared, headers={"x-request-id": rid2})
        assert r.status_code == 200
        assert slow.result().status_code == 200
    page = gw.latest_capture(rid1)
    assert provider_side(page) == first["body"], "the capture is the forwarded body, byte for byte"
    assert a.secret in html.unescape(page)  # it went out raw, and the console says so


@EXAMPLES
@given(aws)
def test_capture_of_a_masked_request_matches_the_provider(gw: Leaks, a: Aws) -> None:
    rid3 = f"cap-{secrets.token_hex(6)}"
    body = messages([text(f"stop {a.instance} in {a.vpc}, key {a.key_id}")], stream=True)
    r, [req] = gw.send(body, headers={"x-request-id": rid3})
    assert r.status_code == 200
    page = gw.latest_capture(rid3)
    assert provider_side(page) == req["body"]
    assert not re.search(re.escape(a.instance), provider_side(page))
    gw.assert_clean([a.instance, a.vpc, a.key_id])
