"""Class 1: the same value twice in one request, and the first request that ever mentions it.

A value found where its context says what it is must be masked everywhere else it appears in
the request as a whole token, bare, before or after the context; and on later requests too.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.leaks.support import EXAMPLES, Aws, Leaks, aws, echo_round_trip, messages, text


@EXAMPLES
@given(aws, st.booleans(), st.booleans())
def test_value_with_context_is_masked_where_it_comes_back_bare(
    gw: Leaks, a: Aws, bare_first: bool, stream: bool
) -> None:
    pasted = f"aws_access_key_id = {a.key_id}\naws_secret_access_key = {a.secret}\naccount {a.account}\n"
    echoed = f"The tool printed {a.secret} and {a.key_id}; owner {a.account}, same as {a.role_arn}."
    prose = echoed + "\n\n" + pasted if bare_first else pasted + "\n\n" + echoed
    body = messages([text(prose)], stream=stream)
    echo_round_trip(gw, body, "/messages/0/content/0/text", [a.key_id, a.secret, a.account, a.role_arn])


@EXAMPLES
@given(aws, st.booleans())
def test_bare_copy_in_another_block_or_message_is_masked(gw: Leaks, a: Aws, stream: bool) -> None:
    """The user pastes it once; the model and a tool echo it bare in later turns."""
    body = messages(
        [text(f"my key: AWS_SECRET_ACCESS_KEY={a.secret}, instance {a.instance}")],
        [
            text(f"I will use {a.secret[:0]}the key."),
            {"type": "tool_use", "id": "toolu_01", "name": "Bash", "input": {"command": f"echo {a.secret}"}},
        ],
        [
            {"type": "tool_result", "tool_use_id": "toolu_01", "content": f"{a.secret}\n{a.instance}\n"},
            text(f"now reboot {a.instance}, key {a.secret}"),
        ],
        stream=stream,
    )
    echo_round_trip(gw, body, "/messages/2/content/1/text", [a.secret, a.instance])


@EXAMPLES
@given(aws)
def test_value_learned_in_one_request_is_masked_bare_in_the_next(gw: Leaks, a: Aws) -> None:
    first = messages([text(f"aws_secret_access_key = {a.secret}\naws_session_token = {a.token}")])
    echo_round_trip(gw, first, "/messages/0/content/0/text", [a.secret, a.token])
    later = messages([text(f"cat ~/.aws/credentials\n{a.secret}\n{a.token}\n")])
    echo_round_trip(gw, later, "/messages/0/content/0/text", [a.secret, a.token])
