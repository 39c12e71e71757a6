"""What a crash of decroche, or a lost link, leaves on Asterisk (issue 15, defect 2).

On a real Asterisk 22, channels that entered the application under a process that is gone stay
in it, in their bridges: a caller whose agent hung up while decroche was down stayed alone in a
silent bridge for two minutes, the restarted service logged their events as "unrouted" and did
nothing, and the bridge stayed until Asterisk restarted. The simulated PBX keeps an app's
channels and bridges across its WebSocket going away and another process connecting, as
Asterisk does; decroche takes care of them at start and after every reconnection.
"""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from telephony.ari.models import Bridge, CallerID, Channel, DialplanCEP
from telephony.flow.recovery import Fate, OrphanChannel, OrphanPlan, plan_orphans
from telephony.records.model import CallOutcome
from telephony.simulator.scripts import AgentScript, CallerScript, KeyPress
from telephony.virtual_time import LoopClock
from tests.flow_support import OPEN_HOURS, running_system, simulated_pbx

pytestmark = pytest.mark.virtual_time

AUTH = {"Authorization": "Basic " + base64.b64encode(b"decroche:decroche").decode()}
FALLBACK = "continued:decroche-fallback,s,1"
POLICE_LINE = "0232464317"


# --- the simulated PBX keeps what an app's process left -------------------------------------


async def _ari(
    session: aiohttp.ClientSession, url: str, method: str, path: str, **params: Any
) -> Any:
    async with session.request(method, f"{url}/ari{path}", params=params, headers=AUTH) as r:
        assert r.status < 300, (path, r.status, await r.text())
        return await r.json() if r.status == 200 else None


async def test_channels_and_bridges_outlive_the_process_that_made_them() -> None:
    clock = LoopClock(OPEN_HOURS)
    pbx = simulated_pbx(clock)
    await pbx.start(port=0)
    pbx.add_agent(AgentScript(endpoint="PJSIP/1001"))
    url = pbx.url
    async with aiohttp.ClientSession() as session:
        first = await session.ws_connect(f"{url}/ari/events?app=decroche", headers=AUTH)
        caller = pbx.place_call(CallerScript(caller_number="0611000009", talk_time=600))
        channel = caller.channel_id
        await _ari(session, url, "POST", "/bridges/dc-x-b1", type="mixing")
        await _ari(session, url, "POST", "/bridges/dc-x-b1/addChannel", channel=channel)
        app = await _ari(session, url, "GET", "/applications/decroche")
        # Asterisk follows a bridge for the app as long as one of its channels is in it.
        assert (app["channel_ids"], app["bridge_ids"]) == ([channel], ["dc-x-b1"])
        await first.close()  # the process dies
        await clock.sleep(5.0)
        app = await _ari(session, url, "GET", "/applications/decroche")
        assert (app["channel_ids"], app["bridge_ids"]) == ([channel], ["dc-x-b1"])
        assert [c["id"] for c in await _ari(session, url, "GET", "/channels")] == [channel]
        bridge = await _ari(session, url, "GET", "/bridges/dc-x-b1")
        assert bridge["channels"] == [channel]
        # Another process connects for the app: it hears those channels again.
        second = await session.ws_connect(f"{url}/ari/events?app=decroche", headers=AUTH)
        await _ari(session, url, "DELETE", f"/channels/{channel}")
        kinds = []
        while "StasisEnd" not in kinds:
            kinds.append(json.loads((await second.receive()).data)["type"])
        assert "ChannelLeftBridge" in kinds
        app = await _ari(session, url, "GET", "/applications/decroche")
        assert (app["channel_ids"], app["bridge_ids"]) == ([], [])
        assert [b["id"] for b in await _ari(session, url, "GET", "/bridges")] == ["dc-x-b1"]
        await second.close()
    await pbx.stop()


# --- what decroche decides for each (pure) ---------------------------------------------------

T = datetime(2026, 10, 14, 8, 0, tzinfo=UTC)


def chan(cid: str, *, args: str = "0232000000", state: str = "Up", at: float = 0.0) -> Channel:
    return Channel(
        id=cid,
        protocol_id="",
        name=f"PJSIP/x-{cid}",
        state=state,
        caller=CallerID(name="", number=""),
        connected=CallerID(name="", number=""),
        accountcode="",
        dialplan=DialplanCEP(
            context="from-callers", exten="s", priority=2, app_name="Stasis",
            app_data=f"decroche,{args}",
        ),
        creationtime=T + timedelta(seconds=at),
        language="fr",
    )  # fmt: skip


