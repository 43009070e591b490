"""Claude Code pointed at maskgate: where the CLI is, the environment it needs, and a Python helper.

Every Claude Code that maskgate starts (`maskgate claude`, the headless service, `query()` below)
gets its environment from `claude_code_env`, so that all of its model traffic goes through the gateway
and none of its side traffic (telemetry, error reports) goes to Anthropic directly: those side
channels can carry prompt text, unmasked, around the gateway.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from maskgate.extras import install_hint

if TYPE_CHECKING:
    from claude_agent_sdk import ClaudeAgentOptions, Message

# The version the tests, the notes (docs/claude-code-notes.md) and the SDK's bundled binary agree on.
TESTED_VERSION = "2.1.332"
INSTALL_HINT = "npm install -g @anthropic-ai/claude-code"
SDK_INSTALL_HINT = install_hint("headless")

# Claude Code's own switches for its direct traffic to Anthropic. Any non-empty value disables.
QUIET_ENV = {
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
}

# Variables that would take Claude Code's model traffic somewhere other than ANTHROPIC_BASE_URL,
# or authenticate it with something other than the maskgate key. ANTHROPIC_API_KEY in particular
# would make Claude Code send the user's real Anthropic key to us as well as ours.
REDIRECTING_ENV = (
    "ANTHROPIC_API_KEY",
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
    "CLAUDE_CODE_USE_FOUNDRY",
    "ANTHROPIC_BEDROCK_BASE_URL",
    "ANTHROPIC_VERTEX_BASE_URL",
    "ANTHROPIC_FOUNDRY_BASE_URL",
    "CLAUDE_CODE_OAUTH_TOKEN",
)


def find_cli(explicit: str | None = None) -> str | None:
    """`explicit` (MASKGATE_CLAUDE_BIN or `[claude_code] cli_path`) if executable; else `claude` on
    PATH, then the binary bundled in claude-agent-sdk, then a checkout's pinned `.tools` copy."""
    if explicit:
        found = shutil.which(explicit)
        return found if found and os.access(found, os.X_OK) else None
    return shutil.which("claude") or bundled_cli() or _checkout_cli()


def agent_cli(explicit: str | None) -> str | None:
    """The binary a server-side run uses (the headless endpoint, and what doctor checks for it):
    `explicit` (`[claude_code] cli_path` / MASKGATE_CLAUDE_BIN), else the SDK's bundled binary (the
    version the SDK is released and tested with), else `claude` on PATH."""
    if explicit:
        return find_cli(explicit)
    return bundled_cli() or find_cli()


