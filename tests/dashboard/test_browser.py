"""The dashboard in headless Chromium (Debian's `chromium`), served over a real socket.

The browser loads the route list, follows its link to a route page and that page's link to the
samples of a field, as an operator would; with an admin token set, it signs in first (driven
over the DevTools protocol: tests/dashboard/cdp.py). The pages are served under a policy that
allows no script (`default-src 'none'`), so what the browser shows is what reads without one.
Screenshots are kept under test-artifacts/ (git-ignored). Outside CI a missing chromium skips;
with CI=true it fails (tests/support/services.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from starlette.types import ASGIApp

from proxy.table.model import RouteTable
from proxy.table.parser import parse
from proxy.table.snapshot import TableHolder, build_snapshot
from shadow.experiment import Experiment, ShadowSettings
from shadow.observation import Observation, Side
from shadow.records import RequestInfo
from shadow.store import Store, StoreWriter, open_store
from tests.dashboard.cdp import chromium_page
from tests.dashboard.conftest import Evidence, admin_app
from tests.dashboard.shadowrun import SECRET_EMAIL
from tests.support.services import ROOT, free_port, unavailable, wait_for_port

ARTIFACTS = ROOT / "test-artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,2200",
]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        unavailable("chromium is not installed (apt-get install chromium)")
        raise AssertionError("unreachable")
    return found


@contextlib.contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


class Browser:
    def __init__(self, binary: str, profile: Path) -> None:
        self.binary = binary
        self.profile = profile

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [self.binary, *FLAGS, f"--user-data-dir={self.profile}", *args],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def dom(self, url: str) -> str:
        return self.run("--dump-dom", url)

    def screenshot(self, url: str, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        path.unlink(missing_ok=True)
        self.run(f"--screenshot={path}", url)
        return path


@pytest.fixture
def browser(tmp_path: Path) -> Browser:
    return Browser(chromium(), tmp_path / "chromium-profile")  # a fresh profile per test


def link(dom: str, pattern: str) -> str:
    found = re.search(rf'href="({pattern})"', dom)
    assert found is not None, f"no link like {pattern}"
    return html.unescape(found[1])


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1400, 2200)
    assert len(data) > 20_000  # a page with tables and text, not a blank one


def test_an_operator_walks_from_the_route_list_to_a_sample_pair(
    evidence: Evidence, browser: Browser
) -> None:
    with serving(admin_app(evidence)) as base:
        overview = browser.dom(f"{base}/_strangler/")
        assert re.search(r"users\.list</a>.*?data-gate=\"blocked\"", overview, re.S)
        assert re.search(r"invoices\.list</a>.*?data-gate=\"ready\"", overview, re.S)
        assert overview.count("<polyline") >= 2  # a trend per compared route
        assert_png(browser.screenshot(f"{base}/_strangler/", "dashboard-routes.png"))

        route = browser.dom(base + link(overview, r"/_strangler/route/users\.list"))
        assert 'data-field="body.data[*].attributes.role"' in route
        assert 'data-field="body.meta.total"' in route
        assert "noise (A/A 100.0%)" in route
        assert "legacy → shadow" in route
        assert_png(browser.screenshot(f"{base}/_strangler/route/users.list", "dashboard-route.png"))

        samples_url = base + link(route, r"/_strangler/route/users\.list/samples\?field=[^\"]+")
        samples = browser.dom(samples_url)
        pair = re.search(r'<pre class="side primary">(.*?)</pre>.*?<pre class="side candidate">'
                         r"(.*?)</pre>", samples, re.S)  # fmt: skip
        assert pair is not None
        assert "<mark>" in pair[1] and "<mark>" in pair[2]
        assert SECRET_EMAIL not in overview + route + samples
        assert_png(browser.screenshot(samples_url, "dashboard-samples.png"))


def test_with_a_token_an_operator_signs_in_and_sees_the_dashboard(
    evidence: Evidence, tmp_path: Path
) -> None:
    """The browser is sent to the login page, is refused a wrong token, signs in with the right
    one (typed, then the button clicked: the page's policy must let its form post), reads the
    dashboard by its cookie, and signs out."""
    binary = chromium()
    with (
        serving(admin_app(evidence, token="s3cret-token")) as base,
        chromium_page(binary, FLAGS, tmp_path / "chromium-profile") as page,
    ):
        page.goto(f"{base}/_strangler/route/users.list")
        page.wait_for("document.getElementById('token')", "the login page")
        assert page.evaluate("location.pathname + location.search") == (
            "/_strangler/login?next=%2F_strangler%2Froute%2Fusers.list"
        )
        page.type_into("#token", "not-the-token")
        page.click("button[type=submit]")
        page.wait_for("document.querySelector('[role=alert]')", "the refusal")
        assert "That is not this gateway's admin token" in page.html()

        page.type_into("#token", "s3cret-token")
        login = page.screenshot(ARTIFACTS / "dashboard-login.png")
        page.click("button[type=submit]")
        page.wait_for("document.querySelector('.sample')", "the route page")
        assert page.evaluate("location.pathname") == "/_strangler/route/users.list"
        assert 'data-field="body.meta.total"' in page.html()
        assert page.evaluate("document.cookie") == ""  # HttpOnly: no script could read it

        page.goto(f"{base}/_strangler/")
        page.wait_for("document.querySelector('table.routes')", "the route list")
        overview = page.html()
        assert re.search(r"invoices\.list</a>.*?data-gate=\"ready\"", overview, re.S)
        assert 'action="/_strangler/logout"' in overview
        signed_in = page.screenshot(ARTIFACTS / "dashboard-signed-in.png")

        page.click("form.account button")
        page.wait_for("document.getElementById('token')", "the login page after signing out")
        page.goto(f"{base}/_strangler/")
        page.wait_for("document.getElementById('token')", "the login page: signed out")
    for shot in (login, signed_in):
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(data[16:20], "big") == 1400


HTML_TABLE = """\
version: 1
legacy: {{url: 'http://127.0.0.1:9'}}
native: {{app: 'handlers.app:app'}}
shadow: {{store: '{store}'}}
routes:
  - {{id: admin.page, match: GET /admin, mode: shadow}}
"""


async def html_run(store: Store, table: RouteTable) -> None:
    """An HTML page whose two sides always differ (a CSRF token), written minified: one line
    of several kilobytes, with no place for the browser to break it but anywhere."""
    writer = StoreWriter(store)
    settings = ShadowSettings.from_config(table.routes[0].shadow, noise_sample=0.0)
    experiment = Experiment(writer, settings, tree_diffs_per_second=None)
    rows = "".join(f"<tr><td>invoice-{n:04d}</td><td>{'x' * 40}</td></tr>" for n in range(80))

    def page(token: str, side: Side) -> Observation:
        body = f'<html><body><form><input name="_token" value="{token}"><table>{rows}</table>'
        body += "</form></body></html>"
        return Observation.of(side, 200, (("content-type", "text/html"),), body.encode(), 0.003)

    for i in range(12):
        request = RequestInfo("GET", "/admin", "", f"html-{i}")

        async def candidate(n: int = i) -> Observation:
            return page(f"native-token-{n:032d}", Side.CANDIDATE)

        experiment.submit("admin.page", request, page(f"legacy-{i:032d}", Side.PRIMARY), candidate)
        await experiment.drain()
    await experiment.close()
    await writer.close()


def test_a_long_html_sample_wraps_inside_its_pane_and_a_route_at_zero_reads_on_its_scale(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/parity.db"
    table = parse(HTML_TABLE.format(store=url))
    store = open_store(url)
    try:
        asyncio.run(html_run(store, table))
        evidence = Evidence(store, table, TableHolder(build_snapshot(table)))
        with (
            serving(admin_app(evidence)) as base,
            chromium_page(chromium(), FLAGS, tmp_path / "chromium-profile") as page,
        ):
            page.goto(f"{base}/_strangler/")
            page.wait_for("document.querySelector('table.routes')", "the route list")
            # the line of a route at 0 %, drawn on the chart's labelled 0 % rule
            svg = "document.querySelector('svg.spark')"
            assert page.evaluate(f"{svg}.getAttribute('aria-label')").endswith("latest 0.0%")
            assert page.evaluate(f"[...{svg}.querySelectorAll('text')].map(t => t.textContent)")
            line = page.evaluate(
                f"(() => {{ const s = {svg}.getBoundingClientRect(), "
                f"p = {svg}.querySelector('polyline').getBoundingClientRect(); "
                "return [s.top, s.bottom, p.top, p.bottom, p.width]; })()"
            )
            assert line[0] < line[2] <= line[3] < line[1]  # inside the chart, off its edge
            assert line[4] >= 8  # one bucket, at the right edge: still a line to see
            assert page.evaluate("[...document.querySelectorAll('th')].map(t => t.textContent)")[
                2:7
            ] == ["served since start", "shadowed (24h)", "compared", "unsampled", "shed"]
            page.screenshot(ARTIFACTS / "dashboard-zero-parity.png")

            page.goto(f"{base}/_strangler/route/admin.page")
            page.wait_for("document.querySelector('pre.candidate')", "the route page")
            panes = page.evaluate(
                "[...document.querySelectorAll('.pair pre')].map(p => "
                "[p.getBoundingClientRect().right, p.scrollWidth, p.clientWidth])"
            )
            width = page.evaluate("document.documentElement.clientWidth")
            assert len(panes) == 2
            for right, scroll_width, client_width in panes:
                assert right <= width  # the candidate pane is on screen, beside the primary
                assert scroll_width <= client_width  # wrapped: nothing to scroll sideways
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            assert_png_width(page.screenshot(ARTIFACTS / "dashboard-html-sample.png"))
    finally:
        store.close()


def assert_png_width(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == 1400
