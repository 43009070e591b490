"""The default provider: an Anthropic-compatible upstream, forwarded byte-exact over one pooled
httpx2 client."""

from __future__ import annotations

import time

import httpx2

from maskgate.errors import ApiError
from maskgate.providers import Outgoing, Reply
from maskgate.upstream import is_event_stream, make_client, response_headers, upstream_url, wire_headers


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, base_url: str, timeout: float, client: httpx2.AsyncClient | None = None) -> None:
        self.base_url = base_url
        self.client = client or make_client(timeout)

    async def _send(self, request: Outgoing) -> tuple[httpx2.Response, float]:
        url = upstream_url(self.base_url, request.path, request.query)
        outgoing = self.client.build_request("POST", url, headers=wire_headers(request.headers), content=request.body)
        sent = time.perf_counter()
        try:
            response = await self.client.send(outgoing, stream=True)
        except httpx2.TimeoutException:
            raise ApiError(504, "upstream timed out") from None
        except httpx2.HTTPError:
            raise ApiError(502, "upstream unreachable") from None
        return response, time.perf_counter() - sent

    async def messages(self, request: Outgoing) -> Reply:
        response, latency = await self._send(request)
        headers = response_headers(response.headers)
        if response.status_code < 300 and is_event_stream(response.headers):
            return Reply(
                response.status_code,
                headers,
                stream=response.aiter_raw(),
                close=response.aclose,
                broken=(httpx2.HTTPError,),
                latency=latency,
            )
        return Reply(response.status_code, headers, await _whole(response), latency=latency)

    async def count_tokens(self, request: Outgoing) -> Reply:
        response, latency = await self._send(request)
        return Reply(response.status_code, response_headers(response.headers), await _whole(response), latency=latency)

    async def aclose(self) -> None:
        await self.client.aclose()


async def _whole(response: httpx2.Response) -> bytes:
    try:
        return await response.aread()
    except httpx2.HTTPError:
        raise ApiError(502, "upstream connection lost") from None
    finally:
        await response.aclose()
