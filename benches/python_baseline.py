"""The pure-Python baseline: maskgate's catalogue applied with `re`, written the straightforward way.

It reads the same TOML catalogue as the Rust engine, translates each Rust regex to Python `re`
(ASCII mode), runs every enabled entry over the text with `finditer`, applies the same validators
(context words in the window of bytes before the value, unless a veto word ends at or after the
last one; minimum Shannon entropy, reject regex, `edges = "alnum"`), tries every entry again one
character after each of its matches (the engine tries every pattern at every start, so a match it
rejects does not hide a later one), resolves overlaps by priority, then length, then start, then
catalogue rank, and replaces each value with a `kind-NNN` pseudonym from a dict keyed by
`(kind, original)`.

What it leaves out, on purpose: the engine's second pass that finds already-mapped originals
anywhere as whole tokens (so, on a warm map, the engine does strictly more work than this).

    masker = PythonMasker()                 # python/maskgate/patterns/builtin.toml
    masked_text, findings = masker.mask(text)
    masked_body, findings = masker.mask_body(raw_json)   # a Messages request
"""

from __future__ import annotations

import bisect
import json
import math
import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

CATALOGUE = Path(__file__).resolve().parent.parent / "python" / "maskgate" / "patterns" / "builtin.toml"
DEFAULT_WINDOW = 32


# -- Rust regex -> Python re -------------------------------------------------------------------------

