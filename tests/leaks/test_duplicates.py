"""Class 5: duplicate keys at any depth: every copy is masked, the first as well as the last.

JSON parsers disagree on which copy wins (Python keeps the last, others the first), so the
provider may read either: the gateway must mask both. The bodies are written by hand to hold
the duplicates; the check reads what the provider recorded, byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from hypothesis import given

from tests.leaks.support import EXAMPLES, Aws, Leaks, aws


def q(s: str) -> str:
    return json.dumps(s)


def secret_text(a: Aws) -> str:
    return f"aws_secret_access_key = {a.secret}, instance {a.instance} in {a.vpc}"


# Each builds a raw body in which the first copy of a key carries the originals.
BODIES: dict[str, Callable[[Aws], str]] = {
    "messages": lambda a: (
        f'{{"model":"claude-sonnet-4-5","max_tokens":9,"messages":[{{"role":"user","content":{q(secret_text(a))}}}],'
        '"messages":[{"role":"user","content":"hi"}]}'
    ),
    "content": lambda a: (
        '{"model":"claude-sonnet-4-5","max_tokens":9,"messages":[{"role":"user",'
        f'"content":{q(secret_text(a))},"content":"hi"}}]}}'
    ),
    "text": lambda a: (
        '{"model":"claude-sonnet-4-5","max_tokens":9,"messages":[{"role":"user","content":[{"type":"text",'
        f'"text":{q(secret_text(a))},"text":"hi"}}]}}]}}'
    ),
    "input": lambda a: (
        '{"model":"claude-sonnet-4-5","max_tokens":9,"messages":[{"role":"user","content":"go"},'
        '{"role":"assistant","content":[{"type":"tool_use","id":"toolu_01","name":"Bash",'
        f'"input":{{"command":{q(secret_text(a))}}},"input":{{"command":"ls"}}}}]}}]}}'
    ),
    "tool_result content": lambda a: (
        '{"model":"claude-sonnet-4-5","max_tokens":9,"messages":[{"role":"user","content":[{"type":"tool_result",'
        f'"tool_use_id":"toolu_01","content":[{{"type":"text","text":{q(secret_text(a))}}}],"content":"ok"}}]}}]}}'
    ),
    "input_schema": lambda a: (
        '{"model":"claude-sonnet-4-5","max_tokens":9,"messages":[{"role":"user","content":"hi"}],'
        '"tools":[{"name":"t","description":"d",'
        f'"input_schema":{{"type":"object","description":{q(secret_text(a))}}},'
        '"input_schema":{"type":"object"}}]}'
    ),
    "source": lambda a: (
        '{"model":"claude-sonnet-4-5","max_tokens":9,"messages":[{"role":"user","content":[{"type":"document",'
        f'"source":{{"type":"text","media_type":"text/plain","data":{q(secret_text(a))}}},'
        '"source":{"type":"text","media_type":"text/plain","data":"x"}}]}]}'
    ),
    "citations": lambda a: (
        '{"model":"claude-sonnet-4-5","max_tokens":9,"messages":[{"role":"user","content":"hi"},'
        '{"role":"assistant","content":[{"type":"text","text":"t",'
        f'"citations":[{{"type":"char_location","cited_text":{q(secret_text(a))},"document_index":0,'
        '"start_char_index":0,"end_char_index":1}],"citations":[]}]}]}'
    ),
    "deep, three copies": lambda a: (
        '{"model":"claude-sonnet-4-5","max_tokens":9,"messages":[{"role":"user","content":"hi"}],'
        f'"metadata":{{"user_id":{q(secret_text(a))},"user_id":{q(a.secret)},"user_id":"u"}}}}'
    ),
}


@pytest.mark.parametrize("where", sorted(BODIES))
def test_every_copy_of_a_duplicate_key_is_masked(gw: Leaks, where: str) -> None:
    @EXAMPLES
    @given(aws)
    def run(a: Aws) -> None:
        raw = BODIES[where](a).encode()
        r, recorded = gw.send(raw)
        assert r.status_code == 200, r.text[:300]
        assert len(recorded) == 1
        key = {"deep, three copies": "user_id", "tool_result content": "content"}.get(where, where)
        assert recorded[0]["body"].count(f'"{key}":') >= 2, "the duplicate went upstream as sent"
        gw.assert_clean([a.secret, a.instance, a.vpc])

    run()
