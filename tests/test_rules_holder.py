"""Reloading rules: valid files swap in atomically, invalid ones are refused and logged."""

from __future__ import annotations

import asyncio
import logging
import os
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
