"""Blind transfers (SIP REFER from an agent's phone) in the simulated PBX, driven over ARI.

The recorded scenarios themselves are replayed in ``test_sim_traces``; these tests pin the
details around them: the fields of the events, which context the target runs in, hang-ups
crossing the Local pair, the ari-only reports and their errors, and bad scripts.

They run in virtual time: the scripted delays (1 s of talk before the REFER, the phone's hang-up
0.3 s after the NOTIFY) last exactly that long, whatever the machine's load.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from telephony.simulator import AgentScript, CallerScript, SimulatedPbx
from telephony.virtual_time import LoopClock

pytestmark = pytest.mark.virtual_time

AUTH = {"Authorization": "Basic " + base64.b64encode(b"decroche:decroche").decode()}
TARGET = "0699000000"
WAIT = 60.0  # bound of every wait, in the PBX's (virtual) seconds
# A device state only this test sets: its change, sent on the app's WebSocket after every event
# sent before it, tells that those have all arrived.
BARRIER = "Stasis:test-barrier"


class App:
    """A minimal ARI application: one WebSocket, REST calls, the events it received."""

    def __init__(self, pbx: SimulatedPbx, session: aiohttp.ClientSession) -> None:
        self.pbx = pbx
        self.session = session
        self.events: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()
        self.barriers = 0  # barrier events received

    async def connect(self) -> None:
        ws = await self.session.ws_connect(f"{self.pbx.url}/ari/events?app=decroche", headers=AUTH)

        async def read() -> None:
            async for message in ws:
                event = json.loads(message.data)
                if event.get("device_state", {}).get("name") == BARRIER:
                    self.barriers += 1
                else:
                    self.events.append(event)
                self.arrived.set()

        asyncio.get_running_loop().create_task(read())
        await self.ok(
            "POST", "/applications/decroche/subscription", eventSource=f"deviceState:{BARRIER}"
        )

    def of(self, kind: str, channel_id: str | None = None) -> list[dict[str, Any]]:
        return [
            e for e in self.events
            if e["type"] == kind and (channel_id is None or subject(e) == channel_id)
        ]  # fmt: skip

    async def wait_for(
        self,
        kind: str,
        channel_id: str | None = None,
        where: Callable[[dict[str, Any]], bool] = lambda _: True,
    ) -> dict[str, Any]:
        async def until() -> dict[str, Any]:
            while True:
                found = [e for e in self.of(kind, channel_id) if where(e)]
                if found:
                    return found[0]
                self.arrived.clear()
                await self.arrived.wait()

        return await asyncio.wait_for(until(), WAIT)

    async def answered(self, channel_id: str) -> None:
        """Wait for the Dial ANSWER of a dialled channel."""

        async def until() -> None:
            while not any(e["dialstatus"] == "ANSWER" for e in self.of("Dial", channel_id)):
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(until(), WAIT)

    async def ari(
        self, method: str, path: str, body: dict[str, Any] | None = None, **params: Any
    ) -> tuple[int, Any]:
        async with self.session.request(
            method, f"{self.pbx.url}/ari{path}", params=params, json=body, headers=AUTH
        ) as response:
            text = await response.text()
            return response.status, (json.loads(text) if text else None)

    async def ok(
        self, method: str, path: str, body: dict[str, Any] | None = None, **params: Any
    ) -> Any:
        status, answer = await self.ari(method, path, body, **params)
        assert status in (200, 204), (method, path, status, answer)
        return answer

    async def settle(self, seconds: float = 1.0) -> None:
        """Let ``seconds`` of the PBX's time pass (by default past the phone's hang-up 0.3 s after
        a NOTIFY), then wait until every event the PBX sent meanwhile has arrived."""
        await asyncio.sleep(seconds)
        expected = self.barriers + 1
        await self.ok("PUT", f"/deviceStates/{BARRIER}", deviceState="NOT_INUSE")

        async def until() -> None:
            while self.barriers < expected:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(until(), WAIT)


def subject(event: dict[str, Any]) -> str | None:
    channel = event.get("channel") or event.get("peer")
    if channel is None and "referred_by" in event:
        channel = event["referred_by"]["source_channel"]
    return None if channel is None else str(channel["id"])


@pytest.fixture
async def app() -> Any:
    pbx = SimulatedPbx(clock=LoopClock(datetime(2026, 10, 14, 8, 0, tzinfo=UTC)))
    await pbx.start("127.0.0.1", 0)
    async with aiohttp.ClientSession() as session:
        application = App(pbx, session)
        await application.connect()
        yield application
    await pbx.stop()


async def bridged_call(
    app: App, variables: dict[str, str] | None = None, *, ari_only: bool = False
) -> tuple[str, str, str]:
    """Caller answered and bridged with agent 1, whose phone REFERs after 1 s of talk."""
    app.pbx.add_agent(
        endpoint="PJSIP/agent1", name="Agent One", number="201", ring_time=0.2,
        transfer_to=TARGET, transfer_after=1.0,
    )  # fmt: skip
    app.pbx.add_agent(endpoint="PJSIP/agent2", name="Agent Two", number="202", ring_time=0.2)
    handle = app.pbx.place_call(
        CallerScript(caller_name="Caller One", dialled="0612345678", talk_time=600, linger=600)
    )
    caller = handle.channel_id
    assert caller is not None
    await app.wait_for("StasisStart", caller)
    await app.ok("POST", f"/channels/{caller}/answer")
    await app.ok(
        "POST", "/channels/create", {"variables": variables or {}},
        endpoint="PJSIP/agent1", app="decroche", channelId="agent1",
    )  # fmt: skip
    await app.wait_for("StasisStart", "agent1")
    if ari_only:
        await app.ok("POST", "/channels/agent1/variable", variable="PJSIP_TRANSFER_HANDLING()",
                     value="ari-only")  # fmt: skip
    await app.ok("POST", "/channels/agent1/dial", caller=caller, timeout=30)
    await app.answered("agent1")
    await app.ok("POST", "/bridges", type="mixing", bridgeId="b1")
    await app.ok("POST", "/bridges/b1/addChannel", channel=caller)
    await app.ok("POST", "/bridges/b1/addChannel", channel="agent1")
    return caller, "agent1", "b1"


async def test_asterisk_carries_the_transfer_out_through_a_local_pair(app: App) -> None:
    caller, agent, bridge = await bridged_call(app, {"TRANSFER_CONTEXT": "from-callers"})
    transfer = await app.wait_for("BridgeBlindTransfer")
    starts = app.of("StasisStart")
    two = next(e for e in starts if e["channel"]["name"].endswith(";2"))
    one = next(e for e in starts if e["channel"]["name"].endswith(";1"))
    prefix = f"Local/{TARGET}@from-callers-"
    assert two["channel"]["name"].startswith(prefix) and one["channel"]["name"].startswith(prefix)
    # ;2 is a new inbound call through the inbound context; ;1 replaces the agent.
    assert two["args"] == [TARGET] and two["channel"]["state"] == "Ring"
    assert two["channel"]["dialplan"] == {
        "context": "from-callers", "exten": TARGET, "priority": 2,
        "app_name": "Stasis", "app_data": f"decroche,{TARGET}",
    }  # fmt: skip
    assert one["args"] == [] and one["channel"]["state"] == "Down"
    assert one["replace_channel"]["id"] == agent
    one_id, two_id = one["channel"]["id"], two["channel"]["id"]
    assert (transfer["channel"]["id"], transfer["transferee"]["id"]) == (agent, caller)
    assert transfer["replace_channel"]["id"] == one_id
    assert (transfer["exten"], transfer["context"]) == (TARGET, "from-callers")
    assert transfer["result"] == "Success" and transfer["is_external"] is True
    assert transfer["bridge"]["channels"] == [caller, agent]  # the bridge as it was
    assert [e["type"] for e in app.events if subject(e) == agent][-4:] == [
        "ChannelEnteredBridge", "ChannelUnhold", "ChannelLeftBridge", "BridgeBlindTransfer",
    ]  # fmt: skip
    # The caller never left its bridge: ;1 took the agent's place.
    assert not app.of("ChannelLeftBridge", caller)
    _, found = await app.ari("GET", f"/bridges/{bridge}")
    assert found["channels"] == [caller, one_id]
    pair = {c["id"]: c["local_peer"] for c in app.pbx.state()["channels"] if c["local_peer"]}
    assert pair == {one_id: two_id, two_id: one_id}
    connected = await app.wait_for("ChannelConnectedLine", one_id)
    assert connected["channel"]["connected"]["name"] == "Caller One"
    assert app.of("ChannelConnectedLine", caller)[-1]["channel"]["connected"]["number"] == ""

    # The phone hangs up 0.3 s after the NOTIFY: StasisEnd, but the app gets no ChannelDestroyed.
    await app.wait_for("StasisEnd", agent)
    await app.settle()
    assert app.of("ChannelHangupRequest", agent)[0]["cause"] == 16
    assert not app.of("ChannelDestroyed", agent)
    assert (await app.ari("GET", f"/channels/{agent}"))[0] == 404

    # Answering ;2 answers ;1; ;2 now shows the caller's identity.
    await app.ok("POST", f"/channels/{two_id}/answer")
    await app.wait_for("Dial", one_id)
    assert app.of("ChannelCallerId", two_id)[0]["channel"]["caller"]["number"] == "0600000001"
    assert app.of("ChannelStateChange", one_id)[0]["channel"]["state"] == "Up"
    assert app.of("Dial", one_id)[0]["dialstatus"] == "ANSWER"

    # Agent 2 answers through ;2: the caller sees them; the caller's record says so.
    await app.ok("POST", "/channels/create", endpoint="PJSIP/agent2", app="decroche",
                 channelId="agent2")  # fmt: skip
    await app.wait_for("StasisStart", "agent2")
    await app.ok("POST", "/channels/agent2/dial", caller=two_id)
    await app.answered("agent2")
    await app.ok("POST", "/bridges", type="mixing", bridgeId="b2")
    await app.ok("POST", "/bridges/b2/addChannel", channel=f"{two_id},agent2")
    await app.wait_for(
        "ChannelConnectedLine", caller, lambda e: e["channel"]["connected"]["name"] == "Agent Two"
    )
    handle = next(iter(app.pbx.engine.calls.values()))
    assert [t["number"] for t in handle.talked_with] == ["201", "202"]
    assert handle.talked_with[1]["via"] == two["channel"]["name"]

    # The caller hangs up: ;1's owed caller id shows first; hanging up ;2 takes ;1 with it.
    await app.ok("DELETE", f"/channels/{caller}")
    await app.wait_for("StasisEnd", caller)
    caller_ids = app.of("ChannelCallerId", one_id)
    assert caller_ids and caller_ids[0]["channel"]["caller"]["name"] == "Agent Two"
    await app.ok("DELETE", f"/channels/{two_id}")
    await app.wait_for("StasisEnd", one_id)
    await app.settle()
    assert [e["type"] for e in app.events if subject(e) == one_id][-3:] == [
        "ChannelHangupRequest", "ChannelLeftBridge", "StasisEnd",
    ]  # fmt: skip
    assert not app.of("ChannelDestroyed", one_id) and not app.of("ChannelDestroyed", two_id)
    await app.ok("DELETE", "/bridges/b1")
    await app.wait_for("BridgeDestroyed")
    await app.settle()
    assert [e["bridge"]["id"] for e in app.of("BridgeDestroyed")] == ["b1"]  # ;1 hung up in it


async def test_the_shipped_transfer_context_enters_the_app_as_a_transfer(app: App) -> None:
    """asterisk/extensions.conf: [decroche-transfer] runs Stasis(decroche,${EXTEN},transfer) at
    priority 3 (after its NoOp and the language): decroche knows the leg is no new caller."""
    await bridged_call(app, {"TRANSFER_CONTEXT": "decroche-transfer"})
    transfer = await app.wait_for("BridgeBlindTransfer")
    assert transfer["context"] == "decroche-transfer"
    two = next(e for e in app.of("StasisStart") if e["channel"]["name"].endswith(";2"))
    assert two["args"] == [TARGET, "transfer"] and two["channel"]["state"] == "Ring"
    assert two["channel"]["dialplan"] == {
        "context": "decroche-transfer", "exten": TARGET, "priority": 3,
        "app_name": "Stasis", "app_data": f"decroche,{TARGET},transfer",
    }  # fmt: skip


async def test_without_transfer_context_the_target_runs_in_the_agents_context(app: App) -> None:
    _, agent, _ = await bridged_call(app)
    transfer = await app.wait_for("BridgeBlindTransfer")
    assert transfer["context"] == "from-agents"
    # ;2 runs the from-agents dialplan (not in Stasis): only ;1 is seen, answered by ;2.
    one = transfer["replace_channel"]["id"]
    assert (await app.wait_for("Dial", one))["dialstatus"] == "ANSWER"
    await app.wait_for("StasisEnd", agent)
    starts = [e["channel"]["name"] for e in app.of("StasisStart")]
    assert not any(name.endswith(";2") for name in starts)


async def test_refer_to_an_unknown_context_changes_nothing(app: App) -> None:
    caller, agent, bridge = await bridged_call(app, {"TRANSFER_CONTEXT": "no-such-context"})
    await app.settle(1.5)  # the phone REFERs after 1 s of talk
    assert not app.of("BridgeBlindTransfer") and not app.of("ChannelUnhold")
    _, found = await app.ari("GET", f"/bridges/{bridge}")
    assert found["channels"] == [caller, agent]


async def test_ari_only_hands_the_refer_to_the_app(app: App) -> None:
    caller, agent, bridge = await bridged_call(app, ari_only=True)
    first = await app.wait_for("ChannelTransfer")
    # The function is set, not a variable: no ChannelVarset for it.
    assert not app.of("ChannelVarset", agent)
    assert "state" not in first
    assert first["refer_to"] == {"requested_destination": {"destination": TARGET}}
    referred = first["referred_by"]
    assert referred["source_channel"]["id"] == agent
    assert referred["connected_channel"]["id"] == caller
    assert referred["bridge"]["id"] == bridge
    assert not app.of("BridgeBlindTransfer") and not app.of("StasisEnd", agent)
    pending = [c["id"] for c in app.pbx.state()["channels"] if c["refer_pending"]]
    assert pending == [agent]

    await app.ok("POST", f"/channels/{agent}/transfer_progress", states="channel_progress")
    await app.wait_for("ChannelTransfer", agent, lambda e: e.get("state") == "channel_progress")
    await app.ok("POST", f"/bridges/{bridge}/removeChannel", channel=agent)
    await app.ok("POST", f"/channels/{agent}/transfer_progress", states="channel_answered")
    await app.wait_for("StasisEnd", agent)
    echoes = app.of("ChannelTransfer")
    assert [e.get("state") for e in echoes] == [None, "channel_progress", "channel_answered"]
    assert "bridge" not in echoes[2]["referred_by"]  # the agent had left the bridge
    await app.wait_for("ChannelDestroyed", agent)  # still the app's channel: destroyed as usual
    # A report on a channel without a REFER (the caller's) notifies nobody.
    await app.ok("POST", f"/channels/{caller}/transfer_progress", states="channel_answered")
    await app.settle()
    assert len(app.of("ChannelTransfer")) == 3


async def test_ari_only_declined_transfer_leaves_the_agent_on_the_line(app: App) -> None:
    _, agent, _ = await bridged_call(app, ari_only=True)
    await app.wait_for("ChannelTransfer")
    await app.ok("POST", f"/channels/{agent}/transfer_progress", states="channel_declined")
    await app.wait_for("ChannelTransfer", agent, lambda e: e.get("state") == "channel_declined")
    # Concluded: a late report has no REFER to go to any more.
    await app.ok("POST", f"/channels/{agent}/transfer_progress", states="channel_answered")
    await app.settle()
    assert [e.get("state") for e in app.of("ChannelTransfer")] == [None, "channel_declined"]
    assert not app.of("ChannelHangupRequest", agent)


async def test_transfer_progress_errors(app: App) -> None:
    caller, agent, _ = await bridged_call(app, ari_only=True)
    assert await app.ari("POST", f"/channels/{agent}/transfer_progress") == (
        400, {"message": "states must be provided"},
    )  # fmt: skip
    assert await app.ari("POST", f"/channels/{agent}/transfer_progress", states="done") == (
        400, {"message": "Invalid states value 'done'"},
    )  # fmt: skip
    assert await app.ari("POST", "/channels/nope/transfer_progress", states="channel_progress") == (
        404, {"message": "Channel not found"},
    )  # fmt: skip
    outside = await app.ok("POST", "/channels", endpoint="Local/100@default", extension="100")
    assert await app.ari(
        "POST", f"/channels/{outside['id']}/transfer_progress", states="channel_progress"
    ) == (409, {"message": "Channel not in Stasis application"})
    assert not app.of("ChannelTransfer", caller)


def test_transfer_script_is_validated() -> None:
    with pytest.raises(ValidationError, match="transfer_to must be a dialplan extension"):
        AgentScript(endpoint="PJSIP/agent1", transfer_to="06 99")
    with pytest.raises(ValidationError, match="transfer_after"):
        AgentScript(endpoint="PJSIP/agent1", transfer_to="0699", transfer_after=-1)
    script = AgentScript(endpoint="PJSIP/agent1", transfer_to="0699000000")
    assert (script.transfer_after, script.transfer_hangup_delay) == (30.0, 0.3)


async def test_control_api_names_a_bad_transfer_target(app: App) -> None:
    url = f"{app.pbx.url}/sim/agents/PJSIP/agent9"
    async with app.session.put(url, json={"transfer_to": "06/99"}) as response:
        assert response.status == 400
        assert (await response.json())["error"].startswith("transfer_to: ")
    async with app.session.put(url, json={"transfer_to": "0699", "transfer_after": 5}) as response:
        assert response.status in (200, 201)
    assert app.pbx.engine.agents["PJSIP/agent9"].transfer_to == "0699"
