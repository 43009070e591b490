"""Fixtures of the reliability suite: real maskgate processes, a real fake provider, and a watch.

The watch sees every identifier the suite sends, every key it configures, every proxy's log and
`/metrics` page and every error body a test hands it; at the end of the session it fails the run
if any of those texts holds an original (raw, hex or base64) or a key.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import pytest

from tests.proxy import MASTER_KEY, Proxy, drop_redis_prefix
from tests.reliability.support import fresh_ids

SHARED_REDIS = "redis://127.0.0.1:6379/0"
TENANT_B_KEY = "reliability-tenant-b-" + "z" * 20


def leak_forms(value: str) -> list[str]:
    """How a value could leak: as is, hex, base64 (standard and urlsafe, with and without padding)."""
    raw = value.encode()
    forms = {value, raw.hex(), raw.hex().upper()}
    for enc in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        forms.add(enc.decode())
        forms.add(enc.decode().rstrip("="))
    return sorted(forms)


@dataclass
class Watch:
    originals: set[str] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)
    logs: list[Path] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"Watch({len(self.originals)} originals, {len(self.logs)} logs, {len(self.texts)} texts)"

    def ids(self) -> dict[str, str]:
        """Fresh identifiers, remembered so that the final check looks for them everywhere."""
        ids = fresh_ids()
        self.originals.update(ids.values())
        return ids

    def original(self, *values: str) -> None:
        self.originals.update(values)

    def key(self, *values: str) -> None:
        self.keys.update(values)

    def text(self, label: str, value: str) -> None:
        self.texts.append((label, value))

    def response(self, r: httpx2.Response) -> None:
        """Error bodies (and headers) are part of what must never carry an original."""
        if r.status_code >= 400:
            self.text(f"error body {r.status_code}", r.text + repr(dict(r.headers)))

    def leaks(self) -> list[str]:
        needles = [(o, f) for o in self.originals for f in leak_forms(o)]
        needles += [(k, k) for k in self.keys]
        found = []
        sources = [(str(p), p.read_text(errors="replace")) for p in self.logs if p.exists()] + self.texts
        for label, text in sources:
            for what, form in needles:
                if form in text:
                    kind = "key" if what in self.keys else "original"
                    found.append(f"{label}: holds a{'n' if kind == 'original' else ''} {kind} ({what[:4]}...)")
        return found


_WATCH = Watch()


@pytest.fixture(scope="session")
def watch() -> Iterator[Watch]:
    _WATCH.key(MASTER_KEY, TENANT_B_KEY)
    yield _WATCH
    leaks = _WATCH.leaks()
    assert not leaks, "secrets found in logs, metrics or error bodies:\n" + "\n".join(sorted(set(leaks))[:50])


ProxyFactory = Callable[..., AbstractContextManager[Proxy]]


@pytest.fixture
def start_proxy(watch: Watch, tmp_path: Path) -> ProxyFactory:
    """`with start_proxy(upstream_url, store="embedded"|"redis"|url, **env) as proxy:` a real process.

    Every proxy gets a tenant B (TENANT_B_KEY) and its own store key; its log and its final
    `/metrics` page go to the watch.
    """

    @contextmanager
    def start(
        upstream_url: str,
        store: str = "embedded",
        home: Path | None = None,
        store_key: str | None = None,
        prefix: str | None = None,
        cleanup: bool = True,
        **env: str,
    ) -> Iterator[Proxy]:
        base = home or tmp_path / f"proxy-{secrets.token_hex(3)}"
        base.mkdir(parents=True, exist_ok=True)
        config = base / "maskgate.toml"
        config.write_text(f'[[tenants]]\nname = "team-b"\nkey = "{TENANT_B_KEY}"\n', encoding="utf-8")
        key = store_key or secrets.token_hex(32)
        watch.key(key)
        full = {"MASKGATE_CONFIG": str(config), "MASKGATE_STORE_KEY": key, **env}
        redis_prefix = None
        if store != "embedded":
            redis_prefix = prefix or f"mgrel-{secrets.token_hex(4)}:"
            full["MASKGATE_REDIS_URL"] = SHARED_REDIS if store == "redis" else store
            full["MASKGATE_REDIS_PREFIX"] = redis_prefix
        try:
            with Proxy.start(base, upstream_url, full) as proxy:
                watch.logs.append(proxy.log)
                try:
                    yield proxy
                finally:
                    try:
                        watch.text(f"metrics of {proxy.url}", httpx2.get(proxy.url + "/metrics", timeout=10).text)
                    except httpx2.HTTPError:
                        pass
        finally:
            if redis_prefix and store == "redis" and cleanup:
                drop_redis_prefix(redis_prefix)

    return start


@pytest.fixture
def client_for() -> Iterator[Callable[[Proxy], httpx2.Client]]:
    made: list[httpx2.Client] = []

    def make(proxy: Proxy, key: str = MASTER_KEY, timeout: float = 60) -> httpx2.Client:
        c = httpx2.Client(base_url=proxy.url, headers={"x-api-key": key}, timeout=timeout)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()
