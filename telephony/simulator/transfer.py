"""Blind transfers an agent's phone asks for with SIP REFER, carried out as Asterisk 22 does.

Recorded in ``traces/blind-transfer.jsonl`` and ``blind-transfer-ari-only.jsonl``:

- Asterisk's own handling (the default). The target ``<exten>@<TRANSFER_CONTEXT, else the
  channel's context>`` gets a Local channel pair. ``;2`` runs the dialplan: through the inbound
  context it enters Stasis like a new caller (state Ring, ``args=[exten]``); through the shipped
  ``decroche-transfer`` context with ``args=[exten, "transfer"]``. ``;1`` enters the
  bridge's app with ``replace_channel`` = the transferer and takes its place in the bridge (the
  transferee never leaves it), then BridgeBlindTransfer. The phone got its final NOTIFY with the
  swap and hangs up; the transferer and ``;1`` then leave Stasis with no ChannelDestroyed
  reaching the app. Answering ``;2`` answers ``;1`` (Up + Dial ANSWER).
- ``PJSIP_TRANSFER_HANDLING()=ari-only`` set on the channel (Asterisk >= 22.3): only a
  ChannelTransfer event, nothing moves. The app reports with ``transfer_progress``; each report
  of a pending REFER is echoed as a ChannelTransfer carrying ``state``, and after
  ``channel_answered`` (NOTIFY 200) the phone hangs up.

A Local pair passes identities across: a half's connected party becomes the other half's
caller, and whoever is bridged with that other half sees it as connected line at once, while
the half's own ChannelCallerId only shows when its bridge next wakes up (recorded: on the
transferee's hang-up).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from .errors import AriRefusal
from .resources import Bridge, Channel, ChannelKind, JsonDict, PendingRefer
from .scripts import AgentScript

if TYPE_CHECKING:
    from .engine import Engine

log = logging.getLogger(__name__)

TRANSFER_HANDLING = "PJSIP_TRANSFER_HANDLING()"
# transfer_progress ``states`` -> whether it concludes the REFER (a final sipfrag in the NOTIFY).
PROGRESS_STATES: dict[str, bool] = {
    "channel_progress": False,  # 100 Trying, may be repeated
    "channel_answered": True,  # 200 OK: the phone hangs up
    "channel_unavailable": True,  # 503: the transfer failed, the phone stays in its call
    "channel_declined": True,  # 603: likewise
}
# A transfer target outside Stasis (another context, or Stasis() refused) lives this long.
DIALPLAN_TARGET_TIME = 20.0


def ari_only(channel: Channel) -> bool:
    """Whether the app asked to handle this channel's REFERs (dialplan functions ignore case)."""
    return any(
        name.upper() == TRANSFER_HANDLING and value.strip().lower() == "ari-only"
        for name, value in channel.variables.items()
    )


