"""Helpers of the browser tests: the web app served from a thread, screenshots, signing in.

The ``browser`` fixture (one headless Chromium a module) is in ``conftest.py``.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiohttp import web

from decroche.testing import PASSWORD
from reports.live import LiveSnapshot
from reports.web.app import WebDeps, create_app

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=fr-FR",
]
# Chromium in French, as a town-hall user runs it. A context's ``locale="fr-FR"`` only sets what
# pages read (navigator.language, Intl): the date and time fields (« jj/mm/aaaa », « 14:30 »,
# « décembre 2026 ») follow Chromium's own language, which on Linux comes from the environment
# (``--lang`` is read on the other systems only) and needs its French translations (Debian's
# chromium-l10n: without them Chromium falls back to English, whatever the environment says).
FRENCH_ENV = {"LANGUAGE": "fr_FR:fr", "LANG": "fr_FR.UTF-8", "LC_ALL": "fr_FR.UTF-8"}
CHROMIUM_LOCALES = Path("/usr/lib/chromium/locales")


def chromium_env() -> dict[str, str]:
    """The environment Chromium is launched with: this process's, in French."""
    return {**os.environ, **FRENCH_ENV}


class Server:
    """The app served on 127.0.0.1 from a thread with its own event loop."""

    def __init__(self, deps: WebDeps) -> None:
        self.deps = deps
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.port = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        runner = web.AppRunner(create_app(self.deps))
        self.loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = runner.addresses[0][1]
        self.runner = runner
        self.ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(runner.cleanup())
        self.loop.close()

    def start(self) -> str:
        self.thread.start()
        assert self.ready.wait(20), "the web app did not start"
        return f"http://127.0.0.1:{self.port}"

    def publish(self, snapshot: LiveSnapshot) -> None:
        self.loop.call_soon_threadsafe(self.deps.live.publish, snapshot)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(20)


# Every box of a page that could hold too much: its content wider than itself, or itself
# running past the right edge of what holds it (what is read by screen readers only is clipped
# on purpose and left out).
_OVERFLOWING = """() => {
  const found = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) {
    found.push(`page: ${root.scrollWidth} > ${root.clientWidth}`);
  }
  const boxes = 'main, section, .box, .table-block, table, caption, th, td, figure, svg, p, '
    + 'form, header, nav, ul, li, details';
  for (const e of document.querySelectorAll(boxes)) {
    if (e.closest('.sr')) continue;
    const text = (e.innerText || e.textContent || '').trim().slice(0, 40);
    const name = `${e.tagName.toLowerCase()} « ${text} »`;
    if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).display !== 'inline') {
      found.push(`${name}: content ${e.scrollWidth} px in a box of ${e.clientWidth} px`);
    }
    const holder = e.parentElement;
    const right = e.getBoundingClientRect().right;
    if (holder && right > holder.getBoundingClientRect().right + 1) {
      found.push(`${name}: its right edge past its holder's`);
    }
  }
  return found;
}"""


def overflowing(page) -> list[str]:
    """What overflows its box or the page, measured in the page (empty: nothing)."""
    found: list[str] = page.evaluate(_OVERFLOWING)
    return found


# The town hall's screens: every page is checked at each of these widths.
WIDTHS = (1280, 1366, 1536, 1920)


def fits_at_every_width(page, name: str, *, reload: bool) -> None:
    """At each of :data:`WIDTHS`: nothing overflows its box or the page (:func:`overflowing`),
    with a screenshot ``{name}-{width}`` taken first, so that a failure has its picture.
    ``reload``: the page is loaded again at each width (laid out afresh for it); False for a
    page whose state a reload would lose (a live view, a what-if's result)."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        if reload:
            page.reload()
        shot(page, f"{name}-{width}")
        assert overflowing(page) == [], f"{name} at {width} px"


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, base: str, login: str) -> None:
    page.goto(f"{base}/connexion")
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").press("Enter")  # keyboard works
    page.wait_for_load_state("load")


@contextmanager
def french_page(browser) -> Iterator[object]:
    """A page of its own browser context, in French (as the town hall's people read)."""
    context = browser.new_context(locale="fr-FR")
    try:
        yield context.new_page()
    finally:
        context.close()
