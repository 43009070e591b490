"""The console's views in process (Starlette's TestClient): rendering, the recorder's contract with
the gateway, and that no page holds an original while no capture runs."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from maskgate.console.state import Console
from maskgate.server import Gateway, create_app
from maskgate.settings import ConsoleAdmin, ConsoleSettings, Settings
from maskgate.store import StoreUnavailable
from starlette.requests import Request
from starlette.testclient import TestClient

ADMIN = "inprocess-admin-key-" + "q" * 16
MASTER = "inprocess-master-key-" + "m" * 16
ORIGINAL = "i-0fedcba9876543210"


@pytest.fixture
def app_client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        master_key=MASTER,
        upstream_url="http://127.0.0.1:9",  # nothing listens: requests fail with 502 after masking
        store_path=tmp_path / "store.db",
        console=ConsoleSettings(enabled=True, admins=(ConsoleAdmin("admin", ADMIN),)),
    )
    with TestClient(create_app(settings), base_url="http://testserver", follow_redirects=False) as client:
        yield client


def login(client: TestClient) -> str:
    page = client.get("/console/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text)
    assert token
    r = client.post("/console/login", data={"login_token": token.group(1), "key": ADMIN})
    assert r.status_code == 303
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/console/").text)
    assert csrf
    return csrf.group(1)


def test_pages_render_with_no_traffic(app_client: TestClient) -> None:
    login(app_client)
    for path in ["/console/", "/console/catalogue", "/console/lookup", "/console/captures"]:
        r = app_client.get(path)
        assert r.status_code == 200 and "maskgate console" in r.text, path
    assert app_client.get("/console/captures/nope").status_code == 404
    assert app_client.get("/console/api/series").json()["t"] is not None
    assert app_client.get("/console").status_code in (307, 308), "the bare path redirects to /console/"


def test_failed_requests_are_listed_without_their_text(app_client: TestClient) -> None:
    login(app_client)
    body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": f"stop {ORIGINAL}"}]}
    r = app_client.post("/v1/messages", json=body, headers={"x-api-key": MASTER, "x-request-id": "inproc-1"})
    assert r.status_code == 502
    unauthorized = app_client.post("/v1/messages", json=body, headers={"x-api-key": "wrong-key-" + "w" * 10})
    assert unauthorized.status_code == 401
    rows = app_client.get("/console/api/activity").json()["rows"]
    [row] = [x for x in rows if x["request_id"] == "inproc-1"]
    assert row["status"] == 502 and row["masked"] == {"ec2": 1} and row["tenant"] == "default"
    assert any(x["status"] == 401 and x["tenant"] is None for x in rows)
    for path in ["/console/", "/console/catalogue", "/console/lookup", "/console/captures", "/console/api/activity"]:
        assert ORIGINAL not in app_client.get(path).text, path


def test_record_never_raises_into_the_gateway(tmp_path: Path) -> None:
    settings = Settings(
        master_key=MASTER,
        store_path=tmp_path / "s.db",
        console=ConsoleSettings(enabled=True, admins=(ConsoleAdmin("admin", ADMIN),)),
    )
    console = Console(Gateway(settings))
    scope = {"type": "http", "method": "POST", "path": "/v1/messages", "headers": [], "query_string": b""}
    request = Request(scope)
    weird = {"masked": "not a dict", "mask_ms": "slow", "tenant": object(), "model": None}
    console.record(request, "rid", 200, time.perf_counter(), weird)
    console.record(request, "rid2", 200, "not a number", {})  # type: ignore[arg-type]
    [row] = console.activity.after(0, None)
    assert row.request_id == "rid" and row.masked == {} and row.mask_ms is None


def test_record_is_a_no_op_when_the_console_is_off(tmp_path: Path) -> None:
    console = Console(Gateway(Settings(master_key=MASTER, store_path=tmp_path / "s.db")))
    request = Request({"type": "http", "method": "POST", "path": "/v1/messages", "headers": [], "query_string": b""})
    console.record(request, "rid", 200, time.perf_counter(), {"masked": {"ec2": 1}})
    assert console.activity.after(0, None) == [] and not console.series.points


class DownStore:
    """A console store whose backend is unreachable."""

    def __getattr__(self, name: str) -> object:
        async def fail(*args: object, **kwargs: object) -> None:
            await asyncio.sleep(0.5)
            raise StoreUnavailable("console store unavailable: ConnectionError")

        return fail


def test_a_console_store_outage_answers_503_and_never_slows_the_gateway(app_client: TestClient) -> None:
    csrf = login(app_client)
    console: Console = app_client.app.state.gateway.console  # type: ignore[attr-defined]
    console._store = DownStore()  # type: ignore[assignment]
    console._windows_at = float("-inf")
    assert app_client.get("/console/lookup").status_code == 503
    assert app_client.get("/console/api/activity").status_code == 503
    r = app_client.post("/console/lookup", data={"csrf": csrf, "tenant": "default", "pseudonym": "ec2-001"})
    assert r.status_code == 503 and "i-" not in r.text
    body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": f"stop {ORIGINAL}"}]}
    started = time.perf_counter()
    r = app_client.post("/v1/messages", json=body, headers={"x-api-key": MASTER})
    assert r.status_code == 502, "masked and forwarded as usual (nothing listens upstream)"
    assert time.perf_counter() - started < 0.4, "the capture-window refresh is not in the request's path"


def test_stopping_the_gateway_closes_the_console(tmp_path: Path) -> None:
    settings = Settings(
        master_key=MASTER,
        store_path=tmp_path / "store.db",
        console=ConsoleSettings(enabled=True, admins=(ConsoleAdmin("admin", ADMIN),)),
    )
    app = create_app(settings)
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        login(client)  # opens the console's store
        console: Console = client.app.state.gateway.console  # type: ignore[attr-defined]
        assert console._store is not None
    assert console._store is None, "the gateway's stop closes the console and its store"
