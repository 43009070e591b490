"""Running the installed `maskgate` entry point in a subprocess, with a clean environment."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

# The console script pip installed next to this interpreter: the real entry point users run.
SCRIPT = Path(sys.executable).with_name("maskgate")
CLAUDE_INSTALL_HINT = "npm install -g @anthropic-ai/claude-code"
QUIET = {"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_TELEMETRY": "1", "DISABLE_ERROR_REPORTING": "1"}


def cli_env(tmp: Path, **extra: str) -> dict[str, str]:
    """Nothing from the caller's shell but PATH: no MASKGATE_*, ANTHROPIC_* or a real HOME."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp), "LANG": "C.UTF-8"}
    env["MASKGATE_HOME"] = str(tmp / "data")
    env.update(extra)
    return env


def command() -> list[str]:
    return [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "maskgate.cli"]


def run_cli(
    args: list[str], env: dict[str, str], stdin: str | None = None, timeout: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command(), *args],
        env=env,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        check=False,
    )


def run_in_terminal(args: list[str], env: dict[str, str], timeout: float = 60) -> tuple[int, str]:
    """Runs with stdout and stderr on a pseudo-terminal (what a user's shell gives it); returns
    the exit code and everything it drew."""
    master, slave = pty.openpty()
    env = {"TERM": "xterm-256color", "COLUMNS": "160", "LINES": "50", **env}
    proc = subprocess.Popen([*command(), *args], env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    out = bytearray()
    try:
        while True:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:
                raise TimeoutError(out.decode(errors="replace")[-2000:])
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the other end is closed
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
        code = proc.wait(timeout)
    return code, out.decode(errors="replace")
