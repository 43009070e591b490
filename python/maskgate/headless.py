"""`POST /v1/claude-code` and `/v1/claude-code/analyze`: Claude Code, headless, on this server.

The run goes through this same gateway (ANTHROPIC_BASE_URL is the address the request came in on,
the token the configured tenant's key), so the provider sees masked text and the answer comes back
restored. Because it runs an agent on this host, the endpoint is off unless `[claude_code]` enables
it, takes only its own admin key, keeps `cwd` inside the configured roots, refuses
bypassPermissions unless allowed, caps concurrent runs and wall time, and kills the whole process
tree when the time is up or the client goes away.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message as AsgiMessage
from starlette.types import Receive, Scope, Send

from maskgate import logs, proctree
from maskgate.auth import authenticate
from maskgate.claude import SDK_INSTALL_HINT, bundled_cli, claude_code_env, find_cli
from maskgate.errors import error_body, error_event, error_response
from maskgate.request_body import BodyTooLarge, read_body
from maskgate.settings import ClaudeCodeSettings, Settings, Tenant

if TYPE_CHECKING:
    from claude_agent_sdk import ClaudeAgentOptions

PERMISSION_MODES = ("default", "acceptEdits", "plan", "dontAsk", "auto", "bypassPermissions")
ANALYZE_TOOLS = ["Read", "Grep", "Glob"]
ANALYZE_PROMPT = (
    "You are answering a question about the code in the working directory. You can only read "
    "files there (Read, Grep, Glob): nothing can be run or changed. Cite files and lines."
)
DEFAULT_MAX_TURNS = 10
KILL_GRACE_SECONDS = 15.0
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
STREAM_TYPES = {"text/event-stream": "sse", "application/x-ndjson": "ndjson"}


class Refused(Exception):
    """A request this endpoint will not run; `status` and the message go back to the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


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


