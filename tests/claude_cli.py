"""Run the real Claude Code CLI headless against a base URL (the fake upstream or maskgate).

``.ci/install-claude.sh`` installs the pinned version into ``<repo>/.tools``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
CLAUDE_VERSION = "2.1.332"  # keep in sync with .ci/install-claude.sh

# Keep the CLI offline and quiet: no telemetry, error reports, auto-update or side calls.
QUIET_ENV = {
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "DISABLE_AUTOUPDATER": "1",
    "IS_SANDBOX": "1",  # lets --dangerously-skip-permissions / bypassPermissions run as root
}
# Passed through from the caller's environment; everything else (ANTHROPIC_*, proxies, ...) is not.
INHERITED = ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR")


def find_claude() -> str | None:
    """``$CLAUDE_BIN``, else ``<repo>/.tools/node_modules/.bin/claude``, else ``claude`` on PATH."""
    override = os.environ.get("CLAUDE_BIN")
    if override:
        return override if os.access(override, os.X_OK) else None
    local = REPO_ROOT / ".tools" / "node_modules" / ".bin" / "claude"
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which("claude")


def claude_env(base_url: str, home: str, env_extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {key: os.environ[key] for key in INHERITED if key in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update(QUIET_ENV)
    env.update({"HOME": home, "ANTHROPIC_BASE_URL": base_url, "ANTHROPIC_API_KEY": "test", "TERM": "dumb"})
    env.update(env_extra or {})
    return env


def run_claude(
    base_url: str,
    prompt: str,
    cwd: str | os.PathLike[str],
    *extra_args: str,
    env_extra: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``claude -p PROMPT --output-format stream-json --verbose *extra_args`` in ``cwd``.

    HOME is a fresh temporary directory (removed afterwards) unless ``env_extra`` sets one.
    Raises RuntimeError when the CLI is not installed.
    """
    claude = find_claude()
    if claude is None:
        raise RuntimeError("claude CLI not found: run .ci/install-claude.sh")
    cmd = [claude, "-p", prompt, "--output-format", "stream-json", "--verbose", *extra_args]
    with tempfile.TemporaryDirectory(prefix="claude-home-") as home:
        env = claude_env(base_url, home, env_extra)
        return subprocess.run(
            cmd,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def parse_stream_json(stdout: str) -> list[dict[str, Any]]:
    """The JSON messages of ``--output-format stream-json`` output (non-JSON lines are skipped)."""
    messages = []
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            messages.append(json.loads(line))
        except ValueError:
            continue
    return messages


def final_result(stdout: str) -> dict[str, Any] | None:
    """The last ``{"type": "result", ...}`` message (keys: result, is_error, num_turns, ...), if any."""
    results = [m for m in parse_stream_json(stdout) if m.get("type") == "result"]
    return results[-1] if results else None
