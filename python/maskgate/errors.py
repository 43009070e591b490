"""Errors in the Anthropic error shape, which Claude Code's retry logic understands."""

from __future__ import annotations

import json

from starlette.responses import Response

# HTTP status -> Anthropic error type.
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "request_too_large",
    415: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "api_error",
    504: "api_error",
    529: "overloaded_error",
}


def error_body(status: int, message: str, error_type: str | None = None) -> bytes:
    kind = error_type or ERROR_TYPES.get(status, "api_error")
    return json.dumps({"type": "error", "error": {"type": kind, "message": message}}).encode()


def error_response(status: int, message: str, error_type: str | None = None, **headers: str) -> Response:
    """An Anthropic-shaped error. `message` must never contain request content."""
    return Response(error_body(status, message, error_type), status, headers, media_type="application/json")


def error_event(message: str, error_type: str = "api_error") -> bytes:
    """An SSE `error` event, for failures after a stream has started."""
    body = json.dumps({"type": "error", "error": {"type": error_type, "message": message}})
    return f"event: error\ndata: {body}\n\n".encode()
