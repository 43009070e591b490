"""The labelled corpus (issue 10): every planted value masked, every look-alike untouched,
an exact round trip, as plain text and inside a Claude Code request. One case per document,
so a failure names the data file, the line and the kind of each value (README.md)."""

from __future__ import annotations

import json

import pytest
from maskgate import Engine

from tests.corpus import check, corpus

DOCS = corpus.load()


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


_RESULTS: dict[tuple[str, str], check.Result] = {}


def result(engine: Engine, doc: corpus.Document, mode: str) -> check.Result:
    """Each document is masked once per mode; its planted and look-alike cases share the result."""
    key = (mode, doc.id)
    if key not in _RESULTS:
        _RESULTS[key] = (check.check_text if mode == "text" else check.check_body)(engine, doc)
    return _RESULTS[key]


def by_doc() -> pytest.MarkDecorator:
    return pytest.mark.parametrize("doc", DOCS, ids=[d.id for d in DOCS])


def report(doc: corpus.Document, misses: list[check.Miss], what: str) -> str:
    lines = [f"{doc.id} ({doc.path.name}:{doc.line}): {len(misses)} {what}"]
    lines += ["  " + check.describe(m, doc) for m in misses]
    return "\n".join(lines)


def fail_on(errors: list[str], doc: corpus.Document) -> None:
    if errors:
        pytest.fail(f"{doc.id} ({doc.path.name}:{doc.line}): " + "; ".join(errors), pytrace=False)


@by_doc()
def test_text_planted_values_are_masked(engine: Engine, doc: corpus.Document) -> None:
    res = result(engine, doc, "text")
    fail_on([e for e in res.errors if "raised" in e], doc)
    if res.leaks:
        pytest.fail(report(doc, res.leaks, "planted values not masked"), pytrace=False)


@by_doc()
def test_text_lookalikes_are_untouched(engine: Engine, doc: corpus.Document) -> None:
    res = result(engine, doc, "text")
    fail_on([e for e in res.errors if "raised" in e], doc)
    if res.touched:
        pytest.fail(report(doc, res.touched, "look-alikes touched"), pytrace=False)


@by_doc()
def test_text_round_trip_is_exact(engine: Engine, doc: corpus.Document) -> None:
    res = result(engine, doc, "text")
    fail_on(res.errors, doc)


@by_doc()
def test_body_planted_values_are_masked(engine: Engine, doc: corpus.Document) -> None:
    res = result(engine, doc, "body")
    fail_on(res.errors, doc)
    if res.leaks:
        pytest.fail(report(doc, res.leaks, "planted values reach the provider"), pytrace=False)


@by_doc()
def test_body_lookalikes_are_untouched(engine: Engine, doc: corpus.Document) -> None:
    res = result(engine, doc, "body")
    fail_on(res.errors, doc)
    if res.touched:
        pytest.fail(report(doc, res.touched, "look-alikes touched"), pytrace=False)


def test_corpus_is_well_formed() -> None:
    """The corpus itself: big enough, small enough, every family and the key kinds present."""
    assert len(DOCS) >= 150
    size = sum(p.stat().st_size for p in corpus.files())
    assert size < 2_000_000, size
    families = {d.family for d in DOCS}
    assert len(families) == len(corpus.files())
    kinds = {lb.kind for d in DOCS for lb in d.planted}
    assert {"acct", "arn", "iam", "secret", "token", "ec2", "bucket", "kms"} <= kinds
    forms = {lb.form for d in DOCS for lb in d.planted}
    assert {"zero-width", "soft-hyphen", "full-width", "json-escape", "percent", "wrapped", "glued"} <= forms
    for d in DOCS:
        assert "EXAMPLE" not in d.text, d.id
        planted = {lb.raw for lb in d.planted}
        for lb in d.lookalikes:
            assert not any(lb.raw in p for p in planted), f"{d.id}: look-alike {lb.raw!r} inside a planted value"
        body, offsets = check.body_bytes(d)
        assert json.loads(body)["messages"][2]["content"][0]["content"] == d.text, d.id
        assert len(offsets) == len(d.text) + 1