class Transfers:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ------------------------------------------------------------------ hooks from the engine
    def on_bridged(self, channel: Channel, peer: Channel) -> None:
        """``channel`` now talks with ``peer`` in a mixing bridge."""
        engine = self.engine
        far = channel.local_peer
        if far is not None and far.bridge_id is not None:
            # Those bridged with the other half talk with ``peer`` through the Local pair.
            for member in self._bridge_members(far.bridge_id, but=far):
                run = engine.runs.get(member.id)
                if run is not None:
                    run.on_bridged(
                        {"channel": peer.name, "number": peer.caller_number,
                         "at": engine.now(), "via": channel.name}
                    )  # fmt: skip
        self._arm_refer(channel)

    def connected_changed(self, half: Channel) -> None:
        """A Local half's connected party is now the other half's caller."""
        other = half.local_peer
        if other is None or other.hanging_up:
            return
        identity = (half.connected_name, half.connected_number)
        if (other.caller_name, other.caller_number) == identity:
            return
        other.caller_name, other.caller_number = identity
        other.caller_id_owed = True
        for member in self._bridge_members(other.bridge_id, but=other):
            if (member.connected_name, member.connected_number) != identity:
                member.connected_name, member.connected_number = identity
                self.engine.emit_channel(member, "ChannelConnectedLine")

    def on_answered(self, channel: Channel) -> None:
        """The app answered ``channel``: a caller-id change it owed shows now (the ``;1`` half
        is answered with it by ``local``)."""
        if channel.caller_id_owed:
            self._emit_caller_id(channel)

    def before_hangup(self, channel: Channel) -> None:
        """The bridge wakes up: owed caller-id changes of Local halves in it show now."""
        if channel.caller_id_owed:
            self._emit_caller_id(channel)
        for member in self._bridge_members(channel.bridge_id, but=channel):
            if member.caller_id_owed:
                self._emit_caller_id(member)

    # ------------------------------------------------------------------ the REFER
    def _arm_refer(self, channel: Channel) -> None:
        script = self._agent_script(channel)
        if script is None or script.transfer_to is None or channel.refer_armed:
            return
        channel.refer_armed = True  # one REFER per call, counted from the first conversation
        destination, delay = script.transfer_to, script.transfer_after

        async def refer_later() -> None:
            await self.engine.clock.sleep(delay)
            self.refer(channel, destination)

        self.engine.spawn(channel, refer_later)

    def _agent_script(self, channel: Channel) -> AgentScript | None:
        if channel.endpoint is None or channel.kind not in (
            ChannelKind.CREATED,
            ChannelKind.ORIGINATED,
        ):
            return None
        return self.engine.agents.get(channel.endpoint.name)

    def refer(self, transferer: Channel, destination: str) -> bool:
        """``transferer``'s phone sends REFER to ``destination``; False if nothing happened."""
        engine = self.engine
        bridge = engine.bridges.get(transferer.bridge_id or "")
        if transferer.hanging_up or transferer.stasis_app is None or bridge is None:
            log.info("%s: REFER with no call to transfer, ignored", transferer.name)
            return False
        others = self._bridge_members(bridge.id, but=transferer)
        if not others:
            log.info("%s: REFER while alone in its bridge, ignored", transferer.name)
            return False
        if ari_only(transferer):
            transferer.pending_refer = PendingRefer(destination)
            self._emit_transfer(transferer, destination, state=None)
            return True
        return self._blind_transfer(transferer, bridge, others[0], destination)

    def _blind_transfer(
        self, transferer: Channel, bridge: Bridge, transferee: Channel, exten: str
    ) -> bool:
        engine = self.engine
        app = transferer.stasis_app
        assert app is not None
        context = transferer.variables.get("TRANSFER_CONTEXT") or transferer.context
        if context not in engine.dialplan.contexts:
            # res_pjsip_refer answers the REFER 404 and nothing else happens.
            engine.note(transferer, "refer", destination=exten, one=None, two=None)
            log.info("%s: REFER to %s@%s, no such context", transferer.name, exten, context)
            return False
        engine.emit_channel(transferer, "ChannelUnhold")
        before = bridge.to_json()  # BridgeBlindTransfer shows the bridge as it was
        one, two = engine.locals.pair(exten, context, one_kind=ChannelKind.TRANSFER)
        engine.note(transferer, "refer", destination=exten, one=one.id, two=two.id)
        args = engine.dialplan.stasis_args(context, exten)
        in_stasis = args is not None and engine.stasis.is_active(engine.default_app)
        two.priority = engine.dialplan.stasis_priority(context)
        if in_stasis:
            assert args is not None
            engine.enter_stasis(two, engine.default_app, args)
        else:
            two.kind = ChannelKind.DIALPLAN
        engine.enter_stasis(one, app, [], replace=transferer)
        engine.bridging.swap(bridge, transferer, one)
        event = engine.event(
            "BridgeBlindTransfer",
            channel=transferer.to_json(),
            exten=exten,
            context=context,
            result="Success",
            is_external=True,
            transferee=transferee.to_json(),
            replace_channel=one.to_json(),
            bridge=before,
        )
        engine.stasis.emit(event, channels=(transferer,), bridge=bridge)
        for who, party in ((transferee, one), (one, transferee)):
            who.connected_name, who.connected_number = party.caller_name, party.caller_number
            engine.emit_channel(who, "ChannelConnectedLine")
        self.connected_changed(one)
        # Neither the transferer nor ;1 is the app's own any more: no ChannelDestroyed for them.
        transferer.unsubscribe_at_stasis_end = True
        one.unsubscribe_at_stasis_end = True
        self._hang_up_after_notify(transferer)  # NOTIFY 200 went out with the swap
        if not in_stasis:
            answers = context != engine.dialplan.inbound_context
            engine.spawn(two, lambda: self._run_dialplan_target(two, answers=answers))
        return True

    async def _run_dialplan_target(self, two: Channel, *, answers: bool) -> None:
        # Outside Stasis the target's dialplan is unknown here: it answers and lives a while, or
        # (Stasis() refused: app not active) the dialplan ends and hangs up at once.
        await asyncio.sleep(0)
        if answers:
            self.engine.set_state(two, "Up")
            self.on_answered(two)
            self.engine.locals.answered(two)
            await self.engine.clock.sleep(DIALPLAN_TARGET_TIME)
        self.engine.hangup(two, request={"cause": 16}, cause=16, how="dialplan")

    def _hang_up_after_notify(self, phone: Channel) -> None:
        script = self._agent_script(phone)
        delay = script.transfer_hangup_delay if script is not None else 0.3

        async def bye() -> None:
            await self.engine.clock.sleep(delay)
            # The phone's BYE: cause 16 without tech_cause, as any agent hang-up.
            self.engine.hangup(phone, request={"cause": 16}, cause=16, how="transferred")

        self.engine.spawn(phone, bye)

    # ------------------------------------------------------------------ ari-only: the app reports
    def progress(self, channel_id: str, states: str | None) -> None:
        """``POST /channels/{id}/transfer_progress?states=...``."""
        channel = self.engine.stasis_channel(channel_id)
        if not states:
            raise AriRefusal(400, "states must be provided")
        if states not in PROGRESS_STATES:
            raise AriRefusal(400, f"Invalid states value '{states}'")
        refer = channel.pending_refer
        if refer is None:
            return  # no REFER waiting on this channel: the NOTIFY has nowhere to go
        if PROGRESS_STATES[states]:
            channel.pending_refer = None

        async def notify() -> None:
            await asyncio.sleep(0)  # after the 204, as recorded
            self._emit_transfer(channel, refer.destination, state=states)
            if states == "channel_answered":
                self._hang_up_after_notify(channel)

        self.engine.spawn(channel, notify)

    def _emit_transfer(self, source: Channel, destination: str, *, state: str | None) -> None:
        referred_by: JsonDict = {"source_channel": source.to_json()}
        if source.bridge_id is not None:
            connected = self._bridge_members(source.bridge_id, but=source)
            if connected:
                referred_by["connected_channel"] = connected[0].to_json()
            referred_by["bridge"] = self.engine.bridges[source.bridge_id].to_json()
        fields: JsonDict = {
            "refer_to": {"requested_destination": {"destination": destination}},
            "referred_by": referred_by,
        }
        if state is not None:
            fields["state"] = state
        self.engine.stasis.emit(self.engine.event("ChannelTransfer", **fields), channels=(source,))

    # ------------------------------------------------------------------ helpers
    def _bridge_members(self, bridge_id: str | None, *, but: Channel) -> list[Channel]:
        bridge = self.engine.bridges.get(bridge_id or "")
        if bridge is None:
            return []
        members = (self.engine.channels.get(c) for c in bridge.channels if c != but.id)
        return [m for m in members if m is not None]

    def _emit_caller_id(self, channel: Channel) -> None:
        channel.caller_id_owed = False
        self.engine.emit_channel(
            channel,
            "ChannelCallerId",
            caller_presentation=0,
            caller_presentation_txt="Presentation Allowed, Not Screened",
        )
