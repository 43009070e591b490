"""The Python face of the masking engine: a thin layer over `maskgate._core`.

Without a store an engine keeps its map in memory and numbers pseudonyms itself. With a
store (the gateway's), the known set belongs to the store: before every mask the engine brings
its copy up to date with the store's change log (`sync`, one round trip), so a value that needed
context in one process is masked bare by every process on its next request; new originals get
their numbers from the store in one more round trip.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from maskgate import _core
from maskgate.store.base import StoreError, StoreKeyMismatch, StoreUnavailable, mark_epoch

if TYPE_CHECKING:
    from maskgate.settings import Settings
    from maskgate.store import MappingStore


@dataclass(frozen=True)
class Limits:
    """Per-request bounds, checked after the scan and before anything is written to the store."""

    max_identifiers: int
    max_string_bytes: int


class LimitExceeded(Exception):
    """A request is over a limit; the message names the limit, never the content."""

    def __init__(self, what: str, value: int, limit: int, setting: str) -> None:
        super().__init__(f"{what} ({value}) is over the limit of {limit} (set by {setting})")
        self.what, self.value, self.limit, self.setting = what, value, limit, setting


def check_limits(plan: _core.Plan, limits: Limits | None) -> None:
    if limits is None:
        return
    if plan.longest > limits.max_string_bytes:
        raise LimitExceeded(
            "a string in the request, in bytes,", plan.longest, limits.max_string_bytes, "MASKGATE_MAX_STRING_BYTES"
        )
    if plan.distinct > limits.max_identifiers:
        raise LimitExceeded(
            "the number of distinct identifiers in the request",
            plan.distinct,
            limits.max_identifiers,
            "MASKGATE_MAX_IDENTIFIERS",
        )


@dataclass(frozen=True)
class MaskedRequest:
    """A masked Messages request, with what routing needs from it."""

    masked: _core.Masked
    model: str | None
    stream: bool
    extras: list[str] = field(default_factory=list)


Finding = _core.Finding
Masked = _core.Masked
Unmasker = _core.Unmasker

DEFAULT_NAMESPACE = "default"


def read_catalogue(path: str | Path) -> tuple[str, str]:
    """Reads a user catalogue as `(origin, source)`; a missing file is a catalogue error."""
    p = Path(path)
    try:
        return str(p), p.read_text(encoding="utf-8")
    except OSError as e:
        raise _core.CatalogueError(f"{p}: cannot read: {e.strerror}") from None


class Engine:
    """Finds AWS identifiers and secrets and swaps them for stable pseudonyms, and back."""

    def __init__(
        self,
        catalogue: str | Path | Iterable[str | Path] | None = None,
        *,
        enable: Iterable[str] = (),
        disable: Iterable[str] = (),
        store: MappingStore | None = None,
        namespace: str = DEFAULT_NAMESPACE,
        scan_cache: int | None = None,
    ) -> None:
        paths: list[str | Path]
        if catalogue is None:
            paths = []
        elif isinstance(catalogue, (str, Path)):
            paths = [catalogue]
        else:
            paths = list(catalogue)
        # scan_cache: strings whose pass-1 results are remembered across requests (None: the
        # default; 0: off). Results are identical either way; only the time differs.
        self.core = _core.Core([read_catalogue(p) for p in paths], list(enable), list(disable), scan_cache)
        self.store = store
        self.namespace = namespace
        # Per namespace, the store's change mark this process has learned up to.
        self._marks: dict[str, int] = {}
        # One sync at a time per process; a request that finds a sync begun after it arrived
        # finished while it waited needs none of its own (`_synced_at` holds a sync's start).
        self._sync_lock = asyncio.Lock()
        self._syncs_started = 0
        self._synced_at: dict[str, int] = {}

    @classmethod
    def from_settings(cls, settings: Settings, store: MappingStore | None = None) -> Engine:
        """The engine the settings describe (catalogues, enable, disable): the one place that builds it."""
        return cls(
            settings.catalogues,
            enable=settings.enable,
            disable=settings.disable,
            store=store,
            scan_cache=settings.scan_cache,
        )

    # -- synchronous API (no store, or a store driven by its own event loop) --------------

    def mask(self, text: str, namespace: str | None = None) -> Masked:
        """Masks a text; `result.text` is the masked text, `result.findings` what changed."""
        ns = namespace or self.namespace
        if self.store is not None:
            return asyncio.run(self.amask(text, ns))
        plan = self.core.plan_text(text, ns)
        self.core.reserve(ns, plan.reserve())
        self.core.allocate(ns, plan.missing(self.core, ns))
        return self.core.apply(plan, ns)

    def mask_body(self, body: bytes, namespace: str | None = None) -> Masked:
        """Masks the strings of an Anthropic Messages request that reach the model."""
        ns = namespace or self.namespace
        if self.store is not None:
            return asyncio.run(self.amask_body(body, ns))
        plan = self.core.plan_request(body, ns)
        self.core.reserve(ns, plan.reserve())
        self.core.allocate(ns, plan.missing(self.core, ns))
        return self.core.apply(plan, ns)

    def unmask(self, text: str, namespace: str | None = None) -> str:
        """Restores every pseudonym of the namespace this process knows, as whole tokens."""
        ns = namespace or self.namespace
        if self.store is not None:
            return asyncio.run(self.aunmask(text, ns))
        return self.core.unmasker(ns).unmask(text)

    def scan(self, text: str, namespace: str | None = None) -> list[Finding]:
        """Findings only; nothing is replaced and nothing is allocated."""
        return self.core.scan(text, namespace or self.namespace)

    # -- asynchronous API (the gateway) ---------------------------------------------------

    async def sync(self, namespace: str) -> None:
        """Brings this process's copy of a namespace up to date with the store (one round trip).

        Runs before every mask and unmask. Raises `StoreUnavailable` when the store cannot say
        what changed: masking without it could send a value another process learned raw.
        """
        store = self.store
        if store is None:
            return
        arrived = self._syncs_started
        async with self._sync_lock:
            if self._synced_at.get(namespace, -1) >= arrived:
                return  # a sync that began after this request arrived has just finished
            started = self._syncs_started
            self._syncs_started += 1
            since = self._marks.get(namespace, 0)
            try:
                entries, mark = await store.changes(namespace, since)
            except (StoreUnavailable, StoreKeyMismatch):
                raise
            except StoreError as e:
                raise StoreUnavailable(f"the known set could not be brought up to date: {e}") from e
            if since and mark_epoch(mark) != mark_epoch(since):
                # Flushed, recreated or expired: what this process holds may no longer be true, and a
                # recreated store may have been started with another key since this one was checked.
                self.core.forget(namespace)
                await store.verify()
            if entries:
                if len(entries) > _LEARN_INLINE:
                    await asyncio.to_thread(self.core.learn, namespace, entries)
                else:
                    self.core.learn(namespace, entries)
            self._marks[namespace] = mark
            self._synced_at[namespace] = started

    async def _allocate(self, plan: _core.Plan, namespace: str) -> None:
        """Gives every original of the plan its number, from the store when there is one.

        When new numbers were handed out, the copy is brought up to date once more before the
        plan is applied: if the namespace was flushed or recreated since `sync`, the numbers this
        process still holds for the plan's other originals may now belong to someone else in the
        store, and masking with them would restore the wrong originals later.
        """
        missing = plan.missing(self.core, namespace)
        if not missing:
            return
        if self.store is None:
            self.core.reserve(namespace, plan.reserve())
            self.core.allocate(namespace, missing)
            return
        for _ in range(_ALLOCATE_ATTEMPTS):
            numbers = await self.store.get_or_create(namespace, missing, plan.reserve())
            self.core.learn(
                namespace,
                [(kind, n, original) for (kind, n), (_, original) in zip(numbers, missing, strict=True)],
            )
            await self.sync(namespace)
            missing = plan.missing(self.core, namespace)
            if not missing:
                return
        raise StoreUnavailable("the namespace kept changing while this request was masked; retry it")

    async def amask(self, text: str, namespace: str | None = None) -> Masked:
        ns = namespace or self.namespace
        await self.sync(ns)
        plan = self.core.plan_text(text, ns)
        await self._allocate(plan, ns)
        return self.core.apply(plan, ns)

    async def amask_body(self, body: bytes, namespace: str | None = None) -> Masked:
        return (await self.amask_request(body, namespace)).masked

    async def amask_request(
        self,
        body: bytes,
        namespace: str | None = None,
        limits: Limits | None = None,
        extras: Sequence[str] = (),
    ) -> MaskedRequest:
        """Masks a request body, and `extras` (query string, header values) in the same passes and
        the same store round trip; big bodies are scanned off the event loop (the GIL is released).

        Raises `LimitExceeded` (before the store is touched) when the request is over `limits`.
        """
        ns = namespace or self.namespace
        await self.sync(ns)
        offload = len(body) >= _THREAD_THRESHOLD
        texts = list(extras)
        if offload:
            plan = await asyncio.to_thread(self.core.plan_request, body, ns, texts)
        else:
            plan = self.core.plan_request(body, ns, texts)
        check_limits(plan, limits)
        await self._allocate(plan, ns)
        masked = await asyncio.to_thread(self.core.apply, plan, ns) if offload else self.core.apply(plan, ns)
        return MaskedRequest(masked, plan.model, plan.stream, masked.extras)

    async def aunmask(self, text: str, namespace: str | None = None) -> str:
        ns = namespace or self.namespace
        await self.sync(ns)
        return self.core.unmasker(ns).unmask(text)

    def unknown_pseudonyms(self, text: str, namespace: str | None = None) -> list[str]:
        """The distinct pseudonym-shaped words of `text` this process has no original for in the
        namespace (after `sync`, none the store has): what `unmask` leaves as they are."""
        ns = namespace or self.namespace
        seen = dict.fromkeys(m.group(0) for m in _PSEUDONYM_WORD.finditer(text))
        return [w for w in seen if self.core.is_pseudonym(w) and self.core.original(ns, w) is None]


# A word shaped like a pseudonym (kind-NNN, kinds may hold dashes); `is_pseudonym` has the last word.
_PSEUDONYM_WORD = re.compile(r"(?<![A-Za-z0-9_-])[a-z][a-z0-9]*(?:-[a-z0-9]+)*-[0-9]{3,}(?![A-Za-z0-9_-])")
# Below this size a thread hop costs more than the scan it would move off the event loop.
_THREAD_THRESHOLD = 256 * 1024
# Learning an entry scans it once; a first sync of a big namespace runs off the event loop.
_LEARN_INLINE = 256
# How often a request's new originals are numbered again when the namespace changes under it.
_ALLOCATE_ATTEMPTS = 3
