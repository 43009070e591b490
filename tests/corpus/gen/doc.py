"""A document under construction: its plain text, and the values planted and look-alikes in it.

Generators write the plain text exactly as the tool prints it, registering each value with
`plant()` (must be masked) or `look()` (look-alike: must stay). `marked()` then wraps every
occurrence of every registered value in its label (longest first, so an ARN labels as a whole
and the account inside it is not labelled twice) and refuses documents where a value also
occurs glued inside an unlabelled word, where the check would be unfair.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tests.corpus.corpus import MARKERS, canonical

ALNUM = re.compile(r"[A-Za-z0-9]")


class DocError(Exception):
    pass


@dataclass
class Doc:
    name: str
    text: str = ""
    planted: dict[str, str] = field(default_factory=dict)  # raw -> kind
    lookalikes: dict[str, str] = field(default_factory=dict)
    expect: dict[str, str] = field(default_factory=dict)  # raw -> canonical it must load as
    glued: set[str] = field(default_factory=set)  # raws allowed next to letters/digits
    optional: set[str] = field(default_factory=set)  # raws that need not occur (a world's account)

    def plant(self, kind: str, raw: str, value: str | None = None, glued: bool = False, optional: bool = False) -> str:
        """Plants `raw` (the text as written); `value` is what it decodes to when they differ."""
        if self.lookalikes.get(raw):
            raise DocError(f"{self.name}: {raw!r} is both planted and a look-alike")
        self.planted[raw] = kind
        self.expect[raw] = value if value is not None else raw
        if glued:
            self.glued.add(raw)
        if optional:
            self.optional.add(raw)
        else:
            self.optional.discard(raw)
        return raw

    def look(self, kind: str, raw: str, glued: bool = False) -> str:
        if raw in self.planted:
            raise DocError(f"{self.name}: {raw!r} is both planted and a look-alike")
        self.lookalikes[raw] = kind
        if glued:
            self.glued.add(raw)
        return raw

    def marked(self) -> str:
        text = self.text
        if any(m in text for m in MARKERS):
            raise DocError(f"{self.name}: the text holds a label marker")
        values = {**{r: ("p", k) for r, k in self.planted.items()}, **{r: ("l", k) for r, k in self.lookalikes.items()}}
        spans: list[tuple[int, int, str]] = []
        taken = [False] * len(text)
        for raw in sorted(values, key=len, reverse=True):
            start, found = 0, False
            while (i := text.find(raw, start)) >= 0:
                start = i + 1
                j = i + len(raw)
                if all(taken[i:j]):
                    found = True
                    continue  # inside a longer labelled value
                if any(taken[i:j]):
                    raise DocError(f"{self.name}: {raw!r} overlaps another labelled value")
                # a JSON escape (\t, \n) printed as text ends a word too
                glued_left = i > 0 and ALNUM.match(text[i - 1]) and ALNUM.match(raw[0]) and text[i - 2 : i - 1] != "\\"
                glued_right = j < len(text) and ALNUM.match(text[j]) and ALNUM.match(raw[-1])
                if (glued_left or glued_right) and raw not in self.glued:
                    raise DocError(f"{self.name}: {raw!r} occurs glued to a word at {i}: {text[i - 20 : j + 20]!r}")
                for k in range(i, j):
                    taken[k] = True
                spans.append((i, j, raw))
                found = True
            if not found and raw not in self.optional:
                raise DocError(f"{self.name}: {raw!r} was registered but does not occur")
        out, pos = [], 0
        for i, j, raw in sorted(spans):
            role, kind = values[raw]
            o, c = ("⟦", "⟧") if role == "p" else ("⟪", "⟫")
            out += [text[pos:i], f"{o}{kind}:{raw}{c}"]
            pos = j
        out.append(text[pos:])
        for raw, want in self.expect.items():
            if raw not in text:
                continue
            if canonical(raw) != want:
                raise DocError(f"{self.name}: {raw!r} loads as {canonical(raw)!r}, not {want!r}")
        return "".join(out)
