"""One Claude Code process for a run: a directory of its own (its HOME, TMPDIR and pid file), the
environment the exec shim lets through, the SDK's options, and killing its process tree."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from maskgate.claude import claude_code_env
from maskgate.headless import proctree
from maskgate.headless.spec import RunSpec
from maskgate.settings import ClaudeCodeSettings

if TYPE_CHECKING:
    from claude_agent_sdk import ClaudeAgentOptions

EXEC_SHIM = Path(__file__).with_name("_agent_exec.py")
# Variables claude-agent-sdk itself sets for its CLI; the shim lets them through.
SDK_ENV = (
    "CLAUDE_CODE_ENTRYPOINT",
    "CLAUDE_AGENT_SDK_VERSION",
    "CLAUDE_CODE_SDK_READS_SESSION_STATE",
    "CLAUDE_CODE_ENABLE_SDK_FILE_CHECKPOINTING",
    "CLAUDE_AGENT_SDK_CLIENT_APP",
    "PWD",
)
INHERITED_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")


class AgentRun:
    """One Claude Code process (through the exec shim) and the directory it lives in: its HOME,
    so its transcripts (restored text) are deleted with it, and its pid file."""

    def __init__(self, spec: RunSpec, cli: str, url: str, token: str, config: ClaudeCodeSettings) -> None:
        self.spec = spec
        self.dir = Path(tempfile.mkdtemp(prefix="maskgate-run-"))
        self.pidfile = self.dir / "pid"
        self.pid: int | None = None
        self.doomed = False
        self.killed = 0
        home, tmp = self.dir / "home", self.dir / "tmp"
        home.mkdir()
        tmp.mkdir()
        launcher = self.dir / "claude"
        launcher.write_text(
            "#!/bin/sh\n"
            f'exec {shlex.quote(sys.executable)} -I -S {shlex.quote(str(EXEC_SHIM))} {shlex.quote(cli)} "$@"\n'
        )
        launcher.chmod(0o700)
        self.launcher = str(launcher)
        self.env = self._env(url, token, home, tmp, config)

    def _env(self, url: str, token: str, home: Path, tmp: Path, config: ClaudeCodeSettings) -> dict[str, str]:
        env = {k: os.environ[k] for k in (*INHERITED_ENV, *config.pass_env) if k in os.environ}
        env = {k: v for k, v in env.items() if not k.startswith("MASKGATE_")}
        env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
        env = claude_code_env(url, token, env)
        env.update({"DISABLE_AUTOUPDATER": "1", "HOME": str(home), "TMPDIR": str(tmp), "TERM": "dumb"})
        if self.spec.permission_mode == "bypassPermissions":
            env["IS_SANDBOX"] = "1"  # the operator allowed it; Claude Code refuses it as root otherwise
        env["MASKGATE_AGENT_ENV"] = ",".join(sorted({*env, *SDK_ENV}))
        env["MASKGATE_AGENT_PIDFILE"] = str(self.pidfile)
        return env

    def options(self) -> ClaudeAgentOptions:
        from claude_agent_sdk import ClaudeAgentOptions

        spec = self.spec
        system: Any = {"type": "preset", "preset": "claude_code"}
        if spec.append_system_prompt:
            system["append"] = spec.append_system_prompt
        return ClaudeAgentOptions(
            cli_path=self.launcher,
            cwd=str(spec.cwd),
            env=self.env,
            system_prompt=system,
            tools=list(spec.tools) if spec.tools is not None else None,
            allowed_tools=list(spec.allowed_tools),
            permission_mode=spec.permission_mode,  # type: ignore[arg-type]
            max_turns=spec.max_turns,
            model=spec.model,
            # No settings, hooks or MCP servers from the repository or the server's home: a
            # repository's .claude/settings.json could otherwise point ANTHROPIC_BASE_URL elsewhere.
            setting_sources=[],
            strict_mcp_config=True,
            stderr=lambda line: None,  # may hold prompt text; never logged or returned
        )

    def _read_pid(self) -> int | None:
        """The pid the shim wrote, read once, and only if it is really our child: the file sits in
        the run's directory, next to a HOME the agent can write to."""
        if self.pid is None:
            try:
                pid = int(self.pidfile.read_text())
            except (OSError, ValueError):
                return None
            if proctree.parent_of(pid) == os.getpid():
                self.pid = pid
        return self.pid

    def kill(self, include_root: bool = True) -> None:
        pid = self._read_pid()
        if pid is None:
            self.doomed = self.doomed or include_root  # not started yet: kill it as soon as it shows up
            return
        self.killed += proctree.kill_tree(pid, include_root)

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
