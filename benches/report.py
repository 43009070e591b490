"""results.json -> the goals, results.md (the README's tables) and latency.png (via benches/plot.py)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SIZE_NAMES = {"10000": "10 KB", "100000": "100 KB", "1000000": "1 MB", "4000000": "4 MB"}


def _get(d: Any, *path: Any) -> Any:
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def _f(v: Any, digits: int = 1, unit: str = "") -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        if abs(v) >= 100:
            return f"{v:,.0f}{unit}"
        return f"{v:.{digits}f}{unit}"
    return f"{v}{unit}"


def goals(r: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    eng = _get(r, "sections", "engine", "summary") or {}
    for key, what, want in (
        ("session_4mb_mb_per_s", "the 4 MB session body (mostly code and prose)", 1000),
        ("body_4mb_mb_per_s", "the 4 MB AWS-output body", 300),
    ):
        v = eng.get(key)
        out.append(
            {
                "goal": f"Engine: ≥ {want:,} MB/s scan-and-mask on {what}, nothing cached",
                "measured": f"{_f(v)} MB/s",
                "met": None if v is None else v >= want,
            }
        )
    vs = {k: {s: x for s, x in d.items() if x is not None} for k, d in (eng.get("vs_baseline") or {}).items()}
    shown = "; ".join(
        f"{row.split(', ')[-1]}: " + ", ".join(f"{s} {x:.0f}x" for s, x in d.items()) for row, d in vs.items() if d
    )
    allv = [x for d in vs.values() for x in d.values()]
    out.append(
        {
            "goal": "Engine: ≥ 200x the Python re baseline on the same body (both kinds)",
            "measured": shown or "not measured",
            "met": min(allv) >= 200 if allv else None,
        }
    )
    nxt = eng.get("next_turn_4mb_ms")
    out.append(
        {
            "goal": "Engine: the next turn of the 4 MB session (one more turn) < 5 ms",
            "measured": "not measured" if nxt is None else f"{nxt:.1f} ms",
            "met": None if nxt is None else nxt < 5,
        }
    )
    ratios = _get(eng, "ratios", "Presidio (regex recognizers)") or {}
    vals = {k: v for k, v in ratios.items() if v is not None}
    out.append(
        {
            "goal": "Engine: ≥ 100x Presidio (same text)",
            "measured": ", ".join(f"{k}: {v:.0f}x" for k, v in vals.items()) or "not measured",
            "met": (min(vals.values()) >= 100) if vals else None,
        }
    )

    lat = _get(r, "sections", "latency", "summary") or {}
    mg = lat.get("maskgate") or {}
    for size, limit in (("100000", 2.0), ("4000000", 15.0)):
        v = _get(mg, size, "total", "added_p50_ms")
        out.append(
            {
                "goal": f"Gateway: added p50 < {limit:g} ms at {SIZE_NAMES[size]} (non-streamed)",
                "measured": "not measured" if v is None else f"{v:.2f} ms",
                "met": None if v is None else v < limit,
            }
        )
    ours, floor = (
        _get(mg, "100000", "total", "added_p50_ms"),
        _get(lat, "pass-through", "100000", "total", "added_p50_ms"),
    )
    out.append(
        {
            "goal": "Gateway: added p50 at 100 KB within 1 ms of the bare pass-through's (non-streamed)",
            "measured": "not measured"
            if ours is None or floor is None
            else f"maskgate +{ours:.2f} ms, pass-through +{floor:.2f} ms",
            "met": None if ours is None or floor is None else ours - floor <= 1,
        }
    )
    ttfb = {s: _get(mg, s, "ttfb", "added_p50_ms") for s in SIZE_NAMES}
    ttfb = {s: v for s, v in ttfb.items() if v is not None}
    out.append(
        {
            "goal": "Gateway: added time to first byte < 1 ms (p50, streamed)",
            "measured": ", ".join(f"{SIZE_NAMES[s]}: {v:.2f} ms" for s, v in ttfb.items()) or "not measured",
            "met": all(v < 1 for v in ttfb.values()) if ttfb else None,
        }
    )
    ratios = {}
    for s in SIZE_NAMES:
        ours, theirs = _get(mg, s, "total", "added_p50_ms"), _get(lat, "litellm", s, "total", "added_p50_ms")
        if ours is not None and theirs is not None:
            ratios[s] = theirs / ours if ours > 0 else float("inf")
    out.append(
        {
            "goal": "Gateway: ≥ 5x less added latency than LiteLLM's proxy (p50, non-streamed)",
            "measured": ", ".join(f"{SIZE_NAMES[s]}: {v:.1f}x" for s, v in ratios.items()) or "not measured",
            "met": all(v >= 5 for v in ratios.values()) if ratios else None,
        }
    )
    streams = _get(r, "sections", "load", "streams") or {}
    floor = streams.get("pass-through") or {}
    n = max((k for k in floor if isinstance(floor[k], dict) and floor[k].get("all_open_s")), key=int, default=None)
    for store in ("embedded", "redis"):
        ours = _get(streams, f"maskgate ({store})", n, "all_open_s") if n else None
        theirs = _get(floor, n, "all_open_s") if n else None
        out.append(
            {
                "goal": f"Load: {n or 'N'} streams all open within 1.5x the bare pass-through's time ({store} store)",
                "measured": "not measured"
                if ours is None or theirs is None
                else f"{ours:.1f} s, pass-through {theirs:.1f} s ({ours / theirs:.1f}x)",
                "met": None if ours is None or theirs is None else ours <= 1.5 * theirs,
            }
        )
    for store in ("embedded", "redis"):
        got = _get(streams, f"maskgate ({store})", "1000")
        if got is None:
            measured, met = "not measured" + (" (short run: 500 at most)" if r.get("mode") == "short" else ""), None
        else:
            measured, met = f"{got['errors']} errors of {got['n']}", got["errors"] == 0
        out.append(
            {"goal": f"Load: 1000 concurrent streams, no error ({store} store)", "measured": measured, "met": met}
        )
    return out


def markdown(r: dict[str, Any]) -> str:
    m = r["machine"]
    mg = r["maskgate"]
    dirty = " (with uncommitted changes)" if mg["worktree_dirty"] else ""
    lines = [
        "# maskgate benchmarks",
        "",
        f"Measured {r['created']} ({r['mode']} run, {_f(r.get('seconds'), 0)} s) on {m['cpu'] or 'an unknown CPU'}, "
        f"{m['cores']} cores, {m['memory']}, {m['os']}, Python {m['python']}; load average "
        f"{_f(m.get('load_average_at_start'), 1)} at the start (a shared machine: compare ratios, not absolute times). "
        f"maskgate {mg['version']} at {mg['commit'] or '?'}{dirty}, "
        f"catalogue of {mg['catalogue_entries']} entries.",
        "",
    ]
    if not mg["extension_matches_catalogue_file"]:
        lines += [
            "**Warning: the extension measured embeds a different catalogue than `builtin.toml`: rebuild it.**",
            "",
        ]
    lines += ["## Goals", "", "| goal | measured | |", "|---|---|---|"]
    for g in r.get("goals", []):
        mark = "met" if g["met"] else "**missed**" if g["met"] is False else "not measured"
        lines.append(f"| {g['goal']} | {g['measured']} | {mark} |")
    lines.append("")
    lines += _at_a_glance(r)

    eng = _get(r, "sections", "engine")
    if eng and "throughput" in eng:
        lines += _engine(eng)
    elif eng:
        lines += ["## Engine", "", f"Engine section {eng.get('status')}", ""]
    lat = _get(r, "sections", "latency")
    if lat and "summary" in lat:
        lines += _latency(lat)
    elif lat:
        lines += ["## Gateway latency", "", f"Latency section {lat.get('status')}", ""]
    load = _get(r, "sections", "load")
    if load and "streams" in load:
        lines += _load(load)
    elif load:
        lines += ["## Load", "", f"Load section {load.get('status')}", ""]
    st = _get(r, "sections", "startup")
    if st and "ready_s_median" in st:
        lines += [
            "## Start-up",
            "",
            f"`maskgate serve` answers {_f(st['ready_s_median'] * 1000, 0)} ms after exec (median of {st['runs']}, "
            f"best {_f(st['ready_s_min'] * 1000, 0)} ms) with {_f(st['rss_mib_at_ready'], 0)} MiB resident; "
            f"{_f(st['rss_mib_after_4mb_requests'], 0)} MiB after three 4 MB requests.",
        ]
        ll = _get(r, "sections", "latency", "setups", "litellm")
        if ll and ll.get("ready_s"):
            lines[-1] += (
                f" LiteLLM's proxy took {_f(ll['ready_s'], 1)} s to answer and held "
                f"{_f(ll.get('rss_mib_at_ready'), 0)} MiB."
            )
        lines.append("")
    prof = _get(r, "sections", "profile")
    if prof and prof.get("items"):
        lines += ["## Where the time goes (profiles)", ""]
        for item in prof["items"]:
            lines += [f"**{item['title']}** ({item['tool']}, {item['file']}):", "", "```", *item["top"], "```", ""]
    lines += ["## Peers", "", "| peer venv | status | versions |", "|---|---|---|"]
    for name, p in r.get("peers", {}).items():
        versions = ", ".join(f"{k} {v}" for k, v in (p.get("versions") or {}).items())
        lines.append(f"| {name} | {p['status']} | {versions} |")
    lines.append("")
    return "\n".join(lines)


ENGINE_SIZES = {"100KB": "100 KB", "1MB": "1 MB", "4MB": "4 MB"}
BODY_INPUTS = {"body": "AWS-output body", "session": "session body"}


def _at_a_glance(r: dict[str, Any]) -> list[str]:
    """Two small tables under the goals (the README shows them): each body kind through the engine
    against the Python baseline, and the gateway's added latency next to the floors and LiteLLM."""
    lines: list[str] = []
    rows = _get(r, "sections", "engine", "throughput") or {}
    vs = _get(r, "sections", "engine", "summary", "vs_baseline") or {}
    body_rows = [
        (n, row) for n, row in rows.items() if row.get("impl") == "maskgate-body" and row.get("status") == "ok"
    ]
    if body_rows:
        lines += [
            "Engine, `mask_body` by body kind: MB/s (× the Python re baseline on the same body); the next turn in ms.",
            "",
            "| body | " + " | ".join(ENGINE_SIZES.values()) + " |",
            "|---|" + "---|" * len(ENGINE_SIZES),
        ]
        for name, row in body_rows:
            cells = []
            for s in ENGINE_SIZES:
                d = row["sizes"].get(s, {})
                if d.get("status") != "ok":
                    cells.append(str(d.get("status", "–")))
                elif row.get("input") == "session-next":
                    cells.append(f"{_f(d['median_s'] * 1000, 1)} ms")
                else:
                    ratio = _get(vs, name, s)
                    cells.append(f"{_f(d['mb_per_s'], 1)}" + (f" ({ratio:.0f}x)" if ratio else ""))
            lines.append(f"| {name.removeprefix('maskgate mask_body, ')} | " + " | ".join(cells) + " |")
        lines.append("")
    lat = _get(r, "sections", "latency", "summary") or {}
    names = [n for n in ("maskgate", "pass-through", "asyncio floor", "litellm") if n in lat]
    if len(names) > 1:
        sizes = [str(x) for x in _get(r, "sections", "latency", "sizes") or []]
        lines += [
            "Gateway, added p50 in ms, non-streamed (streamed, first byte):",
            "",
            "| set-up | " + " | ".join(SIZE_NAMES[s] for s in sizes) + " |",
            "|---|" + "---|" * len(sizes),
        ]
        for n in names:
            cells = [
                f"{_signed(_get(lat, n, s, 'total', 'added_p50_ms'))} "
                f"({_signed(_get(lat, n, s, 'ttfb', 'added_p50_ms'))})"
                for s in sizes
            ]
            lines.append(f"| {n} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def _engine(eng: dict[str, Any]) -> list[str]:
    rows = eng["throughput"]
    sizes = [s for s in ENGINE_SIZES if any(s in row.get("sizes", {}) for row in rows.values())]

    def mbps(row: str | None, size: str) -> float | None:
        d = _get(rows, row, "sizes", size) if row else None
        return d.get("mb_per_s") if d and d.get("status") == "ok" else None

    baseline_of = {
        kind: next((n for n, r in rows.items() if r.get("impl") == "python-re" and r.get("input") == kind), None)
        for kind in ("text", *BODY_INPUTS)
    }
    text_ours = next((n for n, r in rows.items() if r.get("impl") == "maskgate-text"), None)
    lines = [
        "## Engine throughput",
        "",
        "Scan and mask with a warm map, one call at a time, median of interleaved rounds, MB/s (calls). Two kinds "
        "of Claude Code request body of each size: the dense **AWS-output body** (`corpus.make_body`, ~2.7 "
        "findings per KB) and a **session body** (`session.session_body`: a session on this repository, its own "
        "code, diffs, test runs and README prose, a few pieces of AWS output; ~0.2 findings per KB). The scan "
        "cache is off (every call scans) but for the **next turn** row: the session body one turn later (the "
        "previous body and one new turn), on an engine that masked the previous body, scan cache on, in ms. "
        "**Ratio**: for maskgate rows, times the Python re baseline on the same input; for the other text rows, "
        "maskgate `mask` over the row.",
        "",
        "| implementation | "
        + " | ".join(ENGINE_SIZES[s] for s in sizes)
        + " | ratio ("
        + " / ".join(ENGINE_SIZES[s] for s in sizes)
        + ") | configuration |",
        "|---|" + "---|" * len(sizes) + "---|---|",
    ]
    for name, row in rows.items():
        if row.get("status") != "ok":
            lines.append(f"| {name} | {row.get('status')} |" + " |" * (len(sizes) + 1))
            continue
        cells, ratios = [], []
        for s in sizes:
            d = row["sizes"].get(s, {})
            if d.get("status") != "ok":
                cells.append(d.get("status", "–"))
                ratios.append("–")
                continue
            if row.get("input") == "session-next":
                cells.append(f"{_f(d['median_s'] * 1000, 2)} ms ({d['calls']} calls)")
                ratios.append("–")
                continue
            cells.append(f"{_f(d['mb_per_s'], 2)} ({d['calls']} calls)")
            if name.startswith("maskgate"):
                base = mbps(baseline_of.get(row.get("input", "")), s)
                ratios.append(f"{d['mb_per_s'] / base:.0f}x" if base else "–")
            elif row.get("input") == "text" and row.get("impl") != "python-re" or name == baseline_of["text"]:
                ours = mbps(text_ours, s)
                ratios.append(f"{ours / d['mb_per_s']:.0f}x" if ours else "–")
            else:
                ratios.append("–")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {' / '.join(ratios)} | {row.get('config', '')} |")
    lines.append("")
    q = eng.get("quality", {})
    qrows = q.get("rows", {})
    if qrows:
        lines += [
            "## Detection quality",
            "",
            f"A fresh instance of each on the labelled corpus ({q['bytes'] // 1000} KB; the generator knows every "
            "planted identifier and every look-alike). **Recall**: planted occurrences a finding overlaps (in "
            "brackets: covered whole). **Look-alikes hit**: look-alikes that must stay (git SHAs, UUIDs, 12-digit "
            "numbers without account context, 40-character base64 without secret context, truncated and upper-case "
            "IDs, digests, certificate data) that were masked. **Other false positives**: findings that overlap "
            "neither list.",
            "",
            "| implementation | recall | look-alikes hit | other false positives | false positives by kind |",
            "|---|---|---|---|---|",
        ]
        for name, d in qrows.items():
            if d.get("status") != "ok":
                lines.append(f"| {name} | {d.get('status')} | | | |")
                continue
            fps = ", ".join(f"{k} {v}" for k, v in d["fp_by_kind"].items()) or "none"
            lines.append(
                f"| {name} | {d['recall']:.1%} ({d['caught']}/{d['planted']}; whole {d['whole']}) | "
                f"{d['lookalikes_hit']}/{d['lookalikes_total']} | {d['fp_unlabelled']} | {fps} |"
            )
        names = [n for n, d in qrows.items() if d.get("status") == "ok"]
        kinds = sorted({k for n in names for k in qrows[n]["by_kind"]})
        lines += [
            "",
            "Recall by planted kind (caught / planted):",
            "",
            "| kind | " + " | ".join(names) + " |",
            "|---|" + "---|" * len(names),
        ]
        for k in kinds:
            cells = []
            for n in names:
                d = qrows[n]["by_kind"].get(k)
                cells.append("–" if not d else f"{d['caught']}/{d['n']}")
            lines.append(f"| {k} | " + " | ".join(cells) + " |")
        looks = sorted({k for n in names for k in qrows[n]["lookalikes"]})
        lines += [
            "",
            "Look-alikes masked, by class (hit / present):",
            "",
            "| look-alike | " + " | ".join(names) + " |",
            "|---|" + "---|" * len(names),
        ]
        for k in looks:
            cells = [
                f"{qrows[n]['lookalikes'].get(k, {}).get('hit', 0)}/{qrows[n]['lookalikes'].get(k, {}).get('n', 0)}"
                for n in names
            ]
            lines.append(f"| {k} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def _latency(lat: dict[str, Any]) -> list[str]:
    s = lat["summary"]
    setups = lat["setups"]
    lines = [
        "## Gateway latency",
        "",
        "One request at a time, the set-ups interleaved, Claude Code-shaped bodies, the fake upstream answering "
        'at once (a ~600-character reply streamed in 16-character deltas). Milliseconds; "+" is the p50 (p99) '
        "added to calling the upstream directly in the same run. CPU is the gateway's (for the guardrail set-up, "
        "LiteLLM's plus the two Presidio services') per request.",
        "",
    ]
    for name, d in setups.items():
        if d.get("status") != "ok":
            lines.append(f"- {name}: {d['status']}")
    if lat.get("note"):
        lines.append(f"- {lat['note']}")
    lines += [
        "",
        "| body | set-up | requests | non-streamed p50 / p99 | added | TTFB p50 / p99 | added | last byte p50 | added "
        "| CPU ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size in [str(x) for x in lat["sizes"]]:
        for name in s:
            row = s[name].get(size)
            if row is None:
                continue
            t, f, b = row["total"], row["ttfb"], row["ttlb"]
            if t["n"] == 0 and f["n"] == 0:
                err = t.get("error") or f.get("error") or "no answer"
                lines.append(f"| {SIZE_NAMES[size]} | {name} | 0 | fails: {err[:120]} | | | | | | |")
                continue
            added = name != "direct"
            lines.append(
                f"| {SIZE_NAMES[size]} | {name} | {t['n']} | {_f(t['p50_ms'], 2)} / {_f(t['p99_ms'], 2)} | "
                f"{_plus(t, added)} | {_f(f['p50_ms'], 2)} / {_f(f['p99_ms'], 2)} | {_plus(f, added)} | "
                f"{_f(b['p50_ms'], 2)} | {_plus(b, added)} | {_f(row.get('cpu_ms_per_request'), 1)} |"
                + (f" {t['errors'] + f['errors']} errors" if t["errors"] + f["errors"] else "")
            )
    vs = lat.get("vs_passthrough") or {}
    shown = [
        f"{SIZE_NAMES[size]}: {_times(d.get('total'))} ({_times(d.get('ttfb'))})"
        for size, d in vs.items()
        if d.get("total") is not None or d.get("ttfb") is not None
    ]
    if shown:
        lines += [
            "",
            "maskgate's added p50 over the bare pass-through's, non-streamed (first byte): " + ", ".join(shown) + ".",
        ]
    lines += ["", "![latency by body size](latency.png)", ""]
    return lines


def _times(v: float | None) -> str:
    return "–" if v is None else f"{v:.1f}x"


def _signed(v: float | None) -> str:
    return "–" if v is None else f"{v:+.2f}" if abs(v) < 100 else f"{v:+,.0f}"


def _plus(d: dict[str, Any], added: bool) -> str:
    if not added or d.get("added_p50_ms") is None:
        return ""
    return f"{_signed(d['added_p50_ms'])} ({_signed(d['added_p99_ms'])})"


def _load(load: dict[str, Any]) -> list[str]:
    lines = [
        "## Load",
        "",
        f"N streamed requests (10 KB bodies) opened at once and held open by a slow upstream "
        f'({load["event_delay_s"]} s between events, about 45 events). "Added" is against the same N streams '
        "to the upstream directly; memory per stream is (peak − idle resident memory) / N.",
        "",
        "| set-up | streams | errors | all open after | TTFB p50 / p99 | added | last byte p50 / p99 | added "
        "| KiB per stream | peak RSS | CPU ms per stream |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, by_n in load["streams"].items():
        if "status" in by_n:
            lines.append(f"| {name} | | {by_n['status']} | | | | | | | | |")
            continue
        for n, d in by_n.items():
            lines.append(
                f"| {name} | {n} | {d['errors']} | {_f(d['all_open_s'], 2, ' s')} | "
                f"{_f(d['ttfb_p50_ms'], 1)} / {_f(d['ttfb_p99_ms'], 1)} | {_f(d.get('added_ttfb_p50_ms'), 1)} | "
                f"{_f(d['ttlb_p50_ms'], 0)} / {_f(d['ttlb_p99_ms'], 0)} | {_f(d.get('added_ttlb_p50_ms'), 1)} | "
                f"{_f(d.get('kib_per_stream'), 0)} | {_f(d.get('rss_peak_mib'), 0, ' MiB')} | "
                f"{_f(d.get('cpu_ms_per_stream'), 2)} |" + (f" {', '.join(d['error_examples'])}" if d["errors"] else "")
            )
    lines += [
        "",
        "Small requests (10 KB, non-streamed, 32 at a time, fast upstream):",
        "",
        "| set-up | requests | errors | requests/s | vs direct | p50 / p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    for name, d in load["rps"].items():
        if "status" in d:
            lines.append(f"| {name} | | {d['status']} | | | |")
            continue
        lines.append(
            f"| {name} | {d['requests']} | {d['errors']} | {_f(d['rps'], 0)} | "
            f"{_f(d.get('rps_vs_direct'), 2)} | {_f(d['p50_ms'], 1)} / {_f(d['p99_ms'], 1)} |"
        )
    lines.append("")
    return lines


def plot(results: dict[str, Any], png: Path, tools: Any, log_dir: Path) -> None:
    """latency.png, drawn by benches/plot.py in the tools venv (matplotlib stays out of maskgate's)."""
    if tools is None or not tools.ok:
        print(f"no plot: tools venv {getattr(tools, 'status', 'missing')}")
        return
    src = png.parent / "results.json"
    with (log_dir / "plot.log").open("ab") as log:
        subprocess.run([tools.python, str(HERE / "plot.py"), str(src), str(png)], stdout=log, stderr=log, check=False)


def compact(r: dict[str, Any], md: Path) -> str:
    """A summary short enough for a CI log's tail (under 40 lines)."""
    lines = [f"maskgate benchmarks ({r['mode']} run, {_f(r.get('seconds'), 0)} s); all tables in {md}"]
    for g in r.get("goals", []):
        mark = "met" if g["met"] else "MISSED" if g["met"] is False else "not measured"
        lines.append(f"  [{mark}] {g['goal']}: {g['measured']}")
    rows = _get(r, "sections", "engine", "throughput") or {}
    if rows:
        lines.append("engine MB/s (100 KB / 1 MB / 4 MB; next turn: ms):")
    for name, row in rows.items():
        if row.get("status") != "ok":
            lines.append(f"  {name}: {row.get('status')}"[:160])
            continue
        key, scale = ("median_s", 1000) if row.get("input") == "session-next" else ("mb_per_s", 1)
        cells = [
            _f((_get(row, "sizes", s, key) or 0) * scale, 2)
            if _get(row, "sizes", s, "status") == "ok"
            else str(_get(row, "sizes", s, "status"))[:60]
            for s in ENGINE_SIZES
        ]
        lines.append(f"  {name}: " + " / ".join(cells))
    lat = _get(r, "sections", "latency", "summary") or {}
    if lat:
        lines.append(
            "gateway added p50 ms, non-streamed ("
            + " / ".join(SIZE_NAMES[str(s)] for s in _get(r, "sections", "latency", "sizes"))
            + "):"
        )
    for name, by_size in lat.items():
        if name == "direct":
            continue
        cells = [_f(_get(by_size, str(s), "total", "added_p50_ms"), 2) for s in _get(r, "sections", "latency", "sizes")]
        lines.append(f"  {name}: " + " / ".join(cells))
    for name, setup in (_get(r, "sections", "latency", "setups") or {}).items():
        if setup.get("status") != "ok":
            lines.append(f"  {name}: {setup['status']}"[:160])
    streams = _get(r, "sections", "load", "streams") or {}
    for name, by_n in streams.items():
        if "status" in by_n:
            lines.append(f"streams {name}: {by_n['status']}")
        else:
            lines.append(f"streams {name}: " + ", ".join(f"{n}: {d['errors']} errors" for n, d in by_n.items()))
    for name, p in r.get("peers", {}).items():
        if p["status"] != "ok":
            lines.append(f"peer {name}: {p['status']}"[:160])
    return "\n".join(lines)


README_START = "<!-- benchmarks:start (written by `make bench` from benches/results/results.md) -->"
README_END = "<!-- benchmarks:end -->"
# Goal rows that compare maskgate with something users would run instead (or with the floor).
PEERS = re.compile(r"Python re baseline|Presidio|LiteLLM|pass-through")


def update_readme(readme: Path, results_md: Path) -> bool:
    """Puts what was measured where, one short table (the goals that compare maskgate with a
    peer or the floor: the Python baseline, Presidio, LiteLLM, the bare pass-through) and the plot
    between the README's markers; every other table stays in benches/results/results.md."""
    text = readme.read_text(encoding="utf-8")
    if README_START not in text or README_END not in text:
        return False
    md = results_md.read_text(encoding="utf-8")
    body = md.split("\n", 2)[2].strip()  # drop the title line
    sections = body.split("\n## ")
    measured = sections[0].strip()
    goals_table = next((x for x in sections[1:] if x.startswith("Goals")), "")
    first_table = goals_table.split("\n\n")[1] if goals_table.count("\n\n") >= 1 else ""
    rows = [line for line in first_table.splitlines()[2:] if PEERS.search(line.split("|")[1])]
    body = measured
    if rows:
        body += "\n\n| against a peer or the floor | measured | |\n|---|---|---|\n" + "\n".join(rows)
    body += (
        "\n\n![latency by body size](benches/results/latency.png)\n\n"
        "Every goal and table (engine throughput by body kind and size, the next turn, detection quality,"
        " gateway latency, load, start-up, profiles) and each peer's configuration:"
        " [benches/results/results.md](benches/results/results.md)."
    )
    head, _, rest = text.partition(README_START)
    _, _, tail = rest.partition(README_END)
    readme.write_text(f"{head}{README_START}\n{body}\n{README_END}{tail}", encoding="utf-8")
    return True
