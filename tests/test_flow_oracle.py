"""Issue 15's randomised oracle: random callers (keys with their timing, patience, hang-ups),
agents (answer delays, busy, declining, unreachable, unregistered, paused or signed out, hanging
up first, blind transfers to a service's number, the town's number or a colleague's extension)
and the PBX's create/StasisStart window, played through the real router on the simulated PBX in
virtual time; every call's record is checked against what the simulated phones lived, by an
oracle that shares no code with the router (``tests/call_oracle.py``).

The default run is a fixed set of seeds (the same calls every time). A soak:
``DECROCHE_ORACLE_SEED=random DECROCHE_ORACLE_CALLS=2000 pytest -s tests/test_flow_oracle.py``
(20 callers per seed, about a second of this machine per call); a failing seed is printed with
what its first calls lived, and replays alone with ``DECROCHE_ORACLE_SEED=<seed>``.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from tests.call_scenarios import make_scenario, play

pytestmark = pytest.mark.virtual_time

CALLS_PER_SCENARIO = 20
DEFAULT_SEEDS = tuple(range(1501, 1509))  # 8 scenarios x 20 calls


def _calls() -> int:
    return int(os.environ.get("DECROCHE_ORACLE_CALLS", "0") or 0)


def _seeds() -> list[int]:
    """The fixed seeds; with ``DECROCHE_ORACLE_SEED`` (a number, or ``random``) and/or
    ``DECROCHE_ORACLE_CALLS``, as many seeds from there as the calls need (one by default)."""
    wanted = os.environ.get("DECROCHE_ORACLE_SEED")
    calls = _calls()
    if wanted is None and not calls:
        return list(DEFAULT_SEEDS)
    count = max(1, calls // CALLS_PER_SCENARIO) if calls else 1
    if wanted is None:
        first = DEFAULT_SEEDS[0]
    elif wanted == "random":
        first = random.SystemRandom().randrange(10**9)
    else:
        first = int(wanted)
    return [first + i for i in range(count)]


# A soak outlasts the suite's time limit per test: about a second of this machine per call.
@pytest.mark.timeout(max(180, 3 * _calls()))
async def test_every_record_matches_what_the_phones_lived(tmp_path: Path) -> None:
    failures: list[str] = []
    checked = 0
    seeds = _seeds()
    print(f"oracle: seeds {seeds[0]} to {seeds[-1]}, {CALLS_PER_SCENARIO} callers each")
    for seed in seeds:
        outcome = await play(make_scenario(seed, CALLS_PER_SCENARIO), tmp_path)
        checked += outcome.calls
        if outcome.problems:
            failures.append(
                f"seed {seed} ({len(outcome.problems)} mismatches):\n  "
                + "\n  ".join(outcome.problems[:40])
                + "\n"
                + outcome.detail
            )
    print(f"oracle: {checked} calls checked")
    assert not failures, "\n\n".join(failures)
