"""The ``decroche`` program pauses Python's garbage collector while a command starts and gives it
back, the start's objects frozen, when the command's code is loaded (decroche/startup.py); tests
and tools calling the commands in their own process keep theirs untouched."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

from decroche import startup

ROOT = Path(__file__).resolve().parents[1]

# A command of its own, run by decroche.cli.run as the console script runs it, that says how it
# finds the collector; and at exit (atexit runs the program's freeze first: last in, first out)
# how many objects the exit's collection would still have to walk.
PROBE = textwrap.dedent(
    """
    import atexit, gc, json, sys, types
    import click
    from decroche import cli
    from decroche.commands import COMMANDS

    before = {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}

    kept = []

    @click.command()
    def probe():
        kept.extend([] for _ in range(5000))  # the command's work: objects alive at exit
        click.echo(json.dumps({
            "before": before,
            "command": {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()},
        }))

    def at_exit():
        print(json.dumps({"exit": {"walked": len(gc.get_objects()),
                                   "frozen": gc.get_freeze_count()}}))

    atexit.register(at_exit)
    module = types.ModuleType("probe_gc")
    module.probe = probe
    sys.modules["probe_gc"] = module
    COMMANDS["probe"] = ("probe_gc", "probe")
    sys.argv = ["decroche", "probe"]
    cli.run()
    """
)


def _probe() -> dict[str, dict[str, int | bool]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, dict[str, int | bool]] = {}
    for line in done.stdout.splitlines():
        found.update(json.loads(line))
    return found


def test_the_command_runs_with_the_collector_and_the_start_frozen() -> None:
    found = _probe()
    assert found["before"] == {"enabled": True, "frozen": 0}
    assert found["command"]["enabled"] is True
    # Everything the start made (modules, classes, click's objects) is out of the collections.
    assert int(found["command"]["frozen"]) > 10_000


def test_at_exit_nothing_is_left_to_walk() -> None:
    found = _probe()
    assert int(found["exit"]["walked"]) < 100, found


def test_resuming_a_collector_that_was_not_paused_changes_nothing() -> None:
    frozen = gc.get_freeze_count()
    startup.resume_collection()
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_the_console_script_and_python_m_run_the_program() -> None:
    (script,) = entry_points(group="console_scripts", name="decroche")
    assert script.value == "decroche.cli:run"
    main = (ROOT / "decroche" / "__main__.py").read_text(encoding="utf-8")
    assert "run()" in main
    done = subprocess.run(
        [sys.executable, "-m", "decroche", "--version"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0 and "decroche" in done.stdout, done.stderr
