"""The console in headless Chromium (Debian's, driven by Playwright; no Playwright browser download).

One admin walks through everything the issue asks for, with screenshots kept as test artifacts
(`artifacts/console/`, or `$MASKGATE_ARTIFACTS/console/`): log in, watch traffic arrive without a
reload, try the catalogue, open a capture side by side, look up a pseudonym, log out. Then an
outsider, and a cross-site form, fail to do any of it without the admin key. Every page is also
watched for Content-Security-Policy violations and script errors.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.console.support import ADMIN_KEY, console_env, messages_body
from tests.fake_upstream import FakeUpstream
from tests.gateway.support import TENANT_B_KEY, new_ids
from tests.proxy import MASTER_KEY, Proxy

CHROMIUM = os.environ.get("MASKGATE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("MASKGATE_ARTIFACTS", Path(__file__).resolve().parents[2] / "artifacts")) / "console"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"no Chromium at {CHROMIUM}: install Debian's `chromium` (make install does it as root), "
    "or point MASKGATE_CHROMIUM at one",
)
sync_api = pytest.importorskip("playwright.sync_api", reason="the `playwright` package (dev extra) is not installed")


@pytest.fixture(scope="module")
def proxy(fake: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    tmp = tmp_path_factory.mktemp("console-browser")
    with Proxy.start(tmp, fake.url, console_env(tmp)) as p:
        yield p


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class Watched:
    """A page whose CSP violations, console errors and uncaught exceptions are collected."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(viewport={"width": 1440, "height": 900})
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))

    def _console(self, message: Any) -> None:
        # Refused logins and forms answer 401/403 on purpose; Chromium logs those as resource errors.
        expected = message.text.startswith("Failed to load resource: the server responded with a status of 4")
        if "Content Security Policy" in message.text or (message.type == "error" and not expected):
            self.problems.append(f"console {message.type}: {message.text}")

    def shot(self, name: str, full_page: bool = True) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / name), full_page=full_page)

    def close(self) -> None:
        self.context.close()


def traffic(url: str, fake: FakeUpstream, seconds: float, stop: threading.Event) -> None:
    """A little Claude Code-like traffic for the charts: two tenants, streams, a few kinds, an error."""
    deadline = time.monotonic() + seconds
    n = 0
    with httpx2.Client(base_url=url, timeout=30) as c:
        while time.monotonic() < deadline and not stop.is_set():
            ids = new_ids()
            marker = f"turn-{n}-{secrets.token_hex(3)}"  # survives masking, so the fake can match it
            if n == 6:
                fake.script([{"type": "error", "status": 529, "when": marker}])
            else:
                fake.script(
                    [{"type": "text", "text": "Checked {{first:ec2-\\d+}} in {{first:vpc-\\d+}}", "when": marker}]
                )
            text = f"{marker}: check {ids['instance']} in {ids['vpc']} and s3://{ids['bucket']}/logs"
            if n % 4 == 1:
                text += f" using {ids['key']}"
            key = TENANT_B_KEY if n % 3 == 2 else MASTER_KEY
            c.post("/v1/messages", json=messages_body(text, stream=n % 2 == 0), headers={"x-api-key": key})
            n += 1
            time.sleep(0.4)


