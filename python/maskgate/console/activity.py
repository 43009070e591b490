"""Recent requests as the console lists them: counts, times and ids, never prompt text.

Kept in memory per process (the newest `ACTIVITY_KEEP`), because it is a live view, not a record;
the audit log and captures are what persist.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

ACTIVITY_KEEP = 500


def _counts(value: Any) -> dict[str, int]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): int(v) for k, v in value.items() if isinstance(v, int) and v}


def _text(value: Any, limit: int) -> str | None:
    return None if value is None else str(value)[:limit]


@dataclass(frozen=True)
class Activity:
    seq: int
    at: float
    request_id: str
    tenant: str | None
    model: str | None
    route: str
    status: int
    ms: float
    mask_ms: float | None
    masked: dict[str, int] = field(default_factory=dict)
    restored: dict[str, int] = field(default_factory=dict)
    stream: str | None = None
    capture: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "time": time.strftime("%H:%M:%S", time.localtime(self.at)),
            "request_id": self.request_id,
            "tenant": self.tenant,
            "model": self.model,
            "route": self.route,
            "status": self.status,
            "ms": self.ms,
            "mask_ms": self.mask_ms,
            "masked": self.masked,
            "restored": self.restored,
            "stream": self.stream,
            "capture": self.capture,
        }


class ActivityLog:
    def __init__(self, keep: int = ACTIVITY_KEEP) -> None:
        self._items: deque[Activity] = deque(maxlen=keep)
        self._seq = itertools.count(1)

    def add(
        self,
        *,
        request_id: str,
        route: str,
        status: int,
        ms: float,
        fields: Mapping[str, Any],
        capture: str | None = None,
    ) -> Activity:
        mask_ms = fields.get("mask_ms")
        item = Activity(
            seq=next(self._seq),
            at=time.time(),
            request_id=request_id[:64],
            tenant=_text(fields.get("tenant"), 128),
            model=_text(fields.get("model"), 128),
            route=route[:128],
            status=status,
            ms=round(ms, 2),
            mask_ms=float(mask_ms) if isinstance(mask_ms, (int, float)) else None,
            masked=_counts(fields.get("masked")),
            restored=_counts(fields.get("restored")),
            stream=_text(fields.get("stream"), 32),
            capture=capture,
        )
        self._items.append(item)
        return item

    def after(self, seq: int, tenants: Iterable[str] | None, limit: int = 200) -> list[Activity]:
        """Newest first, those after `seq` that the admin may see (all tenants when None)."""
        allowed = None if tenants is None else set(tenants)
        out: list[Activity] = []
        for item in reversed(self._items):
            if item.seq <= seq or len(out) >= limit:
                break
            if allowed is None or item.tenant in allowed:
                out.append(item)
        return out
