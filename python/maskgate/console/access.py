"""Who may use the console: admin keys (never client keys), server-side sessions, CSRF tokens.

Why server-side sessions: a login must hold on every worker and replica, and logging out (or the
session expiring) must end it everywhere; the cookie carries a random token and the store keeps
only its hash. Why a per-session CSRF token derived from that token: forms prove they were served
to the session's own page, which a cross-site form cannot read; SameSite=Strict and an Origin
check are further lines of the same defence.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request

from maskgate.settings import ConsoleAdmin

SESSION_COOKIE = "maskgate_console"
LOGIN_COOKIE = "maskgate_console_login"
COOKIE_PATH = "/console"

LOGIN_FAILURES = 10
LOGIN_WINDOW_SECONDS = 300.0


@dataclass(frozen=True)
class Session:
    admin: ConsoleAdmin
    token: str

    @property
    def csrf(self) -> str:
        return csrf_token(self.token)


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def find_admin(presented: str, admins: Sequence[ConsoleAdmin]) -> ConsoleAdmin | None:
    """Compares against every admin key, always all of them, on fixed-length digests."""
    digest = _digest(presented)
    found = None
    for admin in admins:
        if hmac.compare_digest(digest, _digest(admin.key)):
            found = admin
    return found


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(b"maskgate/console/session\x00" + token.encode()).hexdigest()


def csrf_token(session_token: str) -> str:
    return hmac.new(session_token.encode(), b"maskgate/console/csrf", hashlib.sha256).hexdigest()


def same_token(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())


def same_origin(request: Request) -> bool:
    """Browsers send Origin with every POST; when it is there it must name this host. The scheme
    is not compared, so a TLS-terminating proxy in front does not break the forms."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return bool(origin != "null" and urlsplit(origin).netloc == request.headers.get("host", ""))


def cookie_secure(request: Request) -> bool:
    return request.url.scheme == "https"


class LoginThrottle:
    """Refuses logins from an address after repeated failures, so a key cannot be guessed online."""

    def __init__(self, failures: int = LOGIN_FAILURES, window: float = LOGIN_WINDOW_SECONDS) -> None:
        self.failures = failures
        self.window = window
        self._seen: dict[str, tuple[int, float]] = {}

    def blocked(self, who: str) -> bool:
        count, since = self._seen.get(who, (0, 0.0))
        return count >= self.failures and time.monotonic() - since < self.window

    def failed(self, who: str) -> None:
        now = time.monotonic()
        if len(self._seen) > 10_000:
            self._seen = {k: v for k, v in self._seen.items() if now - v[1] < self.window}
        count, since = self._seen.get(who, (0, now))
        if now - since >= self.window:
            count, since = 0, now
        self._seen[who] = (count + 1, since)

    def succeeded(self, who: str) -> None:
        self._seen.pop(who, None)


def tenants_of(admin: ConsoleAdmin, all_tenants: Sequence[str]) -> list[str]:
    """The tenants an admin may look up and capture, in configuration order."""
    if admin.tenants is None:
        return list(all_tenants)
    return [t for t in all_tenants if t in admin.tenants]
