"""Shared fixtures.

Database tests run on SQLite and on PostgreSQL (``DECROCHE_TEST_PG_URL``; ``make test`` starts a
throwaway PostgreSQL on 127.0.0.1 for the run with ``tools/with-postgres`` and sets it).
"""

from __future__ import annotations

import functools
import importlib
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests import browser_support

# Property tests judge outcomes, never speed: on a loaded CI machine Hypothesis's timing checks
# (a slow example, slow data generation) would fail a test that is right. Tests state their own
# example counts.
settings.register_profile("decroche", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("decroche")

REPO = Path(__file__).resolve().parent.parent
# Recorded from a real Asterisk 22.10.1 (see the README there).
TRACES_DIR = REPO / "tests" / "data" / "ari-traces"


@pytest.fixture(scope="session", autouse=True)
def _cache_of_the_run(tmp_path_factory: pytest.TempPathFactory):
    """The checked rules the commands keep (``cache_dir``, by default under the home folder)
    go to a folder of the run's, the commands run in subprocesses too."""
    saved = {name: os.environ.get(name) for name in ("XDG_CACHE_HOME", "CACHE_DIRECTORY")}
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    os.environ.pop("CACHE_DIRECTORY", None)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def traces_dir() -> Path:
    assert any(TRACES_DIR.glob("*.jsonl")), f"ARI traces not found in {TRACES_DIR}"
    return TRACES_DIR


def pg_url() -> str | None:
    return os.environ.get("DECROCHE_TEST_PG_URL") or None


# Every database test runs on both; without DECROCHE_TEST_PG_URL the PostgreSQL half says so.
BACKENDS = ["sqlite", "postgresql"]
CHROMIUM = Path(os.environ.get("DECROCHE_TEST_CHROMIUM", "/usr/bin/chromium"))


# --- What a test needs from the machine ------------------------------------------------------
# A test that cannot run here says why: a skip naming the Debian package to install (shown in
# the summary by -ra). Under `make test`, which installs the packages and starts PostgreSQL first,
# DECROCHE_TEST_STRICT=1 turns a missing need into a failure: nothing passes there by skipping.


@functools.cache
def _weasyprint_loads() -> bool:
    try:
        importlib.import_module("weasyprint")
    except OSError:  # Pango missing: WeasyPrint's import loads it and fails
        return False
    return True


def _missing_needs(item: pytest.Item) -> list[str]:
    missing: list[str] = []
    fixtures = getattr(item, "fixturenames", ())
    if ("browser" in fixtures or item.get_closest_marker("browser")) and not os.access(
        CHROMIUM, os.X_OK
    ):
        missing.append(f"Chromium ({CHROMIUM}; paquet chromium)")
    if ("browser" in fixtures or item.get_closest_marker("browser")) and not (
        browser_support.CHROMIUM_LOCALES / "fr.pak"
    ).is_file():
        missing.append("Chromium en français (paquet chromium-l10n)")
    if item.get_closest_marker("audio"):
        tools = ("espeak-ng", "sox")
        missing += [f"{tool} (paquet {tool})" for tool in tools if not shutil.which(tool)]
    if item.get_closest_marker("pdf") and not _weasyprint_loads():
        missing.append("Pango pour WeasyPrint (paquets libpango-1.0-0 libpangoft2-1.0-0)")
    if item.get_closest_marker("pdf_images") and not shutil.which("pdftoppm"):
        missing.append("pdftoppm (paquet poppler-utils)")
    callspec = getattr(item, "callspec", None)
    wants_pg = item.get_closest_marker("postgres") or (
        callspec is not None and "postgresql" in callspec.params.values()
    )
    if wants_pg and pg_url() is None:
        missing.append("PostgreSQL (DECROCHE_TEST_PG_URL non défini ; make test en démarre un)")
    return missing


def pytest_runtest_setup(item: pytest.Item) -> None:
    missing = _missing_needs(item)
    if not missing:
        return
    reason = "manque : " + ", ".join(missing)
    if os.environ.get("DECROCHE_TEST_STRICT") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium (Debian's) for a module's browser tests. Not for the whole session:
    Playwright's synchronous API keeps an event loop running in the main thread while it is
    open, and tests after it run event loops of their own there."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=browser_support.CHROMIUM_ARGS,
            env=browser_support.chromium_env(),
        )
        try:
            yield chromium
        finally:
            chromium.close()


# --- virtual time -------------------------------------------------------------------------------
# Tests marked ``virtual_time`` (call flows, the simulated PBX) run on a VirtualTimeLoop, their
# async fixtures too (aiohttp servers and clients included): time stands still while anything
# runs and jumps to the next timer when all is idle, so their timings are exact and the same on
# a loaded machine. The others keep asyncio's default loop.


def pytest_asyncio_loop_factories(config, item):
    import asyncio

    from telephony.virtual_time import VirtualTimeLoop

    if item.get_closest_marker("virtual_time") is not None:
        return {"virtual_time": VirtualTimeLoop}
    return {"asyncio": asyncio.new_event_loop}


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short run of ``decroche demo`` (3 days, 60 calls a weekday): its data directory, whose
    ``decroche.db`` holds the records of real flows on the simulated PBX (menus, closed
    services, overflows, callbacks, surveys). Shared by the tests that read the demo."""
    from click.testing import CliRunner

    from decroche.cli import main

    data = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(
        main,
        ["demo", "--days", "3", "--calls-per-day", "60", "--exit", "--data-dir", str(data)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return data
