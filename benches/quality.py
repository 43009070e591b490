"""Detection quality against the labelled corpus: recall per planted kind, false positives per kind.

Standard library only: the peer workers import it from their own venvs.

A planted occurrence counts as **caught** when a finding overlaps its span (an ARN masked in parts
is caught), and as **whole** when the findings that overlap it cover every character of it. A finding
that overlaps no planted span is a **false positive**; it is charged to the look-alike class it hits
(git SHA, UUID, ...), or to "unlabelled" when it hits text that is in neither list (private IPs, ...).
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from typing import Any

# (class, test) in order; the first that matches names a look-alike.
_LOOKALIKE_CLASSES: list[tuple[str, re.Pattern[str]]] = [
    ("uuid", re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)),
    ("sha256", re.compile(r"[0-9a-f]{64}")),
    ("git-sha", re.compile(r"[0-9a-f]{7,40}")),
    ("12-digit", re.compile(r"\d{12}")),
    ("msg-id", re.compile(r"msg-[0-9a-f]{8}")),
    ("upper-hex-id", re.compile(r"[a-z]+(?:-[a-z]+)*-[0-9A-F]*[A-F][0-9A-F]*")),
    ("truncated-id", re.compile(r"[a-z]+(?:-[a-z]+)*-[0-9a-f]{5,16}")),
    ("cert-blob", re.compile(r"LS0tLS1C[A-Za-z0-9+/=]+")),
    ("base64-40", re.compile(r"[A-Za-z0-9+/]{40}")),
]


def lookalike_class(value: str) -> str:
    for name, test in _LOOKALIKE_CLASSES:
        if test.fullmatch(value):
            return name
    return "other"


class _Index:
    """Spans sorted by start, for "which of them overlap [start, end)" queries."""

    def __init__(self, spans: list[tuple[int, int, str]]) -> None:
        self.spans = sorted(spans)
        self.starts = [s[0] for s in self.spans]
        self.longest = max((e - s for s, e, _ in self.spans), default=0)

    def overlapping(self, start: int, end: int) -> list[int]:
        out = []
        j = bisect.bisect_left(self.starts, end) - 1
        while j >= 0 and self.starts[j] >= start - self.longest:
            if self.spans[j][1] > start:
                out.append(j)
            j -= 1
        return out


def score(annotated: Any, findings: list[tuple[int, int, str]]) -> dict[str, Any]:
    """`annotated` has `planted` and `lookalikes` (Span: kind, value, start, end); findings are
    `(start, end, kind)` in code point offsets of the same text."""
    found = _Index(findings)
    planted = _Index([(s.start, s.end, s.kind) for s in annotated.planted])
    looks = _Index([(s.start, s.end, lookalike_class(s.value)) for s in annotated.lookalikes])

    total: Counter[str] = Counter()
    caught: Counter[str] = Counter()
    whole: Counter[str] = Counter()
    for start, end, kind in planted.spans:
        total[kind] += 1
        hits = sorted(found.spans[i] for i in found.overlapping(start, end))
        if not hits:
            continue
        caught[kind] += 1
        pos = start
        for h_start, h_end, _ in hits:
            if h_start > pos:
                break
            pos = max(pos, h_end)
        if pos >= end:
            whole[kind] += 1

    look_total = Counter(cls for _, _, cls in looks.spans)
    look_hit: Counter[str] = Counter()
    fp_by_kind: Counter[str] = Counter()
    unlabelled = 0
    examples: list[str] = []
    hit_looks: set[int] = set()
    for start, end, kind in found.spans:
        if planted.overlapping(start, end):
            continue
        fp_by_kind[kind] += 1
        on_look = looks.overlapping(start, end)
        if on_look:
            hit_looks.update(on_look)
        else:
            unlabelled += 1
            if len(examples) < 5:
                examples.append(f"{kind}@{start}")
    for i in hit_looks:
        look_hit[looks.spans[i][2]] += 1

    n = sum(total.values())
    return {
        "planted": n,
        "caught": sum(caught.values()),
        "whole": sum(whole.values()),
        "recall": sum(caught.values()) / n if n else None,
        "by_kind": {k: {"n": total[k], "caught": caught[k], "whole": whole[k]} for k in sorted(total)},
        "lookalikes": {k: {"n": look_total[k], "hit": look_hit[k]} for k in sorted(look_total)},
        "lookalikes_hit": sum(look_hit.values()),
        "lookalikes_total": len(looks.spans),
        "false_positives": sum(fp_by_kind.values()),
        "fp_by_kind": dict(sorted(fp_by_kind.items())),
        "fp_unlabelled": unlabelled,
        "findings": len(found.spans),
    }
