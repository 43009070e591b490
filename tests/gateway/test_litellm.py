"""Models routed through LiteLLM to an OpenAI-compatible provider, masked both ways."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import httpx2
import pytest

from tests.fake_upstream import FakeUpstream, parse_sse
from tests.gateway.support import new_ids
from tests.proxy import MASTER_KEY, Proxy

pytest.importorskip("litellm", reason="LiteLLM is the optional [litellm] extra (make install puts it in .venv)")
pytestmark = pytest.mark.litellm


@pytest.fixture(scope="module")
def routed(fake: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    tmp = tmp_path_factory.mktemp("litellm")
    config = tmp / "maskgate.toml"
    config.write_text(
        f'[[routes]]\nmodel = "gpt-test"\nlitellm_model = "openai/gpt-test"\napi_base = "{fake.url}/v1"\n'
        'api_key = "sk-openai-test"\n',
        encoding="utf-8",
    )
    env = {"MASKGATE_CONFIG": str(config), "MASKGATE_STORE_KEY": secrets.token_hex(32)}
    with Proxy.start(tmp, fake.url, env, timeout=90) as p:
        yield p


def ask(proxy: Proxy, text: str, stream: bool) -> httpx2.Response:
    return httpx2.post(
        proxy.url + "/v1/messages",
        json={
            "model": "gpt-test",
            "max_tokens": 256,
            "stream": stream,
            "messages": [{"role": "user", "content": text}],
        },
        headers={"x-api-key": MASTER_KEY},
        timeout=120,
    )


def test_models_lists_the_routes(routed: Proxy) -> None:
    r = httpx2.get(routed.url + "/v1/models", headers={"x-api-key": MASTER_KEY})
    assert [m["id"] for m in r.json()["data"]] == ["gpt-test"]


def test_streamed_tool_call_through_litellm(fake: FakeUpstream, routed: Proxy) -> None:
    ids = new_ids()
    fake.script(
        [
            {
                "type": "tool_use",
                "name": "Bash",
                "input": {"command": "aws ec2 describe-instances --instance-ids {{first:ec2-\\d+}}"},
                "chunk": 4,
            }
        ]
    )
    r = ask(routed, f"describe {ids['instance']}", stream=True)
    assert r.status_code == 200, r.text
    events = parse_sse(r.text)
    partial = "".join(d["delta"].get("partial_json", "") for name, d in events if name == "content_block_delta")
    assert json.loads(partial) == {"command": f"aws ec2 describe-instances --instance-ids {ids['instance']}"}
    [seen] = fake.requests("/v1/chat/completions")
    assert ids["instance"] not in seen["body"] and "ec2-" in seen["body"]
    assert seen["headers"].get("authorization") == "Bearer sk-openai-test"


def test_non_streamed_text_through_litellm(fake: FakeUpstream, routed: Proxy) -> None:
    ids = new_ids()
    fake.script([{"type": "text", "text": "Bucket {{first:bucket-\\d+}} is fine."}])
    r = ask(routed, f"check s3://{ids['bucket']}/x", stream=False)
    assert r.status_code == 200, r.text
    assert r.json()["content"][0]["text"] == f"Bucket {ids['bucket']} is fine."
    assert ids["bucket"] not in fake.requests("/v1/chat/completions")[0]["body"]


def test_provider_errors_keep_anthropic_shape(fake: FakeUpstream, routed: Proxy) -> None:
    fake.script([{"type": "error", "status": 429, "headers": {"retry-after": "3"}}])
    r = ask(routed, "hi", stream=True)
    assert r.status_code == 429
    assert r.json()["type"] == "error" and r.json()["error"]["type"] == "rate_limit_error"


@pytest.mark.parametrize("status", [401, 400])
def test_provider_error_quoting_the_routes_key_is_not_shown(fake: FakeUpstream, routed: Proxy, status: int) -> None:
    """A provider's error message may go to the client, but not one that quotes the route's own
    API key (an OpenAI-compatible server saying which key it refused)."""
    message = "Incorrect API key provided: sk-openai-test."
    fake.script([{"type": "error", "status": status, "body": {"error": {"message": message, "type": "x"}}}])
    r = ask(routed, "hi", stream=False)
    assert r.status_code == status
    assert r.json()["type"] == "error"
    assert "sk-openai-test" not in r.text
    assert "sk-openai-test" not in routed.logs()