class ClaudeCodeService:
    """The Gateway's handle on headless runs: the settings and the count of runs in flight (per
    worker process: with N uvicorn workers, up to N x max_concurrent runs)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.config: ClaudeCodeSettings = settings.claude_code
        self.running = 0

    def try_acquire(self) -> bool:
        if self.running >= self.config.max_concurrent:
            return False
        self.running += 1
        return True

    def release(self) -> None:
        self.running -= 1

    def token(self) -> str:
        """The key the run's Claude Code presents to this gateway: its tenant's."""
        return next(t.key for t in self.settings.all_tenants if t.name == self.config.tenant)

    def cli(self) -> str | None:
        """`cli_path` / MASKGATE_CLAUDE_BIN, else the SDK's bundled binary (the version the SDK is
        released and tested with), else `claude` on PATH."""
        if self.settings.claude_bin:
            return find_cli(self.settings.claude_bin)
        return bundled_cli() or find_cli()


# -- request parsing -------------------------------------------------------------------------


def _field(body: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
    value = body.get(name, default)
    if value is not default and not isinstance(value, kind):
        raise Refused(400, f"`{name}` has the wrong type")
    return value


def _check_keys(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise Refused(400, f"unknown field(s): {', '.join(unknown)}; accepted: {', '.join(sorted(allowed))}")


def _max_turns(body: dict[str, Any], config: ClaudeCodeSettings) -> int:
    value = _field(body, "max_turns", int, min(DEFAULT_MAX_TURNS, config.max_turns))
    if isinstance(value, bool) or not 1 <= value <= config.max_turns:
        raise Refused(400, f"`max_turns` must be between 1 and {config.max_turns}")
    return int(value)


def _output(body: dict[str, Any], accept: str) -> str:
    stream = body.get("stream")
    if stream in (None, False):
        wanted = [
            STREAM_TYPES[t.split(";")[0].strip()] for t in accept.split(",") if t.split(";")[0].strip() in STREAM_TYPES
        ]
        return wanted[0] if wanted else "json"
    if stream is True:
        return "sse"
    if stream in ("sse", "ndjson", "json"):
        return str(stream)
    raise Refused(400, '`stream` must be "sse", "ndjson", "json" or a boolean')


def confine(raw: object, roots: tuple[Path, ...]) -> Path:
    """The real directory `raw` names, if it lies inside one of `roots`. Relative paths start at
    the first root; `..` is refused outright; symlinks are resolved before the check, so a link
    that points outside is outside. Containment is checked before existence, so a refusal says
    nothing about what exists elsewhere."""
    if raw is None:
        raw = str(roots[0])
    if not isinstance(raw, str) or not raw or "\0" in raw:
        raise Refused(400, "`cwd` must be a non-empty path")
    path = Path(raw)
    if ".." in path.parts:
        raise Refused(403, "`cwd` must not contain `..`")
    if not path.is_absolute():
        path = roots[0] / path
    real = Path(os.path.realpath(path))
    for root in roots:
        top = Path(os.path.realpath(root))
        if real == top or top in real.parents:
            if not real.is_dir():
                raise Refused(400, "`cwd` is not a directory")
            return real
    raise Refused(403, "`cwd` is outside the directories this server allows ([claude_code] roots)")


def parse_run(body: dict[str, Any], config: ClaudeCodeSettings, accept: str) -> RunSpec:
    _check_keys(body, {"prompt", "allowed_tools", "permission_mode", "max_turns", "model", "cwd", "stream"})
    prompt = _field(body, "prompt", str)
    if not prompt or not prompt.strip():
        raise Refused(400, "`prompt` is required")
    tools = _field(body, "allowed_tools", list, [])
    if not all(isinstance(t, str) and t for t in tools):
        raise Refused(400, '`allowed_tools` must be a list of tool names or rules, e.g. ["Read", "Bash(git log *)"]')
    mode = _field(body, "permission_mode", str, "default")
    if mode not in PERMISSION_MODES:
        raise Refused(400, f"`permission_mode` must be one of {', '.join(PERMISSION_MODES)}")
    if mode == "bypassPermissions" and not config.allow_bypass_permissions:
        raise Refused(403, "bypassPermissions is not allowed here ([claude_code] allow_bypass_permissions)")
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
        raise Refused(400, "`question` is required")
    return RunSpec(
        prompt=question,
        cwd=confine(body.get("path"), config.roots),
        tools=tuple(ANALYZE_TOOLS),
        permission_mode="dontAsk",
        max_turns=_max_turns(body, config),
        model=_field(body, "model", str),
        append_system_prompt=ANALYZE_PROMPT,
        output=_output(body, accept),
        preset="analyze",
    )


# -- messages as JSON ------------------------------------------------------------------------

_TAGS = {
    "UserMessage": "user",
    "AssistantMessage": "assistant",
    "SystemMessage": "system",
    "ResultMessage": "result",
    "TextBlock": "text",
    "ThinkingBlock": "thinking",
    "ToolUseBlock": "tool_use",
    "ToolResultBlock": "tool_result",
    "ServerToolUseBlock": "server_tool_use",
    "ServerToolResultBlock": "server_tool_result",
}


def to_json(value: Any) -> Any:
    """An SDK message as plain JSON, each message and content block tagged with its `type`."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        out: dict[str, Any] = {"type": _TAGS.get(name) or re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()}
        for f in dataclasses.fields(value):
            out[f.name] = to_json(getattr(value, f.name))
        return out
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


# -- one run -----------------------------------------------------------------------------------


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
            self.doomed = include_root  # not started yet: kill it as soon as it shows up
            return
        self.killed += proctree.kill_tree(pid, include_root)

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class Outcome:
    result: dict[str, Any] | None = None
    reason: str = "ok"  # ok, timeout, disconnect, error
    error: str | None = None
    messages: int = 0


