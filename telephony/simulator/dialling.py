"""Outgoing channels: channels/create, originate and dial, and how the phones they ring behave.

A created channel enters the application after Asterisk's own delay (``latency``), and a dial
before its ``StasisStart`` is refused (409). A dialled agent's phone answers after its scripted
ring time, or is busy (486, cause 17), declines (603, cause 21), never answers, or cannot be
reached (SIP timer B, 408, cause 18), as its :class:`~.scripts.AgentScript` says; Asterisk's
dial timeout hangs up with cause 19 (480) if it rang, 18 if not.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import TYPE_CHECKING

from .errors import AriRefusal, allocation_failed
from .resources import SOFTHANGUP_EXPLICIT, Channel, ChannelKind, Endpoint

if TYPE_CHECKING:
    from .engine import Engine

SIP_TIMER_B = 32.0  # seconds an INVITE waits for any reply before 408
LOCAL_DTMF_AT = 1.7  # the recorded sim-caller dialplan sends its DTMF 1.7 s after answer


class Dialling:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _resolve_endpoint(self, spec: str | None) -> tuple[str, str, Endpoint | None]:
        if not spec:
            raise AriRefusal(400, "Endpoint must be specified")
        tech, slash, resource = spec.partition("/")
        if not slash or not tech or not resource:
            raise AriRefusal(400, "Invalid endpoint specified")
        if tech == "Local":
            if "@" not in resource:
                raise allocation_failed()
            return tech, resource, None
        endpoint = self.engine.endpoints.get(spec)
        if endpoint is None or not endpoint.online or spec not in self.engine.agents:
            raise allocation_failed()
        return tech, resource, endpoint

    def _new_outbound(
        self,
        tech: str,
        resource: str,
        endpoint: Endpoint | None,
        kind: ChannelKind,
        channel_id: str | None,
        variables: dict[str, str],
        caller_id: str | None,
        other_channel_id: str | None = None,
        originator: str | None = None,
    ) -> Channel:
        for new_id in (channel_id, other_channel_id):
            if new_id:
                self.engine.check_new_id(new_id)
        agent = self.engine.agents.get(f"{tech}/{resource}")
        suffix = self.engine.ids.suffix()
        name = f"{tech}/{resource}-{suffix}" + (";1" if tech == "Local" else "")
        caller_name, caller_number = (agent.name, agent.number) if agent else ("", "")
        connected_name, connected_number = "", ""
        if caller_id:
            # Originate's callerId sets the new channel's caller id *and* its connected line,
            # which is what the phone shows (res/ari/resource_channels.c).
            caller_name, caller_number = _parse_caller_id(caller_id)
            connected_name, connected_number = caller_name, caller_number
        channel = Channel(
            id=channel_id or self.engine.ids.unique_id(),
            name=name,
            kind=kind,
            creationtime=self.engine.now(),
            protocol_id="" if tech == "Local" else str(uuid.uuid4()),
            caller_name=caller_name,
            caller_number=caller_number,
            connected_name=connected_name,
            connected_number=connected_number,
            context=self.engine.dialplan.agent_context if agent else "default",
            exten="s",
            priority=1,
            endpoint=endpoint,
            variables=dict(variables),
            originator=originator,
        )
        _apply_party_functions(channel, variables)
        return channel

    def create(
        self,
        endpoint_spec: str | None,
        app: str | None,
        app_args: str | None,
        channel_id: str | None,
        variables: dict[str, str],
        *,
        other_channel_id: str | None = None,
        originator: str | None = None,
    ) -> Channel:
        tech, resource, endpoint = self._resolve_endpoint(endpoint_spec)
        channel = self._new_outbound(
            tech, resource, endpoint, ChannelKind.CREATED, channel_id, variables, None,
            other_channel_id, originator,
        )  # fmt: skip
        if not app:
            # Asterisk answers 200, then the channel dies at once: "Stasis app '(null)'
            # doesn't exist", and no event reaches anyone.
            return channel
        self.engine.register(channel)
        channel.subscribers.add(app)
        if tech == "Local":
            self.engine.locals.requested(channel, resource, app, other_channel_id)
        args = app_args.split(",") if app_args else []

        async def enter() -> None:
            # After the 200, and after Asterisk's own delay: until the StasisStart, a dial (or
            # any operation needing the channel in the app) is refused with 409.
            delay = self.engine.stasis_window.draw()
            if delay > 0:
                await self.engine.clock.sleep(delay)
            else:
                await asyncio.sleep(0)
            self.engine.emit_channel(
                channel,
                "ChannelDialplan",
                dialplan_app="Stasis",
                dialplan_app_data=",".join([app, *args]),
            )
            self.engine.enter_stasis(channel, app, args)

        self.engine.spawn(channel, enter)
        return channel

    def originate(
        self,
        endpoint_spec: str | None,
        *,
        app: str | None,
        app_args: str | None,
        extension: str | None,
        context: str | None,
        channel_id: str | None,
        caller_id: str | None,
        timeout: int,
        variables: dict[str, str],
        other_channel_id: str | None = None,
        originator: str | None = None,
    ) -> Channel:
        tech, resource, endpoint = self._resolve_endpoint(endpoint_spec)
        if not app and not extension:
            raise AriRefusal(400, "Application or extension must be specified")
        kind = ChannelKind.ORIGINATED if app else ChannelKind.DIALPLAN
        channel = self._new_outbound(
            tech, resource, endpoint, kind, channel_id, variables, caller_id, other_channel_id,
            originator,
        )  # fmt: skip
        self.engine.register(channel)
        if not app:
            channel.context = context or "default"
            channel.exten = extension or "s"
            self.engine.spawn(channel, lambda: self._run_dialplan_only(channel))
            return channel
        channel.subscribers.add(app)
        if tech == "Local":
            self.engine.locals.requested(channel, resource, app, other_channel_id)
        args = app_args.split(",") if app_args else []
        seconds = float(timeout) if timeout > 0 else 30.0
        self._start_dial(channel, dialstring=resource, timeout=seconds, stasis=(app, args))
        return channel

    async def _run_dialplan_only(self, channel: Channel) -> None:
        # A channel running dialplan only (never in Stasis): it lives its scripted time.
        talk = float(channel.variables.get("TALK_SECS", "20") or 20)
        ring = float(channel.variables.get("RING_SECS", "0") or 0)
        channel.state = "Up"
        await self.engine.clock.sleep(ring + talk)
        self.engine.hangup(channel, request={"cause": 16}, cause=16, how="dialplan")

    def dial(self, channel_id: str, caller: str | None, timeout: int) -> None:
        channel = self.engine.stasis_channel(channel_id)
        if channel.state != "Down" or channel.dialled:
            raise AriRefusal(409, "Channel is not in the 'Down' state")
        peer = self.engine.channels.get(caller) if caller else None
        if peer is not None:
            # Asterisk copies the caller's identity into the dialled channel's connected line,
            # over whatever CONNECTEDLINE(...) was set at create (resource_channels.c, dial).
            channel.connected_name, channel.connected_number = peer.caller_name, peer.caller_number
            self.engine.emit_channel(channel, "ChannelConnectedLine")
        dialstring = channel.name.split("/", 1)[1].rsplit("-", 1)[0]
        self._start_dial(channel, dialstring=dialstring, timeout=float(timeout), stasis=None)

    def _start_dial(
        self,
        channel: Channel,
        *,
        dialstring: str,
        timeout: float,
        stasis: tuple[str, list[str]] | None,
    ) -> None:
        channel.dialled = True
        if timeout > 0:

            async def dial_timeout() -> None:
                await self.engine.clock.sleep(timeout)
                if channel.state != "Up":
                    ringing = channel.state == "Ringing"
                    self.engine.hangup(
                        channel,
                        request={"cause": SOFTHANGUP_EXPLICIT, "soft": True},
                        cause=19 if ringing else 18,
                        tech_cause=480 if ringing else None,
                        how="dial_timeout",
                    )

            self.engine.spawn(channel, dial_timeout)
        self.engine.spawn(channel, lambda: self._run_dial(channel, dialstring, stasis))

    async def _run_dial(
        self, channel: Channel, dialstring: str, stasis: tuple[str, list[str]] | None
    ) -> None:
        await asyncio.sleep(0)
        self.engine.emit_channel(channel, "Dial", dialstatus="", forward="", dialstring=dialstring)
        self.engine.note(
            channel, "invite", name=channel.connected_name, number=channel.connected_number
        )
        if channel.endpoint is not None:
            # The INVITE goes out: its From (what the phone shows) is the connected line.
            channel.endpoint.shown.append(
                {
                    "channel": channel.id,
                    "name": channel.connected_name,
                    "number": channel.connected_number,
                    "at": self.engine.now(),
                }
            )
        if channel.local_peer is not None:
            # A Local pair into an inbound context: ;2 runs the dialplan (see ``local``).
            self.engine.locals.dialled(channel, stasis)
            return
        if channel.name.startswith("Local/"):
            self._answer_outbound(channel, stasis)
            self.engine.spawn(channel, lambda: self._run_local_peer(channel))
            return
        agent = self.engine.agents.get(f"{channel.name.split('-')[0]}")
        response = agent.response if agent else "answer"
        if agent is not None and agent.busy_when_in_use and channel.endpoint is not None:
            others = [
                self.engine.channels.get(c) for c in channel.endpoint.channel_ids if c != channel.id
            ]
            if any(o is not None and o.state == "Up" for o in others):
                response = "busy"
        if response in ("busy", "decline"):
            sip, cause = (486, 17) if response == "busy" else (603, 21)
            self.engine.hangup(
                channel,
                request={"cause": cause, "tech_cause": sip},
                cause=cause,
                tech_cause=sip,
                how=response,
            )
            return
        if response == "unreachable":
            await self.engine.clock.sleep(SIP_TIMER_B)
            self.engine.hangup(
                channel,
                request={"cause": 18, "tech_cause": 408},
                cause=18,
                tech_cause=408,
                how="unreachable",
            )
            return
        self.engine.emit_channel(
            channel, "Dial", dialstatus="RINGING", forward="", dialstring=dialstring
        )
        self.engine.set_state(channel, "Ringing")
        if response == "no_answer":
            return
        devices = self.engine.devices
        await self.engine.clock.sleep(devices.duration(agent, agent.ring_time) if agent else 3.0)
        self._answer_outbound(channel, stasis)
        if agent is not None and agent.talk_time is not None:
            await self.engine.clock.sleep(devices.duration(agent, agent.talk_time))
            # The agent's BYE: cause 16 without tech_cause.
            self.engine.hangup(channel, request={"cause": 16}, cause=16, how="agent_hung_up")

    def _answer_outbound(self, channel: Channel, stasis: tuple[str, list[str]] | None) -> None:
        self.engine.set_state(channel, "Up")
        self.engine.emit_channel(
            channel,
            "Dial",
            dialstatus="ANSWER",
            forward="",
            dialstring=channel.name.split("/", 1)[1].rsplit("-", 1)[0],
        )
        if stasis is not None:
            self.engine.enter_stasis(channel, stasis[0], stasis[1])

    async def _run_local_peer(self, channel: Channel) -> None:
        # The ;2 half runs the recorded "sim-caller" dialplan: DTMF after 1.7 s (100 ms each),
        # then waits CALLER_WAIT seconds and hangs up.
        digits = channel.variables.get("DTMF_DIGITS") or "1"
        wait = float(channel.variables.get("CALLER_WAIT", "20") or 0)
        await self.engine.clock.sleep(LOCAL_DTMF_AT)
        for digit in digits:
            self.engine.emit_channel(channel, "ChannelDtmfReceived", digit=digit, duration_ms=100)
            await self.engine.clock.sleep(0.1)
        await self.engine.clock.sleep(max(0.25, wait))
        self.engine.hangup(channel, request={"cause": 16}, cause=16, how="peer_hung_up")


# A dialplan function setting one of a channel's parties, as ``variables`` at create or
# originate may write it: ``CALLERID(name)``, ``CONNECTEDLINE(num,i)``... (func_callerid.c: the
# function's name in any case, the number as ``num`` or ``number``, an option after a comma).
_PARTY_FUNCTION = re.compile(r"(CALLERID|CONNECTEDLINE)\((name|num|number)(,[^)]*)?\)", re.I)


def _apply_party_functions(channel: Channel, variables: dict[str, str]) -> None:
    for name, value in variables.items():
        match = _PARTY_FUNCTION.fullmatch(name)
        if match is None:
            continue
        party = "caller" if match[1].upper() == "CALLERID" else "connected"
        kind = "name" if match[2].lower() == "name" else "number"
        setattr(channel, f"{party}_{kind}", value)


def _parse_caller_id(text: str) -> tuple[str, str]:
    """``Name <number>`` -> (name, number), as Asterisk's ast_callerid_parse."""
    if "<" in text and text.endswith(">"):
        name, _, number = text[:-1].partition("<")
        return name.strip().strip('"'), number.strip()
    if text.replace("+", "").isdigit():
        return "", text
    return text, ""
