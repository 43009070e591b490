"""Class 9: pseudonym-shaped text already in the input round-trips exactly.

A host literally named `ec2-001`, a ticket quoting `secret-003`: when the same pseudonym is in
play for somebody's original, unmasking must not turn the user's literal into that original.
The literals are the pseudonyms this gateway has issued (the worst case), and the numbers it
would issue next.
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from tests.leaks.support import EXAMPLES, PSEUDONYM, Aws, Leaks, aws, echo_round_trip, messages, reply_tool_uses, text


def issued(gw: Leaks, a: Aws) -> list[str]:
    """Masks `a`'s values once and returns the pseudonyms the provider saw for them."""
    body = messages([text(f"aws_secret_access_key = {a.secret}\ninstance {a.instance} in {a.vpc}, {a.role_arn}")])
    recorded = echo_round_trip(gw, body, "/messages/0/content/0/text", [a.secret, a.instance, a.vpc, a.role_arn])
    return sorted(set(PSEUDONYM.findall(recorded[0]["json"]["messages"][0]["content"][0]["text"])))


@EXAMPLES
@given(aws, aws, st.booleans())
def test_literal_pseudonyms_in_play_come_back_as_written(gw: Leaks, a: Aws, b: Aws, stream: bool) -> None:
    in_play = issued(gw, a)
    assert in_play
    prose = (
        f"our hosts are literally named {' '.join(in_play)}; "
        f"aws_secret_access_key = {b.secret}, instance {b.instance} and again {a.instance}"
    )
    body = messages([text(prose)], stream=stream)
    echo_round_trip(gw, body, "/messages/0/content/0/text", [a.secret, a.instance, b.secret, b.instance])


@EXAMPLES
@given(aws, aws)
def test_literal_of_the_next_number_is_never_issued(gw: Leaks, a: Aws, b: Aws) -> None:
    in_play = issued(gw, a)
    nexts = [re.sub(r"\d+$", lambda m: f"{int(m.group()) + 1:03d}", p) for p in in_play]
    prose = f"hosts {' '.join(in_play + nexts)}; aws_secret_access_key = {b.secret}, instance {b.instance}"
    echo_round_trip(gw, messages([text(prose)]), "/messages/0/content/0/text", [b.secret, b.instance])


@EXAMPLES
@given(aws)
def test_literal_in_a_tool_input_comes_back_as_written(gw: Leaks, a: Aws) -> None:
    in_play = issued(gw, a)
    body = messages([text(f"instance {a.instance}: rename host {in_play[0]}")])
    reply = {"type": "tool_use", "name": "Bash", "input": {"command": "{{field:/messages/0/content/0/text}}"}}
    r, _ = gw.send(body, reply)
    assert r.status_code == 200
    [call] = reply_tool_uses(r)
    assert call["input"]["command"] == f"instance {a.instance}: rename host {in_play[0]}"
    gw.assert_clean([a.instance])
