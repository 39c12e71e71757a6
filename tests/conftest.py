"""Shared fixtures.

Database tests run on SQLite always, and on PostgreSQL too when ``DECROCHE_TEST_PG_URL`` is set
(``.ci/run`` starts a throwaway PostgreSQL on 127.0.0.1 and sets it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import browser_support

REPO = Path(__file__).resolve().parent.parent
# Recorded from a real Asterisk 22.10.1 (see the README there).
TRACES_DIR = REPO / "tests" / "data" / "ari-traces"


@pytest.fixture(scope="session")
def traces_dir() -> Path:
    assert any(TRACES_DIR.glob("*.jsonl")), f"ARI traces not found in {TRACES_DIR}"
    return TRACES_DIR


def pg_url() -> str | None:
    return os.environ.get("DECROCHE_TEST_PG_URL") or None


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium (Debian's) for a module's browser tests. Not for the whole session:
    Playwright's synchronous API keeps an event loop running in the main thread while it is
    open, and tests after it run event loops of their own there."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=browser_support.CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
