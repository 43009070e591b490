"""Stub of the native engine (`rust/python.rs`); checked by `python -m mypy.stubtest maskgate._core`."""

from typing import Any, final

__all__ = [
    "BUILTIN_CATALOGUE",
    "BodyError",
    "CatalogueError",
    "Core",
    "Finding",
    "Masked",
    "MaskgateError",
    "Plan",
    "SseRewriter",
    "StreamUnmasker",
    "Unmasker",
    "format_pseudonym",
    "parse_pseudonym",
]
BUILTIN_CATALOGUE: str

class MaskgateError(Exception):
    """Base class of the engine's errors."""

class CatalogueError(MaskgateError):
    """A catalogue file or entry is invalid: names the file, the entry and the problem."""

class BodyError(MaskgateError):
    """A body is not valid JSON, or not a Messages request. Never quotes the body."""

@final
class Finding:
    """One identifier; offsets are characters for texts and bytes for bodies."""

    @property
    def kind(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def original(self) -> str: ...
    @property
    def pseudonym(self) -> str | None: ...

@final
class Plan:
    """What to mask in one input; `Core.apply` it once its originals are mapped."""

    def missing(self, core: Core, namespace: str) -> list[tuple[str, str]]:
        """Distinct `(kind, original)` pairs with no pseudonym yet."""
    def __len__(self) -> int: ...
    @property
    def model(self) -> str | None: ...
    @property
    def stream(self) -> bool: ...
    @property
    def distinct(self) -> int:
        """How many distinct originals the plan holds."""
    @property
    def longest(self) -> int:
        """Bytes of the longest string scanned (a text, or a request string that reaches the model)."""
    def reserve(self) -> list[tuple[str, int]]:
        """`(kind, n)` of pseudonym-shaped literals in the input that are not issued: never issue them."""

@final
class Masked:
    """The result of masking."""

    @property
    def text(self) -> str: ...
    @property
    def output(self) -> bytes: ...
    @property
    def findings(self) -> list[Finding]: ...
    @property
    def extras(self) -> list[str]:
        """The extra texts the request was planned with, masked."""
    @property
    def is_text(self) -> bool: ...
    def counts(self) -> dict[str, int]:
        """Identifiers replaced, by kind."""
    def unmasker(self) -> Unmasker:
        """Restores exactly the pseudonyms this masking issued (those "in play")."""

@final
class Core:
    """The compiled catalogue and this process's map."""

    def __new__(
        cls,
        catalogues: list[tuple[str, str]] = ...,
        enable: list[str] = ...,
        disable: list[str] = ...,
        scan_cache: int | None = None,
    ) -> Core:
        """`scan_cache`: how many strings' pass-1 results to remember across requests (twice that
        at most; 0 turns it off; None: the default). Results are the same either way."""
    def catalogue(self) -> list[dict[str, Any]]: ...
    def only(self, name: str) -> Core: ...
    def scan(self, text: str, namespace: str = "default") -> list[Finding]: ...
    def plan_text(self, text: str, namespace: str) -> Plan: ...
    def plan_request(self, body: bytes, namespace: str, extras: list[str] = ...) -> Plan: ...
    def candidates(self, text: str, reference: bool = False) -> list[tuple[int, int, str]]:
        """Catalogue candidates as `(start, end, entry)` byte spans before overlaps are resolved:
        the fast scanner's, or the reference scanner's (the differential tests compare them)."""
    def learn(self, namespace: str, entries: list[tuple[str, int, str]]) -> None: ...
    def reserve(self, namespace: str, numbers: list[tuple[str, int]]) -> None: ...
    def allocate(self, namespace: str, missing: list[tuple[str, str]]) -> None: ...
    def apply(self, plan: Plan, namespace: str) -> Masked: ...
    def unmasker(self, namespace: str, pseudonyms: list[str] | None = None) -> Unmasker: ...
    def original(self, namespace: str, pseudonym: str) -> str | None: ...
    def known_count(self, namespace: str) -> int: ...
    def forget(self, namespace: str) -> None: ...
    def is_pseudonym(self, s: str) -> bool: ...

@final
class Unmasker:
    """Restores a fixed set of pseudonyms, as whole tokens only."""

    def unmask(self, text: str) -> str: ...
    def unmask_json(self, raw: str) -> str: ...
    def unmask_response(self, body: bytes) -> tuple[bytes, dict[str, int]]: ...
    def stream(self, json: bool) -> StreamUnmasker: ...
    def sse(self) -> SseRewriter: ...
    def __len__(self) -> int: ...

@final
class StreamUnmasker:
    """Output for any chunking equals unmasking the whole text."""

    def push(self, chunk: str) -> str: ...
    def finish(self) -> str: ...

@final
class SseRewriter:
    """Restores pseudonyms in a streamed Messages response, event by event."""

    def feed(self, chunk: bytes) -> bytes: ...
    def finish(self, keep_partial: bool = True) -> bytes:
        """Flushes held text; a partial trailing event is kept, or dropped after a broken stream."""
    def restored(self) -> dict[str, int]: ...

def format_pseudonym(kind: str, n: int) -> str: ...
def parse_pseudonym(s: str) -> tuple[str, int] | None: ...
