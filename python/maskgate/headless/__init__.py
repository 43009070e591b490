"""`POST /v1/claude-code` and `/v1/claude-code/analyze`: Claude Code, headless, on this server.

The run goes through this same gateway (ANTHROPIC_BASE_URL is the address the request came in on,
the token the configured tenant's key), so the provider sees masked text and the answer comes back
restored. Because it runs an agent on this host, the endpoint is off unless `[claude_code]` enables
it, takes only its own admin key, keeps `cwd` inside the configured roots, refuses
bypassPermissions unless allowed, caps concurrent runs and wall time, and kills the whole process
tree when the time is up or the client goes away.

`endpoints` reads top to bottom; `spec` checks the request into a `RunSpec`; `agent` is the
Claude Code process (started through `_agent_exec`, its tree killed with `proctree`); `run` holds
it to its limits; `response` writes the reply, whole or streamed.
"""

from __future__ import annotations

from maskgate.headless.endpoints import analyze_endpoint, run_endpoint
from maskgate.headless.run import ClaudeCodeService

__all__ = ["ClaudeCodeService", "analyze_endpoint", "run_endpoint"]
