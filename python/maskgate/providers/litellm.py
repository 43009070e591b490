"""A model name routed through LiteLLM (`[[routes]]`), behind the same interface as the default
provider; the translation itself is `litellm_route`."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from maskgate.providers import Outgoing, Reply
from maskgate.settings import Route

# LiteLLM fetches a price list from the internet at import unless told not to; gateways run in
# closed networks, and the packaged copy is what we pin anyway.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from maskgate.providers.litellm_route import LiteLLMRoute, RouteResponse, call, count_tokens


class LiteLLMProvider:
    name = "litellm"

    def __init__(self, route: Route, timeout: float) -> None:
        # MASKGATE_UPSTREAM_TIMEOUT holds for every provider: headers or the next bytes in time.
        extra = {"timeout": timeout}
        self.route = LiteLLMRoute(route.model, route.litellm_model, route.api_base, route.api_key, extra)

    async def messages(self, request: Outgoing) -> Reply:
        # The client's anthropic-beta/-version travel verbatim among the masked headers.
        sent = time.perf_counter()
        result = await call(self.route, _body(request), dict(request.headers))
        return _reply(result, time.perf_counter() - sent)

    async def count_tokens(self, request: Outgoing) -> Reply:
        sent = time.perf_counter()
        result = await count_tokens(self.route, _body(request))
        return _reply(result, time.perf_counter() - sent)

    async def aclose(self) -> None:
        return None


def _body(request: Outgoing) -> dict[str, Any]:
    body = json.loads(request.body)  # masked JSON, as the engine wrote it: an object
    assert isinstance(body, dict)
    return body


def _reply(result: RouteResponse, latency: float) -> Reply:
    if result.stream is None:
        return Reply(result.status, result.headers, result.body, latency=latency)
    stream = result.stream

    async def close() -> None:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()

    return Reply(result.status, result.headers, stream=stream, close=close, latency=latency)
