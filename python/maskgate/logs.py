"""Structured logs: one line per request, JSON when not on a terminal.

Log records carry counts, durations and ids, never a prompt, an original or a key.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Collection
from typing import Any

logger = logging.getLogger("maskgate")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        return json.dumps(out, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", None)
        tail = " ".join(f"{k}={v}" for k, v in fields.items()) if isinstance(fields, dict) else ""
        return f"{record.levelname.lower():5} {record.getMessage()} {tail}".rstrip()


def configure(fmt: str = "auto", level: int = logging.INFO) -> None:
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if use_json else TextFormatter())
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


class NoQuery(logging.Filter):
    """uvicorn's access log line without the client's text: no query string, and no path that
    is not one of the app's own (a 404's path is whatever the client wrote, unmasked).

    uvicorn logs `(client, method, full_path, http_version, status)`; a query is shown as `?…`,
    a path outside `paths` as its longest prefix in `prefixes` (or `/`) followed by `…`."""

    def __init__(self, paths: Collection[str] = (), prefixes: Collection[str] = ()) -> None:
        super().__init__()
        self.paths = frozenset(paths)
        self.prefixes = sorted(prefixes, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path, query, _ = args[2].partition("?")
            if path not in self.paths:
                path = next((p for p in self.prefixes if path.startswith(p)), "/") + "…"
            record.args = (*args[:2], path + ("?…" if query else ""), *args[3:])
        return True


def quiet_access_log(paths: Collection[str] = (), prefixes: Collection[str] = ()) -> None:
    """Installs `NoQuery` on uvicorn's access logger (once), however uvicorn was started; `paths`
    are printed as they are, `prefixes` before `…`."""
    access = logging.getLogger("uvicorn.access")
    for f in access.filters:
        if isinstance(f, NoQuery):
            access.removeFilter(f)
    access.addFilter(NoQuery(paths, prefixes))


def event(msg: str, level: int = logging.INFO, **fields: Any) -> None:
    logger.log(level, msg, extra={"fields": fields})
