"""How long agents' phones rang, as the records keep it (issue 15, defects 7 and 14).

A leg's ring time is the phone's own: from its ``Ringing`` (the phone's 180, which Asterisk
tells as ``ChannelStateChange`` to ``Ringing``) to its answer or its end. A phone that never sent
180 never rang: no ring time, and the leg is ``unreachable`` when its time ran out. The ring
stage's timer is the caller's: N rings are N ring cycles of the caller's wait from the moment
the phones of the stage are called, whether they ring at once, late or never.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from telephony.clock import parse_ari_timestamp
from telephony.records.model import EntryOutcome, LegOutcome
from telephony.simulator.scripts import AgentScript, CallerScript, KeyPress
from tests.flow_support import STASIS_WINDOW_S, System, running_system

pytestmark = pytest.mark.virtual_time

GENERAL = ("PJSIP/1001", "PJSIP/1002", "PJSIP/1003", "PJSIP/1004")  # longest idle, 3 rings each
WINDOW = timedelta(seconds=STASIS_WINDOW_S)


def watch_rings(system: System) -> dict[str, list[datetime]]:
    """When each simulated phone sent its 180, as Asterisk tells the app (ChannelStateChange to
    Ringing), by endpoint: filled as the calls go."""
    rings: dict[str, list[datetime]] = {}

    def seen(app: str, event: dict[str, Any], delivered: bool) -> None:
        if event["type"] == "ChannelStateChange" and event["channel"]["state"] == "Ringing":
            endpoint = event["channel"]["name"].rpartition("-")[0]
            rings.setdefault(endpoint, []).append(parse_ari_timestamp(event["timestamp"]))

    system.pbx.stasis.observers.append(seen)
    return rings


async def test_a_phone_that_never_sends_180_has_no_ring_time() -> None:
    agents = [
        AgentScript(endpoint="PJSIP/1001", response="unreachable"),  # never replies (no 180)
        *(AgentScript(endpoint=e, ring_time=3.0) for e in GENERAL[1:]),
    ]
    async with running_system(agents) as system:
        rings = watch_rings(system)
        system.pbx.place_call(
            CallerScript(caller_number="0611111111", keys=(KeyPress(digits="0"),), talk_time=5.0)
        )
        await system.settle(1)
    assert "PJSIP/1001" not in rings
    (entry,) = system.records.by_caller("0611111111").entries
    assert entry.outcome is EntryOutcome.ANSWERED
    silent, answered = entry.legs
    assert (silent.endpoint, silent.outcome) == ("PJSIP/1001", LegOutcome.UNREACHABLE)
    assert silent.ring_seconds == 0.0
    # The caller's wait for this phone was its 3 rings all the same: the stage's time is theirs.
    assert silent.ended_at - entry.entered_at == timedelta(seconds=15)
    assert (answered.endpoint, answered.outcome) == ("PJSIP/1002", LegOutcome.ANSWERED)
    assert [answered.ring_started_at] == rings["PJSIP/1002"]
    assert answered.ring_seconds == 3.0
    assert entry.wait_seconds == 18.002  # 15 s, then 1002 in the app 2 ms later and 3 s ringing


async def test_no_ring_time_either_for_a_phone_nobody_answers_without_180() -> None:
    police = [AgentScript(endpoint=e, response="unreachable") for e in ("PJSIP/1201", "PJSIP/1202")]
    police.append(AgentScript(endpoint="PJSIP/1203", response="no_answer"))
    async with running_system(police) as system:
        rings = watch_rings(system)
        system.pbx.place_call(
            CallerScript(caller_number="0622222222", dialled="0232464317", patience=20.0)
        )
        await system.settle(1)
    (entry,) = system.records.by_caller("0622222222").entries
    assert entry.outcome is EntryOutcome.ABANDONED
    outcomes = {leg.endpoint: (leg.outcome, leg.ring_seconds) for leg in entry.legs}
    # The caller gave up after 20 s: the phones that never rang were stopped before ringing.
    assert outcomes == {
        "PJSIP/1201": (LegOutcome.CANCELLED, 0.0),
        "PJSIP/1202": (LegOutcome.CANCELLED, 0.0),
        "PJSIP/1203": (LegOutcome.NO_ANSWER, 20.0 - STASIS_WINDOW_S),
    }
    (ringing_leg,) = [leg for leg in entry.legs if leg.endpoint == "PJSIP/1203"]
    assert [ringing_leg.ring_started_at] == rings["PJSIP/1203"]


async def test_ring_times_after_a_menu_timeout_start_at_the_phone_not_at_the_menu() -> None:
    async with running_system() as system:
        rings = watch_rings(system)
        system.pbx.place_call(CallerScript(caller_number="0633333333", talk_time=5.0))
        await system.settle(1)
    record = system.records.by_caller("0633333333")
    (entry,) = record.entries
    # The menu's fallback (three timeouts, 30 s in) sends the silent caller to the accueil.
    assert (entry.entered_at - record.started_at).total_seconds() == 30.0
    (leg,) = entry.legs
    assert leg.outcome is LegOutcome.ANSWERED
    # Its phone rang 3 s, counted from its own 180: not from the menu's last prompt (24 s in).
    assert [leg.ring_started_at] == rings[leg.endpoint]
    assert leg.ring_started_at == entry.entered_at + WINDOW
    assert leg.ring_seconds == 3.0
