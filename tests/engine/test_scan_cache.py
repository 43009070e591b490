"""Pass 1, and pass 2 against the namespace's known sets, remembered across requests (the scan
caches) never change a result: a conversation resent turn after turn masks byte for byte as with
the caches off, including values that become known only in a later turn and must then be masked
in strings the caches already hold, and a namespace forgotten (its epoch changed) in between."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from maskgate._core import Core

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benches"))
from corpus import make_body, make_text


def mask(core: Core, body: bytes, ns: str = "s") -> bytes:
    plan = core.plan_request(body, ns)
    core.reserve(ns, plan.reserve())
    core.allocate(ns, plan.missing(core, ns))
    return core.apply(plan, ns).output


def turns(messages: list[dict[str, object]], base: dict[str, object]) -> list[bytes]:
    """The bodies Claude Code sends: every turn the whole conversation so far."""
    return [json.dumps({**base, "messages": messages[: i + 1]}).encode() for i in range(len(messages))]


def compare(bodies: list[bytes]) -> None:
    cached, fresh = Core([], [], [], scan_cache=4096), Core([], [], [], scan_cache=0)
    for i, body in enumerate(bodies):
        # Fresh each time on the uncached side: a new engine with the same map would be the
        # same as scan_cache=0; one engine kept across turns is what the gateway does.
        assert mask(cached, body) == mask(fresh, body), f"turn {i}"


def test_a_growing_claude_code_conversation() -> None:
    doc = json.loads(make_body(300_000, seed=3))
    messages = doc.pop("messages")
    assert len(messages) > 4
    compare(turns(messages, doc))


def test_a_value_learned_later_is_masked_in_strings_seen_before() -> None:
    secret = "Zq8vN3kLmP0aB7cD1eF2gH3iJ4kL5mN6oP7qR8sT"
    bare = f"the deploy log printed {secret} twice, then {secret} again " + "x" * 64
    with_context = f"aws_secret_access_key = {secret}"
    first = [{"role": "user", "content": bare}]
    second = [*first, {"role": "assistant", "content": "ok"}, {"role": "user", "content": with_context}]
    base = {"model": "claude-sonnet-4-5", "max_tokens": 16}
    bodies = [json.dumps({**base, "messages": m}).encode() for m in (first, second)]
    compare(bodies)
    core = Core([], [], [], scan_cache=4096)
    mask(core, bodies[0])
    assert secret.encode() not in mask(core, bodies[1]), "pass 2 runs on remembered strings too"


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=2, max_size=5), st.integers(0, 3))
def test_generated_turns(seeds: list[int], repeat: int) -> None:
    messages = [{"role": "user", "content": make_text(400 + s % 700, s)} for s in seeds]
    messages += messages[:repeat]  # the same strings again, as a resent history does
    compare(turns(messages, {"model": "m", "max_tokens": 1}))


def test_a_forgotten_namespace_is_not_answered_from_the_cache() -> None:
    secret = "Zq8vN3kLmP0aB7cD1eF2gH3iJ4kL5mN6oP7qR8sT"
    base = {"model": "claude-sonnet-4-5", "max_tokens": 16}
    learn = json.dumps({**base, "messages": [{"role": "user", "content": f"aws_secret_access_key = {secret}"}]})
    bare = json.dumps({**base, "messages": [{"role": "user", "content": f"printed {secret} " + "x" * 64}]})
    cached, fresh = Core([], [], [], scan_cache=4096), Core([], [], [], scan_cache=0)
    for core in (cached, fresh):
        mask(core, learn.encode())
    assert mask(cached, bare.encode()) == mask(fresh, bare.encode())
    assert secret.encode() not in mask(cached, bare.encode())
    for core in (cached, fresh):
        core.forget("s")  # the store's epoch changed: nothing this process held is true any more
    # With the value unknown again, the bare occurrence has no context: both leave it alike.
    assert mask(cached, bare.encode()) == mask(fresh, bare.encode())
