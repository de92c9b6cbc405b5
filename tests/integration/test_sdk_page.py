"""examples/sdk-page in real headless Chromium (Debian's, driven by Playwright), served over
http from this machine as the README says: the page connects to ``docval-client sdk``, lists
readers live and validates the simulator's passport against twistd. And the SDK's trust
model as a browser meets it: a page from an origin not on the list gets nothing, a server
not on the list is refused before the card is touched, without pre-approval the user answers
on the SDK's console, and by default the page gets the verdict only."""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import sync_playwright

from .sdk_helpers import answer, running_sdk, wait_for_line
from .test_client_cli import server  # noqa: F401  (the twistd + result server fixture)
from .test_vpcd_passport import insert

pytestmark = pytest.mark.pcsc
PAGE = Path(__file__).resolve().parents[2] / "examples" / "sdk-page"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
MRZ = {"#document-number": "UT1234567", "#birth": "900315", "#expiry": "340415"}


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def _serve(host: str) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(PAGE))
    httpd = ThreadingHTTPServer((host, 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://{host}:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The example page served from 127.0.0.1 (an origin the SDK allows by default)."""
    yield from _serve("127.0.0.1")


@pytest.fixture(scope="module")
def other_site() -> Iterator[str]:
    """The same page from 127.0.0.2: on this machine, but not an origin the SDK allows."""
    yield from _serve("127.0.0.2")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed (scripts/test.sh installs Debian's chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


def _open(browser: Any, base: str, sdk: dict[str, Any], server_url: str) -> Any:
    query = urlencode(
        {"sdk": f"ws://127.0.0.1:{sdk['port']}/sdk", "server": server_url, "client": "desk", "simulator": "1"}
    )
    page = browser.new_page()
    page.goto(f"{base}/index.html?{query}")
    return page


def _enter_mrz(page: Any) -> None:
    page.wait_for_selector("#mrz:not([hidden])")
    for selector, value in MRZ.items():
        page.fill(selector, value)
    page.click("#send-mrz")


def test_page_validates_with_the_simulator(
    browser: Any,
    server: dict[str, Any],  # noqa: F811
    site: str,
    tmp_path: Path,
) -> None:
    """Granted and pre-approved (kiosk sdk.toml): readers appear live, a refused MRZ is said so,
    the simulator passport validates; name, dates, photo and five ticks show."""
    with running_sdk(tmp_path) as sdk:
        page = _open(browser, site, sdk, server["url"])
        page.wait_for_selector("text=connected")
        page.wait_for_selector("li[data-reader='Simulator']")
        sim = insert("utopia")  # a live change: the vpcd reader gets a card
        try:
            page.wait_for_selector("li[data-reader='Virtual PCD 00 00']:has-text('card present')")
        finally:
            sim.terminate()
            sim.wait(timeout=10)
        page.wait_for_selector("li[data-reader='Virtual PCD 00 00']:has-text('no card')")
        page.click("#validate")
        page.wait_for_selector("#mrz:not([hidden])")
        for selector, value in (MRZ | {"#expiry": "340416"}).items():
            page.fill(selector, value)
        page.click("#send-mrz")
        page.wait_for_selector("#mrz-error:has-text('The chip did not accept these data')", timeout=30_000)
        _enter_mrz(page)
        page.wait_for_selector("#verdict.valid", timeout=30_000)
        assert page.text_content("#verdict") == "VALID"
        assert page.text_content("#name") == "ERIKSSON, ANNA MARIA"
        assert page.text_content("#birth-date") == "15 Mar 1990"
        assert "expires 15 Apr 2034" in page.text_content("#document")
        assert page.eval_on_selector("#photo", "img => img.complete && img.naturalWidth") > 0
        assert page.locator("#checks li.ok").count() == 5
        assert f"app connected from {site}: Mozilla/5.0" in sdk["log"].read_text()  # origin, User-Agent
        page.close()


def test_page_from_an_origin_not_on_the_list_gets_nothing(
    browser: Any,
    server: dict[str, Any],  # noqa: F811
    other_site: str,
    tmp_path: Path,
) -> None:
    """The page served from 127.0.0.2 is refused at the handshake: it never connects."""
    with running_sdk(tmp_path) as sdk:
        page = _open(browser, other_site, sdk, server["url"])
        page.wait_for_selector("#connection:has-text('does it allow this page')")
        assert page.is_disabled("#validate")
        wait_for_line(sdk["log"], f"refused app from origin {other_site}")
        assert "app connected" not in sdk["log"].read_text()
        page.close()


def test_server_not_on_the_list_is_refused_before_the_card(
    browser: Any,
    server: dict[str, Any],  # noqa: F811
    site: str,
    tmp_path: Path,
) -> None:
    """A page on the list asking for a server off its list: refused, no card read."""
    only = f'[[app]]\norigin = "{site}"\n[[app.server]]\nurl = "{server["url"]}"\napproved = true\n'
    with running_sdk(tmp_path, config=only) as sdk:
        page = _open(browser, site, sdk, "ws://127.0.0.1:9/ws2/validate")
        page.wait_for_selector("text=connected")
        page.click("#validate")
        page.wait_for_selector(
            "#status:has-text('could not start: serverUrl ws://127.0.0.1:9/ws2/validate is not allowed')"
        )
        assert page.is_hidden("#mrz") and "validating on" not in sdk["log"].read_text()
        page.close()


def test_default_configuration_asks_the_user_and_shows_the_verdict_only(
    browser: Any,
    server: dict[str, Any],  # noqa: F811
    site: str,
    tmp_path: Path,
) -> None:
    """No sdk.toml: the user confirms on the SDK's console; the page gets the verdict, no data."""
    with running_sdk(tmp_path, config=None) as sdk:
        page = _open(browser, site, sdk, server["url"])
        page.wait_for_selector("text=connected")
        page.click("#validate")
        page.wait_for_selector("#who:has-text('this page gets the verdict only')")
        assert page.is_hidden("#mrz")  # nothing until the user allows it
        answer(sdk, "y")
        _enter_mrz(page)
        page.wait_for_selector("#verdict.valid", timeout=30_000)
        assert page.text_content("#name") == "" and page.is_hidden("#photo")
        assert "verdict only" in page.text_content("#data-note")
        page.close()
