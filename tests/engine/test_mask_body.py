"""Masking Anthropic Messages request bodies: what changes, and what keeps its bytes."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from maskgate import BodyError, Engine

ID = "i-0123456789abcdef0"
KEY = "AKIAZZZZZZZZZZZZZZZZ"


def body(**extra: object) -> dict[str, object]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "stream": True,
        "metadata": {"user_id": f"user_{ID}"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015"}]},
        "system": [
            {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.332.a1b; cc_entrypoint=cli;"},
            {"type": "text", "text": f"You manage {ID}.", "cache_control": {"type": "ephemeral"}},
        ],
        "tools": [
            {
                "name": "Bash",
                "description": f"Runs commands. Default host {ID}.",
                "input_schema": {
                    "type": "object",
                    "properties": {"command": {"type": "string", "description": f"e.g. stop {ID}"}},
                    "required": ["command"],
                },
            }
        ],
        "messages": [
            {"role": "user", "content": f"Stop {ID} with key {KEY}"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": f"The user wants {ID} stopped", "signature": "c2ln"},
                    {"type": "redacted_thinking", "data": f"{ID}"},
                    {"type": "text", "text": f"Stopping {ID}."},
                    {
                        "type": "tool_use",
                        "id": "toolu_01",
                        "name": "Bash",
                        "input": {"command": f"aws ec2 stop-instances --instance-ids {ID}", ID: [ID]},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_01",
                        "content": f'{{"StoppingInstances": [{{"InstanceId": "{ID}"}}]}}',
                    },
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_02",
                        "content": [{"type": "text", "text": ID}],
                    },
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": ID}},
                    {
                        "type": "document",
                        "source": {"type": "text", "media_type": "text/plain", "data": f"log {ID}"},
                        "title": ID,
                    },
                ],
            },
        ],
        **extra,
    }


def test_masks_everything_but_the_allowlist() -> None:
    raw = json.dumps(body(future_field={"x": ID}, model=f"model-{ID}")).encode()
    out = json.loads(Engine().mask_body(raw).output)
    assert out["model"] == f"model-{ID}", "model is on the allowlist: routing reads it"
    assert out["future_field"] == {"x": "ec2-001"}, "default-deny: fields not invented yet are masked"
    assert out["metadata"]["user_id"] == "user_ec2-001"
    assert out["system"][0]["text"] == "x-anthropic-billing-header: cc_version=2.1.332.a1b; cc_entrypoint=cli;"
    assert out["system"][1]["text"] == "You manage ec2-001."
    assert out["system"][1]["cache_control"] == {"type": "ephemeral"}
    assert out["tools"][0]["description"] == "Runs commands. Default host ec2-001."
    assert out["tools"][0]["input_schema"]["properties"]["command"]["description"] == "e.g. stop ec2-001"
    user, assistant, results = out["messages"]
    assert user["content"] == "Stop ec2-001 with key iam-001"
    thinking, redacted, text, tool_use = assistant["content"]
    assert thinking["thinking"] == f"The user wants {ID} stopped" and thinking["signature"] == "c2ln"
    assert redacted["data"] == ID
    assert text["text"] == "Stopping ec2-001."
    assert tool_use["input"] == {
        "command": "aws ec2 stop-instances --instance-ids ec2-001",
        "ec2-001": ["ec2-001"],
    }
    assert tool_use["id"] == "toolu_01"
    r1, r2, image, doc = results["content"]
    assert r1["tool_use_id"] == "toolu_01"
    assert r1["content"] == '{"StoppingInstances": [{"InstanceId": "ec2-001"}]}'
    assert r2["content"][0]["text"] == "ec2-001"
    assert image["source"]["data"] == ID
    assert doc["source"]["data"] == "log ec2-001" and doc["title"] == "ec2-001"


def test_an_attribution_line_that_carries_more_is_masked() -> None:
    for text in (f"x-anthropic-billing-header: cc_version=2.1; {ID}", f"x-anthropic-billing-header: note={ID};"):
        raw = json.dumps(body(system=[{"type": "text", "text": text}])).encode()
        out = json.loads(Engine().mask_body(raw).output)
        assert ID not in out["system"][0]["text"], text


def test_bytes_outside_rewritten_strings_are_unchanged() -> None:
    # Odd spacing, key order and escapes must all survive.
    raw = (
        '{ "model":"m" ,"messages" : [ {"role":"user","content":"a\\/b \\u00e9 ' + ID + ' \\n end"} ],'
        '"max_tokens":  5 }'
    ).encode()
    out = Engine().mask_body(raw).output
    assert out == raw.replace(ID.encode(), b"ec2-001")


@pytest.mark.parametrize(
    ("escaped", "value"),
    [
        ("\\u0041KIAZZZZZZZZZZZZZZZZ", KEY),
        ("\\u0069-0123456789abcdef0", ID),
        ("s3:\\/\\/my-data-bucket\\/x", "my-data-bucket"),
        ("x\\ni-0123456789abcdef0", ID),
    ],
)
def test_escapes_do_not_hide_identifiers(escaped: str, value: str) -> None:
    raw = ('{"messages":[{"role":"user","content":"' + escaped + '"}]}').encode()
    result = Engine().mask_body(raw)
    decoded = json.loads(result.output)["messages"][0]["content"]
    assert value not in decoded
    assert [f.original for f in result.findings] == [value]


def test_json_keys_give_context() -> None:
    raw = json.dumps(
        {
            "messages": [
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "t", "name": "x", "input": {"AccountId": "123456789012"}}],
                }
            ]
        }
    ).encode()
    out = json.loads(Engine().mask_body(raw).output)
    assert out["messages"][0]["content"][0]["input"] == {"AccountId": "acct-001"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "invalid JSON at byte 1"),
        (b"[1, 2]", "not a JSON object"),
        (b"\xff\xfe", "not valid UTF-8"),
        (b"[" * 10_000 + b"]" * 10_000, "nested deeper"),
        (b'{"messages": "' + ID.encode() + b'", }', "invalid JSON"),
    ],
)
def test_bad_bodies_raise_clear_errors_without_content(raw: bytes, message: str) -> None:
    with pytest.raises(BodyError, match=message) as info:
        Engine().mask_body(raw)
    assert ID not in str(info.value)


def test_huge_strings() -> None:
    big = ("word " * 400_000 + ID + " ") * 3
    raw = json.dumps({"messages": [{"role": "user", "content": big}]}).encode()
    out = json.loads(Engine().mask_body(raw).output)["messages"][0]["content"]
    assert ID not in out and out.count("ec2-001") == 3


JSON_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(JSON_TEXT, st.sampled_from([ID, KEY, "vpc-0a1b2c3d", ""]), JSON_TEXT), max_size=6),
    st.booleans(),
)
def test_bodies_stay_valid_and_byte_identical_outside_strings(parts: list[tuple[str, str, str]], ascii: bool) -> None:
    content = [{"type": "text", "text": f"{a} {ident} {b}"} for a, ident, b in parts] or [
        {"type": "text", "text": "none"}
    ]
    doc = {"model": "m", "messages": [{"role": "user", "content": content}]}
    raw = json.dumps(doc, ensure_ascii=ascii).encode()
    engine = Engine()
    result = engine.mask_body(raw)
    masked = json.loads(result.output)
    planted = {ident for _, ident, _ in parts if ident}
    for block in masked["messages"][0]["content"]:
        assert not any(p in block["text"] for p in planted)
    # Outside the replaced spans, every byte is the input's.
    pattern = b"|".join(re.escape(f.pseudonym.encode()) for f in result.findings if f.pseudonym)
    if pattern:
        assert re.split(pattern, result.output) == re.split(
            b"|".join(re.escape(raw[f.start : f.end]) for f in result.findings), raw
        )
    # And unmasking the echoed text restores it exactly.
    unmasker = result.unmasker()
    for orig, block in zip(content, masked["messages"][0]["content"], strict=True):
        assert unmasker.unmask(block["text"]) == orig["text"]
