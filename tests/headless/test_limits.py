"""Wall time, client disconnects and the concurrency cap: the whole process tree goes, every time."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx2
import pytest

from tests.fake_upstream import FakeUpstream, parse_sse
from tests.headless.conftest import ADMIN_KEY, TIMEOUT_SECONDS, Headless
from tests.raw_http import open_post

pytestmark = pytest.mark.e2e

# The Bash command leaves three processes behind: itself, a background child, and an orphan whose
# parent (a subshell) has already exited: without the subreaper it would belong to init.
TREE = "(sleep 1000 & echo $! > orphan.pid); sleep 1001 & echo $! > child.pid; echo $$ > bash.pid; sleep 1002"


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZX"


def wait_for_files(directory: Path, names: list[str], timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return [int((directory / n).read_text()) for n in names]
        except (OSError, ValueError):
            time.sleep(0.05)
    raise AssertionError(f"the tool never wrote {names}")


def gone(pids: list[int], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def workdir(headless: Headless, tmp_path: Path) -> Path:
    d = headless.repos / tmp_path.name
    d.mkdir()
    return d


def start_tree(fake: FakeUpstream) -> None:
    fake.script([{"type": "tool_use", "name": "Bash", "input": {"command": TREE}}, {"type": "text", "text": "done"}])


def test_timeout_kills_the_process_tree(fake: FakeUpstream, headless: Headless, workdir: Path) -> None:
    start_tree(fake)
    started = time.monotonic()
    r = headless.post("/v1/claude-code", {"prompt": "go", "allowed_tools": ["Bash"], "cwd": workdir.name})
    took = time.monotonic() - started
    assert r.status_code == 504, r.text
    assert "did not finish within" in r.json()["error"]["message"]
    assert TIMEOUT_SECONDS <= took < TIMEOUT_SECONDS + 10
    pids = wait_for_files(workdir, ["bash.pid", "child.pid", "orphan.pid"], timeout=1)
    assert gone(pids), [p for p in pids if alive(p)]


def test_timeout_in_a_stream_ends_with_an_error_event(fake: FakeUpstream, headless: Headless, workdir: Path) -> None:
    start_tree(fake)
    r = headless.post(
        "/v1/claude-code", {"prompt": "go", "allowed_tools": ["Bash"], "cwd": workdir.name, "stream": "sse"}
    )
    assert r.status_code == 200
    events = parse_sse(r.text)
    assert events[0][0] == "system" and events[-1][0] == "error"
    assert "did not finish" in events[-1][1]["error"]["message"]
    assert gone(wait_for_files(workdir, ["bash.pid", "child.pid", "orphan.pid"], timeout=1))


@pytest.mark.parametrize("stream", ["json", "ndjson"])
def test_client_disconnect_kills_the_process_tree(
    fake: FakeUpstream, headless: Headless, workdir: Path, stream: str
) -> None:
    start_tree(fake)
    body = json.dumps({"prompt": "go", "allowed_tools": ["Bash"], "cwd": workdir.name, "stream": stream}).encode()
    with open_post(headless.proxy.port, "/v1/claude-code", {"x-api-key": ADMIN_KEY}, body):
        pids = wait_for_files(workdir, ["bash.pid", "child.pid", "orphan.pid"])
        assert all(alive(p) for p in pids)
    # The client went away mid-run, well before the wall-time limit.
    assert gone(pids, timeout=TIMEOUT_SECONDS - 1), "still running after the client left"


def test_concurrency_limit(fake: FakeUpstream, headless: Headless, workdir: Path) -> None:
    fake.script([{"type": "text", "text": "slow", "headers_delay": 3}])
    first: dict[str, httpx2.Response] = {}
    thread = threading.Thread(
        target=lambda: first.setdefault("r", headless.post("/v1/claude-code", {"prompt": "one"})), daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 20
    while not fake.requests("/v1/messages") and time.monotonic() < deadline:
        time.sleep(0.05)
    second = headless.post("/v1/claude-code", {"prompt": "two"})
    assert second.status_code == 429, second.text
    assert second.headers.get("retry-after")
    thread.join(30)
    assert first["r"].status_code == 200 and first["r"].json()["result"] == "slow"
    fake.script([{"type": "text", "text": "again"}])
    assert headless.post("/v1/claude-code", {"prompt": "three"}).json()["result"] == "again"  # the slot is free again