def test_admin_walkthrough(browser: Any, proxy: Proxy, fake: FakeUpstream) -> None:
    w = Watched(browser)
    page = w.page
    expect = sync_api.expect
    try:
        # Not logged in: every page leads to the login form; a client key does not open it.
        page.goto(proxy.url + "/console/lookup")
        expect(page).to_have_url(re.compile(r"/console/login$"))
        page.fill("#key", MASTER_KEY)
        page.click("button[type=submit]")
        expect(page.locator(".error")).to_contain_text("not an admin key")
        w.shot("console-login-refused.png")

        page.fill("#key", ADMIN_KEY)
        page.click("button[type=submit]")
        expect(page).to_have_url(re.compile(r"/console/$"))
        [cookie] = [c for c in w.context.cookies() if c["name"] == "maskgate_console"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/console"

        # Traffic through the gateway shows up without a reload.
        rows = page.locator("#activity-rows tr")
        before = rows.count()
        ids = new_ids()
        fake.script([{"type": "text", "text": "Done with {{first:ec2-\\d+}}", "when": ids["instance"][-10:]}])
        body = messages_body(f"restart {ids['instance']} please", stream=True, model="claude-browser-test")
        assert httpx2.post(proxy.url + "/v1/messages", json=body, headers={"x-api-key": MASTER_KEY}).status_code == 200
        row = page.locator("#activity-rows tr", has_text="claude-browser-test")
        expect(row).to_have_count(1, timeout=10_000)
        expect(row).to_contain_text("ec2 ×1")
        assert rows.count() == before + 1
        assert page.evaluate("performance.getEntriesByType('navigation').length") == 1, "no reload happened"

        stop = threading.Event()
        feeder = threading.Thread(target=traffic, args=(proxy.url, fake, 16.0, stop), daemon=True)
        feeder.start()
        feeder.join(30)
        stop.set()
        page.wait_for_timeout(5500)  # one more chart poll after the last request
        for chart in ("masked", "latency", "errors", "streams"):
            expect(page.locator(f"#chart-{chart} canvas")).to_have_count(1)
        expect(page.locator("#live")).to_have_text("live")
        w.shot("console-activity.png", full_page=False)

        # The catalogue, and "try it" computed on the server.
        page.click("nav >> text=Catalogue")
        expect(page.locator("table.catalogue")).to_contain_text("private-ip")
        page.fill(
            "#text", "aws ec2 stop-instances --instance-ids i-0123456789abcdef0 --region eu-west-1 # vpc-0a1b2c3d"
        )
        page.click("button:has-text('Mask it')")
        expect(page.locator("#trial-masked")).to_contain_text("ec2-001")
        expect(page.locator("#trial mark.orig").first).to_have_text("i-0123456789abcdef0")
        w.shot("console-catalogue.png")

        # A capture window for the default tenant, then the capture side by side.
        page.click("nav >> text=Captures")
        page.select_option("#capture-tenant", "default")
        page.fill("#minutes", "5")
        page.click("button:has-text('Start capturing')")
        expect(page.locator("#windows")).to_contain_text("Capturing default")
        time.sleep(2.2)
        cap = new_ids()
        fake.script([{"type": "text", "text": "Tagged {{first:ec2-\\d+}}", "when": cap["instance"][-10:]}])
        text = (
            f"Tag instance {cap['instance']} (vpc {cap['vpc']}) and copy s3://{cap['bucket']}/report.csv; "
            f"the deploy key is {cap['key']}"
        )
        captured = httpx2.post(
            proxy.url + "/v1/messages",
            json=messages_body(text, model="claude-capture-test"),
            headers={"x-api-key": MASTER_KEY},
        )
        assert captured.status_code == 200
        page.click("nav >> text=Activity")
        link = page.locator("#activity-rows tr", has_text="claude-capture-test").locator("a", has_text="open")
        expect(link).to_have_count(1, timeout=10_000)
        for _ in range(50):  # the capture is sealed and stored just after the response
            link.click()
            if page.locator("#side-by-side").count():
                break
            page.wait_for_timeout(200)
            page.go_back()
        expect(page.locator("#client-body mark.orig").first).to_have_text(cap["instance"])
        expect(page.locator("#provider-body mark.pseudo").first).to_have_text(re.compile(r"^ec2-\d+$"))
        assert cap["instance"] not in page.locator("#provider-body").inner_text()
        assert cap["instance"] not in page.title()
        w.shot("console-capture.png")
        page.click("nav >> text=Captures")
        page.click("#windows >> text=Stop")
        expect(page.locator("#windows")).to_have_count(0)

        # Look up the pseudonym the provider saw; the lookup lands in the audit log.
        pseudonym = page.evaluate("0") or None
        [upstream] = [
            r["body"]
            for r in fake.requests("/v1/messages")
            if cap["vpc"][-8:] in r["body"] or "Tag instance" in r["body"]
        ][-1:]
        found = re.search(r"ec2-\d+", upstream)
        assert found
        pseudonym = found.group(0)
        page.click("nav >> text=Lookup")
        page.select_option("#tenant", "default")
        page.fill("#pseudonym", pseudonym)
        page.click("button:has-text('Look up')")
        expect(page.locator("#lookup-result code.original")).to_have_text(cap["instance"])
        assert cap["instance"] not in page.url and cap["instance"] not in page.title()
        expect(page.locator("#audit tbody tr").first).to_contain_text(pseudonym)
        expect(page.locator("#audit tbody tr").first).not_to_contain_text(cap["instance"])
        w.shot("console-lookup.png")

        # Logging out closes it again.
        page.click("button:has-text('Log out')")
        expect(page).to_have_url(re.compile(r"/console/login$"))
        page.goto(proxy.url + "/console/")
        expect(page).to_have_url(re.compile(r"/console/login$"))
        assert not w.problems, w.problems
    finally:
        w.close()


def test_nothing_without_the_admin_key(browser: Any, proxy: Proxy, fake: FakeUpstream) -> None:
    w = Watched(browser)
    page = w.page
    expect = sync_api.expect
    try:
        for path in ("/console/", "/console/catalogue", "/console/lookup", "/console/captures"):
            page.goto(proxy.url + path)
            expect(page).to_have_url(re.compile(r"/console/login$"))
        for key in (MASTER_KEY, TENANT_B_KEY):
            page.fill("#key", key)
            page.click("button[type=submit]")
            expect(page.locator(".error")).to_contain_text("not an admin key")
        # Scripted attempts from the console's own origin, without a session.
        outcome = page.evaluate(
            """async () => {
                const post = (path, body) => fetch(path, {method: 'POST', body: new URLSearchParams(body)})
                    .then(r => r.status);
                return {
                    activity: (await fetch('/console/api/activity')).status,
                    lookup: await post('/console/lookup', {tenant: 'default', pseudonym: 'ec2-001'}),
                    capture: await post('/console/captures/start', {tenant: 'default', minutes: '5'}),
                };
            }"""
        )
        assert outcome == {"activity": 401, "lookup": 403, "capture": 403}

        # Logged in, a form on another origin still cannot act for the admin (CSRF token, Origin).
        page.fill("#key", ADMIN_KEY)
        page.click("button[type=submit]")
        expect(page).to_have_url(re.compile(r"/console/$"))
        page.goto(fake.url + "/")
        page.evaluate(
            """(target) => {
                const f = document.createElement('form');
                f.method = 'POST';
                f.action = target;
                for (const [k, v] of [['tenant', 'default'], ['minutes', '30']]) {
                    const i = document.createElement('input'); i.name = k; i.value = v; f.appendChild(i);
                }
                document.body.appendChild(f);
                f.submit();
            }""",
            proxy.url + "/console/captures/start",
        )
        page.wait_for_load_state()
        expect(page.locator("h1")).to_have_text("Not allowed")
        w.shot("console-csrf-refused.png")
        page.goto(proxy.url + "/console/captures")
        expect(page.locator("#windows")).to_have_count(0)
        assert not w.problems, w.problems
    finally:
        w.close()
