"""The browser the console's browser tests drive: Debian's Chromium (/usr/bin/chromium)
through Playwright for Python, never a browser Playwright downloads. Without it the
tests skip with the reason, unless OMNIHUB_REQUIRE_BROWSER=1 (CI), where its absence
fails them. Screenshots go to OMNIHUB_ARTEFACTS (a scratch folder by default)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("OMNIHUB_CHROMIUM", "/usr/bin/chromium"))


def _unavailable(reason: str):
    if os.environ.get("OMNIHUB_REQUIRE_BROWSER") == "1":
        pytest.fail(f"OMNIHUB_REQUIRE_BROWSER=1 and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")  # closed with its module: no Playwright loop outlives the browser tests
def chromium():
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install -e '.[test]')")
    args = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium refuses root without it
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def artefacts() -> Path:
    where = Path(os.environ.get("OMNIHUB_ARTEFACTS") or tempfile.mkdtemp(prefix="omnihub-artefacts-"))
    where.mkdir(parents=True, exist_ok=True)
    return where
