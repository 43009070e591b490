"""The fast scanner finds exactly what the reference scanner finds: every pattern tried at every
position (`Core.candidates(text, reference=True)`), on the benchmark corpus and on generated text."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from maskgate._core import Core

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benches"))
from corpus import make_text

CORE = Core([], ["private-network"], [])


def differences(text: str) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
    fast, slow = CORE.candidates(text), CORE.candidates(text, reference=True)
    return [c for c in fast if c not in slow], [c for c in slow if c not in fast]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_on_the_benchmark_corpus(seed: int) -> None:
    text = make_text(60_000, seed)
    only_fast, only_reference = differences(text)
    assert not only_fast and not only_reference, (only_fast[:5], only_reference[:5])
    assert len(CORE.candidates(text)) > 100, "the corpus is dense: this compares something"


PIECES = st.sampled_from(
    [
        "i-0123456789abcdef0",
        "vpc-0a1b2c3d",
        "AKIA2MWUFXBV54BYVSEH",
        "PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA/",
        "123456789012",
        "arn:aws:iam::123456789012:role/x",
        "s3://data-bucket/k",
        "acme.s3.amazonaws.com",
        "account",
        "OwnerId",
        "aws_secret_access_key",
        "bucket",
        "계정",
        "アカウント",
        "|",
        "||",
        "-",
        "_",
        " ",
        "  ",
        "\n",
        ": ",
        "=",
        '"',
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(PIECES, st.text(max_size=6)), max_size=30))
def test_on_generated_text(pieces: list[str]) -> None:
    only_fast, only_reference = differences("".join(pieces))
    assert not only_fast and not only_reference
