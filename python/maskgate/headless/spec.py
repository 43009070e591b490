"""What a headless request asks for: its JSON body, read under the server's limits, checked field by
field into one `RunSpec` (prompt, directory, tools, permission mode, turns, output), or the
`ApiError` that says why not. Nothing here starts anything."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request

from maskgate.errors import ApiError
from maskgate.request_body import read_api_body
from maskgate.settings import ClaudeCodeSettings, Settings

PERMISSION_MODES = ("default", "acceptEdits", "plan", "dontAsk", "auto", "bypassPermissions")
ANALYZE_TOOLS = ("Read", "Grep", "Glob")
ANALYZE_PROMPT = (
    "You are answering a question about the code in the working directory. You can only read "
    "files there (Read, Grep, Glob): nothing can be run or changed. Cite files and lines."
)
DEFAULT_MAX_TURNS = 10
STREAM_TYPES = {"text/event-stream": "sse", "application/x-ndjson": "ndjson"}


@dataclass(frozen=True)
class RunSpec:
    """One validated run: what Claude Code is asked, where, with which tools, and how to answer."""

    prompt: str
    cwd: Path
    allowed_tools: tuple[str, ...] = ()
    tools: tuple[str, ...] | None = None
    permission_mode: str = "default"
    max_turns: int = DEFAULT_MAX_TURNS
    model: str | None = None
    append_system_prompt: str | None = None
    output: str = "json"
    preset: str = "run"


# A preset's parser: the request's JSON object, the endpoint's settings, the Accept header.
Parser = Callable[[dict[str, Any], ClaudeCodeSettings, str], RunSpec]


async def json_body(request: Request, settings: Settings) -> dict[str, Any]:
    """The request's JSON object, read as the gateway reads /v1/messages (same size and time limits,
    same refusals)."""
    raw = await read_api_body(request, settings)
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError(400, "request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    return body


def parse_run(body: dict[str, Any], config: ClaudeCodeSettings, accept: str) -> RunSpec:
    _check_keys(body, {"prompt", "allowed_tools", "permission_mode", "max_turns", "model", "cwd", "stream"})
    prompt = _field(body, "prompt", str)
    if not prompt or not prompt.strip():
        raise ApiError(400, "`prompt` is required")
    tools = _field(body, "allowed_tools", list, [])
    if not all(isinstance(t, str) and t for t in tools):
        raise ApiError(400, '`allowed_tools` must be a list of tool names or rules, e.g. ["Read", "Bash(git log *)"]')
    mode = _field(body, "permission_mode", str, "default")
    if mode not in PERMISSION_MODES:
        raise ApiError(400, f"`permission_mode` must be one of {', '.join(PERMISSION_MODES)}")
    if mode == "bypassPermissions" and not config.allow_bypass_permissions:
        raise ApiError(403, "bypassPermissions is not allowed here ([claude_code] allow_bypass_permissions)")
    return RunSpec(
        prompt=prompt,
        cwd=confine(body.get("cwd"), config.roots),
        allowed_tools=tuple(tools),
        permission_mode=mode,
        max_turns=_max_turns(body, config),
        model=_field(body, "model", str),
        output=_output(body, accept),
    )


def parse_analyze(body: dict[str, Any], config: ClaudeCodeSettings, accept: str) -> RunSpec:
    """The read-only preset: Read, Grep and Glob are the only tools that exist in the run, and none
    is pre-approved, so Claude Code's own rule applies: reads inside `path` only (dontAsk denies
    the rest instead of asking)."""
    _check_keys(body, {"path", "question", "max_turns", "model", "stream"})
    question = _field(body, "question", str)
    if not question or not question.strip():
        raise ApiError(400, "`question` is required")
    return RunSpec(
        prompt=question,
        cwd=confine(body.get("path"), config.roots),
        tools=ANALYZE_TOOLS,
        permission_mode="dontAsk",
        max_turns=_max_turns(body, config),
        model=_field(body, "model", str),
        append_system_prompt=ANALYZE_PROMPT,
        output=_output(body, accept),
        preset="analyze",
    )


def confine(raw: object, roots: tuple[Path, ...]) -> Path:
    """The real directory `raw` names, if it lies inside one of `roots`. Relative paths start at
    the first root; `..` is refused outright; symlinks are resolved before the check, so a link
    that points outside is outside. Containment is checked before existence, so a refusal says
    nothing about what exists elsewhere."""
    if raw is None:
        raw = str(roots[0])
    if not isinstance(raw, str) or not raw or "\0" in raw:
        raise ApiError(400, "`cwd` must be a non-empty path")
    path = Path(raw)
    if ".." in path.parts:
        raise ApiError(403, "`cwd` must not contain `..`")
    if not path.is_absolute():
        path = roots[0] / path
    real = Path(os.path.realpath(path))
    for root in roots:
        top = Path(os.path.realpath(root))
        if real == top or top in real.parents:
            if not real.is_dir():
                raise ApiError(400, "`cwd` is not a directory")
            return real
    raise ApiError(403, "`cwd` is outside the directories this server allows ([claude_code] roots)")


def _field(body: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
    value = body.get(name, default)
    if value is not default and not isinstance(value, kind):
        raise ApiError(400, f"`{name}` has the wrong type")
    return value


def _check_keys(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ApiError(400, f"unknown field(s): {', '.join(unknown)}; accepted: {', '.join(sorted(allowed))}")


def _max_turns(body: dict[str, Any], config: ClaudeCodeSettings) -> int:
    value = _field(body, "max_turns", int, min(DEFAULT_MAX_TURNS, config.max_turns))
    if isinstance(value, bool) or not 1 <= value <= config.max_turns:
        raise ApiError(400, f"`max_turns` must be between 1 and {config.max_turns}")
    return int(value)


def _output(body: dict[str, Any], accept: str) -> str:
    """`stream` when given, else the first streamed type the Accept header names, else JSON."""
    stream = body.get("stream")
    if stream in (None, False):
        media = (t.split(";")[0].strip() for t in accept.split(","))
        return next((STREAM_TYPES[m] for m in media if m in STREAM_TYPES), "json")
    if stream is True:
        return "sse"
    if stream in ("sse", "ndjson", "json"):
        return str(stream)
    raise ApiError(400, '`stream` must be "sse", "ndjson", "json" or a boolean')
