"""Virtual time: idle time is skipped, timings stay exact; the demo runs a week in seconds."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from decroche.cli import main
from telephony.virtual_time import LoopClock, VirtualTimeLoop


def test_an_hour_of_timers_takes_no_real_time() -> None:
    async def scenario() -> tuple[float, list[float]]:
        clock = LoopClock(datetime(2026, 10, 14, 8, 0, tzinfo=UTC))
        fired: list[float] = []

        async def after(seconds: float) -> None:
            await clock.sleep(seconds)
            fired.append((clock.now() - datetime(2026, 10, 14, 8, 0, tzinfo=UTC)).total_seconds())

        await asyncio.gather(after(25.0), after(3600.0), after(0.5))
        return asyncio.get_running_loop().time(), fired

    started = time.monotonic()
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        _, fired = runner.run(scenario())
    assert time.monotonic() - started < 2.0
    assert [round(f, 3) for f in fired] == [0.5, 25.0, 3600.0]


def test_demo_plays_days_in_virtual_time_and_records_every_call(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "demo",
            "--days",
            "2",
            "--calls-per-day",
            "30",
            "--exit",
            "--data-dir",
            str(tmp_path / "demo"),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "temps virtuel" in result.output
    assert "appels simulés sont tous enregistrés" in result.output
    # Every path of the rules audited through the simulated PBX, its report written.
    assert "Audit interne des parcours : 27 parcours, 27 conformes, 0 en échec" in result.output
    assert any((tmp_path / "demo" / "rapports").glob("audit-interne-*.html"))
    assert "Tous services (chaque appel une fois)" in result.output
    # A person reads the table: services by name, never by id.
    assert "Accueil général – état civil" in result.output
    assert "accueil_general" not in result.output
    # The agents are people: waits vary (within each service, the median is not the 90th
    # percentile); some surveyed callers answer; the agents call back some of those owed it.
    spreads = re.findall(r"(\d+,\d)\s?s +(\d+,\d)\s?s *$", result.output, re.M)
    assert spreads and any(median != p90 for median, p90 in spreads), result.output
    survey = re.search(r"Enquête de satisfaction : .* (\d+) ont répondu", result.output)
    assert survey is not None and int(survey[1]) > 0, result.output
    callbacks = re.search(r"Rappels : \d+ dus, (\d+) faits par les agents", result.output)
    assert callbacks is not None and int(callbacks[1]) > 0, result.output


def test_work_in_a_thread_takes_no_virtual_time() -> None:
    """The clock does not jump past timers while ``asyncio.to_thread`` works."""

    async def scenario() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        ticks: list[float] = []

        async def tick() -> None:
            while True:
                await asyncio.sleep(10.0)
                ticks.append(loop.time())

        ticking = asyncio.create_task(tick())
        before = loop.time()
        await asyncio.to_thread(time.sleep, 0.3)  # real work, no virtual time
        after = loop.time()
        ticking.cancel()
        return before, after

    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        before, after = runner.run(scenario())
    assert after == before


def test_without_espeak_and_sox_the_demo_pbx_takes_every_sound_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from decroche.demo import _built_sounds

    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    assert _built_sounds(tmp_path) is None
    said = capsys.readouterr().out
    assert "Messages vocaux non fabriqués" in said
    assert "joue tous les sons sans fichier" in said
