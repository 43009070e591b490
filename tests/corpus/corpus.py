"""Loads the labelled corpus: data/<family>.txt files of documents with inline labels.

Format (README.md): a document starts after a line `=== doc <name> ===` and runs to the
next such line; the one newline written after it (before the next header) is not part of it. Inside,
`⟦kind:value⟧` marks a planted value (it must be masked) and `⟪kind:value⟫` a look-alike
(it must stay byte-exact). The loader strips the markers and records each label's span in
the stripped text, its line in the data file, and the value's canonical form.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).parent / "data"
HEADER_LINE = re.compile(r"^=== doc (?P<name>[a-z0-9][a-z0-9._-]*) ===$", re.MULTILINE)
OPEN = {"⟦": "planted", "⟪": "lookalike"}
CLOSE = {"planted": "⟧", "lookalike": "⟫"}
MARKERS = "⟦⟧⟪⟫"
KIND = re.compile(r"[a-z0-9][a-z0-9-]*")

INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
WRAP = re.compile(r"[ \t]*\r?\n[ \t]*")
PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
JSON_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|([/\\\"]))")
ALNUM = re.compile(r"[A-Za-z0-9]")


class CorpusError(Exception):
    """A data file does not follow the format; names the file and line."""


@dataclass(frozen=True)
class Label:
    kind: str
    raw: str  # the exact text of the span in the document
    canonical: str  # the value once encodings and splits are undone (canonical())
    start: int  # character offsets in Document.text
    end: int
    line: int  # line in the data file where the label starts
    lookalike: bool
    form: str  # plain, zero-width, soft-hyphen, full-width, json-escape, percent, wrapped, glued,
    # escape-adjacent (next to a \t, \n, \r escape printed as text), percent-adjacent (next to %2F...)

    def where(self, doc: Document) -> str:
        return f"{doc.path.name}:{self.line}"


@dataclass(frozen=True)
class Document:
    family: str  # the data file's stem
    name: str
    path: Path
    line: int  # line of the header
    text: str
    planted: tuple[Label, ...]
    lookalikes: tuple[Label, ...]

    @property
    def id(self) -> str:
        return f"{self.family}/{self.name}"


def canonical(raw: str) -> str:
    """The value a human reads in `raw`: invisible characters dropped, full-width folded,
    line wraps joined, JSON escapes and percent-encoding (repeatedly) decoded."""
    s = raw.translate(INVISIBLE)
    s = "".join(unicodedata.normalize("NFKC", c) if 0xFF01 <= ord(c) <= 0xFF5E else c for c in s)
    s = WRAP.sub("", s)
    if "\\" in s:
        s = JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)) if m.group(1) else m.group(2), s)
    while PERCENT.search(s):
        s = urllib.parse.unquote(s)
    return s


def form_of(raw: str, text: str, start: int, end: int) -> str:
    """How the value is written: the first encoding or split found, else glued or plain."""
    if any(c in raw for c in "\u200b\u200c\u200d\u2060\ufeff"):
        return "zero-width"
    if "\u00ad" in raw:
        return "soft-hyphen"
    if any(0xFF01 <= ord(c) <= 0xFF5E for c in raw):
        return "full-width"
    if "\n" in raw:
        return "wrapped"
    if "\\" in raw:
        return "json-escape"
    if PERCENT.search(raw):
        return "percent"
    if re.match(r"\\[tnr]", text[start - 2 : start]) or re.match(r"\\[tnr]", text[end : end + 2]):
        return "escape-adjacent"
    if PERCENT.fullmatch(text[max(0, start - 3) : start]) or PERCENT.match(text[end : end + 3]):
        return "percent-adjacent"
    before = text[start - 2 : start] if start >= 2 else ""
    after = text[end : end + 2]
    if (len(before) == 2 and before[1] in "-_" and ALNUM.match(before[0])) or (
        len(after) == 2 and after[0] in "-_" and ALNUM.match(after[1])
    ):
        return "glued"
    return "plain"


def parse_document(family: str, path: Path, name: str, header_line: int, body: str) -> Document:
    out: list[str] = []
    labels: list[Label] = []
    pos = 0  # length of the stripped text so far
    line = header_line + 1
    i = 0
    while i < len(body):
        c = body[i]
        if c in OPEN:
            role = OPEN[c]
            close = body.find(CLOSE[role], i + 1)
            if close < 0:
                raise CorpusError(f"{path.name}:{line}: unclosed {c}")
            inner = body[i + 1 : close]
            if any(m in inner for m in MARKERS):
                raise CorpusError(f"{path.name}:{line}: nested or unbalanced label")
            kind, sep, raw = inner.partition(":")
            if not sep or not KIND.fullmatch(kind) or not raw:
                raise CorpusError(f"{path.name}:{line}: a label is ⟦kind:value⟧ or ⟪kind:value⟫")
            labels.append(Label(kind, raw, canonical(raw), pos, pos + len(raw), line, role == "lookalike", ""))
            out.append(raw)
            pos += len(raw)
            line += raw.count("\n")
            i = close + 1
            continue
        if c in MARKERS:
            raise CorpusError(f"{path.name}:{line}: stray {c}")
        out.append(c)
        pos += 1
        if c == "\n":
            line += 1
        i += 1
    text = "".join(out)
    labels = [
        Label(lb.kind, lb.raw, lb.canonical, lb.start, lb.end, lb.line, lb.lookalike,
              form_of(lb.raw, text, lb.start, lb.end))
        for lb in labels
    ]  # fmt: skip
    return Document(
        family,
        name,
        path,
        header_line,
        text,
        tuple(lb for lb in labels if not lb.lookalike),
        tuple(lb for lb in labels if lb.lookalike),
    )


def parse_file(path: Path) -> list[Document]:
    family = path.stem
    raw = path.read_bytes().decode("utf-8")  # bytes: CRLF documents keep their \r
    heads = list(HEADER_LINE.finditer(raw))
    if not heads or raw[: heads[0].start()].strip():
        raise CorpusError(f"{path.name}:1: a data file starts with a '=== doc <name> ===' line")
    docs: list[Document] = []
    for k, m in enumerate(heads):
        end = heads[k + 1].start() if k + 1 < len(heads) else len(raw)
        body = raw[m.end() + 1 : end]
        line = raw.count("\n", 0, m.start()) + 1
        if not body.endswith("\n"):
            raise CorpusError(f"{path.name}:{line}: a document ends with a newline before the next header")
        docs.append(parse_document(family, path, m.group("name"), line, body[:-1]))
    names = [d.name for d in docs]
    dupes = {x for x in names if names.count(x) > 1}
    if dupes:
        raise CorpusError(f"{path.name}: duplicate document names {sorted(dupes)}")
    return docs


def files() -> list[Path]:
    return sorted(DATA.glob("*.txt"))


def load() -> list[Document]:
    return [d for p in files() for d in parse_file(p)]


def iter_labels(docs: list[Document]) -> Iterator[tuple[Document, Label]]:
    for d in docs:
        for lb in (*d.planted, *d.lookalikes):
            yield d, lb