class RunResponse(Response):
    """Runs the agent while the response is being sent: a JSON answer at the end, or the messages
    as they come (SSE or NDJSON). Written as a raw ASGI response so that a timeout or a disconnect
    kills the process tree from a watcher task, and the SDK is never cancelled mid-read."""

    def __init__(self, service: ClaudeCodeService, spec: RunSpec, url: str, cli: str) -> None:
        super().__init__(status_code=200)
        self.service = service
        self.spec = spec
        self.url = url
        self.cli = cli

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        rid = uuid.uuid4().hex[:16]
        started = time.perf_counter()
        if not self.service.try_acquire():
            limit = self.service.config.max_concurrent
            refusal = error_response(429, f"{limit} Claude Code run(s) already in progress", **{"retry-after": "5"})
            await refusal(scope, receive, send)
            logs.event("claude-code", id=rid, preset=self.spec.preset, status=429)
            return
        run: AgentRun | None = None
        try:
            run = AgentRun(self.spec, self.cli, self.url, self.service.token(), self.service.config)
            outcome = await self._execute(run, receive, send)
        finally:
            self.service.release()
            if run is not None:
                run.cleanup()
        logs.event(
            "claude-code",
            id=rid,
            preset=self.spec.preset,
            output=self.spec.output,
            outcome=outcome.reason,
            messages=outcome.messages,
            turns=(outcome.result or {}).get("num_turns"),
            killed=run.killed,
            ms=round((time.perf_counter() - started) * 1000, 2),
        )

    async def _execute(self, run: AgentRun, receive: Receive, send: Send) -> Outcome:
        from claude_agent_sdk import ClaudeSDKError, ResultMessage
        from claude_agent_sdk import query as sdk_query

        outcome = Outcome()
        timeout = self.service.config.timeout_seconds
        stream = self.spec.output != "json"
        writer = _Writer(send, self.spec.output)

        def stop(reason: str) -> None:
            if outcome.reason == "ok":
                outcome.reason = reason
            run.kill()

        async with anyio.create_task_group() as tg:

            async def watchdog() -> None:
                await anyio.sleep(timeout)
                stop("timeout")
                await anyio.sleep(KILL_GRACE_SECONDS)
                tg.cancel_scope.cancel()  # the SDK did not notice the process died; stop waiting

            async def watch_client() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                stop("disconnect")
                await anyio.sleep(KILL_GRACE_SECONDS)
                tg.cancel_scope.cancel()

            tg.start_soon(watchdog)
            tg.start_soon(watch_client)
            if stream:
                await writer.start()
            messages = cast(AsyncGenerator[Any, None], sdk_query(prompt=self.spec.prompt, options=run.options()))
            try:
                async for message in messages:
                    if run.doomed:
                        run.kill()
                    outcome.messages += 1
                    data = to_json(message)
                    if isinstance(message, ResultMessage):
                        outcome.result = data
                        run.kill(include_root=False)  # tools left running in the background
                    if stream and outcome.reason == "ok" and not await writer.message(data):
                        stop("disconnect")
            except ClaudeSDKError as e:
                if outcome.reason == "ok" and outcome.result is None:
                    outcome.reason, outcome.error = "error", f"Claude Code failed: {type(e).__name__}"
            finally:
                # `async for` does not close a generator it leaves early; the SDK's cleanup is in there.
                with anyio.CancelScope(shield=True), anyio.move_on_after(KILL_GRACE_SECONDS):
                    await messages.aclose()
                tg.cancel_scope.cancel()
        if outcome.reason == "ok" and outcome.result is None:
            outcome.reason, outcome.error = "error", "Claude Code ended without a result"
        await self._finish(writer, outcome, timeout)
        return outcome

    async def _finish(self, writer: _Writer, outcome: Outcome, timeout: float) -> None:
        if outcome.reason == "disconnect":
            return
        if outcome.reason == "timeout":
            status, message = 504, f"Claude Code did not finish within {timeout:g} s and was stopped"
        elif outcome.reason == "error":
            status, message = 502, outcome.error or "Claude Code failed"
        else:
            status, message = 200, ""
        if writer.streaming:
            await writer.end(None if status == 200 else message)
        elif status == 200:
            await writer.whole(200, json.dumps(outcome.result).encode())
        else:
            await writer.whole(status, error_body(status, message))