_POSIX = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": r"\x00-\x7F",
    "blank": r"\t ",
    "cntrl": r"\x00-\x1F\x7F",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": r"!-/:-@\[-`{-~",
    "space": r"\t\n\v\f\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_WORD_BOUNDARIES = {
    "<": r"\b(?=\w)",
    ">": r"\b(?<=\w)",
    "b{start}": r"\b(?=\w)",
    "b{end}": r"\b(?<=\w)",
    "b{start-half}": r"(?<!\w)",
    "b{end-half}": r"(?!\w)",
}


def _codepoint(n: int) -> str:
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


def _escape(p: str, i: int, in_class: bool) -> tuple[str, int]:
    """Translates the escape at p[i] (a backslash); returns it and the index after it."""
    if i + 1 >= len(p):
        raise ValueError("pattern ends with a backslash")
    c = p[i + 1]
    if not in_class:
        for rust, py in _WORD_BOUNDARIES.items():
            if p.startswith(rust, i + 1):
                return py, i + 1 + len(rust)
        if c == "z":
            return r"\Z", i + 2
    if c == "x" and p.startswith("{", i + 2):
        close = p.index("}", i + 3)
        return _codepoint(int(p[i + 3 : close], 16)), close + 1
    if c in "pP":
        raise ValueError("Unicode classes (\\p, \\P) are not available in ASCII mode")
    return p[i : i + 2], i + 2


def _class(p: str, i: int) -> tuple[str, int]:
    """Translates the character class starting at p[i] ('['); returns it and the index after it."""
    out = ["["]
    i += 1
    if p.startswith("^", i):
        out.append("^")
        i += 1
    if p.startswith("]", i):
        out.append(r"\]")
        i += 1
    while i < len(p):
        c = p[i]
        if c == "]":
            out.append("]")
            return "".join(out), i + 1
        if c == "\\":
            esc, i = _escape(p, i, in_class=True)
            out.append(esc)
        elif c == "[":
            m = re.match(r"\[:(\^?)([a-z]+):\]", p[i:])
            if not m or m.group(2) not in _POSIX or m.group(1):
                raise ValueError("nested or negated classes are not supported")
            out.append(_POSIX[m.group(2)])
            i += m.end()
        elif p.startswith(("&&", "--", "~~"), i):
            raise ValueError("class set operations (&&, --, ~~) are not supported")
        elif c in "&~|":
            out.append("\\" + c)  # literal in both; escaped so Python does not warn about set syntax
            i += 1
        else:
            out.append(c)
            i += 1
    raise ValueError("unclosed character class")


@dataclass
class _Frame:
    multiline: bool
    reopen: list[str]  # scoped flag groups opened inside this group by a bare `(?flags)`


def _flags(spec: str, multiline: bool) -> tuple[str, bool]:
    """Rust flags (`i-s`, ...) to Python scoped flags, dropping `u` (everything is ASCII here)."""
    if "U" in spec or "R" in spec:
        raise ValueError(f"flag {spec!r}: swap-greed (U) and CRLF (R) modes have no Python equivalent")
    on, _, off = spec.partition("-")
    on, off = on.replace("u", ""), off.replace("u", "")
    if "m" in on:
        multiline = True
    if "m" in off:
        multiline = False
    return on + ("-" + off if off else ""), multiline


def translate(pattern: str) -> str:
    """A Rust `regex` pattern (compiled with Unicode off) as a Python `re` pattern for `re.ASCII`.

    Covers what catalogue entries use: `(?P<id>...)` and `(?<id>...)`, flag groups anywhere
    (Python only accepts global flags at the start, so `(?i)` mid-pattern becomes a scoped group
    up to the end of its enclosing group), `(?-u:...)`, `\\z`, `\\x{...}`, `\\<` / `\\>` /
    `\\b{start}` and friends, POSIX classes, and `$` (end of text unless `m` is on). Raises
    ValueError for what has no faithful translation.
    """
    out: list[str] = []
    stack = [_Frame(multiline=False, reopen=[])]
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            esc, i = _escape(pattern, i, in_class=False)
            out.append(esc)
        elif c == "[":
            cls, i = _class(pattern, i)
            out.append(cls)
        elif c == "(":
            m = re.match(r"\(\?(?:P?<(\w+)>|([imsxuUR-]*)([:)]))?", pattern[i:])
            assert m is not None
            frame = _Frame(multiline=stack[-1].multiline, reopen=[])
            if m.group(1):  # named group
                out.append(f"(?P<{m.group(1)}>")
                stack.append(frame)
            elif m.group(3) == ":":  # (?flags:...)
                spec, frame.multiline = _flags(m.group(2), frame.multiline)
                out.append(f"(?{spec}:")
                stack.append(frame)
            elif m.group(3) == ")":  # (?flags): to the end of the enclosing group
                spec, stack[-1].multiline = _flags(m.group(2), stack[-1].multiline)
                if spec:
                    out.append(f"(?{spec}:")
                    stack[-1].reopen.append(spec)
            elif pattern.startswith("(?", i):
                raise ValueError(f"unsupported group syntax at {i}: {pattern[i : i + 6]!r}")
            else:
                out.append("(")
                stack.append(frame)
            i += m.end()
        elif c == ")":
            if len(stack) == 1:
                raise ValueError("unbalanced ')'")
            out.append(")" * len(stack.pop().reopen) + ")")
            i += 1
        elif c == "|":
            reopen = stack[-1].reopen
            out.append(")" * len(reopen) + "|" + "".join(f"(?{spec}:" for spec in reopen))
            i += 1
        elif c == "$":
            out.append("$" if stack[-1].multiline else r"\Z")
            i += 1
        else:
            out.append(c)
            i += 1
    if len(stack) != 1:
        raise ValueError("unclosed group")
    out.append(")" * len(stack[0].reopen))
    return "".join(out)


# -- pseudonyms ----------------------------------------------------------------------------------------


def code(n: int) -> str:
    """The n-th prefix-free code (docs/catalogue.md): 001..899, then 9 + five digits, ..."""
    if n < 900:
        return f"{n:03d}"
    rest, level = n - 900, 1
    while True:
        width = 3 + 2 * level
        capacity = 9 * 10 ** (width - 1)
        if rest < capacity:
            return "9" * level + f"{rest:0{width}d}"
        rest -= capacity
        level += 1


def _held_by_arn(arn: str) -> list[tuple[str, str]]:
    """What rust/derive.rs reads out of an ARN (the same rules, written again)."""
    parts = arn.split(":", 5)
    if len(parts) != 6:
        return []
    service, region, account, resource = parts[2], parts[3], parts[4], parts[5]
    out = []
    if re.fullmatch(r"[0-9]{12}", account):
        out.append(("acct", account))
    if service == "organizations":
        tail = resource.split("/")
        if resource.startswith("account/") and re.fullmatch(r"[0-9]{12}", tail[-1]):
            out.append(("acct", tail[-1]))
        out += [("org", i) for i in tail[1:] if re.fullmatch(r"o-[a-z0-9]{10,32}|ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}", i)]
    if service == "cloudfront" and re.fullmatch(r"distribution/E[A-Z0-9]{12,14}", resource):
        out.append(("cdn", resource.split("/", 1)[1]))
    if service == "route53" and re.fullmatch(r"hostedzone/Z[A-Z0-9]{7,31}", resource):
        out.append(("zone", resource.split("/", 1)[1]))
    if service == "kms":
        uuid = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|mrk-[0-9a-fA-F]{32}"
        if re.fullmatch(rf"key/(?:{uuid})", resource):
            out.append(("kms", resource[4:]))
        elif resource.startswith("alias/") and len(resource) > len("alias/"):
            out.append(("kms", resource))
    if service == "s3" and not region and not account:
        bucket = resource.split("/", 1)[0]
        if re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
            out.append(("bucket", bucket))
    return out


_PSEUDONYM = re.compile(r"([a-z][a-z0-9]*(?:-[a-z][a-z0-9]*)*)-((9*)\d+)", re.ASCII)


def _is_code(digits: str, nines: str) -> bool:
    rest = digits[len(nines) :]
    return len(rest) == 3 + 2 * len(nines) and rest[0] != "9" and (bool(nines) or rest != "000")


# -- the masker --------------------------------------------------------------------------------------


class Finding(NamedTuple):
    kind: str
    start: int  # code point offsets into the text
    end: int
    original: str
    pseudonym: str | None


@dataclass
class _Entry:
    name: str
    kind: str
    priority: int
    regex: re.Pattern[str]
    has_id: bool
    alnum_edges: bool  # edges = "alnum": the value may not touch an ASCII letter or digit
    context: list[bytes]
    veto: list[bytes]  # a veto word ending at or after the last context word overrules it
    window: int
    min_entropy: float | None
    reject: re.Pattern[str] | None
    split: re.Pattern[str] | None  # separators of a list value: each piece is a value


def _is_ascii_alnum(text: str, i: int) -> bool:
    return 0 <= i < len(text) and text[i].isascii() and text[i].isalnum()


def _entropy(value: str) -> float:
    data = value.encode()
    n = len(data)
    return -sum(c / n * math.log2(c / n) for c in Counter(data).values())


class PythonMasker:
    """The catalogue's entries, each run over the text with `re.finditer`, and a dict of pseudonyms."""

    def __init__(self, catalogue_path: str | Path | None = None, enable: tuple[str, ...] = ()) -> None:
        doc: dict[str, Any] = tomllib.loads(Path(catalogue_path or CATALOGUE).read_text(encoding="utf-8"))
        raw = doc.get("pattern", [])
        switched_on = set(enable) | set(doc.get("enable", []))
        switched_off = set(doc.get("disable", []))
        self.kinds = {e["kind"] for e in raw}
        chosen = []
        for e in raw:
            on = e.get("enabled", e.get("group") is None)
            if e["name"] in switched_on or e.get("group") in switched_on:
                on = True
            if e["name"] in switched_off or e.get("group") in switched_off:
                on = False
            if on:
                chosen.append(e)
        chosen.sort(key=lambda e: -e["priority"])  # stable: equal priorities keep catalogue order
        self.entries: list[_Entry] = []
        for e in chosen:
            v = e.get("validate", {})
            regex = re.compile(translate(e["regex"]), re.ASCII)
            self.entries.append(
                _Entry(
                    name=e["name"],
                    kind=e["kind"],
                    priority=e["priority"],
                    regex=regex,
                    has_id="id" in regex.groupindex,
                    alnum_edges=e.get("edges", "any") == "alnum",
                    context=[w.lower().encode() for w in v.get("context", [])],
                    veto=[w.lower().encode() for w in v.get("veto", [])],
                    window=v.get("window", DEFAULT_WINDOW),
                    min_entropy=v.get("min_entropy"),
                    reject=re.compile(translate(v["reject"]), re.ASCII) if "reject" in v else None,
                    split=re.compile(translate(e["split"]), re.ASCII) if "split" in e else None,
                )
            )
        self.mapping: dict[tuple[str, str], str] = {}
        self.counters: Counter[str] = Counter()

    def is_pseudonym(self, value: str) -> bool:
        m = _PSEUDONYM.fullmatch(value)
        return m is not None and m.group(1) in self.kinds and _is_code(m.group(2), m.group(3))

    def _accept(self, e: _Entry, text: str, start: int, end: int) -> bool:
        value = text[start:end]
        if e.alnum_edges and (_is_ascii_alnum(text, start - 1) or _is_ascii_alnum(text, end)):
            return False
        if e.min_entropy is not None and _entropy(value) < e.min_entropy:
            return False
        if e.reject is not None and e.reject.search(value):
            return False
        if e.context:
            # The window is counted in UTF-8 bytes, as the engine counts it.
            before = text[max(0, start - e.window) : start].encode()[-e.window :].lower()
            named = max((before.rfind(w) + len(w) for w in e.context if w in before), default=-1)
            if named < 0 or any(before.rfind(w) + len(w) >= named for w in e.veto if w in before):
                return False
        return not self.is_pseudonym(value)

    @staticmethod
    def _pieces(e: _Entry, text: str, start: int, end: int) -> list[tuple[int, int]]:
        """The value, or the pieces of a list value between its separators."""
        if e.split is None:
            return [(start, end)]
        pieces, at = [], start
        for sep in e.split.finditer(text, start, end):
            pieces.append((at, sep.start()))
            at = sep.end()
        pieces.append((at, end))
        return pieces

    def find(self, text: str) -> list[tuple[int, int, int]]:
        """Non-overlapping `(start, end, entry index)`, in text order."""
        candidates = []
        for rank, e in enumerate(self.entries):
            m = e.regex.search(text)
            while m is not None:
                lo, hi = m.span("id") if e.has_id else m.span()
                for start, end in self._pieces(e, text, lo, hi):
                    if start < end and self._accept(e, text, start, end):
                        candidates.append((-e.priority, start - end, start, rank, end))
                m = e.regex.search(text, m.start() + 1)
        candidates.sort()  # priority, then length, then position, then catalogue rank
        starts: list[int] = []  # the spans taken so far, sorted and disjoint
        ends: list[int] = []
        picked = []
        for _, _, start, rank, end in candidates:
            i = bisect.bisect_right(starts, start)
            if (i > 0 and ends[i - 1] > start) or (i < len(starts) and starts[i] < end):
                continue  # overlaps one already taken
            starts.insert(i, start)
            ends.insert(i, end)
            picked.append((start, end, rank))
        picked.sort()
        return self._with_known(text, picked)

    def _with_known(self, text: str, picked: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
        """The engine's second pass, for what it finds in one text: every value found, and what
        an ARN gives away (its account, bucket, KMS key, distribution, zone, organization), is
        masked wherever else it occurs as a whole token, unless a longer kept value holds it."""
        known: dict[str, int] = {}
        for start, end, rank in picked:
            value, kind = text[start:end], self.entries[rank].kind
            known.setdefault(value, rank)
            if kind == "arn":
                for held_kind, held in _held_by_arn(value):
                    rank_of = next((r for r, e in enumerate(self.entries) if e.kind == held_kind), None)
                    if rank_of is not None:
                        known.setdefault(held, rank_of)
        extra = []
        for value, rank in known.items():
            at = text.find(value)
            while at >= 0:
                end = at + len(value)
                whole = not _is_ascii_alnum(text, at - 1) and not _is_ascii_alnum(text, end)
                i = bisect.bisect_right(picked, (at, len(text) + 1, 0))
                inside = i > 0 and picked[i - 1][1] >= end
                overlaps = (i > 0 and picked[i - 1][1] > at) or (i < len(picked) and picked[i][0] < end)
                if whole and not inside and not overlaps:
                    extra.append((at, end, rank))
                at = text.find(value, at + 1)
        return sorted(set(picked) | set(extra))

    def pseudonym(self, kind: str, original: str) -> str:
        key = (kind, original)
        found = self.mapping.get(key)
        if found is None:
            self.counters[kind] += 1
            found = self.mapping[key] = f"{kind}-{code(self.counters[kind])}"
        return found

    def mask(self, text: str) -> tuple[str, list[Finding]]:
        out: list[str] = []
        findings: list[Finding] = []
        pos = 0
        for start, end, rank in self.find(text):
            kind, original = self.entries[rank].kind, text[start:end]
            pseudonym = self.pseudonym(kind, original)
            out += (text[pos:start], pseudonym)
            findings.append(Finding(kind, start, end, original, pseudonym))
            pos = end
        out.append(text[pos:])
        return "".join(out), findings

    def mask_body(self, body: bytes) -> tuple[bytes, list[Finding]]:
        """A Messages request body the straightforward way: parse, mask every string the model can
        read (the engine's rule: all of them but thinking blocks, signatures, block ids and types,
        cache_control and the model), write it back."""
        findings: list[Finding] = []

        def walk(node: Any) -> Any:
            if isinstance(node, str):
                masked, found = self.mask(node)
                findings.extend(found)
                return masked
            if isinstance(node, list):
                return [walk(v) for v in node]
            if isinstance(node, dict):
                if node.get("type") in ("thinking", "redacted_thinking"):
                    return node
                block = "type" in node
                return {
                    k: v if k == "cache_control" or (block and k in _BLOCK_KEPT) else walk(v) for k, v in node.items()
                }
            return node

        doc = json.loads(body)
        out = {k: v if k == "model" else walk(v) for k, v in doc.items()}
        return json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode(), findings


_BLOCK_KEPT = frozenset({"type", "id", "tool_use_id", "signature"})
