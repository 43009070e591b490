"""A failure nobody planned for (a provider raising what it should not) is still one request: an
Anthropic-shaped 500 whose message says nothing of the request, counted in the metrics and
recorded, so it shows on /metrics and in the console like every other failure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from maskgate.gateway import create_app
from maskgate.logs import JsonFormatter
from maskgate.providers import Outgoing, Reply
from maskgate.settings import Settings
from starlette.testclient import TestClient

MASTER = "unexpected-master-key-" + "m" * 16
ORIGINAL = "i-0fedcba9876543210"


class Raising:
    name = "raising"

    async def messages(self, request: Outgoing) -> Reply:
        raise KeyError(request.body.decode())  # an exception whose text is the (masked) request

    count_tokens = messages

    async def aclose(self) -> None:
        return None


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(master_key=MASTER, upstream_url="http://127.0.0.1:9", store_path=tmp_path / "store.db")
    with TestClient(create_app(settings)) as c:  # an exception left to the server would raise here
        c.app.state.gateway._upstream = Raising()  # type: ignore[attr-defined]
        yield c


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/count_tokens"])
def test_an_unexpected_failure_is_a_counted_500(
    client: TestClient, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = {"model": "claude-sonnet-4-5", "max_tokens": 9, "messages": [{"role": "user", "content": ORIGINAL}]}
    r = client.post(path, json=body, headers={"x-api-key": MASTER})
    assert r.status_code == 500
    assert r.json() == {"type": "error", "error": {"type": "api_error", "message": "internal error in maskgate"}}
    metrics = client.get("/metrics").text
    assert f'maskgate_requests_total{{route="{path}",status="500"}} 1.0' in metrics, metrics
    err = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert "unhandled error" in err and "KeyError" in err, err
    assert "max_tokens" not in err and ORIGINAL not in err, "the exception's text is not logged"