class _Writer:
    """Sends a JSON answer, or an SSE / NDJSON stream; reports a client that went away as False."""

    def __init__(self, send: Send, output: str) -> None:
        self.send = send
        self.output = output
        self.streaming = False
        self.open = True

    async def _send(self, message: AsgiMessage) -> bool:
        if not self.open:
            return False
        try:
            await self.send(message)
            return True
        except OSError:
            self.open = False
            return False

    async def start(self) -> None:
        media = "text/event-stream" if self.output == "sse" else "application/x-ndjson"
        headers = [(b"content-type", media.encode()), (b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]
        self.streaming = await self._send({"type": "http.response.start", "status": 200, "headers": headers})

    async def message(self, data: dict[str, Any]) -> bool:
        text = json.dumps(data, ensure_ascii=False)
        chunk = f"event: {data['type']}\ndata: {text}\n\n" if self.output == "sse" else text + "\n"
        return await self._send({"type": "http.response.body", "body": chunk.encode(), "more_body": True})

    async def end(self, error: str | None) -> None:
        tail = b""
        if error is not None:
            tail = error_event(error) if self.output == "sse" else error_body(500, error, "api_error") + b"\n"
        await self._send({"type": "http.response.body", "body": tail, "more_body": False})

    async def whole(self, status: int, body: bytes) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if await self._send({"type": "http.response.start", "status": status, "headers": headers}):
            await self._send({"type": "http.response.body", "body": body, "more_body": False})


# -- endpoints -------------------------------------------------------------------------------


def _self_url(request: Request, config: ClaudeCodeSettings) -> str:
    """This server, as the run's Claude Code should reach it: the configured `gateway_url`, else
    the local address the request arrived on (never the Host header, which the client chooses)."""
    if config.gateway_url:
        return config.gateway_url
    server = request.scope.get("server")
    if not server or server[1] is None:
        raise Refused(500, "cannot tell this server's address: set [claude_code] gateway_url")
    host, port = server
    host = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def _handle(request: Request, parse: Callable[[dict[str, Any], ClaudeCodeSettings, str], RunSpec]) -> Response:
    service: ClaudeCodeService = request.app.state.gateway.claude_code
    config = service.config
    if not config.enabled:
        return error_response(404, "the Claude Code endpoint is off: enable it with [claude_code] in the config")
    assert config.admin_key is not None  # settings refuse `enabled` without one
    if authenticate(request.headers, [Tenant("claude-code-admin", config.admin_key)]) is None:
        return error_response(401, "this endpoint takes the [claude_code] admin key, not a client key")
    try:
        body = await _json_body(request, service.settings.max_body_bytes)
        spec = parse(body, config, request.headers.get("accept", ""))
        url = _self_url(request, config)
    except Refused as e:
        return error_response(e.status, str(e))
    try:
        import claude_agent_sdk  # noqa: F401
    except ImportError:
        return error_response(503, f"claude-agent-sdk is not installed on this server: {SDK_INSTALL_HINT}")
    cli = service.cli()
    if cli is None:
        return error_response(503, "no Claude Code binary on this server: set [claude_code] cli_path")
    return RunResponse(service, spec, url, cli)


async def _json_body(request: Request, limit: int) -> dict[str, Any]:
    if request.headers.get("content-type", "application/json").split(";")[0].strip().lower() != "application/json":
        raise Refused(415, "content-type must be application/json")
    try:
        raw = await read_body(request, limit)
    except BodyTooLarge:
        raise Refused(413, f"request body is over the {limit}-byte limit") from None
    try:
        body = json.loads(raw)
    except ValueError:
        raise Refused(400, "request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise Refused(400, "request body must be a JSON object")
    return body


async def run_endpoint(request: Request) -> Response:
    return await _handle(request, parse_run)


async def analyze_endpoint(request: Request) -> Response:
    return await _handle(request, parse_analyze)
