"""Errors in the Anthropic error shape, which Claude Code's retry logic understands.

One decision, made here once: which Anthropic error type a status means (`error_type`), and what
an error body looks like (`error_body`). Code on the request path raises `ApiError`; the app's one
handler (`api_error_handler`) turns it into the response. Starlette's own `HTTPException` (404,
405) gets the same shape.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

# HTTP status -> Anthropic error type (the types of the Anthropic API's own error bodies).
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    408: "invalid_request_error",
    413: "request_too_large",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def error_type(status: int) -> str:
    """The Anthropic error type of a status; an unlisted 4xx is the client's, anything else ours."""
    return ERROR_TYPES.get(status) or ("invalid_request_error" if 400 <= status < 500 else "api_error")


def error_body(status: int, message: str, kind: str | None = None) -> bytes:
    body = {"type": "error", "error": {"type": kind or error_type(status), "message": message}}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def error_response(status: int, message: str, kind: str | None = None, **headers: str) -> Response:
    """An Anthropic-shaped error. `message` must never contain request content."""
    return Response(error_body(status, message, kind), status, headers, media_type="application/json")


def error_event(message: str, kind: str = "api_error") -> bytes:
    """An SSE `error` event, for failures after a stream has started."""
    return b"event: error\ndata: " + error_body(500, message, kind) + b"\n\n"


class ApiError(Exception):
    """A request that ends in an Anthropic-shaped error; like Starlette's `HTTPException`, raised
    where the decision is made and answered by one handler.

    `message` goes to the client and to nothing else: it must never contain request content."""

    def __init__(
        self, status: int, message: str, kind: str | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message
        self.kind = kind or error_type(status)
        self.headers = dict(headers or {})

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.kind})"

    def response(self) -> Response:
        return error_response(self.status, self.message, self.kind, **self.headers)


async def api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    """Starlette's routing errors (no route, method not allowed) in the Anthropic shape."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"no route for {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    return error_response(exc.status_code, message, **dict(exc.headers or {}))
