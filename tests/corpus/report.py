"""Recall and false positives of the current engine on the labelled corpus.

    python -m tests.corpus.report            # tables: per family, per kind, per form; causes
    python -m tests.corpus.report -v         # and every miss, with its file:line and context

Recall: planted labels masked / planted labels (text mode, and inside a request body).
False positives: look-alikes touched / look-alikes. Causes group the misses by kind, form and
family so a class of problem shows up as one line.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable

from maskgate import Engine

from tests.corpus import check, corpus


def pct(num: int, den: int) -> str:
    return f"{100.0 * num / den:5.1f}%" if den else "    -"


def table(title: str, rows: Iterable[tuple[str, ...]], header: tuple[str, ...]) -> None:
    rows = list(rows)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n## {title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.corpus.report")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    args = ap.parse_args(argv)
    docs = corpus.load()
    engine = Engine()
    text = {d.id: check.check_text(engine, d) for d in docs}
    body = {d.id: check.check_body(engine, d) for d in docs}

    planted: Counter[tuple[str, str]] = Counter()
    looks: Counter[tuple[str, str]] = Counter()
    leaked_t: Counter[tuple[str, str]] = Counter()
    leaked_b: Counter[tuple[str, str]] = Counter()
    touched_t: Counter[tuple[str, str]] = Counter()
    touched_b: Counter[tuple[str, str]] = Counter()
    for d in docs:
        for lb in d.planted:
            for axis in ("family:" + d.family, "kind:" + lb.kind, "form:" + lb.form):
                planted[(axis, "")] += 1
        for lb in d.lookalikes:
            for axis in ("family:" + d.family, "kind:" + lb.kind):
                looks[(axis, "")] += 1
        for store, res, attr in (
            (leaked_t, text[d.id], "leaks"),
            (leaked_b, body[d.id], "leaks"),
            (touched_t, text[d.id], "touched"),
            (touched_b, body[d.id], "touched"),
        ):
            for m in getattr(res, attr):
                axes = ["family:" + d.family, "kind:" + m.label.kind]
                if attr == "leaks":
                    axes.append("form:" + m.label.form)
                for axis in axes:
                    store[(axis, "")] += 1

    def rows(prefix: str, base: Counter[tuple[str, str]], a: Counter[tuple[str, str]], b: Counter[tuple[str, str]],
             recall: bool) -> list[tuple[str, ...]]:  # fmt: skip
        out = []
        for (axis, _), n in sorted(base.items()):
            if not axis.startswith(prefix):
                continue
            ka, kb = a[(axis, "")], b[(axis, "")]
            if recall:
                out.append((axis[len(prefix) :], str(n), pct(n - ka, n), pct(n - kb, n)))
            else:
                out.append(
                    (axis[len(prefix) :], str(n), f"{ka} ({pct(ka, n).strip()})", f"{kb} ({pct(kb, n).strip()})")
                )
        return out

    n_planted = sum(len(d.planted) for d in docs)
    n_looks = sum(len(d.lookalikes) for d in docs)
    lt = sum(len(r.leaks) for r in text.values())
    lbody = sum(len(r.leaks) for r in body.values())
    tt = sum(len(r.touched) for r in text.values())
    tb = sum(len(r.touched) for r in body.values())
    rt = sum(1 for r in text.values() if any("round trip" in e for e in r.errors))
    bad = sum(1 for r in body.values() if r.errors)
    print(f"# maskgate corpus: {len(docs)} documents, {len(corpus.files())} families, "
          f"{n_planted} planted values, {n_looks} look-alikes")  # fmt: skip
    print(f"recall: text {pct(n_planted - lt, n_planted)}, body {pct(n_planted - lbody, n_planted)}; "
          f"look-alikes touched: text {tt}, body {tb}; round trip differs: {rt} documents; "
          f"body errors: {bad} documents")  # fmt: skip
    docs_ok_t = sum(1 for r in text.values() if not r.leaks and not r.touched and not r.errors)
    print(f"documents fully passing (text): {docs_ok_t}/{len(docs)}")
    table(
        "Recall per family", rows("family:", planted, leaked_t, leaked_b, True), ("family", "planted", "text", "body")
    )
    table("Recall per kind", rows("kind:", planted, leaked_t, leaked_b, True), ("kind", "planted", "text", "body"))
    table("Recall per form", rows("form:", planted, leaked_t, leaked_b, True), ("form", "planted", "text", "body"))
    table(
        "False positives (look-alikes touched) per family",
        rows("family:", looks, touched_t, touched_b, False),
        ("family", "look-alikes", "text", "body"),
    )
    table(
        "False positives per look-alike kind",
        rows("kind:", looks, touched_t, touched_b, False),
        ("kind", "look-alikes", "text", "body"),
    )

    causes: dict[str, set[str]] = defaultdict(set)
    counts: Counter[str] = Counter()
    for d in docs:
        for m in text[d.id].leaks:
            why = "masked, but left elsewhere" if m.reason.startswith("masked here") else m.reason
            key = f"{why}: {m.label.kind} ({m.label.form}) in {d.family}"
            causes[key].add(d.name)
            counts[key] += 1
        for m in text[d.id].touched:
            key = f"look-alike masked: {m.label.kind} in {d.family}" + (f" (as {m.found_as})" if m.found_as else "")
            causes[key].add(d.name)
            counts[key] += 1
        for e in text[d.id].errors:
            key = "round trip differs" if "round trip" in e else "engine error (text)"
            causes[key].add(d.id)
            counts[key] += 1
        for e in body[d.id].errors:
            causes["body: " + e.split(" (")[0]].add(d.id)
            counts["body: " + e.split(" (")[0]] += 1
    print("\n## Failing documents grouped by cause (text mode)")
    for key in sorted(causes, key=lambda k: -counts[k]):
        names = sorted(causes[key])
        shown = ", ".join(names[:6]) + (f", … (+{len(names) - 6})" if len(names) > 6 else "")
        print(f"- {key}: {counts[key]} values in {len(names)} documents: {shown}")
    if args.verbose:
        print("\n## Every miss")
        for d in docs:
            for m in text[d.id].leaks + text[d.id].touched:
                print("text  " + check.describe(m, d))
            for m in body[d.id].leaks + body[d.id].touched:
                print("body  " + check.describe(m, d))
            for e in text[d.id].errors + body[d.id].errors:
                print(f"error {d.id}: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
