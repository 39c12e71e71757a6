"""The live view's snapshot built from the running router: callers in the menus, waiting,
talking, and the agents' phones."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from decroche.web import live_snapshot
from reports.live import AgentState
from telephony.simulator.scripts import AgentScript, CallerScript, KeyPress
from tests.flow_support import running_system

pytestmark = pytest.mark.virtual_time


async def test_snapshot_follows_calls() -> None:
    ccas = [AgentScript(endpoint=e, ring_time=60.0) for e in ("PJSIP/1101", "PJSIP/1102")]
    async with running_system(
        [*ccas, AgentScript(endpoint="PJSIP/1103", registered=False)]
    ) as system:
        view = SimpleNamespace(router=system.router, clock=system.clock, rules=system.router.rules)
        system.pbx.place_call(CallerScript(caller_number="0611000011", patience=300))
        system.pbx.place_call(
            CallerScript(
                caller_number="0611000012",
                keys=(KeyPress(digits="2"), KeyPress(digits="1")),
                patience=300,
            )
        )
        await system.clock.sleep(8.0)
        snap = live_snapshot(view)  # type: ignore[arg-type]
        assert snap.in_ivr == 1
        by_service = {s.service_id: s for s in snap.services}
        assert by_service["ccas"].waiting == 1
        # Keys 2 and 1 heard at 1.28 s and 2.56 s: the CCAS from then on (its phones ring at
        # once, whether the caller hears the survey's consent or the ring-back): at 8 s the
        # caller has waited 5.44 s there (the menus are not waiting for a service).
        assert by_service["ccas"].longest_wait_s == 5.44
        agents = {a.agent: a for a in snap.agents}
        assert agents["PJSIP/1101"].state is AgentState.RINGING
        assert agents["PJSIP/1103"].state is AgentState.UNREACHABLE
        assert "ccas" in agents["PJSIP/1101"].services
