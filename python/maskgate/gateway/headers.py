"""The headers maskgate forwards without masking, checked instead: a header name, or a value
that must reach the provider as sent (`anthropic-beta`, `user-agent`, ...), in which the
catalogue finds an identifier or a secret is refused, never forwarded.

The check reads each string on its own (a namespace nothing is ever learned in), not against the
tenant's known set: a bucket once named `oauth` must not block every `oauth-2025-04-20` beta."""

from __future__ import annotations

from maskgate.engine import Engine
from maskgate.errors import ApiError
from maskgate.upstream import header_text, verbatim

_ON_ITS_OWN = "\x00maskgate-headers"


def check_headers(engine: Engine, headers: list[tuple[str, str]]) -> None:
    """Raises `ApiError` (400) for the first header that would carry an original as sent."""
    for name, value in headers:
        if engine.scan(name, _ON_ITS_OWN):
            raise ApiError(
                400, "a header name holds an identifier or secret maskgate masks; the request was not forwarded"
            )
        if verbatim(name) and engine.scan(header_text(value)[0], _ON_ITS_OWN):
            raise ApiError(
                400,
                f"the {name.lower()} header goes to the provider as sent, and it holds an identifier or secret"
                " maskgate masks; the request was not forwarded",
            )
