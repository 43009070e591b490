"""One relay, for whole and streamed replies of every provider: unmasks on the way back, reports a
stream that broke or ended early, and finishes the request's record once, when the reply is done.

A whole reply that is not JSON passes as it came (nothing in it could be restored); a stream
whose last event is not `message_stop` (or an `error`) ends with an `error` event, so the client
never takes a cut stream for a whole answer.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import AsyncIterator

import anyio
from starlette.responses import Response, StreamingResponse

from maskgate._core import BodyError, Unmasker
from maskgate.errors import error_event
from maskgate.gateway.observe import Record
from maskgate.metrics import Metrics
from maskgate.providers import Reply

# The last event of a finished stream: `event: message_stop` / `event: error`, or, from a stream
# without event lines, their data. Quotes inside JSON strings are escaped, so model text cannot
# pass for the data.
_TERMINAL = re.compile(
    rb'(?m)^event:[ \t]*(?:message_stop|error)[ \t]*\r?$|"type"[ \t]*:[ \t]*"(?:message_stop|error)"'
)
_TAIL_BYTES = 1024  # where the terminal event of a finished stream is


def relay(reply: Reply, unmasker: Unmasker, record: Record, metrics: Metrics) -> Response:
    if reply.stream is None:
        body = reply.body
        if 200 <= reply.status < 300 and len(unmasker):
            try:
                body, restored = unmasker.unmask_response(body)
                record.restored(restored)
            except BodyError:
                pass  # not JSON: nothing we could restore, pass it as it came
        record.finish(reply.status)
        return Response(body, reply.status, reply.headers)
    return StreamingResponse(_stream(reply, reply.stream, unmasker, record, metrics), reply.status, reply.headers)


async def _stream(
    reply: Reply, chunks: AsyncIterator[bytes], unmasker: Unmasker, record: Record, metrics: Metrics
) -> AsyncIterator[bytes]:
    sse = unmasker.sse() if len(unmasker) else None
    status = "ok"
    sent: deque[bytes] = deque(maxlen=64)  # the last chunks out, by reference: no copies per chunk
    metrics.open_streams.inc()
    try:
        async for chunk in chunks:
            out = sse.feed(chunk) if sse else chunk
            if out:
                sent.append(out)
                yield out
        if sse:
            tail = sse.finish()
            if tail:
                sent.append(tail)
                yield tail
        if not _finished(sent):
            status = "ended_early"
            yield error_event("the model provider's stream ended early")
    except reply.broken:
        status = "upstream_broken"
        if sse:
            tail = sse.finish(keep_partial=False)
            if tail:
                yield tail
        yield error_event("upstream connection lost mid-stream")
    except (anyio.get_cancelled_exc_class(), GeneratorExit):
        status = "client_gone"  # the client went away: cancelled, or closed at a yield
        raise
    finally:
        # Also reached when the client goes away: the provider's request is cancelled with it.
        await reply.close()
        metrics.open_streams.dec()
        if sse:
            record.restored(sse.restored())
        record.fields["stream"] = status
        record.finish(reply.status)


def _finished(sent: deque[bytes]) -> bool:
    """Whether the stream's last event closed it; reads at most the last `_TAIL_BYTES`."""
    tail = b""
    for chunk in reversed(sent):
        tail = chunk[-_TAIL_BYTES:] + tail
        if len(tail) >= _TAIL_BYTES:
            break
    return _TERMINAL.search(tail[-_TAIL_BYTES:]) is not None
