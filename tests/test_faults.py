"""The service under load and faults: many calls at once, and an Asterisk that crashes."""

from __future__ import annotations

import asyncio
import gc

import pytest

from telephony.ari.models import Event
from telephony.records.model import CallOutcome
from telephony.simulator.scripts import AgentScript, CallerScript, KeyPress
from tests.flow_support import bernay_agents, running_system, simulated_pbx

pytestmark = pytest.mark.virtual_time

PATHS = [("0",), ("1",), ("2", "1"), ("2", "2"), ("3",), ("7",), ("8",)]


async def test_300_simultaneous_calls_all_recorded_without_leaks() -> None:
    agents = [
        AgentScript(endpoint=e, ring_time=2.0, busy_when_in_use=False) for e in bernay_agents()
    ]
    async with running_system(agents) as system:
        tasks_after: list[int] = []
        finished = []
        for round_ in range(2):  # the second round checks nothing grew after the first
            for i in range(300):
                if i % 30 == 29:  # 300 callers arriving within 5 simulated seconds
                    await system.clock.sleep(0.5)
                digits = PATHS[i % len(PATHS)]
                system.pbx.place_call(
                    CallerScript(
                        caller_number=f"06{round_}{i:07d}",
                        keys=tuple(KeyPress(digits=d, after=0.5) for d in digits),
                        talk_time=20.0,
                        patience=600.0,
                    )
                )
            await system.clock.sleep(5.0)
            # All at once, in progress: the shortest path (the menu, then every agent taken, the
            # callback offer) lasts 14 s, the last caller arrived 5 s ago.
            assert len(system.router.live_calls()) == 300
            await system.settle(300)
            finished += [(r.call_id, r.outcome) for r in system.records.finished]
            system.records.finished.clear()  # the test's own copies are not a leak
            system.records.started.clear()
            gc.collect()
            # Pooled keep-alive HTTP connections have a server task each; they are reused,
            # not leaked, so only the other tasks are counted.
            tasks_after.append(
                sum("RequestHandler" not in repr(t.get_coro()) for t in asyncio.all_tasks())
            )
            # Nothing of a finished call stays in the router: no task, story, binding or
            # event (the simulated PBX keeps its own call history on purpose).
            assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("call-")]
            assert system.router.live_calls() == []
            assert system.router.dispatcher.active_calls == []
            assert sum(isinstance(o, Event) for o in gc.get_objects()) < 50
        # Nothing grows from one round to the next.
        assert tasks_after[1] <= tasks_after[0], tasks_after
    assert len(finished) == 600
    assert len({call_id for call_id, _ in finished}) == 600
    # ~30 agents for 300 callers at once: many overflow (busy) to a callback request or message,
    # but no call fails or is left open.
    outcomes = {outcome for _, outcome in finished}
    assert CallOutcome.FAILED not in outcomes and CallOutcome.INTERRUPTED not in outcomes
    assert sum(outcome is CallOutcome.ANSWERED for _, outcome in finished) >= 100


async def test_asterisk_crash_and_restart() -> None:
    async with running_system() as system:
        pbx = system.pbx
        port = int(pbx.url.rsplit(":", 1)[1])
        pbx.place_call(CallerScript(caller_number="0612300001", patience=600))
        await system.clock.sleep(1.0)
        assert len(system.router.live_calls()) == 1
        # A crash: no event reaches the application, then Asterisk is gone.
        for app in pbx.stasis.apps.values():
            app.sink = None
        await pbx.stop()
        restarted = simulated_pbx(system.clock)
        for endpoint in bernay_agents():
            restarted.add_agent(AgentScript(endpoint=endpoint, ring_time=2.0))
        await restarted.start(port=port)
        system.pbx = restarted
        try:
            async with asyncio.timeout(10):
                while system.router.live_calls():  # noqa: ASYNC110 - polling the router's state
                    await asyncio.sleep(0.05)
            lost = system.records.by_caller("0612300001")
            # Asterisk lost it: cut, not a caller who hung up in the menu.
            assert lost.outcome is CallOutcome.CUT
            assert system.router.counters.calls_closed_by_resync == 1
            assert system.router.counters.calls_cut == 1
            # Calls arriving after the restart are routed as usual.
            restarted.place_call(
                CallerScript(
                    caller_number="0612300002", keys=(KeyPress(digits="0"),), talk_time=3.0
                )
            )
            await system.settle(2)
            assert system.records.by_caller("0612300002").outcome is CallOutcome.ANSWERED
        finally:
            await restarted.stop()
