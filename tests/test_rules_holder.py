"""Reloading rules: valid files swap in atomically, invalid ones are refused and logged."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from routing_rules.errors import RulesInvalid
from routing_rules.holder import RulesHolder, RulesWatcher, Trigger
from routing_rules.loader import default_rules_path

PROMPTS = ["invalid", "bye"]

RULES = """\
settings:
  invalid_prompt: invalid
services:
  a:
    name: A
    tag: A
    agents: [PJSIP/1]
    rings: {rings}
    overflow:
      otherwise: {{message: bye}}
entry:
  - service: a
"""

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def write(path: Path, text: str, bump: int = 0) -> None:
    path.write_text(text, encoding="utf-8")
    # Distinct mtimes even on coarse file systems.
    stamp = 1_800_000_000 + bump
    os.utime(path, (stamp, stamp))


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yaml"
    write(path, RULES.format(rings=3))
    return path


def holder_for(path: Path) -> RulesHolder:
    return RulesHolder(path, catalogue=lambda: PROMPTS, now=lambda: T0)


def test_start_up_loads_and_records(rules_file):
    holder = holder_for(rules_file)
    assert holder.current.services["a"].ring_s == 15
    assert [(o.trigger, o.ok, o.changed) for o in holder.history] == [(Trigger.STARTUP, True, True)]
    assert holder.last.version == holder.version


def test_invalid_at_start_up_raises(tmp_path):
    path = tmp_path / "bad.yaml"
    write(path, RULES.format(rings=0))
    with pytest.raises(RulesInvalid, match="rings"):
        holder_for(path)


def test_valid_reload_swaps_and_calls_in_progress_keep_their_version(rules_file):
    holder = holder_for(rules_file)
    in_progress = holder.current
    write(rules_file, RULES.format(rings=5), bump=1)
    outcome = holder.reload(Trigger.SIGHUP)
    assert outcome.ok and outcome.changed and outcome.trigger is Trigger.SIGHUP
    assert holder.current.services["a"].ring_s == 25
    assert in_progress.services["a"].ring_s == 15
    assert holder.version != in_progress.version


def test_invalid_reload_keeps_the_previous_rules(rules_file, caplog):
    holder = holder_for(rules_file)
    before = holder.current
    write(rules_file, RULES.format(rings=0), bump=1)
    with caplog.at_level(logging.ERROR, logger="routing_rules.holder"):
        outcome = holder.reload(Trigger.API, by="dsi")
    assert not outcome.ok and not outcome.changed and outcome.by == "dsi"
    assert outcome.problems and "services.a.rings" in outcome.problems[0].message
    assert holder.current is before
    assert "refused" in caplog.text and "services.a.rings" in caplog.text


def test_same_content_reload_is_ok_but_unchanged(rules_file):
    holder = holder_for(rules_file)
    outcome = holder.reload()
    assert outcome.ok and not outcome.changed


def test_catalogue_failure_refuses(rules_file):
    holder = holder_for(rules_file)

    def broken() -> list[str]:
        raise OSError("fr.yaml unreadable")

    holder._catalogue = broken
    outcome = holder.reload()
    assert not outcome.ok and "fr.yaml unreadable" in outcome.problems[0].message


def test_watcher_reloads_on_change_once(rules_file):
    holder = holder_for(rules_file)
    watcher = RulesWatcher(holder, interval_s=0.01)
    assert watcher.poll() is None  # nothing changed
    write(rules_file, RULES.format(rings=4), bump=1)
    outcome = watcher.poll()
    assert outcome is not None and outcome.ok and outcome.trigger is Trigger.FILE_CHANGE
    assert holder.current.services["a"].ring_s == 20
    os.utime(rules_file, (1_800_000_009, 1_800_000_009))  # touched, same content
    assert watcher.poll() is None
    write(rules_file, RULES.format(rings=0), bump=2)
    refused = watcher.poll()
    assert refused is not None and not refused.ok
    write(rules_file, RULES.format(rings=0), bump=3)  # same invalid content: reported once
    assert watcher.poll() is None
    assert holder.current.services["a"].ring_s == 20


def test_watcher_survives_a_deleted_file(rules_file):
    holder = holder_for(rules_file)
    watcher = RulesWatcher(holder)
    rules_file.unlink()
    outcome = watcher.poll()
    assert outcome is not None and not outcome.ok
    assert outcome.problems[0].message == "fichier illisible : fichier introuvable"
    assert holder.current.services["a"].ring_s == 15


async def test_watcher_task_runs_until_cancelled(rules_file):
    holder = holder_for(rules_file)
    watcher = RulesWatcher(holder, interval_s=0.01)
    task = asyncio.create_task(watcher.run())
    write(rules_file, RULES.format(rings=6), bump=1)
    for _ in range(200):
        await asyncio.sleep(0.01)
        if holder.current.services["a"].ring_s == 30:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert holder.current.services["a"].ring_s == 30


def test_default_catalogue_loads_bernay():
    holder = RulesHolder(default_rules_path())
    assert "accueil_general" in holder.current.services


def test_bad_interval(rules_file):
    with pytest.raises(ValueError, match="positive"):
        RulesWatcher(holder_for(rules_file), interval_s=0)


class SlowCatalogue:
    """A catalogue whose reading holds the reload until the test lets it go, noting the thread
    it ran in: what a 500 KiB rules file's parsing is to the event loop."""

    def __init__(self) -> None:
        self.threads: list[int] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.hold = False

    def __call__(self) -> list[str]:
        self.threads.append(threading.get_ident())
        if self.hold:
            self.entered.set()
            # Set by the event loop: if the reload ran on the loop, nothing would set it.
            self.release.wait(10)
        return PROMPTS


