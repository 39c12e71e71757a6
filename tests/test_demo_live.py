"""``decroche demo --speed 60`` as a visitor watches it in Chromium (French locale): calls appear
on the live view, an agent's pause on the agents' page takes effect on the next call (the
simulated PBX never rings the paused agent's phone again), /metrics counts the calls; the live
view and the agents' page fit the four widths."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from decroche.web import DEMO_PASSWORD
from routing_rules.holder import RulesHolder
from routing_rules.loader import default_rules_path
from tests.browser_support import fits_at_every_width

# Every wait below is bounded: the demo plays a day in about ten minutes at ×60, a call
# every few seconds; these are generous for a loaded machine.
WAIT_S = 120.0


class Demo:
    """``decroche demo`` in a child process; its printed addresses."""

    def __init__(self, data_dir: Path) -> None:
        env = {**os.environ, "DECROCHE_WEB__PORT": "0", "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "decroche", "demo", "--days", "1", "--speed", "60",
             "--calls-per-day", "400", "--data-dir", str(data_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )  # fmt: skip
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str) -> re.Match[str]:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if match := re.search(pattern, line):
                    return match
            assert self.process.poll() is None, "\n".join(self.lines)
            time.sleep(0.1)
        raise AssertionError(f"{pattern!r} never printed:\n" + "\n".join(self.lines))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(10)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    running = Demo(tmp_path / "demo")
    try:
        yield running
    finally:
        running.stop()


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def _rung(pbx: str) -> dict[str, int]:
    """How many calls each phone of the simulated PBX was offered (its INVITEs)."""
    state = json.loads(_get(f"{pbx}/sim/state"))
    return {f"{e['technology']}/{e['resource']}": len(e["shown"]) for e in state["endpoints"]}


def _until(check, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"never happened: {what}")


def _sign_in(page, base: str, login: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}connexion")
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state("load")


@pytest.mark.browser
def test_the_live_view_shows_the_calls_and_a_pause_stops_the_next_ring(browser, demo) -> None:
    base = demo.wait_for(r"Tableau de bord : (http://\S+/) ")[1]
    pbx_port = demo.wait_for(r"PBX simulé sur le port (\d+)")[1]
    pbx = f"http://127.0.0.1:{pbx_port}"
    phone = demo.wait_for(r"« agent-ccas » répond au poste (\S+) ")[1]

    quality = browser.new_context(locale="fr-FR")
    agent = browser.new_context(locale="fr-FR")
    try:
        live = quality.new_page()
        _sign_in(live, base, "qualite")
        live.goto(f"{base}direct")
        # The router's state reaches the page: the simulated clock, then calls in it.
        note = live.locator("[data-live=note]")
        note.wait_for(timeout=WAIT_S * 1000)
        assert "horloge 60 fois plus rapide" in note.inner_text()

        def calls_on_the_live_view() -> int:
            cells = live.locator(
                "[data-live=in_ivr], [data-live=waiting], [data-live=in_conversation]"
            )
            return sum(int(text) for text in cells.all_inner_texts())

        _until(lambda: calls_on_the_live_view() > 0, "a call on the live view")
        assert "Aucun état reçu" not in live.content()
        fits_at_every_width(live, "demo-direct", reload=False)

        desk = agent.new_page()
        _sign_in(desk, base, "agent-ccas")
        desk.goto(f"{base}agent")
        assert desk.locator("[data-presence=ccas]").inner_text() == "connecté"
        desk.get_by_role("button", name="Me mettre en pause").click()
        desk.wait_for_load_state("load")
        assert "En pause" in desk.get_by_role("status").inner_text()
        assert "en pause" in desk.locator("form.pause").inner_text()
        rung_at_pause = _rung(pbx)
        fits_at_every_width(desk, "demo-agent", reload=False)

        # The live view says so...
        row = live.locator(f"tr[data-agent='{phone}'] [data-live=state]")
        _until(lambda: row.inner_text() in ("en pause", "en communication"), "the pause shown")
        # ... and the next CCAS calls ring the other phones of the CCAS, never the paused one.
        ccas = RulesHolder(default_rules_path()).current.services["ccas"].agents
        colleagues = [p for p in ccas if p != phone]
        _until(
            lambda: sum(_rung(pbx).get(p, 0) - rung_at_pause.get(p, 0) for p in colleagues) >= 2,
            "two CCAS rings after the pause",
        )
        assert _rung(pbx)[phone] == rung_at_pause[phone]

        metrics = _get(f"{base}metrics")
        finished = re.search(r"^decroche_calls_total (\d+)$", metrics, re.M)
        assert finished is not None and int(finished[1]) > 0
        assert 'decroche_calls_in_progress{phase="ivr"}' in metrics

        # The agent's own figures; the quality lead's per agent, pseudonymised (the default).
        assert desk.locator("[data-table=mes-chiffres]").count() == 1  # the month's, maybe 0
        service = live
        agents = service.locator("[data-table=agents-ccas]")

        # The demo plays yesterday (or Saturday): a week to today, whatever the month.
        today = datetime.now(ZoneInfo("Europe/Paris")).date()
        week = f"du={today - timedelta(days=7):%Y-%m-%d}&au={today:%Y-%m-%d}"

        def agents_shown() -> bool:
            service.goto(f"{base}service/ccas?{week}")
            return agents.count() == 1

        _until(agents_shown, "the CCAS agents' figures on the service page")
        assert agents.locator("tbody th").first.inner_text() == "Agent 1"
        assert "PJSIP/" not in agents.inner_text() and "agent-ccas" not in agents.inner_text()
        fits_at_every_width(service, "demo-service-ccas", reload=False)
    finally:
        quality.close()
        agent.close()
