"""The corpus checks themselves, on small documents whose outcome does not depend on how good
the catalogue is: a value no scanner can know is reported as left in the output, a label wider
than what the engine masks as partly masked, a look-alike the engine masks as touched."""

from __future__ import annotations

from pathlib import Path

import pytest
from maskgate import Engine

from tests.corpus import check, corpus

ID = "i-0a84bba07931db925"
KMS = "cd2f4934-efc4-4c08-839c-d862227ee409"


def doc(body: str) -> corpus.Document:
    return corpus.parse_document("t", Path("t.txt"), "t", 1, body)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


@pytest.mark.parametrize("mode", ["text", "body"])
def test_a_value_no_scanner_knows_is_left_in_the_output(engine: Engine, mode: str) -> None:
    d = doc("the word ⟦acct:pineapple⟧ is the secret\n")
    res = (check.check_text if mode == "text" else check.check_body)(engine, d)
    assert [m.reason for m in res.leaks] == ["not masked"]


@pytest.mark.parametrize("mode", ["text", "body"])
def test_a_label_wider_than_the_finding_is_partly_masked(engine: Engine, mode: str) -> None:
    d = doc(f"stop ⟦ec2:{ID}-pineapple⟧ now\n")
    res = (check.check_text if mode == "text" else check.check_body)(engine, d)
    assert [m.reason for m in res.leaks] == ["partly masked"]


@pytest.mark.parametrize("mode", ["text", "body"])
def test_a_masked_lookalike_is_touched_and_a_masked_value_passes(engine: Engine, mode: str) -> None:
    d = doc(f"stop ⟦ec2:{ID}⟧ and use kms key-id ⟪uuid:{KMS}⟫\n")
    res = (check.check_text if mode == "text" else check.check_body)(engine, d)
    assert res.leaks == []
    assert [(m.label.raw, m.reason) for m in res.touched] == [(KMS, "masked")]
    assert res.errors == []


@pytest.mark.parametrize("mode", ["text", "body"])
def test_a_masked_occurrence_fails_when_another_is_left(engine: Engine, mode: str) -> None:
    d = doc(f"stop ⟦ec2:{ID}⟧ and later ⟦ec2:{ID}⟧x\n")  # glued to a letter: no scanner takes it
    res = (check.check_text if mode == "text" else check.check_body)(engine, d)
    assert [m.reason for m in res.leaks] == ["masked here, but left elsewhere in the output", "not masked"]


def test_canonical_values_and_forms() -> None:
    d = doc(
        "a ⟦ec2:i-0a84bba0\u200b7931db925⟧ b ⟦arn:arn%3Aaws%3As3%3A%3A%3Ax⟧ "
        "c ⟦secret:ab\\u002Bcd\\/e⟧\n⟦token:abc\n  def⟧\n"
    )
    got = [(lb.canonical, lb.form) for lb in d.planted]
    assert got == [
        ("i-0a84bba07931db925", "zero-width"),
        ("arn:aws:s3:::x", "percent"),
        ("ab+cd/e", "json-escape"),
        ("abcdef", "wrapped"),
    ]


def test_spans_and_lines_point_into_the_document() -> None:
    d = corpus.parse_document("t", Path("t.txt"), "t", 10, "x\ny ⟦acct:123456789012⟧ ⟪uuid:u⟫\n")
    (p,), (lk,) = d.planted, d.lookalikes
    assert d.text == "x\ny 123456789012 u\n"
    assert (d.text[p.start : p.end], p.line, lk.line) == ("123456789012", 12, 12)


@pytest.mark.parametrize("bad", ["⟦acct:1⟦x⟧⟧", "⟦acct:1", "⟧", "⟦:1⟧", "⟦Acct:1⟧"])
def test_malformed_labels_are_refused(bad: str) -> None:
    with pytest.raises(corpus.CorpusError):
        doc(bad + "\n")
