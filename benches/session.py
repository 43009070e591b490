"""A realistic Claude Code session body: mostly code and prose, a few AWS identifiers.

The dense corpus (corpus.make_body) is AWS output with one identifier every ~230 bytes; a real
session on a code base reads files, greps, diffs, runs tests and talks, and only now and then
pastes cloud output. This body is that session, working on maskgate itself: its tool results are
the project's own source files (python/, rust/, README.md) as Claude Code's Read, Grep, Edit and
Bash tools show them, and a few pieces of the labelled corpus (tests/corpus/data, labels removed)
as the odd `aws` or `kubectl` output. Same shape as corpus.make_body: billing line and system
prompt, 20 tools with input_schema, thinking blocks with signatures, tool_use / tool_result turns.

`session_body(size)` is exactly `size` bytes; `next_turn(size, k)` is that body plus k more turns
(strings of the earlier turns byte for byte the same, `cache_control` moved to the last message, as
Claude Code resends a conversation). Deterministic for a given source tree and seed (the README's
benchmark results, which runs rewrite, are left out); standard library only (the engine workers of
every venv import it).
"""

from __future__ import annotations

import difflib
import json
import random
import re
from functools import cache
from pathlib import Path
from typing import Any

from corpus import _B64, _SYSTEM_SENTENCES, _Gen, _sentences, _tools

ROOT = Path(__file__).resolve().parent.parent
CWD = "/home/dev/maskgate"
CORPUS_FILES = ["cli-ec2.txt", "logs.txt", "config.txt", "shell.txt", "cli-iam.txt"]
_LABEL = re.compile(r"[⟦⟪][a-z0-9-]+:(.*?)[⟧⟫]", re.S)
_IDENT = re.compile(r"\b[a-z_][a-z0-9_]{5,}\b")

Json = dict[str, Any]


