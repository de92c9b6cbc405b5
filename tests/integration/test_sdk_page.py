"""examples/sdk-page in real headless Chromium (Debian's, driven by Playwright): the page
connects to ``docval-client sdk``, lists readers live, validates the simulator's passport
against twistd and shows name, photo and checks."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import sync_playwright

from .sdk_helpers import running_sdk
from .test_client_cli import server  # noqa: F401  (the twistd + result server fixture)
from .test_vpcd_passport import insert

pytestmark = pytest.mark.pcsc
PAGE = Path(__file__).resolve().parents[2] / "examples" / "sdk-page" / "index.html"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed (scripts/test.sh installs Debian's chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


def test_page_validates_with_the_simulator(
    browser: Any, server: dict[str, Any], tmp_path: Path  # noqa: F811
) -> None:
    """Readers appear live; the simulator passport validates; name, photo and five ticks show."""
    with running_sdk(tmp_path) as sdk:
        query = urlencode({"sdk": f"ws://127.0.0.1:{sdk['port']}/sdk", "server": server["url"],
                           "client": "desk", "simulator": "1"})
        page = browser.new_page()
        page.goto(f"{PAGE.as_uri()}?{query}")
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
        page.fill("#document-number", "UT1234567")
        page.fill("#birth", "900315")
        page.fill("#expiry", "340415")
        page.click("#send-mrz")
        page.wait_for_selector("#verdict.valid", timeout=30_000)
        assert page.text_content("#verdict") == "VALID"
        assert page.text_content("#name") == "ERIKSSON, ANNA MARIA"
        assert page.eval_on_selector("#photo", "img => img.complete && img.naturalWidth") > 0
        assert page.locator("#checks li.ok").count() == 5
        assert "app connected: Mozilla/5.0" in sdk["log"].read_text()  # the browser's User-Agent
        page.close()
