"""A run under its limits: at most `max_concurrent` at once, `timeout_seconds` of wall time, and no
longer than its client stays; when either ends it, the whole process tree goes. Its messages come
out as plain JSON."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

import anyio
from starlette.types import Receive

from maskgate.headless.agent import AgentRun
from maskgate.settings import ClaudeCodeSettings, Settings

KILL_GRACE_SECONDS = 15.0


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


@dataclass
class Outcome:
    result: dict[str, Any] | None = None
    reason: str = "ok"  # ok, timeout, disconnect, error
    error: str | None = None
    messages: int = 0


# A message out to the client as it comes; False when the client is gone.
Forward = Callable[[dict[str, Any]], Awaitable[bool]]


async def execute(run: AgentRun, timeout: float, receive: Receive, forward: Forward | None) -> Outcome:
    """Runs the agent to its result, for `timeout` seconds at most and only while the client is
    there, handing each message to `forward` (a streamed reply). A timeout or a disconnect kills
    the process tree from a watcher task, so the SDK is never cancelled mid-read."""
    from claude_agent_sdk import ClaudeSDKError, ResultMessage
    from claude_agent_sdk import query as sdk_query

    outcome = Outcome()

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
        messages = cast(AsyncGenerator[Any, None], sdk_query(prompt=run.spec.prompt, options=run.options()))
        try:
            async for message in messages:
                if run.doomed:
                    run.kill()
                outcome.messages += 1
                data = to_json(message)
                if isinstance(message, ResultMessage):
                    outcome.result = data
                    run.kill(include_root=False)  # tools left running in the background
                if forward is not None and outcome.reason == "ok" and not await forward(data):
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
    return outcome


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