def _enc(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def _readme() -> str:
    """README.md without its benchmark results (written by the runs: the body must not follow them)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    head, start, rest = text.partition("<!-- benchmarks:start")
    return head + rest.partition("<!-- benchmarks:end -->")[2] if start else text


@cache
def sources() -> tuple[tuple[str, str], ...]:
    """(path relative to the root, text) of the project's own code and README, sorted."""
    files = [ROOT / "README.md", *sorted((ROOT / "python").rglob("*.py")), *sorted((ROOT / "rust").rglob("*.rs"))]
    out = []
    for f in files:
        if "__pycache__" in f.parts or not f.is_file():
            continue
        text = (
            _readme() if f.name == "README.md" and f.parent == ROOT else f.read_text(encoding="utf-8", errors="replace")
        )
        if text.strip():
            out.append((str(f.relative_to(ROOT)), text))
    return tuple(out)


@cache
def corpus_pieces() -> tuple[tuple[str, str], ...]:
    """(document name, text without labels) from the labelled corpus, at most ~6 KB each."""
    out = []
    for name in CORPUS_FILES:
        raw = (ROOT / "tests" / "corpus" / "data" / name).read_text(encoding="utf-8")
        for doc in raw.split("=== doc ")[1:]:
            title, _, text = doc.partition(" ===\n")
            text = _LABEL.sub(lambda m: m.group(1), text).strip()
            if text:
                out.append((title.strip(), "\n".join(text.splitlines()[:150])[:6000]))
    return tuple(out)


@cache
def _prose() -> tuple[str, ...]:
    """The README's paragraphs of prose (no code, no tables, no headings)."""
    paras, inside = [], False
    for block in _readme().split("\n\n"):
        if block.count("```") % 2:
            inside = not inside
            continue
        b = block.strip()
        if inside or not b or b.startswith(("#", "|", "<!--", "```", "!", "    ")) or len(b) < 80:
            continue
        paras.append(" ".join(b.split()))
    return tuple(paras)


class _Session:
    """One session's random choices; each turn is built from the source tree and the corpus."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.gen = _Gen(seed)
        self.files = sources()
        self.pieces = corpus_pieces()
        self.prose = _prose()
        self.n = 0

    def _id(self) -> str:
        return "toolu_01" + "".join(self.r.choice(_B64[:62]) for _ in range(22))

    def _file(self) -> tuple[str, list[str]]:
        path, text = self.r.choice(self.files)
        return path, text.splitlines()

    def _thinking(self, lo: int, hi: int) -> Json:
        text = " ".join(self.r.choice(self.prose) for _ in range(self.r.randint(1, 3)))
        text = text[: self.r.randint(lo, hi)]
        return {
            "type": "thinking",
            "thinking": text,
            "signature": "Eq" + self.gen.chars(_B64, self.r.randint(300, 900)),
        }

    def _say(self) -> str:
        return self.r.choice(self.prose)[: self.r.randint(60, 400)]

    @staticmethod
    def _numbered(lines: list[str], first: int) -> str:
        return "\n".join(f"{i:>6}→{line}" for i, line in enumerate(lines, first))

    def _read(self) -> tuple[Json, str]:
        path, lines = self._file()
        start = self.r.randrange(max(1, len(lines) - 40)) if len(lines) > 300 and self.r.random() < 0.6 else 0
        limit = self.r.choice([80, 150, 300, 2000])
        chunk = lines[start : start + limit]
        return {"file_path": f"{CWD}/{path}", "offset": start + 1, "limit": limit}, self._numbered(chunk, start + 1)

    def _grep(self) -> tuple[Json, str]:
        _, lines = self._file()
        words = [w for line in lines for w in _IDENT.findall(line)] or ["engine"]
        word = self.r.choice(words)
        hits = []
        for path, text in self.files:
            for i, line in enumerate(text.splitlines(), 1):
                if word in line:
                    hits.append(f"{path}:{i}:{line}")
                    if len(hits) >= 80:
                        break
            if len(hits) >= 80:
                break
        return {"pattern": word, "path": CWD, "output_mode": "content", "-n": True}, "\n".join(
            hits
        ) or "No matches found"

    def _diff(self) -> tuple[Json, str]:
        path, lines = self._file()
        start = self.r.randrange(max(1, len(lines) - 60))
        old = lines[start : start + 60]
        new = list(old)
        for _ in range(self.r.randint(1, 4)):
            i = self.r.randrange(len(new)) if new else 0
            if self.r.random() < 0.5 and new:
                new[i] = new[i].replace("self", "this", 1) + "  # review"
            else:
                new.insert(i, " " * 4 + "# " + self._say()[:90])
        diff = difflib.unified_diff(old, new, f"a/{path}", f"b/{path}", lineterm="", n=3)
        body = "\n".join(diff)
        head = f"diff --git a/{path} b/{path}\nindex {self.gen.hexs(7)}..{self.gen.hexs(7)} 100644\n"
        return {"command": f"git diff -- {path}", "description": "Show the working-tree changes"}, head + body

    def _edit(self) -> tuple[Json, str]:
        path, lines = self._file()
        i = self.r.randrange(max(1, len(lines) - 12))
        old = "\n".join(lines[i : i + 4])
        new = old + "\n" + " " * 4 + "# " + self._say()[:80]
        snippet = self._numbered(lines[max(0, i - 4) : i + 4] + new.splitlines()[-1:] + lines[i + 4 : i + 9], i - 3)
        result = (
            f"The file {CWD}/{path} has been updated. Here's the result of running `cat -n` on a snippet of the "
            f"edited file:\n{snippet}"
        )
        return {"file_path": f"{CWD}/{path}", "old_string": old, "new_string": new}, result

    def _tests(self) -> tuple[Json, str]:
        names = [
            (p, m.group(1))
            for p, text in self.files
            if p.endswith(".rs")
            for m in re.finditer(r"#\[test\]\s*fn (\w+)", text)
        ] or [("rust/lib.rs", "works")]
        picked = [self.r.choice(names) for _ in range(self.r.randint(20, 120))]
        out = ["   Compiling maskgate v0.1.0 (/home/dev/maskgate)", "    Finished `test` profile in 41.2s", ""]
        out += [
            f"test {p.removeprefix('rust/').removesuffix('.rs').replace('/', '::')}::tests::{n} ... ok"
            for p, n in picked
        ]
        out.append(
            f"\ntest result: ok. {len(picked)} passed; 0 failed; 0 ignored; finished in 1.{self.r.randint(10, 99)}s"
        )
        return {"command": "cargo test --release", "description": "Run the engine tests"}, "\n".join(out)

    def _aws(self) -> tuple[Json, str]:
        title, text = self.r.choice(self.pieces)
        cmd = "aws " + title.rsplit("-", 1)[0].replace("-", " ", 1) + " --output json"
        return {"command": cmd, "description": "Inspect the deployment"}, text

    TOOLS = {"Read": 34, "Grep": 14, "Bash:diff": 16, "Edit": 12, "Bash:tests": 8, "Bash:aws": 6}

    def turn(self) -> list[Json]:
        """An assistant message (thinking, text, tool_use) and the user's tool_result; now and then
        a reply in prose and the user's next request instead."""
        self.n += 1
        if self.n % 9 == 0:
            return [
                {"role": "assistant", "content": [self._thinking(100, 600), {"type": "text", "text": self._say()}]},
                {"role": "user", "content": [{"type": "text", "text": self._say()}]},
            ]
        kind = self.r.choices(list(self.TOOLS), list(self.TOOLS.values()))[0]
        make = {
            "Read": self._read,
            "Grep": self._grep,
            "Bash:diff": self._diff,
            "Edit": self._edit,
            "Bash:tests": self._tests,
            "Bash:aws": self._aws,
        }[kind]
        tool_input, output = make()
        tool_id = self._id()
        assistant = {
            "role": "assistant",
            "content": [
                self._thinking(150, 1200),
                {"type": "text", "text": self._say()},
                {"type": "tool_use", "id": tool_id, "name": kind.split(":")[0], "input": tool_input},
            ],
        }
        content: Any = output if self.r.random() < 0.7 else [{"type": "text", "text": output}]
        return [
            assistant,
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_id, "content": content}]},
        ]


