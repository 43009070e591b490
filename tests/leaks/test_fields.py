"""Class 4: every field the model reads is masked (the default-deny walk), not only text.

Tool definitions (schemas with enum/default/examples/const/title and property names,
`input_examples`, tool names), server-tool parameters, search results, citations, document and
image URL sources (a presigned URL carries the key ID and the session token), `metadata`,
`stop_sequences`, `tool_choice`, `output_format`/`output_config`, fields not invented yet, and a
system block that merely starts like Claude Code's attribution line. A masked tool name comes
back restored in the reply's `tool_use.name`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.leaks.support import EXAMPLES, Aws, Leaks, aws, messages, reply_tool_uses, text


def presigned(a: Aws) -> str:
    cred = quote(f"{a.key_id}/20250101/{a.region}/s3/aws4_request", safe="")
    return (
        f"https://{a.bucket}.s3.{a.region}.amazonaws.com/report.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Credential={cred}&X-Amz-Date=20250101T000000Z&X-Amz-Expires=3600"
        f"&X-Amz-Security-Token={quote(a.token, safe='')}&X-Amz-SignedHeaders=host&X-Amz-Signature={'0' * 64}"
    )


def schema(a: Aws) -> dict[str, Any]:
    return {
        "type": "object",
        "title": f"Stop {a.instance}",
        "properties": {
            a.instance: {"type": "string", "enum": [a.instance, a.vpc], "default": a.instance},
            "bucket": {"type": "string", "examples": [f"s3://{a.bucket}/x"], "const": f"s3://{a.bucket}/x"},
            "role": {"type": "string", "description": f"assume {a.role_arn}"},
        },
    }


def tools(a: Aws) -> dict[str, Any]:
    return {
        "tools": [
            {
                "name": "Deploy",
                "description": "deploys",
                "input_schema": schema(a),
                "input_examples": [{"instance": a.instance, "role": a.role_arn}],
            }
        ]
    }


FIELDS: dict[str, Callable[[Aws], dict[str, Any]]] = {
    "input_schema": tools,
    "server tool params": lambda a: {
        "tools": [
            {
                "type": "web_search_20250305",
                "name": "web_search",
                "allowed_domains": [f"{a.bucket}.s3.{a.region}.amazonaws.com"],
                "user_location": {"type": "approximate", "city": f"account {a.account}"},
            },
            {"type": "web_fetch_20250910", "name": "web_fetch", "blocked_domains": [f"{a.bucket}.s3.amazonaws.com"]},
        ]
    },
    "search_result": lambda a: {
        "messages": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "search_result",
                        "source": f"https://{a.bucket}.s3.amazonaws.com/{a.instance}.json",
                        "title": f"{a.instance} in {a.vpc}",
                        "content": [text(f"role {a.role_arn}")],
                        "citations": {"enabled": True},
                    }
                ],
            }
        ]
    },
    "citations": lambda a: {
        "messages": [
            {"role": "user", "content": "q"},
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "text",
                        "text": "see",
                        "citations": [
                            {
                                "type": "web_search_result_location",
                                "url": f"https://{a.bucket}.s3.amazonaws.com/{a.instance}",
                                "title": f"{a.role_arn}",
                                "cited_text": f"instance {a.instance}",
                                "encrypted_index": "Eo8BCioIAhgBIiQ",
                            },
                            {
                                "type": "search_result_location",
                                "source": f"https://console.aws.amazon.com/ec2/home#InstanceDetails:instanceId={a.instance}",
                                "title": a.role_arn,
                                "cited_text": "x",
                                "search_result_index": 0,
                                "start_block_index": 0,
                                "end_block_index": 0,
                            },
                        ],
                    }
                ],
            },
            {"role": "user", "content": "ok"},
        ]
    },
    "document and image URLs": lambda a: {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "document", "source": {"type": "url", "url": presigned(a)}, "title": a.instance},
                    {"type": "image", "source": {"type": "url", "url": presigned(a)}},
                    text("summarise"),
                ],
            }
        ]
    },
    "metadata": lambda a: {"metadata": {"user_id": f"{a.role_arn}/session-{a.instance}"}},
    "stop_sequences": lambda a: {"stop_sequences": [a.instance, f"s3://{a.bucket}/", a.role_arn]},
    "tool_choice": lambda a: {
        **tools(a),
        "tool_choice": {"type": "tool", "name": f"stop-{a.instance}", "disable_parallel_tool_use": True},
    },
    "output_format": lambda a: {"output_format": {"type": "json_schema", "schema": schema(a)}},
    "output_config": lambda a: {
        "output_config": {"effort": "high", "format": {"type": "json_schema", "schema": schema(a)}}
    },
    "unknown fields": lambda a: {
        "brand_new_field": {"nested": [{"deep": f"role {a.role_arn}"}], f"account {a.account}": True},
        "context_management": {"edits": [{"type": "clear_tool_uses_20250919", "note": a.instance}]},
    },
    "billing-header prefix": lambda a: {
        "system": [
            {
                "type": "text",
                "text": f"x-anthropic-billing-header: cc_version=2.1.1.abc; cc_entrypoint=cli;\n"
                f"Deploy to {a.instance} with role {a.role_arn}",
            },
            {"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}},
        ]
    },
    "mcp": lambda a: {
        "mcp_servers": [
            {
                "type": "url",
                "url": f"https://{a.bucket}.s3.amazonaws.com/mcp",
                "name": f"mcp-{a.instance}",
                "authorization_token": f"aws_secret_access_key={a.secret}",
            }
        ],
        "messages": [
            {"role": "user", "content": "go"},
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "mcp_tool_use",
                        "id": "mcptoolu_01",
                        "name": "describe",
                        "server_name": f"srv-{a.instance}",
                        "input": {"id": a.instance},
                    },
                    {
                        "type": "mcp_tool_result",
                        "tool_use_id": "mcptoolu_01",
                        "is_error": False,
                        "content": [text(f"role {a.role_arn}")],
                    },
                ],
            },
            {"role": "user", "content": "ok"},
        ],
    },
}

ORIGINALS: Callable[[Aws], list[str]] = lambda a: [  # noqa: E731
    a.instance,
    a.vpc,
    a.role_arn,
    a.account,
    a.key_id,
    a.token,
    a.secret,
]


def _present(a: Aws, body: dict[str, Any]) -> list[str]:
    import json

    raw = json.dumps(body)
    return [o for o in ORIGINALS(a) if o in raw or quote(o, safe="") in raw]


@pytest.mark.parametrize("where", sorted(FIELDS))
def test_field_is_masked(gw: Leaks, where: str) -> None:
    @EXAMPLES
    @given(aws, st.booleans())
    def run(a: Aws, stream: bool) -> None:
        body = {**messages([text(f"context: instance {a.instance}")], stream=stream), **FIELDS[where](a)}
        originals = _present(a, body)
        assert originals
        r, recorded = gw.send(body)
        assert r.status_code == 200, r.text[:300]
        assert len(recorded) == 1
        gw.assert_clean(originals)

    run()


@EXAMPLES
@given(aws, st.booleans())
def test_masked_tool_name_is_restored_in_the_reply(gw: Leaks, a: Aws, stream: bool) -> None:
    """A tool named after a resource: the model sees the masked name and calls it by that name."""
    name = f"reboot-{a.instance}"
    body = messages([text(f"reboot instance {a.instance}")], stream=stream)
    body["tools"] = [{"name": name, "description": f"reboots {a.instance}", "input_schema": schema(a)}]
    reply = {
        "type": "tool_use",
        "name": "{{field:/tools/0/name}}",
        "input": {"target": "{{field:/tools/0/input_schema/properties/bucket/const}}"},
    }
    r, recorded = gw.send(body, reply)
    assert r.status_code == 200, r.text[:300]
    [call] = reply_tool_uses(r)
    assert call["name"] == name
    assert call["input"] == {"target": f"s3://{a.bucket}/x"}
    gw.assert_clean([a.instance, a.vpc, a.bucket, a.role_arn])
