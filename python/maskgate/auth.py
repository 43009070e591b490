"""Who is calling: the client key decides the tenant, and so the namespace of its pseudonyms."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from maskgate.settings import Tenant

# Our own header: in pass-through mode the client's Anthropic credential goes upstream as is,
# and this header (set with ANTHROPIC_CUSTOM_HEADERS) proves the client to maskgate.
MASKGATE_KEY_HEADER = "x-maskgate-key"


@dataclass(frozen=True)
class Client:
    tenant: str
    passthrough: bool


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def _match(presented: str, tenants: Sequence[Tenant]) -> str | None:
    """Compares against every key, always all of them, on fixed-length digests: the time taken
    says nothing about which key (or how much of one) matched."""
    digest = _digest(presented)
    found = None
    for t in tenants:
        if hmac.compare_digest(digest, _digest(t.key)):
            found = t.name
    return found


def presented_key(headers: Mapping[str, str]) -> tuple[str | None, bool]:
    """The key the client presents, and whether it came in our own pass-through header."""
    own = headers.get(MASKGATE_KEY_HEADER)
    if own:
        return own.strip(), True
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip(), False
    api_key = headers.get("x-api-key")
    return (api_key.strip() if api_key else None), False


def authenticate(headers: Mapping[str, str], tenants: Sequence[Tenant]) -> Client | None:
    key, passthrough = presented_key(headers)
    if not key:
        return None
    tenant = _match(key, tenants)
    return Client(tenant, passthrough) if tenant else None
