"""Masking and unmasking plain text: round trips, idempotence, streams."""

from __future__ import annotations

import random
import types

import maskgate
from hypothesis import given, settings
from hypothesis import strategies as st
from maskgate import Engine, parse_pseudonym

HEX = "0123456789abcdef"


def _ids(rng: random.Random) -> list[str]:
    h = lambda n: "".join(rng.choice(HEX) for _ in range(n))  # noqa: E731
    return [
        f"i-{h(17)}",
        f"vpc-{h(8)}",
        "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)),
        f"s3://data-{h(6)}/logs/",
        f"arn:aws:iam::{rng.randrange(10**11, 10**12)}:role/deploy-{h(4)}",
        f"AccountId: {rng.randrange(10**11, 10**12)}",
    ]


FILLER = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


@st.composite
def planted(draw: st.DrawFn) -> str:
    rng = random.Random(draw(st.integers(0, 2**32)))
    ids = _ids(rng)
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 6))):
        # Identifiers are tokens: glued to word characters they are not identifiers at all
        # (see test_never_masks_part_of_an_id), so the filler ends on a separator.
        parts.append(draw(FILLER))
        parts.append(draw(st.sampled_from([" ", "\n", "(", "'", "—", "é", "\t"])))
        parts.append(rng.choice(ids))
        parts.append(draw(st.sampled_from([" ", "\n", ", ", ". ", '"', "/", "—", "é"])))
    return "".join(parts)


def test_public_api_is_complete() -> None:
    # Submodules are not API: they appear in dir() once any test has imported them (the server, ...).
    modules = {n for n in dir(maskgate) if isinstance(getattr(maskgate, n), types.ModuleType)}
    public = {n for n in dir(maskgate) if not n.startswith("_") and n not in {"annotations", "engine"} | modules}
    assert public <= set(maskgate.__all__) | {"store"}, public - set(maskgate.__all__)


def test_the_seed_example() -> None:
    engine = Engine()
    result = engine.mask("terminate i-0123456789abcdef0 in vpc-0a1b2c3d")
    assert result.text == "terminate ec2-001 in vpc-001"
    [first, second] = result.findings
    assert (first.kind, first.start, first.end, first.original, first.pseudonym) == (
        "ec2",
        10,
        29,
        "i-0123456789abcdef0",
        "ec2-001",
    )
    assert second.pseudonym == "vpc-001"
    assert engine.unmask(result.text) == "terminate i-0123456789abcdef0 in vpc-0a1b2c3d"
    assert engine.scan("i-0123456789abcdef0")[0].pseudonym is None


def test_same_original_same_pseudonym_and_namespaces_are_separate() -> None:
    engine = Engine()
    a = engine.mask("i-0123456789abcdef0 i-0fedcba9876543210 i-0123456789abcdef0").text
    assert a == "ec2-001 ec2-002 ec2-001"
    assert engine.mask("i-0fedcba9876543210", namespace="other").text == "ec2-001"
    assert engine.unmask("ec2-002", namespace="other") == "ec2-002"


def test_never_masks_part_of_an_id() -> None:
    engine = Engine()
    for text in [
        "i-0123456789abcdef0123",
        "sg-0123456789abcdef",
        "xi-0123456789abcdef0",
        "i-0123456789ABCDEF0",
    ]:
        assert engine.mask(text).text == text


def test_lookalike_pseudonyms_stay() -> None:
    engine = Engine()
    engine.mask("i-0123456789abcdef0")
    assert engine.unmask("ec2-0010 xec2-001 ec2-001x ec2-002") == "ec2-0010 xec2-001 ec2-001x ec2-002"


@settings(max_examples=200, deadline=None)
@given(planted())
def test_round_trip_and_idempotence(text: str) -> None:
    engine = Engine()
    masked = engine.mask(text)
    assert engine.unmask(masked.text) == text
    # Masked text holds pseudonyms that are issued: masked again, each is protected as a literal
    # of its own, and unmasking gives the masked text back exactly.
    assert engine.unmask(engine.mask(masked.text).text) == masked.text
    for f in masked.findings:
        assert text[f.start : f.end] == f.original
        assert f.original not in masked.text
        assert f.pseudonym is not None and parse_pseudonym(f.pseudonym) is not None


@settings(max_examples=60, deadline=None)
@given(planted())
def test_mask_of_unmasked_model_output_is_byte_identical(text: str) -> None:
    """The model writes pseudonyms; what we restore must mask back to exactly what it wrote."""
    engine = Engine()
    masked = engine.mask(text).text
    model_output = f"I will look at {masked} now.\n{masked}"
    assert engine.mask(engine.unmask(model_output)).text == model_output


@settings(max_examples=40, deadline=None)
@given(planted())
def test_stream_equals_whole_at_every_split(text: str) -> None:
    engine = Engine()
    result = engine.mask(text)
    unmasker = result.unmasker()
    whole = unmasker.unmask(result.text)
    assert whole == text
    masked = result.text
    for i in range(len(masked) + 1):
        stream = unmasker.stream(False)
        assert stream.push(masked[:i]) + stream.push(masked[i:]) + stream.finish() == whole


def test_stream_in_single_characters() -> None:
    engine = Engine()
    text = "stop i-0123456789abcdef0, then vpc-0a1b2c3d."
    result = engine.mask(text)
    stream = result.unmasker().stream(False)
    out = "".join(stream.push(c) for c in result.text) + stream.finish()
    assert out == text


def test_findings_repr_never_shows_the_original() -> None:
    [f] = Engine().mask("AKIAZZZZZZZZZZZZZZZZ").findings
    assert "AKIA" not in repr(f)
