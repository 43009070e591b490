"""Engine throughput against the pure-Python baseline, on the realistic corpus (benches/README.md).

Every benchmark masks with a WARM instance: it masks the same input once before timing, so the
timed calls find every original already mapped. That is the gateway's steady state, where Claude
Code resends the whole conversation each turn and almost nothing in a request is new; catalogue
compilation and first-time allocation are one-off costs that would otherwise dominate 100 KB.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
from corpus import SIZES, make_body, make_text
from python_baseline import CATALOGUE, PythonMasker, code
from session import next_turn, session_body

bench = pytest.mark.benchmark(group="engine")


@cache
def text(size: str) -> str:
    return make_text(SIZES[size])


@cache
def body(size: str) -> bytes:
    return make_body(SIZES[size])


@cache
def session(size: str) -> bytes:
    return session_body(SIZES[size])


@pytest.fixture(scope="module")
def engine_cls() -> Any:
    pytest.importorskip("maskgate._core", reason="the Rust extension is not built (maturin develop)")
    from maskgate import Engine

    return Engine


@bench
@pytest.mark.parametrize("size", list(SIZES))
def test_engine_mask(benchmark: Any, record_throughput: Callable[..., None], engine_cls: Any, size: str) -> None:
    data, eng = text(size), engine_cls(scan_cache=0)  # each call scans, as new text does
    eng.mask(data)  # warm: every original mapped
    result = benchmark(eng.mask, data)
    assert result.findings
    record_throughput("Engine.mask(text)", size, len(data.encode()), len(result.findings))


@bench
@pytest.mark.parametrize("size", list(SIZES))
def test_engine_mask_body(benchmark: Any, record_throughput: Callable[..., None], engine_cls: Any, size: str) -> None:
    data, eng = body(size), engine_cls(scan_cache=0)
    eng.mask_body(data)
    result = benchmark(eng.mask_body, data)
    assert result.findings
    record_throughput("Engine.mask_body(body)", size, len(data), len(result.findings))


@bench
@pytest.mark.parametrize("size", list(SIZES))
def test_engine_mask_body_resent(
    benchmark: Any, record_throughput: Callable[..., None], engine_cls: Any, size: str
) -> None:
    """The same body again with the scan cache on: what a resent conversation costs."""
    data, eng = body(size), engine_cls()
    eng.mask_body(data)
    result = benchmark(eng.mask_body, data)
    assert result.findings
    record_throughput("Engine.mask_body(body), resent", size, len(data), len(result.findings))


@bench
@pytest.mark.parametrize("size", list(SIZES))
def test_engine_mask_body_session(
    benchmark: Any, record_throughput: Callable[..., None], engine_cls: Any, size: str
) -> None:
    """The session body (mostly code and prose, a few identifiers), every call scanning."""
    data, eng = session(size), engine_cls(scan_cache=0)
    eng.mask_body(data)
    result = benchmark(eng.mask_body, data)
    assert result.text
    record_throughput("Engine.mask_body(session)", size, len(data), len(result.findings))


@bench
@pytest.mark.parametrize("size", list(SIZES))
def test_engine_mask_body_next_turn(
    benchmark: Any, record_throughput: Callable[..., None], engine_cls: Any, size: str
) -> None:
    """The session one turn later each round, on the engine that masked the turns before."""
    eng, turns = engine_cls(), iter(range(1, 10_000))
    eng.mask_body(session(size))

    def setup() -> tuple[tuple[bytes], dict[str, Any]]:
        return (next_turn(SIZES[size], next(turns)),), {}

    result = benchmark.pedantic(eng.mask_body, setup=setup, rounds=5, iterations=1)
    assert result.text
    record_throughput("Engine.mask_body(next turn)", size, SIZES[size], len(result.findings))


@bench
@pytest.mark.parametrize("kind", ["aws", "session"])
@pytest.mark.parametrize("size", list(SIZES))
def test_python_baseline_mask_body(
    benchmark: Any, record_throughput: Callable[..., None], size: str, kind: str
) -> None:
    data, masker = (body(size) if kind == "aws" else session(size)), PythonMasker()
    masker.mask_body(data)
    masked, findings = benchmark(masker.mask_body, data)
    assert json.loads(masked)["messages"]
    record_throughput(f"PythonMasker.mask_body({kind})", size, len(data), len(findings))


@bench
@pytest.mark.parametrize("size", list(SIZES))
def test_python_baseline_mask(benchmark: Any, record_throughput: Callable[..., None], size: str) -> None:
    data, masker = text(size), PythonMasker()
    masker.mask(data)
    masked, findings = benchmark(masker.mask, data)
    assert findings
    record_throughput("PythonMasker.mask(text)", size, len(data.encode()), len(findings))


# -- the baseline must do the engine's work, or the ratio means nothing ------------------------------


def test_baseline_finds_what_the_engine_finds(engine_cls: Any) -> None:
    """Same catalogue, same 100 KB text: the same values at the same places, else a readable diff."""
    from maskgate import _core, format_pseudonym

    if _core.BUILTIN_CATALOGUE != CATALOGUE.read_text(encoding="utf-8"):
        pytest.fail(
            f"the built extension embeds a different {CATALOGUE.name} than the file on disk: "
            "rebuild it (maturin develop) before comparing"
        )
    for n in (1, 899, 900, 90_899, 90_900, 9_090_900):
        assert format_pseudonym("ec2", n) == f"ec2-{code(n)}"

    data = text("100KB")
    ours = {(f.start, f.end): (f.kind, f.original) for f in engine_cls().mask(data).findings}
    _, base = PythonMasker().mask(data)
    theirs = {(f.start, f.end): (f.kind, f.original) for f in base}
    if ours == theirs:
        return

    def show(spans: set[tuple[int, int]], found: dict[tuple[int, int], tuple[str, str]]) -> list[str]:
        lines = []
        for start, end in sorted(spans)[:25]:
            kind, value = found[(start, end)]
            around = data[max(0, start - 40) : end + 20].replace("\n", "\\n")
            lines.append(f"  {kind:<12} {value[:60]!r:<64} at {start}: ...{around}...")
        if len(spans) > 25:
            lines.append(f"  ... and {len(spans) - 25} more")
        return lines

    only_engine = set(ours) - set(theirs)
    only_python = set(theirs) - set(ours)
    same_span_differs = {s for s in set(ours) & set(theirs) if ours[s] != theirs[s]}
    report = [f"engine {len(ours)} findings, baseline {len(theirs)}"]
    if only_engine:
        report += [
            f"found only by the engine ({len(only_engine)}, by kind {dict(Counter(ours[s][0] for s in only_engine))}):",
            *show(only_engine, ours),
        ]
    if only_python:
        report += [
            f"found only by the Python baseline ({len(only_python)}, by kind "
            f"{dict(Counter(theirs[s][0] for s in only_python))}):",
            *show(only_python, theirs),
        ]
    if same_span_differs:
        report += ["same span, different kind:"] + [
            f"  {s}: engine {ours[s]} baseline {theirs[s]}" for s in sorted(same_span_differs)[:25]
        ]
    pytest.fail("\n".join(report), pytrace=False)
