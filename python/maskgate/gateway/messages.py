"""/v1/messages and /v1/messages/count_tokens: authenticate, mask, send to the model's provider,
relay the reply back unmasked. Any refusal is an `ApiError`, recorded and answered by the app's
one handler; nothing is forwarded that was not masked."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from maskgate import logs
from maskgate.auth import Client
from maskgate.errors import ApiError
from maskgate.gateway.body import Forward, loggable_model, masked_request
from maskgate.gateway.lifecycle import Gateway, gateway_of
from maskgate.gateway.observe import Record
from maskgate.gateway.relay import relay


def _unexpected(record: Record, e: Exception) -> ApiError:
    """A failure nobody planned for, as a recorded 500. Logged by type and place only: its text
    may quote the request, and an exception left to the server would be printed whole."""
    frame = traceback.extract_tb(e.__traceback__)[-1] if e.__traceback__ else None
    where = f"{Path(frame.filename).name}:{frame.lineno}" if frame else None
    logs.event("unhandled error", level=logging.ERROR, route=record.request.url.path, error=type(e).__name__, at=where)
    record.finish(500)
    return ApiError(500, "internal error in maskgate")


@contextmanager
def _answered(record: Record) -> Iterator[None]:
    """A refusal inside is recorded with its status; anything else becomes a recorded 500."""
    try:
        yield
    except ApiError as e:
        record.finish(e.status)
        raise
    except Exception as e:
        raise _unexpected(record, e) from None


async def _masked(gateway: Gateway, request: Request, record: Record) -> tuple[Client, Forward]:
    """The client, and its request masked (with what goes upstream around the body)."""
    client = gateway.authenticated(request)
    record.fields["tenant"] = client.tenant
    forward = await masked_request(gateway, request, client)
    record.rid = forward.rid
    return client, forward


async def messages(request: Request) -> Response:
    gateway = gateway_of(request)
    metrics = gateway.metrics
    record = gateway.observer.begin(request)
    with _answered(record):
        client, forward = await _masked(gateway, request, record)
        masked = forward.prepared.masked
        masked_s = time.perf_counter() - record.started
        metrics.mask_duration.observe(masked_s)
        counts = masked.counts()
        metrics.count_kinds(metrics.masked, counts)
        unmasker = masked.unmasker()
        model = await loggable_model(gateway.engine, forward.prepared.model, client.tenant)
        record.fields.update(model=model, masked=counts, mask_ms=round(masked_s * 1000, 2))
        provider = gateway.provider_for(forward.prepared.model)
        if provider is not gateway.upstream:
            record.fields["provider"] = provider.name
        reply = await provider.messages(forward.outgoing)
    metrics.child(metrics.upstream_latency, request.url.path).observe(reply.latency)
    return relay(reply, unmasker, record, metrics)


async def count_tokens(request: Request) -> Response:
    gateway = gateway_of(request)
    record = gateway.observer.begin(request)
    with _answered(record):
        _, forward = await _masked(gateway, request, record)
        reply = await gateway.provider_for(forward.prepared.model).count_tokens(forward.outgoing)
    record.fields["masked"] = forward.prepared.masked.counts()
    record.finish(reply.status)
    return Response(reply.body, reply.status, reply.headers)
