"""The leak suite's harness: one real gateway (console on, capture open) before the recording fake
provider, random AWS material from the corpus generator, and one check that looks for originals
everywhere they must never be.

`Leaks.assert_clean(originals)` looks, in every form an original could take (raw, JSON-escaped,
percent-encoded, hex, base64), in: what the provider recorded (path, query, headers, body), every
line the gateway logged, every file under its data directory (the map, its key file, the console
store), the Redis keys and values under the gateway's prefix, and the console's activity feed.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx2
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from tests.console.support import ADMIN_KEY, TEAM_B_ADMIN_KEY, ConsoleClient, console_env
from tests.corpus.gen.values import Values
from tests.fake_upstream import FakeUpstream, parse_sse
from tests.gateway.support import TENANT_B_KEY
from tests.proxy import MASTER_KEY, Proxy, drop_redis_prefix
from tests.reliability.conftest import leak_forms

SHARED_REDIS = "redis://127.0.0.1:6379/0"
OWN_KEYS = (MASTER_KEY, TENANT_B_KEY, ADMIN_KEY, TEAM_B_ADMIN_KEY)

# Few examples per case, each a real HTTP round trip: the suite must stay a small part of CI. No
# shrinking: a failing example is printed as found (shrinking one costs a request per step, and
# the strict xfails fail on every run).
EXAMPLES = settings(
    max_examples=8,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


# -- random originals (the corpus generator's shapes, seeded by hypothesis) ---------------------


@dataclass(frozen=True)
class Aws:
    """One user's AWS material, every value fresh (so each example is the first to mention it)."""

    account: str
    key_id: str
    secret: str
    token: str
    instance: str
    vpc: str
    bucket: str
    role_arn: str
    region: str

    def all(self) -> list[str]:
        return [self.account, self.key_id, self.secret, self.token, self.instance, self.vpc, self.bucket, self.role_arn]


def _aws(seed: str) -> Aws:
    v = Values("leaks:" + seed)
    account = v.account()
    region = v.region()
    return Aws(
        account=account,
        key_id=v.access_key_id(account, v.choice(["AKIA", "ASIA"])),
        secret=v.secret_key(),
        token=v.session_token(region),
        instance=v.ec2("i"),
        vpc=v.ec2("vpc", short=v.r.random() < 0.5),
        bucket=v.bucket(),
        role_arn=f"arn:aws:iam::{account}:role/{v.app()}-{v.chars('abcdefghjkmnpqrstuvwxyz', 6)}",
        region=region,
    )


aws = st.text(min_size=1, max_size=24).map(_aws)
"""A strategy of `Aws`: hypothesis draws the seed, the corpus generator the realistic values."""


# -- requests -----------------------------------------------------------------------------------


def text(t: str) -> dict[str, Any]:
    return {"type": "text", "text": t}


def messages(*content: Any, stream: bool = False, **extra: Any) -> dict[str, Any]:
    """A Messages request whose messages alternate user/assistant, starting with the user."""
    msgs = []
    for i, c in enumerate(content):
        msgs.append({"role": "user" if i % 2 == 0 else "assistant", "content": c})
    return {"model": "claude-sonnet-4-5", "max_tokens": 256, "stream": stream, "messages": msgs, **extra}


def echo_text(pointer: str) -> dict[str, Any]:
    """A reply whose text is exactly the string the provider saw at `pointer` of the request."""
    return {"type": "text", "text": "{{field:" + pointer + "}}"}


def streamed_text(body: str) -> str:
    return "".join(
        d["delta"].get("text", "")
        for n, d in parse_sse(body)
        if n == "content_block_delta" and isinstance(d, dict) and d["delta"].get("type") == "text_delta"
    )


def reply_text(r: httpx2.Response) -> str:
    """The text a client got back, streamed or not."""
    if r.headers.get("content-type", "").startswith("text/event-stream"):
        return streamed_text(r.text)
    return "".join(b.get("text", "") for b in r.json()["content"] if b.get("type") == "text")