async def test_a_reload_is_read_and_checked_off_the_event_loop(rules_file):
    """Issue 19, point 2: a big rules file froze the service 33 s, calls' timers with it (police
    calls recorded no_answer though agents answered in 3 s). The file is read and checked in a
    thread; the loop goes on (here: it is the loop that lets the reading finish)."""
    catalogue = SlowCatalogue()
    holder = RulesHolder(rules_file, catalogue=catalogue, now=lambda: T0)
    swapped: list[str] = []
    holder.add_listener(lambda rules: swapped.append(rules.version))
    write(rules_file, RULES.format(rings=4), bump=1)
    catalogue.hold = True
    reload = asyncio.create_task(holder.reload_async(Trigger.SIGHUP))
    assert await asyncio.to_thread(catalogue.entered.wait, 10)
    timer = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(timer.set_result, "a call's timer fired")
    assert await timer == "a call's timer fired"  # while the file is being checked
    assert not reload.done()
    catalogue.release.set()
    outcome = await asyncio.wait_for(reload, 10)
    assert outcome.ok and outcome.changed
    assert catalogue.threads[-1] != threading.get_ident()  # not the loop's thread
    assert holder.current.services["a"].ring_s == 20
    assert swapped == [holder.version]  # listeners called once the new rules are in force


async def test_reloads_asked_together_are_done_one_after_the_other(rules_file):
    catalogue = SlowCatalogue()
    holder = RulesHolder(rules_file, catalogue=catalogue, now=lambda: T0)
    write(rules_file, RULES.format(rings=4), bump=1)
    catalogue.hold = True
    first = asyncio.create_task(holder.reload_async(Trigger.SIGHUP))
    assert await asyncio.to_thread(catalogue.entered.wait, 10)
    second = asyncio.create_task(holder.reload_async(Trigger.FILE_CHANGE))
    await asyncio.sleep(0)
    assert len(catalogue.threads) == 2  # the second waits for the first's end to read
    catalogue.release.set()
    outcomes = await asyncio.wait_for(asyncio.gather(first, second), 10)
    assert [(o.trigger, o.changed) for o in outcomes] == [
        (Trigger.SIGHUP, True),
        (Trigger.FILE_CHANGE, False),
    ]


async def test_the_watcher_reads_the_file_off_the_event_loop(rules_file):
    catalogue = SlowCatalogue()
    holder = RulesHolder(rules_file, catalogue=catalogue, now=lambda: T0)
    watcher = RulesWatcher(holder, interval_s=0.01)
    write(rules_file, RULES.format(rings=5), bump=2)
    catalogue.hold = True
    task = asyncio.create_task(watcher.run())
    try:
        assert await asyncio.to_thread(catalogue.entered.wait, 10)
        catalogue.release.set()
        async with asyncio.timeout(10):
            while holder.current.services["a"].ring_s != 25:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert catalogue.threads[-1] != threading.get_ident()
    assert holder.last.trigger is Trigger.FILE_CHANGE