def _checkout_cli() -> str | None:
    """`.tools/node_modules/.bin/claude` beside python/maskgate, which only a source checkout has."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / ".tools" / "node_modules" / ".bin" / "claude"
    return str(path) if path.is_file() and os.access(path, os.X_OK) else None


def bundled_cli() -> str | None:
    """The binary inside the claude-agent-sdk wheel, when that package is installed."""
    try:
        import claude_agent_sdk
    except ImportError:
        return None
    from pathlib import Path

    path = Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"
    return str(path) if path.is_file() and os.access(path, os.X_OK) else None


def cli_version(cli: str, timeout: float = 20.0) -> str | None:
    """`claude --version`'s number (e.g. `2.1.332`), or None when it does not run."""
    try:
        out = subprocess.run(
            [cli, "--version"], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    words = out.stdout.split()
    return words[0] if out.returncode == 0 and words else None


def claude_code_env(
    url: str, token: str, base: Mapping[str, str] | None = None, *, blank: bool = False
) -> dict[str, str]:
    """The environment of every Claude Code maskgate points at the gateway at `url`: the one definition.

    `base` without what would take Claude Code's traffic around the gateway (the redirecting
    variables, our pass-through header), then the quiet switches, `url` and `token`. `blank`: the
    result is merged over an environment it cannot unset (claude-agent-sdk's `env` option, the `env`
    block of Claude Code's settings), so the redirecting variables are set empty, which Claude Code
    reads as unset.
    """
    env = dict.fromkeys(REDIRECTING_ENV, "") if blank else {}
    for k, v in (base or {}).items():
        if k not in REDIRECTING_ENV and k != "ANTHROPIC_AUTH_TOKEN":
            env[k] = v
    headers = env.get("ANTHROPIC_CUSTOM_HEADERS")
    if headers:
        # Our pass-through header would make maskgate forward the token below upstream as the user's own.
        kept = [h for h in headers.splitlines() if not h.lower().lstrip().startswith("x-maskgate-key:")]
        if kept:
            env["ANTHROPIC_CUSTOM_HEADERS"] = "\n".join(kept)
        else:
            del env["ANTHROPIC_CUSTOM_HEADERS"]
    env.update(QUIET_ENV)
    env["ANTHROPIC_BASE_URL"] = url
    env["ANTHROPIC_AUTH_TOKEN"] = token
    return env


async def query(
    prompt: str,
    *,
    url: str | None = None,
    token: str | None = None,
    options: ClaudeAgentOptions | None = None,
    **fields: Any,
) -> AsyncIterator[Message]:
    """claude-agent-sdk's `query`, with Claude Code pointed at a maskgate.

    `url` defaults to $MASKGATE_URL, else http://127.0.0.1:8000; `token` to $MASKGATE_MASTER_KEY.
    `fields` are ClaudeAgentOptions fields (`allowed_tools=["Read"]`, `cwd=...`, `max_turns=3`, ...),
    applied over `options`. The messages come back restored: they passed through the gateway.

        async for message in maskgate.claude.query("Which instances does deploy.sh stop?", cwd="infra"):
            print(message)
    """
    import dataclasses

    from claude_agent_sdk import ClaudeAgentOptions
    from claude_agent_sdk import query as sdk_query

    url = url or os.environ.get("MASKGATE_URL") or "http://127.0.0.1:8000"
    token = token or os.environ.get("MASKGATE_MASTER_KEY")
    if not token:
        raise ValueError("no maskgate key: pass token= or set MASKGATE_MASTER_KEY")
    base = options or ClaudeAgentOptions(system_prompt={"type": "preset", "preset": "claude_code"})
    opts = dataclasses.replace(base, **fields)
    if opts.cli_path is None:
        opts = dataclasses.replace(opts, cli_path=find_cli(os.environ.get("MASKGATE_CLAUDE_BIN")) or bundled_cli())
    opts = dataclasses.replace(opts, env=claude_code_env(url, token, opts.env, blank=True))
    async for message in sdk_query(prompt=prompt, options=opts):
        yield message


# -- `maskgate claude`: a Claude Code session through a running maskgate, or one started for it ---


def local_url(host: str, port: int) -> str:
    """The URL a local client uses for a server bound to `host` (a wildcard address means loopback)."""
    if host in {"", "0.0.0.0"}:
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def probe(url: str) -> str | None:
    """`maskgate` when a maskgate answers at `url`, `other` when something else does, None when nothing."""
    import httpx2

    try:
        if httpx2.head(url + "/", timeout=2).status_code >= 500:
            return "other"
        health = httpx2.get(url + "/health", timeout=5)
        body = health.json() if health.headers.get("content-type", "").startswith("application/json") else {}
    except httpx2.HTTPError:
        return None
    except ValueError:
        return "other"
    return "maskgate" if isinstance(body, dict) and "store" in body and "status" in body else "other"


def key_accepted(url: str, key: str) -> bool | None:
    """Whether the maskgate at `url` accepts `key` (its /api/key answers 204 or 401), without a call
    upstream and without counting as a request in its metrics or console."""
    import httpx2

    try:
        r = httpx2.get(url + "/api/key", headers={"authorization": f"Bearer {key}"}, timeout=5)
    except httpx2.HTTPError:
        return None
    return False if r.status_code == 401 else True if r.status_code == 204 else None


class SessionError(Exception):
    """`maskgate claude` cannot start; the message says why and how to fix it."""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BackgroundGateway:
    """`maskgate serve` on a free loopback port for one Claude Code session.

    It runs in its own session so that the Ctrl-C meant for Claude Code (which interrupts a turn)
    does not reach it; its log goes to a file so it never writes over Claude Code's screen.
    """

    def __init__(self, environ: Mapping[str, str], key: str, timeout: float = 30.0) -> None:
        import sys
        import tempfile

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log = tempfile.NamedTemporaryFile(prefix="maskgate-session-", suffix=".log", delete=False)
        self.log_path = log.name
        env = dict(environ)
        env["MASKGATE_MASTER_KEY"] = key
        env.setdefault("MASKGATE_LOG_FORMAT", "json")
        # One worker whatever MASKGATE_WORKERS says: it serves this one Claude Code.
        cmd = [sys.executable, "-m", "maskgate.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        cmd += ["--workers", "1"]
        with log:
            self.proc = subprocess.Popen(
                cmd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.timeout = timeout

    def wait_ready(self) -> None:
        import time

        import httpx2

        deadline = time.monotonic() + self.timeout
        while True:
            if self.proc.poll() is not None:
                raise SessionError(f"the gateway started for this session exited:\n{self.log_tail()}")
            try:
                if httpx2.head(self.url + "/", timeout=1).status_code == 200:
                    return
            except httpx2.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SessionError(f"the gateway started for this session did not answer:\n{self.log_tail()}")
            time.sleep(0.05)

    def log_tail(self, lines: int = 20) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-lines:]).rstrip()
        except OSError:
            return "(no log)"

    def stop(self, keep_log: bool = False) -> None:
        """Its only client has exited, so a request still in flight has nobody to answer: after a
        short grace period a SIGINT (uvicorn's "force exit" when already stopping) ends it."""
        import signal

        for sig, grace in ((signal.SIGTERM, 1.0), (signal.SIGINT, 5.0)):
            if self.proc.poll() is not None:
                break
            self.proc.send_signal(sig)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not keep_log:
            try:
                os.unlink(self.log_path)
            except OSError:
                pass


def _run_foreground(cmd: list[str], env: Mapping[str, str]) -> int:
    """Runs Claude Code on this terminal. Ctrl-C belongs to Claude Code (it interrupts a turn there),
    so this process only waits through it; SIGTERM and SIGHUP are passed on."""
    import signal

    proc = subprocess.Popen(cmd, env=dict(env))

    def forward(signum: int, frame: object) -> None:
        if proc.poll() is None:
            proc.send_signal(signum)

    previous = {
        sig: signal.signal(sig, forward if sig != signal.SIGINT else (lambda s, f: None))
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    try:
        code = proc.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - code if code < 0 else code


def _check_upstream(environ: Mapping[str, str]) -> None:
    """Before a gateway is started for the session: an upstream that does not answer would leave
    Claude Code retrying for minutes in silence, so say so now."""
    from maskgate import doctor
    from maskgate.settings import Settings

    check = doctor.upstream(Settings.from_env(environ, require_master_key=False))
    if check.status == doctor.FAIL:
        raise SessionError(f"the provider {check.detail}: {check.fix}")


def _check_store(url: str) -> None:
    """A gateway whose store is down refuses every request (fail closed): say so before Claude Code
    starts retrying them."""
    import httpx2

    try:
        body = httpx2.get(url + "/health", timeout=5).json()
    except (httpx2.HTTPError, ValueError):
        return  # the session will show what is wrong; /health is not the place to guess
    if isinstance(body, dict) and body.get("store") == "unavailable":
        raise SessionError(
            f"the maskgate at {url} cannot reach its mapping store, so it can mask nothing and refuses every "
            "request: start Redis or fix MASKGATE_REDIS_URL (`maskgate doctor` checks it)"
        )


def run_session(args: list[str], environ: Mapping[str, str], claude_bin: str | None, url: str, say: Any) -> int:
    """`maskgate claude ARGS`: Claude Code through the maskgate at `url`, or through one started here.

    `say` prints a status line (never the key). Returns Claude Code's exit code.
    """
    cli = find_cli(claude_bin)
    if cli is None:
        where = f"MASKGATE_CLAUDE_BIN={claude_bin} is not an executable" if claude_bin else "`claude` is not on PATH"
        raise SessionError(f"Claude Code is not installed: {where}. Install it with:\n  {INSTALL_HINT}")
    key = environ.get("MASKGATE_MASTER_KEY", "")
    found = probe(url)
    server: BackgroundGateway | None = None
    if found == "maskgate":
        if not key:
            raise SessionError(
                f"a maskgate answers at {url}, but MASKGATE_MASTER_KEY is not set in this shell: "
                "export the key that gateway was started with"
            )
        if key_accepted(url, key) is False:
            raise SessionError(
                f"the maskgate at {url} refuses MASKGATE_MASTER_KEY (401): export the key that gateway was started "
                "with, or stop it and let `maskgate claude` start its own"
            )
        say(f"using the maskgate at {url}")
    else:
        if found == "other":
            say(f"{url} answers but is not maskgate; starting a separate gateway for this session")
        if not (environ.get("MASKGATE_UPSTREAM_API_KEY") or environ.get("ANTHROPIC_API_KEY")):
            say("warning: neither MASKGATE_UPSTREAM_API_KEY nor ANTHROPIC_API_KEY is set: the provider will refuse")
        _check_upstream(environ)
        import secrets

        # Nobody else needs to reach this gateway, so without a configured key a one-off key will do.
        key = key or secrets.token_urlsafe(32)
        server = BackgroundGateway(environ, key)
        url = server.url
    failed = True
    try:
        if server is not None:
            server.wait_ready()
            say(f"started a maskgate for this session at {url}")
        _check_store(url)
        code = _run_foreground([cli, *args], claude_code_env(url, key, environ))
        failed = False
        return code
    finally:
        if server is not None:
            server.stop(keep_log=failed)
            if failed:
                say(f"gateway log kept at {server.log_path}")