def bridge(bid: str, *members: str) -> Bridge:
    return Bridge(
        id=bid, technology="simple_bridge", bridge_type="mixing", bridge_class="stasis",
        creator="Stasis", name="", channels=list(members), creationtime=T,
    )  # fmt: skip


LISTENING = T + timedelta(seconds=60)

PLANS = [
    # channels in the app, Asterisk's bridges, owned channels/bridges -> what becomes of them
    pytest.param(
        [chan("c1")], [], set(), set(),
        OrphanPlan((OrphanChannel("c1", Fate.HAND_BACK, "a caller nobody is handling"),)),
        id="caller-in-the-menus-goes-to-the-fallback",
    ),
    pytest.param(
        [chan("c1")], [bridge("dc-a-b1", "c1")], set(), set(),
        OrphanPlan(
            (OrphanChannel("c1", Fate.HANG_UP, "a caller who talked, alone in a bridge"),),
            ("dc-a-b1",),
        ),
        id="caller-alone-in-a-bridge-is-hung-up-and-the-bridge-destroyed",
    ),
    pytest.param(
        [chan("c1"), chan("dc-a-a1", args="agent,c1")],
        [bridge("dc-a-b1", "c1", "dc-a-a1")], set(), set(),
        OrphanPlan((
            OrphanChannel("c1", Fate.WATCH, "still talking in a bridge", "dc-a-b1"),
            OrphanChannel("dc-a-a1", Fate.WATCH, "still talking in a bridge", "dc-a-b1"),
        )),
        id="a-conversation-goes-on-watched",
    ),
    pytest.param(
        [chan("c1", state="Ring"), chan("dc-a-a1", args="agent,c1", state="Ringing")], [],
        set(), set(),
        OrphanPlan((
            OrphanChannel("c1", Fate.HAND_BACK, "a caller nobody is handling"),
            OrphanChannel("dc-a-a1", Fate.HANG_UP, "an agent's leg, no call to ring for"),
        )),
        id="ringing-agent-hung-up-its-caller-to-the-fallback",
    ),
    pytest.param(
        [chan("dc-a-a1", args="agent,c1")], [bridge("dc-a-b1", "dc-a-a1")], set(), set(),
        OrphanPlan(
            (OrphanChannel("dc-a-a1", Fate.HANG_UP, "an agent's leg, alone in a bridge"),),
            ("dc-a-b1",),
        ),
        id="agent-alone-in-a-bridge",
    ),
    pytest.param(
        [chan("7.1", args="agent-pause")], [], set(), set(),
        OrphanPlan((OrphanChannel("7.1", Fate.HANG_UP, "an agent's leg, no call to ring for"),)),
        id="a-phone-code-never-goes-to-the-fallback",
    ),
    pytest.param(
        [chan("c1"), chan("c2")], [bridge("dc-a-b1", "c1")], {"c1"}, {"dc-a-b1"},
        OrphanPlan((OrphanChannel("c2", Fate.HAND_BACK, "a caller nobody is handling"),)),
        id="what-a-live-call-holds-is-left-to-it",
    ),
    pytest.param(
        [chan("c1", at=61.0)], [], set(), set(), OrphanPlan(),
        id="a-channel-newer-than-the-connection-is-a-call-being-opened",
    ),
    pytest.param(
        [], [bridge("dc-a-b1"), bridge("other-b2"), bridge("dc-b-b3")], set(), {"dc-b-b3"},
        OrphanPlan((), ("dc-a-b1",)),
        id="only-our-own-empty-bridges-are-destroyed",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("channels", "bridges", "owned", "owned_bridges", "plan"), PLANS)
def test_plan_orphans(channels, bridges, owned, owned_bridges, plan) -> None:
    found = plan_orphans(
        channels,
        bridges,
        owned_channels=owned,
        owned_bridges=owned_bridges,
        listening_since=LISTENING,
    )
    assert found == plan


# --- decroche restarts after a crash ----------------------------------------------------------


async def _idle(system: Any, within_s: float) -> None:
    async with asyncio.timeout(within_s):
        await system.pbx.wait_idle()


async def test_a_restarted_decroche_takes_care_of_what_the_crash_left() -> None:
    # The accueil général's agents hang up 20 s after answering; the police never answer.
    accueil = [AgentScript(endpoint=f"PJSIP/100{i}", talk_time=20.0) for i in range(1, 5)]
    police = [AgentScript(endpoint=f"PJSIP/120{i}", response="no_answer") for i in (1, 2, 3)]
    agents = accueil + police
    async with running_system(agents) as system:
        pbx = system.pbx
        # Talks with an accueil agent, who hangs up while decroche is down: left alone.
        alone = pbx.place_call(
            CallerScript(
                caller_number="0611000001",
                keys=(KeyPress(digits="0", after=1.0),),
                talk_time=600,
                linger=120,
            )
        )
        in_menu = pbx.place_call(CallerScript(caller_number="0611000002", patience=600))
        ringing = pbx.place_call(
            CallerScript(caller_number="0611000003", dialled=POLICE_LINE, patience=600)
        )
        # Talks with the eau et urbanisme, and goes on after decroche is back.
        talking = pbx.place_call(
            CallerScript(
                caller_number="0611000004", keys=(KeyPress(digits="3", after=1.0),), talk_time=60
            )
        )
        await system.clock.sleep(10.0)
        assert alone.talked_with and talking.talked_with and not ringing.talked_with
        await system.crash_decroche()
        await system.clock.sleep(20.0)
        assert alone.ended is None  # alone in silence since the agent hung up
        assert len(pbx.state()["bridges"]) == 2
        await system.start_decroche()
        back = OPEN_HOURS + timedelta(seconds=30)
        assert alone.ended is not None
        assert (alone.ended["how"], alone.ended["at"]) == ("hung_up_by_app", _ari_time(back))
        for handle in (in_menu, ringing):
            assert handle.ended is not None
            assert (handle.ended["how"], handle.ended["at"]) == (FALLBACK, _ari_time(back))
        # The police phones that rang for nobody are free again, the empty bridge is gone.
        assert [c["name"].split("-")[0] for c in pbx.state()["channels"]] == [
            "PJSIP/caller",
            "PJSIP/1301",
        ]
        assert len(pbx.state()["bridges"]) == 1
        assert talking.ended is None
        # The conversation left alone ends when the caller hangs up: the agent's leg with it.
        await _idle(system, 60.0)
        assert talking.ended is not None and talking.ended["how"] == "talked"
        async with asyncio.timeout(1.0):
            while pbx.state()["bridges"]:  # noqa: ASYNC110 - the destroy follows the hang-up
                await asyncio.sleep(0.001)
        counts = system.router.orphans.counts
        assert (counts.handed_back, counts.hung_up, counts.watched) == (2, 5, 2)
        assert counts.bridges_destroyed == 2
    # The new process recorded none of the old one's calls (the writer closes them).
    assert system.records.finished == []


def _ari_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


# --- the link fails, and a call's own cleanup cannot reach Asterisk ---------------------------


async def test_after_a_lost_link_what_no_call_holds_goes_back_to_the_fallback() -> None:
    async with running_system() as system:
        caller = system.pbx.place_call(CallerScript(caller_number="0611000005", patience=600))
        await system.clock.sleep(5.0)
        # 40 s without Asterisk: the menu's timeout runs out in the dark, the call waits 30 s
        # for the link, is cut, and its cleanup cannot hand the caller back.
        await system.pbx.drop_link(40.0)
        async with asyncio.timeout(10.0):
            await caller.done.wait()
        record = system.records.by_caller("0611000005")
    assert (record.outcome, record.ended_at) == (CallOutcome.CUT, OPEN_HOURS + timedelta(seconds=5))
    assert caller.ended is not None
    assert caller.ended["how"] == FALLBACK  # when decroche heard Asterisk again:
    # the link is back at 45 s, decroche reconnects within its backoff (1 s at most).
    back = OPEN_HOURS + timedelta(seconds=45)
    assert _ari_time(back) <= caller.ended["at"] < _ari_time(back + timedelta(seconds=1))
    assert system.router.orphans.counts.handed_back == 1