def _head(s: _Session) -> Json:
    system_prompt = "\n\n".join(
        f"# {title}\n" + _sentences(s.gen, _SYSTEM_SENTENCES, 900)
        for title in ["Tone and style", "Doing tasks", "Tool usage policy", "Task management", "Code references", "Git"]
    )
    system_prompt += (
        f"\n\n<env>\nWorking directory: {CWD}\nIs directory a git repo: Yes\nPlatform: linux\n"
        "OS Version: Linux 6.8.0-45-generic\nToday's date: 2025-11-26\n</env>"
    )
    readme_head = "\n".join(_readme().splitlines()[:40])
    return {
        "model": "claude-sonnet-4-5-20250929",
        "messages": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "text",
                        "text": f"<system-reminder>\nContents of {CWD}/CLAUDE.md:\n\n{readme_head}\n</system-reminder>",
                    },
                    {
                        "type": "text",
                        "text": "The engine is slow on long sessions. Read the scanner and find where the time goes.",
                    },
                ],
            }
        ],
        "system": [
            {
                "type": "text",
                "text": f"x-anthropic-billing-header: cc_version=2.1.197.{s.gen.hexs(3)}; cc_entrypoint=cli;",
            },
            {
                "type": "text",
                "text": "You are Claude Code, Anthropic's official CLI for Claude.",
                "cache_control": {"type": "ephemeral"},
            },
            {"type": "text", "text": system_prompt, "cache_control": {"type": "ephemeral"}},
        ],
        "tools": _tools(s.gen),
        "metadata": {"user_id": f"user_{s.gen.hexs(64)}_account_{s.gen.uuid()}_session_{s.gen.uuid()}"},
        "max_tokens": 32000,
        "thinking": {"type": "enabled", "budget_tokens": 31999},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "stream": True,
    }


def _fit(text: str, room: int) -> str:
    """The longest prefix of text whose JSON string body takes at most room bytes, padded to room."""
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(_enc(text[:mid])) - 2 <= room:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + " " * (room - (len(_enc(text[:lo])) - 2))


def _mark_last(messages: list[Json]) -> None:
    for m in messages:
        for block in m["content"]:
            block.pop("cache_control", None)
    messages[-1]["content"][-1]["cache_control"] = {"type": "ephemeral"}


@cache
def _build(size: int, seed: int) -> tuple[Json, _Session]:
    s = _Session(seed)
    body = _head(s)
    messages: list[Json] = body["messages"]
    # the last turn is a Read whose output is cut (or padded) to land exactly on size
    fr = _Session(seed + 1_000_003)
    tool_input, output = fr._read()
    tid = fr._id()
    last = [
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me read the next part of the file."},
                {"type": "tool_use", "id": tid, "name": "Read", "input": tool_input},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": tid, "content": "", "cache_control": {"type": "ephemeral"}}
            ],
        },
    ]
    fixed = len(_enc(body)) + len(_enc(last[0])) + len(_enc(last[1])) + 2
    if fixed > size:
        raise ValueError(f"a session body cannot be as small as {size} bytes")
    total = fixed
    while True:
        pair = s.turn()
        grow = len(_enc(pair[0])) + len(_enc(pair[1])) + 2
        if total + grow > size - 2000:
            break
        messages += pair
        total += grow
    messages += last
    while len(output.encode()) < size - total:  # a short file: more of them, not a run of spaces
        output += "\n" + fr._read()[1]
    last[1]["content"][0]["content"] = _fit(output, size - total)
    assert len(_enc(body)) == size, (len(_enc(body)), size)
    return body, s


def session_body(size: int, seed: int = 0) -> bytes:
    """A Claude Code request of exactly `size` bytes (from ~70 KB) of a session on this repository."""
    return _enc(_build(size, seed)[0])


def next_turn(size: int, k: int = 1, seed: int = 0) -> bytes:
    """session_body(size) and k more turns: what Claude Code sends k turns later."""
    body, _ = _build(size, seed)
    s = _Session(seed + 7 * size + 1)
    extra: list[Json] = []
    for _ in range(k):
        extra += s.turn()
    messages = body["messages"] + extra
    copy = dict(body, messages=[dict(m, content=[dict(b) for b in m["content"]]) for m in messages])
    _mark_last(copy["messages"])
    return _enc(copy)
