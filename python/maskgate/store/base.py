"""The mapping-store contract shared by the embedded (SQLite) and Redis backends.

The store only knows ``(kind, n)`` pairs and originals; the Rust engine turns ``(kind, n)`` into the
pseudonym text. Errors raised from here never carry an original, an index hash or key material in
their message, because exception text ends up in logs and HTTP error bodies.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

DEFAULT_TTL_SECONDS = 7 * 24 * 3600
"""A namespace's mappings live this long after its last use (7 days)."""

MAX_NAMESPACE_LEN = 256
MAX_KIND_LEN = 64

MARK_SEQ_BITS = 40
"""A change mark is ``epoch << MARK_SEQ_BITS | seq``; 0 means "nothing seen yet"."""


class StoreError(Exception):
    """Base class of every error the store raises on purpose. The message is safe to log."""


class StoreUnavailable(StoreError):
    """The backing service cannot be reached right now (down, timeout, locked); retrying later may work."""


class StoreKeyMismatch(StoreError):
    """The configured store key does not open this store: using it would hand out new pseudonyms for
    values the store already maps, so the store refuses to be used. The message carries no key."""

    def __init__(self, where: str = "", key_file: str | None = None) -> None:
        at = f" ({where})" if where else ""
        if key_file:
            message = (
                f"the key file {key_file} does not open this store{at}: restore the key file it was created"
                " with, or set MASKGATE_STORE_KEY to that key"
            )
        else:
            message = (
                f"the key in MASKGATE_STORE_KEY does not open this store{at}: set the key it was created with,"
                " or put that key in MASKGATE_STORE_KEY_PREVIOUS and the new one in MASKGATE_STORE_KEY to rotate"
            )
        super().__init__(message)


@runtime_checkable
class MappingStore(Protocol):
    """Persistent, shared original <-> ``(kind, n)`` mapping, partitioned by namespace."""

    async def get_or_create(
        self, namespace: str, items: Sequence[tuple[str, str]], reserve: Sequence[tuple[str, int]] = ()
    ) -> list[tuple[str, int]]:
        """items: (kind, original). For each, the existing (kind, n) if the original is already mapped
        in this namespace (whatever kind it was created with), else a new one with n = next counter
        for that kind in that namespace (starting at 1). Atomic across tasks, processes and replicas:
        two callers creating the same original at once get the same (kind, n); n is never reused for a
        different original. ONE round trip / transaction for all items. Refreshes TTL.
        reserve: (kind, n) that new items of this call must not get (a pseudonym-shaped literal of
        the request, such as a host named ec2-002): new numbers of that kind start above n."""
        ...

    async def lookup(self, namespace: str, refs: Sequence[tuple[str, int]]) -> list[str | None]:
        """(kind, n) -> original, None if unknown (or expired)."""
        ...

    async def load(self, namespace: str) -> list[tuple[str, int, str]]:
        """Every live mapping of the namespace as (kind, n, original). Processes keep up with `changes`."""
        ...

    async def changes(self, namespace: str, since: int) -> tuple[list[tuple[str, int, str]], int]:
        """What was created in the namespace after the mark `since`, as (kind, n, original) in the order
        it was created, and the mark to pass next time. ONE round trip. Every process of every replica
        calls it before it masks, so that a value learned anywhere is masked everywhere.

        The mark carries the namespace's epoch, a random number chosen when the namespace is created.
        When the epoch of `since` is not the current one (the store was flushed or recreated, or the
        namespace expired), the answer is every live entry, as for ``since = 0``, and the caller must
        drop what it holds for the namespace first (see `mark_epoch`). A namespace with nothing in it
        answers ``([], 0)``. Refreshes the TTL like `load`."""
        ...

    async def ping(self) -> bool:
        """True when the backend answers; never raises, so health checks can call it freely."""
        ...

    async def verify(self) -> None:
        """Checks that the store key opens this store (a sealed canary kept beside the mappings).

        The current key opens it: nothing to do. Only a previous key does (a rotation): it is sealed
        again under the current key. No key does: `StoreKeyMismatch`. A store without a canary gets
        one, after the key has opened one of its entries (if it has any). Every other operation runs
        this once, before its first use of the store, so a wrong key never hands out pseudonyms."""
        ...

    async def aclose(self) -> None:
        """Release connections/threads; the store must not be used afterwards."""
        ...


def make_mark(epoch: int, seq: int) -> int:
    return (epoch << MARK_SEQ_BITS) | seq


def mark_epoch(mark: int) -> int:
    """The epoch part of a change mark: when it differs from the caller's, the answer was a full reload."""
    return mark >> MARK_SEQ_BITS


def mark_seq(mark: int) -> int:
    return mark & ((1 << MARK_SEQ_BITS) - 1)


def new_epoch() -> int:
    """A random non-zero epoch (32 bits: a recreated namespace is told apart from its predecessor)."""
    return secrets.randbits(32) | 1


def check_mark(mark: int) -> None:
    if not isinstance(mark, int) or isinstance(mark, bool) or mark < 0:
        raise StoreError("a change mark must be a non-negative integer")


def check_namespace(namespace: str) -> None:
    """Reject namespaces that would break key layout (NUL separates hash input, braces the Redis tag)."""
    if not isinstance(namespace, str) or not namespace:
        raise StoreError("namespace must be a non-empty string")
    if len(namespace) > MAX_NAMESPACE_LEN:
        raise StoreError(f"namespace longer than {MAX_NAMESPACE_LEN} characters")
    if "\x00" in namespace or "{" in namespace or "}" in namespace:
        raise StoreError("namespace must not contain NUL or braces")


def check_kind(kind: str) -> None:
    """Kinds become part of ``kind:n`` field names and of the AEAD associated data."""
    if not isinstance(kind, str) or not kind:
        raise StoreError("kind must be a non-empty string")
    if len(kind) > MAX_KIND_LEN or ":" in kind or "\x00" in kind:
        raise StoreError(f"kind must be at most {MAX_KIND_LEN} characters without ':' or NUL")


def check_original(original: str) -> None:
    """Only the type and emptiness are checked; the value itself must never appear in a message."""
    if not isinstance(original, str) or not original:
        raise StoreError("original must be a non-empty string")


def check_ttl(ttl_seconds: float) -> None:
    if not ttl_seconds > 0:
        raise StoreError("ttl_seconds must be positive")


# A reserved number above this is not honoured: a hostile body must not make a kind's counter
# jump to a huge value (the engine protects such literals instead of reserving them).
MAX_RESERVED_N = 1_000_000


def reserve_floors(reserve: Sequence[tuple[str, int]]) -> dict[str, int]:
    """Per kind, the highest reserved number: new numbers of that kind start above it."""
    floors: dict[str, int] = {}
    for kind, n in reserve:
        check_kind(kind)
        n = int(n)
        if 0 < n <= MAX_RESERVED_N:
            floors[kind] = max(floors.get(kind, 0), n)
    return floors


def dedupe(items: Sequence[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[int]]:
    """Validate items and collapse repeated originals (first kind wins), so each original is created once.

    Returns the unique items and, for every input position, the index into the unique list.
    """
    unique: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    where: list[int] = []
    for kind, original in items:
        check_kind(kind)
        check_original(original)
        pos = seen.get(original)
        if pos is None:
            pos = len(unique)
            seen[original] = pos
            unique.append((kind, original))
        where.append(pos)
    return unique, where
