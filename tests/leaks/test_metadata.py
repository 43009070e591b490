"""Class 10: keys and request metadata.

maskgate's own client keys never go upstream, whatever header the client also put them in; the
client's `model` (a Bedrock inference-profile ARN carries the account) and `x-request-id` are
masked before the JSON log, the console's activity and its store, and a `model` that holds a
credential is refused, never forwarded (the provider routes on the name as sent); query strings
and header values are masked on their way upstream; the access log prints no raw query.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fake_upstream import FakeUpstream
from tests.leaks.support import EXAMPLES, OWN_KEYS, Aws, Leaks, aws, messages, reply_text, running, text
from tests.proxy import MASTER_KEY

pytestmark = pytest.mark.parametrize("store", ["embedded", "redis"], indirect=True, scope="module")

ANTHROPIC_KEY = "sk-ant-api03-" + "q" * 40


@pytest.mark.parametrize(
    "extra",
    [
        {"authorization": f"Bearer {MASTER_KEY}"},
        {"x-api-key": MASTER_KEY},
        {"authorization": f"Bearer {MASTER_KEY}", "x-api-key": MASTER_KEY},
        {"x-forwarded-key": f"key={OWN_KEYS[1]}"},
    ],
    ids=["bearer", "x-api-key", "both", "custom header"],
)
def test_own_client_key_is_never_forwarded(gw: Leaks, extra: dict[str, str]) -> None:
    """Pass-through mode (x-maskgate-key), with the key also in the usual headers (apiKeyHelper)."""
    r, recorded = gw.send(messages([text("hi")]), headers={"x-maskgate-key": MASTER_KEY, **extra})
    assert r.status_code == 200, r.text[:300]
    [req] = recorded
    assert "x-maskgate-key" not in req["headers"]
    for key in OWN_KEYS:
        assert key not in json.dumps(req["headers"])
    gw.assert_clean(list(OWN_KEYS))


def test_the_clients_anthropic_key_still_passes_through(gw: Leaks) -> None:
    r, [req] = gw.send(
        messages([text("hi")]), headers={"x-maskgate-key": MASTER_KEY, "authorization": f"Bearer {ANTHROPIC_KEY}"}
    )
    assert r.status_code == 200
    assert req["headers"]["authorization"] == f"Bearer {ANTHROPIC_KEY}"


def profile_arn(a: Aws) -> str:
    return f"arn:aws:bedrock:{a.region}:{a.account}:application-inference-profile/{a.secret[:12].lower()}"


@EXAMPLES
@given(aws, st.booleans())
def test_model_arn_and_request_id_are_masked_in_logs_and_console(gw: Leaks, a: Aws, stream: bool) -> None:
    model = profile_arn(a)
    rid = f"deploy-{a.instance}"
    body = {**messages([text(f"instance {a.instance}")], stream=stream), "model": model}
    r, [req] = gw.send(body, headers={"x-request-id": f"instance {a.instance}"})
    assert r.status_code == 200, r.text[:300]
    assert req["json"]["model"] == model, "the provider routes on the model: it goes as sent"
    r, _ = gw.send(body, headers={"x-request-id": rid})
    assert r.status_code == 200
    gw.assert_clean([a.account, model, a.instance, rid], provider=False)
    gw.assert_clean([a.instance, rid])


def test_request_id_of_a_refused_request_is_not_logged_in_clear(gw: Leaks) -> None:
    rid = "instance i-0123456789abcdef1 failed"
    r = gw.http.post("/v1/messages", content=b"{}", headers={"x-api-key": "wrong-" + "k" * 20, "x-request-id": rid})
    assert r.status_code == 401
    r = gw.http.post("/v1/messages", content=b"x", headers={"content-type": "text/plain", "x-request-id": rid})
    assert r.status_code == 415
    gw.assert_clean(["i-0123456789abcdef1"])


@EXAMPLES
@given(aws)
def test_query_string_and_header_values_are_masked_upstream(gw: Leaks, a: Aws) -> None:
    headers = {
        "x-claude-code-session-id": "5f0c3f1e-8d7a-4c55-9a51-3a8f7c2b9e10",
        "anthropic-beta": "claude-code-20250219,context-1m-2025-08-07",
        "anthropic-version": "2023-06-01",
        "x-deploy-target": f"instance {a.instance} in account {a.account}",
        "x-role": a.role_arn,
    }
    params = {"beta": "true", "note": f"instance {a.instance}", "role": a.role_arn}
    r, [req] = gw.send(messages([text(f"instance {a.instance}")]), headers=headers, params=params)
    assert r.status_code == 200, r.text[:300]
    assert reply_text(r) == "OK"
    for name in ("x-claude-code-session-id", "anthropic-beta", "anthropic-version"):
        assert req["headers"][name] == headers[name], "protocol headers go byte for byte"
    assert "beta=true" in req["query"]
    assert req["headers"]["x-deploy-target"] != headers["x-deploy-target"]
    gw.assert_clean([a.instance, a.account, a.role_arn])


@pytest.fixture(scope="module")
def loud(fake: FakeUpstream, store: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Leaks]:
    """A gateway run the way `uvicorn maskgate.server:app` runs by default: access log on."""
    with running(fake, tmp_path_factory.mktemp("leaks-access"), store, log_level="info") as leaks:
        yield leaks


@EXAMPLES
@given(aws)
def test_access_log_prints_no_raw_query(loud: Leaks, a: Aws) -> None:
    r, _ = loud.send(messages([text("hi")]), params={"beta": "true", "arn": a.role_arn, "i": f"instance {a.instance}"})
    assert r.status_code == 200
    assert '"POST /v1/messages' in loud.proxy.logs(), "the access log is on"
    loud.assert_clean([a.role_arn, a.account, a.instance])


@EXAMPLES
@given(aws)
def test_access_log_prints_no_unknown_path(loud: Leaks, a: Aws) -> None:
    """A path no route serves is the client's text: a 404 (or the console's guard) must not log it."""
    for path in (f"/v1/{a.key_id}", f"/console/{a.instance}", f"/console/captures/{a.instance}", f"/{a.secret}/x"):
        r = loud.http.get(path, headers={"x-api-key": "nobody-" + "k" * 20})
        assert r.status_code in (303, 401, 403, 404), (path, r.status_code)
    r, _ = loud.send(messages([text("hi")]))
    assert r.status_code == 200
    assert '"POST /v1/messages HTTP/1.1" 200' in loud.proxy.logs(), "the routes' paths are still logged"
    loud.assert_clean([a.key_id, a.instance, a.secret])


@EXAMPLES
@given(aws)
def test_model_shaped_like_a_plain_name_is_masked_in_logs_and_console(gw: Leaks, a: Aws) -> None:
    """An instance ID has a model name's shape (letters, digits, dashes): it goes to the provider as
    sent, and logs and the console must still not show it. An access key as the model is refused."""
    r, [req] = gw.send({**messages([text("hi")]), "model": a.instance})
    assert r.status_code == 200, r.text[:300]
    assert req["json"]["model"] == a.instance
    r, recorded = gw.send({**messages([text("hi")]), "model": a.key_id})
    assert r.status_code == 400, r.text[:300]
    assert recorded == []
    gw.assert_clean([a.key_id, a.instance], provider=False)


def bedrock_api_key(a: Aws) -> str:
    """A long-term Bedrock API key: ABSK + base64 of `BedrockAPIKey-<id>-at-<account>:<secret>`."""
    raw = f"BedrockAPIKey-{a.secret[:4].lower()}-at-{a.account}:".encode() + base64.b64decode(a.secret)
    return "ABSK" + base64.b64encode(raw).decode()


# A credential found wherever it is: pasted as the model, it is refused with no context.
BARE = {
    "access key id": lambda a: a.key_id,
    "session token": lambda a: a.token,
    "bedrock api key": bedrock_api_key,
    "key id and secret": lambda a: f"{a.key_id}:{a.secret}",
}
# A credential found by its context: pasted as the model after a prompt had it, it is a known value.
LEARNED = {
    "secret access key": (lambda a: a.secret, "aws_secret_access_key = {}"),
    "password": (lambda a: a.secret[:20].replace("/", "_").replace("+", "-"), "export DB_PASSWORD={}"),
}


def refused_model(gw: Leaks, model: str, path: str) -> str:
    """Sends `model` on `path`; the answer must be an Anthropic 400 and the provider get nothing."""
    r, recorded = gw.send({**messages([text("hi")]), "model": model}, path=path)
    assert r.status_code == 400, r.text[:300]
    error = r.json()
    assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
    assert "model" in error["error"]["message"]
    assert model not in r.text
    assert recorded == [], "nothing is forwarded"
    return str(error["error"]["message"])


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/count_tokens"])
@pytest.mark.parametrize("what", sorted(BARE))
@EXAMPLES
@given(a=aws)
def test_model_holding_a_credential_is_refused(gw: Leaks, a: Aws, what: str, path: str) -> None:
    model = BARE[what](a)
    for given_model in (model, f"us.anthropic.{model}", f"{model}-v2:0"):
        refused_model(gw, given_model, path)
    gw.assert_clean([a.key_id, a.token, a.secret, model])


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/count_tokens"])
@pytest.mark.parametrize("what", sorted(LEARNED))
@EXAMPLES
@given(a=aws)
def test_model_that_is_a_credential_the_namespace_knows_is_refused(gw: Leaks, a: Aws, what: str, path: str) -> None:
    """The secret was masked where its context named it; pasted bare as the model, it is known."""
    value_of, line = LEARNED[what]
    value = value_of(a)
    r, [req] = gw.send(messages([text(line.format(value))]))
    assert r.status_code == 200, r.text[:300]
    refused_model(gw, value, path)
    gw.assert_clean([value])


def test_known_value_inside_a_model_name_does_not_block_it(gw: Leaks) -> None:
    """Only a whole name that is a known credential is refused: a password that happens to be a
    model name's word must not block every request that names the model."""
    r, _ = gw.send(messages([text("export DB_PASSWORD=sonnet-45")]))
    assert r.status_code == 200, r.text[:300]
    r, [req] = gw.send({**messages([text("hi")]), "model": "claude-sonnet-45-20250929"})
    assert r.status_code == 200, r.text[:300]
    assert req["json"]["model"] == "claude-sonnet-45-20250929"
