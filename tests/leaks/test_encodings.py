"""Class 6: encodings and splits: what users paste is read the way they meant it.

Percent-encoded ARNs and `s3://` URIs (console URLs), values written with JSON escapes (`\\/`,
`\\u002B`), the base64 of an access key ID (Kubernetes Secrets), session tokens and secrets wrapped
over lines, zero-width / soft-hyphen / full-width characters inside an ID, IDs glued to `-` or
`_`, and one ID split across two adjacent text blocks. Each is masked over its whole written span,
and the client gets back exactly what it wrote.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.leaks.support import EXAMPLES, Aws, Leaks, aws, echo_round_trip, messages, reply_text, text


def wrap(value: str, width: int) -> str:
    return "\n".join(value[i : i + width] for i in range(0, len(value), width))


def pieces(value: str, width: int) -> list[str]:
    return [value[i : i + width] for i in range(0, len(value), width)]


def fullwidth(value: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in value)


# name -> (prose with the originals as users write them, the forms that must not reach the provider)
CASES: dict[str, Callable[[Aws], tuple[str, list[str]]]] = {
    "percent-encoded ARN": lambda a: (
        "https://us-east-1.console.aws.amazon.com/iam/home#/roles/details/"
        f"{quote(a.role_arn.split('/')[-1])}?arn={quote(a.role_arn, safe='')}",
        [a.role_arn, quote(a.role_arn, safe=""), a.account],
    ),
    "percent-encoded s3 URI": lambda a: (
        f"https://s3.console.aws.amazon.com/s3/buckets?region={a.region}"
        f"&prefix={quote(f's3://{a.bucket}/logs/', safe='')}",
        [a.bucket, quote(f"s3://{a.bucket}/", safe="")],
    ),
    "wrapped session token": lambda a: (f"aws_session_token = {wrap(a.token, 76)}\n", pieces(a.token, 76)),
    "wrapped secret on its own lines": lambda a: (
        f"secret:\n{a.secret[:20]}\n{a.secret[20:]}\n",
        [a.secret[:20], a.secret[20:], a.secret],
    ),
    "zero-width inside": lambda a: (f"instance {a.instance[:6]}\u200b{a.instance[6:]}", [a.instance, a.instance[6:]]),
    "soft hyphen inside": lambda a: (f"instance {a.instance[:9]}\u00ad{a.instance[9:]}", [a.instance, a.instance[:9]]),
    "full-width": lambda a: (f"インスタンス {fullwidth(a.instance)} を停止", [fullwidth(a.instance), a.instance]),
    "glued to - and _": lambda a: (
        f"hosts: web-{a.instance}, {a.instance}_old, {a.vpc}-peering",
        [a.instance, a.vpc],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_written_form_is_masked_and_restored(gw: Leaks, case: str) -> None:
    @EXAMPLES
    @given(aws, st.booleans())
    def run(a: Aws, stream: bool) -> None:
        prose, forms = CASES[case](a)
        body = messages([text(f"context first: instance {a.instance[:0]}\n{prose}")], stream=stream)
        echo_round_trip(gw, body, "/messages/0/content/0/text", forms)

    run()


@pytest.mark.parametrize(
    "head", ["aws_secret_access_key = ", '"SecretAccessKey": "', "secret (split so Slack does not unfurl it):\n"]
)
def test_secret_wrapped_after_its_key_name(gw: Leaks, head: str) -> None:
    @EXAMPLES
    @given(aws)
    def run(a: Aws) -> None:
        prose = f"{head}{a.secret[:20]}\n{a.secret[20:]}\n"
        echo_round_trip(gw, messages([text(prose)]), "/messages/0/content/0/text", [a.secret[:20], a.secret[20:]])

    run()


@EXAMPLES
@given(aws)
def test_json_escapes_inside_a_value(gw: Leaks, a: Aws) -> None:
    """`\\/` inside an ARN and `\\u002B` inside a secret, as some serialisers write them."""

    def escaped(s: str) -> str:
        return json.dumps(s)[1:-1].replace("/", "\\/").replace("+", "\\u002B")

    prose = f"assume {a.role_arn}; aws_secret_access_key = {a.secret}"
    raw = (
        '{"model":"claude-sonnet-4-5","max_tokens":9,"messages":[{"role":"user","content":[{"type":"text","text":"'
        + escaped(prose)
        + '"}]}]}'
    ).encode()
    assert json.loads(raw)["messages"][0]["content"][0]["text"] == prose
    r, recorded = gw.send(raw, {"type": "text", "text": "{{field:/messages/0/content/0/text}}"})
    assert r.status_code == 200 and reply_text(r) == prose
    gw.assert_clean([a.role_arn, a.secret, a.account, escaped(a.secret), escaped(a.role_arn)])


@EXAMPLES
@given(aws, st.integers(4, 15))
def test_id_split_over_two_adjacent_text_blocks(gw: Leaks, a: Aws, cut: int) -> None:
    body = messages([text(f"please stop instance {a.instance[:cut]}"), text(f"{a.instance[cut:]} now")])
    # The model reads the two blocks as one text and answers with the pseudonym whole.
    r, _ = gw.send(
        body, {"type": "text", "text": "{{field:/messages/0/content/0/text}}{{field:/messages/0/content/1/text}}"}
    )
    assert r.status_code == 200
    assert reply_text(r) == f"please stop instance {a.instance} now"
    gw.assert_clean([a.instance, a.instance[:cut] if cut >= 8 else a.instance, a.instance[cut:]])


@EXAMPLES
@given(aws)
def test_base64_of_a_key_id_in_a_kubernetes_secret(gw: Leaks, a: Aws) -> None:
    b64 = lambda s: base64.b64encode(s.encode()).decode()  # noqa: E731
    manifest = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: aws-creds\ntype: Opaque\ndata:\n"
        f"  AWS_ACCESS_KEY_ID: {b64(a.key_id)}\n  AWS_SECRET_ACCESS_KEY: {b64(a.secret)}\n"
    )
    echo_round_trip(gw, messages([text(manifest)]), "/messages/0/content/0/text", [a.key_id, a.secret])
