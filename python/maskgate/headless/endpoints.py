"""`POST /v1/claude-code` and `/v1/claude-code/analyze`, top to bottom: the checks that start
nothing (on, admin key, body, spec, this server's address, SDK and CLI there) raise `ApiError`;
then a `RunResponse` takes a slot, runs the agent while it answers, and logs one line."""

from __future__ import annotations

import time
import uuid

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from maskgate import logs
from maskgate.auth import authenticate
from maskgate.claude import SDK_INSTALL_HINT, agent_cli, local_url
from maskgate.errors import ApiError, error_response
from maskgate.headless.agent import AgentRun
from maskgate.headless.response import Writer
from maskgate.headless.run import ClaudeCodeService, execute
from maskgate.headless.spec import Parser, RunSpec, json_body, parse_analyze, parse_run
from maskgate.settings import ClaudeCodeSettings, Tenant


async def run_endpoint(request: Request) -> Response:
    return await _handle(request, parse_run)


async def analyze_endpoint(request: Request) -> Response:
    return await _handle(request, parse_analyze)


async def _handle(request: Request, parse: Parser) -> Response:
    service: ClaudeCodeService = request.app.state.gateway.claude_code
    config = service.config
    if not config.enabled:
        raise ApiError(404, "the Claude Code endpoint is off: enable it with [claude_code] in the config")
    assert config.admin_key is not None  # settings refuse `enabled` without one
    if authenticate(request.headers, [Tenant("claude-code-admin", config.admin_key)]) is None:
        raise ApiError(401, "this endpoint takes the [claude_code] admin key, not a client key")
    body = await json_body(request, service.settings)
    spec = parse(body, config, request.headers.get("accept", ""))
    url = _self_url(request, config)
    try:
        import claude_agent_sdk  # noqa: F401
    except ImportError:
        raise ApiError(503, f"claude-agent-sdk is not installed on this server: {SDK_INSTALL_HINT}") from None
    cli = agent_cli(service.settings.claude_bin)
    if cli is None:
        raise ApiError(503, "no Claude Code binary on this server: set [claude_code] cli_path")
    return RunResponse(service, spec, url, cli)


def _self_url(request: Request, config: ClaudeCodeSettings) -> str:
    """This server, as the run's Claude Code should reach it: the configured `gateway_url`, else
    the local address the request arrived on (never the Host header, which the client chooses)."""
    if config.gateway_url:
        return config.gateway_url
    server = request.scope.get("server")
    if not server or server[1] is None:
        raise ApiError(500, "cannot tell this server's address: set [claude_code] gateway_url")
    host, port = server
    return local_url(host, port)


class RunResponse(Response):
    """Runs the agent while the response is being sent: a JSON answer at the end, or the messages
    as they come. A raw ASGI response, so that the run sees the client leave (`receive`) and
    holds its slot exactly as long as it answers."""

    def __init__(self, service: ClaudeCodeService, spec: RunSpec, url: str, cli: str) -> None:
        super().__init__(status_code=200)
        self.service = service
        self.spec = spec
        self.url = url
        self.cli = cli

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        rid = uuid.uuid4().hex[:16]
        started = time.perf_counter()
        config = self.service.config
        if not self.service.try_acquire():
            refusal = error_response(
                429, f"{config.max_concurrent} Claude Code run(s) already in progress", **{"retry-after": "5"}
            )
            await refusal(scope, receive, send)
            logs.event("claude-code", id=rid, preset=self.spec.preset, status=429)
            return
        run: AgentRun | None = None
        try:
            run = AgentRun(self.spec, self.cli, self.url, self.service.token(), config)
            writer = Writer(send, self.spec.output)
            streamed = self.spec.output != "json"
            if streamed:
                await writer.start()
            outcome = await execute(run, config.timeout_seconds, receive, writer.message if streamed else None)
            await writer.finish(outcome, config.timeout_seconds)
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
