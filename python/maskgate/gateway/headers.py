"""What maskgate forwards without masking, checked instead: a header name, a header value that
must reach the provider as sent (`anthropic-beta`, `user-agent`, ...) or the request's `model`
that holds what masking would replace is refused, never forwarded.

Headers are read each on its own (a namespace nothing is ever learned in), not against the
tenant's known set: a bucket once named `oauth` must not block every `oauth-2025-04-20` beta."""

from __future__ import annotations

from maskgate.engine import Engine
from maskgate.errors import ApiError
from maskgate.upstream import header_text, verbatim

_ON_ITS_OWN = "\x00maskgate-headers"

# The catalogue's kinds whose values are credentials: access key IDs (and IAM unique IDs, which
# share the kind), secret access keys, session and other tokens, passwords, Bedrock API keys. An
# identifier stays allowed in a model name: Bedrock inference-profile ARNs are model names (they
# carry the account), and the model is masked before logs and the console.
CREDENTIAL_KINDS = frozenset({"iam", "secret", "token", "password", "bedrock"})


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


def check_model(engine: Engine, model: str | None, tenant: str) -> None:
    """Raises `ApiError` (400) when the model name holds a credential: the provider routes on the
    name, so it goes as sent. Found on its own anywhere in the name, or the whole name a credential
    the tenant's known set holds (a secret pasted as the model after it was masked in a prompt);
    a known value merely inside the name does not count, so a password once learned as `sonnet`
    cannot block every request. Call it after the request's masking has synced the known set."""
    if not model:
        return
    found = [f for f in engine.scan(model, _ON_ITS_OWN) if f.kind in CREDENTIAL_KINDS]
    found += [
        f for f in engine.scan(model, tenant) if f.kind in CREDENTIAL_KINDS and f.start == 0 and f.end == len(model)
    ]
    if found:
        raise ApiError(
            400,
            "the model name goes to the provider as sent, and it holds a credential maskgate masks"
            f" ({', '.join(sorted({f.kind for f in found}))}); the request was not forwarded",
        )
