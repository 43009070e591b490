"""Class 8: model-driven exfiltration: the model asks a tool to transform a pseudonym.

The gateway restores the real value into the tool call (it must: the tool runs on the user's
machine), and the transformed original comes back in the next tool_result. Its common
transformations (base64 at each alignment, hex, reversed, percent-encoded) must be masked.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.leaks.support import EXAMPLES, Aws, Leaks, aws, messages, reply_tool_uses, text


def xxd_p(data: bytes) -> str:
    hexed = binascii.hexlify(data).decode()
    return "\n".join(hexed[i : i + 60] for i in range(0, len(hexed), 60)) + "\n"


# command template (with {p} for the pseudonym) -> what the tool prints for the original
TRANSFORMS: dict[str, tuple[str, Callable[[str], str]]] = {
    "base64": ("printf %s {p} | base64", lambda v: base64.b64encode(v.encode()).decode() + "\n"),
    "echo | base64": ("echo {p} | base64", lambda v: base64.b64encode(v.encode() + b"\n").decode() + "\n"),
    "prefixed base64": (
        "printf 'key=%s' {p} | base64",
        lambda v: base64.b64encode(b"key=" + v.encode()).decode() + "\n",
    ),
    "rev": ("printf %s {p} | rev", lambda v: v[::-1] + "\n"),
    "xxd -p": ("printf %s {p} | xxd -p", lambda v: xxd_p(v.encode())),
    "percent": ("python3 -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1]))' {p}", quote),
}


def forms(value: str) -> list[str]:
    raw = value.encode()
    return [
        value[::-1],
        raw.hex(),
        binascii.hexlify(raw).decode()[:60],
        base64.b64encode(raw).decode().rstrip("="),
        base64.b64encode(b"key=" + raw).decode()[8:-4],
        quote(value, safe=""),
    ]


@pytest.mark.parametrize("how", sorted(TRANSFORMS))
def test_transformed_restored_value_is_masked_in_the_next_tool_result(gw: Leaks, how: str) -> None:
    command, run_tool = TRANSFORMS[how]

    @EXAMPLES
    @given(aws, st.sampled_from(["secret", "key_id", "role_arn"]), st.booleans())
    def run(a: Aws, which: str, stream: bool) -> None:
        value = getattr(a, which)
        first = messages(
            [text(f"aws_access_key_id = {a.key_id}\naws_secret_access_key = {a.secret}\nrole {a.role_arn}")],
            stream=stream,
        )
        # The model picks the pseudonym of `value` out of what it saw and asks for a transform.
        masked_pick = {"secret": r"\bsecret-\d+", "key_id": r"\biam-\d+", "role_arn": r"\barn-\d+"}
        tool = {
            "type": "tool_use",
            "name": "Bash",
            "input": {"command": command.replace("{p}", "{{first:" + masked_pick[which] + "}}")},
        }
        r, recorded = gw.send(first, tool)
        assert r.status_code == 200, r.text[:300]
        [call] = reply_tool_uses(r)
        assert value in call["input"]["command"], "the gateway restores the original into the tool call"
        # The tool ran on the user's machine; the next request carries its output.
        second = messages(
            first["messages"][0]["content"],
            [{"type": "tool_use", "id": call["id"], "name": "Bash", "input": call["input"]}],
            [{"type": "tool_result", "tool_use_id": call["id"], "content": run_tool(value)}],
            stream=stream,
        )
        r, recorded = gw.send(second)
        assert r.status_code == 200, r.text[:300]
        gw.assert_clean([a.key_id, a.secret, a.role_arn, *forms(value)])

    run()
