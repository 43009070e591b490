"""A request body read under the size limit and the time limit, and masked (with the query
string and the header values that go upstream) before anything is forwarded; or why not."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass

from starlette.requests import Request

from maskgate._core import BodyError
from maskgate.auth import Client
from maskgate.console.state import FORWARDED_KEY
from maskgate.engine import Engine, LimitExceeded, Limits, MaskedRequest
from maskgate.errors import ApiError
from maskgate.gateway.headers import check_headers, check_model
from maskgate.gateway.lifecycle import Gateway
from maskgate.providers import Outgoing
from maskgate.request_body import read_api_body
from maskgate.store import StoreError
from maskgate.upstream import header_text, header_wire, maskable

STORE_DOWN = "the pseudonym store is unavailable; the request was not forwarded"

# A model name of this shape is a public name (claude-sonnet-4-5, us.anthropic.claude-...-v2:0) and
# is logged as is when the catalogue finds nothing in it; anything else (an inference-profile ARN
# carries the account) is masked first.
_PLAIN_MODEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}(:\d{1,4})?")


@dataclass(frozen=True)
class Forward:
    """A masked request, ready to go: what a provider gets (query and header values masked with
    the body), and the request id as logs may show it."""

    prepared: MaskedRequest
    outgoing: Outgoing
    rid: str


async def masked_request(gateway: Gateway, request: Request, client: Client) -> Forward:
    """Reads and masks a request body, with the query string and the header values that go
    upstream in the same passes, or raises `ApiError` saying why not."""
    s = gateway.settings
    body = await read_api_body(request, s)
    if not body:
        raise ApiError(400, "request body is empty")
    limits = Limits(s.max_identifiers, s.max_string_bytes)
    headers = gateway.upstream_headers(request, client)
    check_headers(gateway.engine, headers)
    slots = [i for i, (name, _) in enumerate(headers) if maskable(name)]
    texts = [header_text(headers[i][1]) for i in slots]
    extras = [request.url.query] + [text for text, _ in texts]
    try:
        prepared = await gateway.engine.amask_request(body, client.tenant, limits, extras)
    except LimitExceeded as e:
        raise ApiError(413, f"request not forwarded: {e}") from None
    except BodyError as e:
        raise ApiError(400, f"request body: {e}") from None
    except StoreError:
        # Fail closed: without the map nothing can be masked, so nothing is forwarded.
        raise ApiError(503, STORE_DOWN) from None
    check_model(gateway.engine, prepared.model, client.tenant)
    query, *values = prepared.extras
    rid = ""
    for i, value, (_, encoding) in zip(slots, values, texts, strict=True):
        headers[i] = (headers[i][0], header_wire(value, encoding))
        if headers[i][0].lower() == "x-request-id":
            rid = value[:64]
    request.scope[FORWARDED_KEY] = prepared.masked
    outgoing = Outgoing(request.url.path, query, headers, prepared.masked.output)
    return Forward(prepared, outgoing, rid or uuid.uuid4().hex[:16])


async def loggable_model(engine: Engine, model: str | None, tenant: str) -> str | None:
    """The model name as logs and the console may show it: masked unless it is a plain name in
    which the catalogue finds nothing (an instance ID has a plain name's shape; a credential never gets
    here: `check_model` refused it)."""
    if model is None:
        return model
    try:
        if _PLAIN_MODEL.fullmatch(model) and not engine.scan(model, tenant):
            return model
        return (await engine.amask(model, tenant)).text[:128]
    except Exception:  # a model name is worth no failed request: show only its digest
        return "sha256:" + hashlib.sha256(model.encode()).hexdigest()[:16]
