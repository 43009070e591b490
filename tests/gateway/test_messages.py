"""The gateway end to end over HTTP: masked on the way out, restored on the way back."""

from __future__ import annotations

import json
from typing import Any

import httpx2

from tests.fake_upstream import FakeUpstream, parse_sse
from tests.gateway.support import TENANT_B_KEY, new_ids
from tests.proxy import MASTER_KEY

BETA = "claude-code-20250219,interleaved-thinking-2025-05-14"


def request(text: str, stream: bool = False, **extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 512,
        "stream": stream,
        "system": [
            {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.332;"},
            {"type": "text", "text": "You are an ops assistant.", "cache_control": {"type": "ephemeral"}},
        ],
        "messages": [{"role": "user", "content": text}],
        **extra,
    }


def recorded_bodies(fake: FakeUpstream, path: str = "/v1/messages") -> list[str]:
    return [r["body"] for r in fake.requests(path)]


def test_non_streamed_round_trip(fake: FakeUpstream, client: httpx2.Client) -> None:
    ids = new_ids()
    fake.script([{"type": "text", "text": "Stopped {{first:ec2-\\d+}} in {{first:vpc-\\d+}}."}])
    r = client.post("/v1/messages", json=request(f"Stop {ids['instance']} in {ids['vpc']}"))
    assert r.status_code == 200, r.text
    assert r.json()["content"][0]["text"] == f"Stopped {ids['instance']} in {ids['vpc']}."
    [seen] = recorded_bodies(fake)
    assert ids["instance"] not in seen and ids["vpc"] not in seen
    assert json.loads(seen)["messages"][0]["content"].startswith("Stop ec2-")


def test_streamed_text_and_tool_call_cut_at_every_offset(fake: FakeUpstream, client: httpx2.Client) -> None:
    ids = new_ids()
    fake.script(
        [
            {
                "type": "thinking",
                "thinking": "The user means {{first:ec2-\\d+}}.",
                "signature": "sig-abc",
                "then": {
                    "type": "text",
                    "text": "Stopping {{first:ec2-\\d+}} now",
                    "then": {
                        "type": "tool_use",
                        "name": "Bash",
                        "input": {"command": "aws ec2 stop-instances --instance-ids {{first:ec2-\\d+}}"},
                    },
                },
                "chunk": 1,
            }
        ]
    )
    with client.stream("POST", "/v1/messages?beta=true", json=request(f"stop {ids['instance']}", stream=True)) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        body = r.read().decode()
    events = parse_sse(body)
    kinds = [name for name, _ in events]
    deltas = [data["delta"] for name, data in events if name == "content_block_delta"]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop" and "ping" in kinds
    text = "".join(d.get("text", "") for d in deltas)
    thinking = "".join(d.get("thinking", "") for d in deltas)
    partial = "".join(d.get("partial_json", "") for d in deltas)
    assert text == f"Stopping {ids['instance']} now"
    assert json.loads(partial) == {"command": f"aws ec2 stop-instances --instance-ids {ids['instance']}"}
    assert "ec2-" in thinking and ids["instance"] not in thinking, "thinking is never rewritten"
    assert any(d.get("signature") == "sig-abc" for d in deltas)
    assert ids["instance"] not in "".join(recorded_bodies(fake))


def test_headers_forwarded_and_our_key_is_not(fake: FakeUpstream, client: httpx2.Client) -> None:
    r = client.post(
        "/v1/messages?beta=true",
        json=request("hi"),
        headers={"anthropic-version": "2023-06-01", "anthropic-beta": BETA, "x-claude-code-session-id": "s1"},
    )
    assert r.status_code == 200
    [seen] = fake.requests("/v1/messages")
    headers = {k.lower(): v for k, v in seen["headers"].items()}
    assert headers["anthropic-beta"] == BETA and headers["anthropic-version"] == "2023-06-01"
    assert headers["x-claude-code-session-id"] == "s1"
    assert headers["x-api-key"] == "sk-upstream-test"
    assert MASTER_KEY not in json.dumps(seen)
    assert seen["query"] == "beta=true"


def test_passthrough_mode_forwards_the_clients_credential(fake: FakeUpstream, proxy: Any) -> None:
    r = httpx2.post(
        proxy.url + "/v1/messages",
        json=request("hi"),
        headers={"authorization": "Bearer sk-ant-oauth-user", "x-maskgate-key": MASTER_KEY},
    )
    assert r.status_code == 200
    [seen] = fake.requests("/v1/messages")
    headers = {k.lower(): v for k, v in seen["headers"].items()}
    assert headers["authorization"] == "Bearer sk-ant-oauth-user"
    assert "x-maskgate-key" not in headers and "x-api-key" not in headers


def test_upstream_errors_pass_through_unchanged(fake: FakeUpstream, client: httpx2.Client) -> None:
    body = {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}
    fake.script(
        [
            {
                "type": "error",
                "status": 429,
                "body": body,
                "headers": {
                    "retry-after": "7",
                    "x-should-retry": "true",
                    "anthropic-ratelimit-requests-remaining": "0",
                },
            }
        ]
    )
    r = client.post("/v1/messages", json=request("hi", stream=True))
    assert r.status_code == 429
    assert r.json() == body
    assert r.headers["retry-after"] == "7" and r.headers["x-should-retry"] == "true"
    assert r.headers["anthropic-ratelimit-requests-remaining"] == "0"


def test_tenants_never_see_each_others_originals(fake: FakeUpstream, proxy: Any, client: httpx2.Client) -> None:
    ids = new_ids()
    fake.script([{"type": "text", "text": "ok {{first:ec2-\\d+}}"}])
    r = client.post("/v1/messages", json=request(f"look at {ids['instance']}"))
    pseudonym = r.json()["content"][0]["text"]
    assert pseudonym == f"ok {ids['instance']}"
    issued = json.loads(recorded_bodies(fake)[0])["messages"][0]["content"].split()[-1]
    # Tenant B sends A's pseudonym and the model echoes it: it must stay a pseudonym.
    fake.script([{"type": "text", "text": f"echo {issued}"}])
    b = httpx2.post(proxy.url + "/v1/messages", json=request(f"what is {issued}"), headers={"x-api-key": TENANT_B_KEY})
    assert b.json()["content"][0]["text"] == f"echo {issued}"
    assert ids["instance"] not in b.text


def test_round_trip_keeps_the_masked_history_byte_identical(fake: FakeUpstream, client: httpx2.Client) -> None:
    ids = new_ids()
    fake.script([{"type": "text", "text": "Use {{first:ec2-\\d+}} with s3://{{first:bucket-\\d+}}/x"}])
    turn1 = request(f"Check {ids['instance']} and s3://{ids['bucket']}/logs")
    r1 = client.post("/v1/messages", json=turn1)
    reply = r1.json()["content"][0]["text"]
    assert ids["instance"] in reply and ids["bucket"] in reply
    model_said = fake.requests("/v1/messages")[0]
    masked_turn1 = json.loads(model_said["body"])
    # What the fake (the model) wrote, in pseudonyms:
    model_text = reply.replace(ids["instance"], masked_turn1["messages"][0]["content"].split()[1])
    turn2 = dict(turn1)
    turn2["messages"] = [*turn1["messages"], {"role": "assistant", "content": reply}, {"role": "user", "content": "go"}]
    client.post("/v1/messages", json=turn2)
    masked_turn2 = json.loads(fake.requests("/v1/messages")[1]["body"])
    assert masked_turn2["messages"][0] == masked_turn1["messages"][0]
    assert masked_turn2["messages"][1]["content"].split()[1] == model_text.split()[1]
    assert ids["instance"] not in json.dumps(masked_turn2) and ids["bucket"] not in json.dumps(masked_turn2)


def test_count_tokens_is_masked(fake: FakeUpstream, client: httpx2.Client) -> None:
    ids = new_ids()
    r = client.post(
        "/v1/messages/count_tokens", json={"model": "m", "messages": [{"role": "user", "content": ids["key"]}]}
    )
    assert r.status_code == 200 and "input_tokens" in r.json()
    [seen] = fake.requests("/v1/messages/count_tokens")
    assert ids["key"] not in seen["body"] and "iam-" in seen["body"]


def test_probe_health_and_models(client: httpx2.Client, proxy: Any) -> None:
    assert httpx2.head(proxy.url + "/").status_code == 200
    assert httpx2.head(proxy.url + "/api/hello").status_code == 200
    h = httpx2.get(proxy.url + "/health")
    assert h.status_code == 200 and h.json()["store"] == "ok"
    assert client.get("/v1/models?limit=1000").status_code == 200
