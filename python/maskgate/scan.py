"""`maskgate scan`: a secret scanner over files, sharing the engine's catalogue."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from maskgate.engine import Engine

SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "target", ".tox", ".mypy_cache"}
MAX_FILE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class FileFinding:
    path: str
    line: int
    column: int
    kind: str
    pattern_preview: str

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "kind": self.kind,
            "preview": self.pattern_preview,
        }


def redact(value: str) -> str:
    """Enough to recognise a value, never enough to use it: a short head, the length, a short tail."""
    if len(value) <= 8:
        return value[:2] + "…" + f"({len(value)})"
    return f"{value[:4]}…{value[-2:]} ({len(value)} chars)"


def walk(paths: Iterable[str]) -> Iterator[Path]:
    for raw in paths:
        p = Path(raw)
        if p.is_file():
            yield p
            continue
        for root, dirs, files in os.walk(p):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
            for name in sorted(files):
                yield Path(root) / name


def read_text(path: Path) -> str | None:
    """The file as text, or None for binary, unreadable or oversized files."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


def scan_file(engine: Engine, path: Path) -> list[FileFinding]:
    text = read_text(path)
    if not text:
        return []
    found = engine.scan(text)
    if not found:
        return []
    line_starts = [0]
    line_starts.extend(i + 1 for i, c in enumerate(text) if c == "\n")
    out = []
    import bisect

    for f in found:
        line = bisect.bisect_right(line_starts, f.start)
        out.append(FileFinding(str(path), line, f.start - line_starts[line - 1] + 1, f.kind, redact(f.original)))
    return out