def reply_tool_uses(r: httpx2.Response) -> list[dict[str, Any]]:
    """The tool calls a client got back, streamed (inputs rebuilt from their fragments) or not."""
    if not r.headers.get("content-type", "").startswith("text/event-stream"):
        return [b for b in r.json()["content"] if b.get("type") == "tool_use"]
    blocks: dict[int, dict[str, Any]] = {}
    parts: dict[int, str] = {}
    for name, d in parse_sse(r.text):
        if name == "content_block_start" and d["content_block"]["type"] == "tool_use":
            blocks[d["index"]] = dict(d["content_block"])
        elif name == "content_block_delta" and d["delta"].get("type") == "input_json_delta":
            parts[d["index"]] = parts.get(d["index"], "") + d["delta"]["partial_json"]
    for i, block in blocks.items():
        block["input"] = json.loads(parts.get(i) or "{}")
    return [blocks[i] for i in sorted(blocks)]


# -- the gateway ------------------------------------------------------------------------------


def _forms(original: str) -> list[str]:
    escaped = json.dumps(original)[1:-1]
    percent = {quote(original, safe=""), quote(original, safe="/"), quote(original, safe="/:")}
    return sorted({*leak_forms(original), *percent, escaped, escaped.replace("/", "\\/")})


@dataclass
class Leaks:
    """A gateway process, its fake provider and its console, and where to look for originals."""

    proxy: Proxy
    fake: FakeUpstream
    admin: ConsoleClient
    home: Path
    redis_prefix: str | None = None
    http: httpx2.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx2.Client(base_url=self.proxy.url, headers={"x-api-key": MASTER_KEY}, timeout=60)

    def close(self) -> None:
        self.http.close()

    # -- talking to it ---------------------------------------------------------------------

    def send(
        self,
        body: dict[str, Any] | bytes,
        *replies: dict[str, Any],
        path: str = "/v1/messages",
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> tuple[httpx2.Response, list[dict[str, Any]]]:
        """One request through the gateway: the client's response and what the provider recorded."""
        self.fake.clear()
        if replies:
            self.fake.script(list(replies))
        content = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        hdrs = {"content-type": "application/json", **(headers or {})}
        r = self.http.post(path, content=content, headers=hdrs, params=params)
        return r, self.fake.requests()

    # -- where originals must not be -------------------------------------------------------

    def places(self, provider: bool = True) -> Iterator[tuple[str, str]]:
        if provider:
            for i, req in enumerate(self.fake.requests()):
                yield f"provider request {i} path+query", req["path"] + "?" + req["query"]
                yield f"provider request {i} headers", json.dumps(req["headers"])
                yield f"provider request {i} body", req["body"]
        yield "gateway log", self.proxy.logs()
        for p in sorted(self.home.rglob("*")):
            # The operator's config holds the client keys by design.
            if p.is_file() and p != self.proxy.log and p.name != "maskgate.toml":
                yield f"file {p.relative_to(self.home)}", p.read_bytes().decode("latin-1")
        if self.redis_prefix:
            yield "redis", _redis_dump(self.redis_prefix)
        yield "console activity", self.admin.get("/console/api/activity").text

    def assert_clean(self, originals: list[str], provider: bool = True) -> None:
        """No original, in any form, anywhere the gateway wrote or sent to (`provider=False`: only
        where it wrote, for what the provider must get as sent, such as the model name)."""
        self.wait_captures()
        found = []
        for label, content in self.places(provider):
            for original in originals:
                for form in _forms(original):
                    if form in content:
                        found.append(f"{label} holds {original[:6]}... (as {form[:10]}...)")
                        break
        assert not found, "originals leaked:\n" + "\n".join(found)

    def wait_captures(self, timeout: float = 10.0) -> None:
        """Captures are sealed and stored after the response: wait until the newest request's is."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.admin.get("/console/api/activity").json()["rows"]
            pending = [r["capture"] for r in rows[:1] if r["capture"]]
            if not pending or self.admin.get(f"/console/captures/{pending[0]}").status_code == 200:
                return
            time.sleep(0.05)

    def latest_capture(self, request_id: str) -> str:
        """The capture page of the request with this id (as the console lists it)."""
        rows = self.admin.get("/console/api/activity").json()["rows"]
        [cid] = [r["capture"] for r in rows if r["request_id"] == request_id]
        assert cid, "the request was not captured"
        self.wait_captures()
        page = self.admin.get(f"/console/captures/{cid}")
        assert page.status_code == 200
        return page.text


def _redis_dump(prefix: str, url: str = SHARED_REDIS) -> str:
    """Every key under `prefix` and what it holds (`redis+cluster://` scans every node)."""
    import redis
    from redis.cluster import RedisCluster

    client: Any = (
        RedisCluster.from_url(url.replace("redis+cluster://", "redis://"))
        if url.startswith("redis+cluster://")
        else redis.Redis.from_url(url)
    )
    out: list[str] = []
    try:
        for key in client.scan_iter(match=prefix + "*", count=1000):
            out.append(key.decode("latin-1"))
            kind = client.type(key).decode()
            if kind == "string":
                out.append((client.get(key) or b"").decode("latin-1"))
            elif kind == "hash":
                out += [x.decode("latin-1") for kv in client.hgetall(key).items() for x in kv]
            elif kind == "list":
                out += [x.decode("latin-1") for x in client.lrange(key, 0, -1)]
            elif kind == "set":
                out += [x.decode("latin-1") for x in client.smembers(key)]
            elif kind == "zset":
                out += [x.decode("latin-1") for x in client.zrange(key, 0, -1)]
            elif kind == "stream":
                for _, entry in client.xrange(key):
                    out += [x.decode("latin-1") for kv in entry.items() for x in kv]
    finally:
        client.close()
    return "\n".join(out)


@contextmanager
def running(
    fake: FakeUpstream, home: Path, store: str = "embedded", log_level: str = "warning", **env: str
) -> Iterator[Leaks]:
    """A gateway with the console on and a capture window open for the default tenant."""
    full = {**console_env(home), **env}
    prefix = None
    if store == "redis":
        prefix = f"mgleaks-{secrets.token_hex(4)}:"
        full["MASKGATE_REDIS_URL"] = SHARED_REDIS
        full["MASKGATE_REDIS_PREFIX"] = prefix
    try:
        with Proxy.start(home, fake.url, full, log_level=log_level) as proxy, ConsoleClient(proxy.url) as admin:
            assert admin.login(ADMIN_KEY).status_code == 303
            assert admin.post("/console/captures/start", tenant="default", minutes="60").status_code == 303
            leaks = Leaks(proxy, fake, admin, home, prefix)
            try:
                yield leaks
            finally:
                leaks.close()
    finally:
        if prefix:
            drop_redis_prefix(prefix)


PSEUDONYM = re.compile(r"\b[a-z][a-z0-9]*-\d{3,}\b")
Check = Callable[[str], None]


def pointer_of(doc: Any, ptr: str) -> Any:
    from tests.fake_upstream import pointer

    return pointer(doc, ptr)


def echo_round_trip(gw: Leaks, body: dict[str, Any], ptr: str, originals: list[str]) -> list[dict[str, Any]]:
    """Sends `body`; the provider answers with the string it saw at `ptr`. The client must get
    back exactly its own string, and no original may be anywhere. Returns what was recorded."""
    r, recorded = gw.send(body, echo_text(ptr))
    assert r.status_code == 200, r.text[:300]
    assert len(recorded) == 1
    assert reply_text(r) == pointer_of(body, ptr), "the round trip is not exact"
    gw.assert_clean(originals)
    return recorded
