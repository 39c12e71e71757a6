"""The simulated Asterisk: channels, dialling, hang-ups, playbacks, scripted people.

Every operation either raises :class:`AriRefusal` with Asterisk's status and body, or changes the
state and emits the events Asterisk 22 emits, in the same order (see the traces recorded from a
real Asterisk in ``tests/data/ari-traces`` and their README). Bridges live in ``bridging``; HTTP
is in ``ari_http``. Timers are tasks sleeping on the clock, attached to the channel they concern
and cancelled when it goes away.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telephony.clock import Clock

from .errors import AriRefusal, ScriptError, allocation_failed, channel_not_found, not_in_stasis
from .latency import StasisWindow
from .media import UNSUPPORTED, MediaCatalogue
from .people import CallerRun, CallHandle
from .resources import (
    HANGUP_REASONS,
    SOFTHANGUP_EXPLICIT,
    Bridge,
    Channel,
    ChannelKind,
    Endpoint,
    JsonDict,
    Playback,
    cause_text,
)
from .scripts import AgentScript, CallerScript
from .stasis import StasisApps
from .transfer import Transfers

log = logging.getLogger(__name__)

SIP_TIMER_B = 32.0  # seconds an INVITE waits for any reply before 408
LOCAL_DTMF_AT = 1.7  # the recorded sim-caller dialplan sends its DTMF 1.7 s after answer
STASIS_ENTERING = frozenset({"Ring", "Up", "Down", "Ringing"})


@dataclass
class DialplanConfig:
    """The little of the dialplan the simulator needs to know."""

    inbound_context: str = "from-callers"  # exten => _X.,n,Stasis(<app>,${EXTEN})
    agent_context: str = "from-agents"
    contexts: set[str] = field(
        default_factory=lambda: {"from-callers", "from-agents", "default", "sim-caller"}
    )


class Ids:
    """Asterisk-like identifiers: ``<epoch>.<seq>`` unique ids and ``-%08x`` name suffixes."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._seq = itertools.count(1)
        self._suffix = itertools.count(1)

    def unique_id(self) -> str:
        return f"{int(self._clock.now().timestamp())}.{next(self._seq)}"

    def suffix(self) -> str:
        return f"{next(self._suffix):08x}"


class Engine:
    def __init__(
        self,
        clock: Clock,
        stasis: StasisApps,
        *,
        media: MediaCatalogue | None = None,
        dialplan: DialplanConfig | None = None,
        default_app: str = "decroche",
        stasis_window: StasisWindow | None = None,
    ) -> None:
        self.clock = clock
        self.stasis = stasis
        self.media = media or MediaCatalogue()
        self.dialplan = dialplan or DialplanConfig()
        self.default_app = default_app
        # Between channels/create's 200 and the channel's StasisStart (see ``latency``); a test
        # may swap it for another at any time.
        self.stasis_window = stasis_window or StasisWindow()
        self.ids = Ids(clock)
        self.channels: dict[str, Channel] = {}
        self.bridges: dict[str, Bridge] = {}
        self.playbacks: dict[str, Playback] = {}
        self.endpoints: dict[str, Endpoint] = {}
        self.agents: dict[str, AgentScript] = {}
        self.calls: dict[str, CallHandle] = {}
        self.runs: dict[str, CallerRun] = {}  # by channel id
        self.custom_device_states: dict[str, str] = {}
        self.global_vars: dict[str, str] = {}
        self._call_seq = itertools.count(1)
        self._idle = asyncio.Event()
        self._idle.set()
        self._background: set[asyncio.Task[None]] = set()
        # Imported late: bridging needs the engine's helpers and the engine needs bridging.
        from .bridging import Bridging

        self.bridging = Bridging(self)
        self.transfers = Transfers(self)

    # ------------------------------------------------------------------ helpers
    def now(self) -> str:
        return self.stasis.timestamp()

    def event(self, kind: str, **fields: object) -> JsonDict:
        return {"type": kind, "timestamp": self.now(), **fields}

    def emit_channel(self, channel: Channel, kind: str, **fields: object) -> None:
        event = self.event(kind, **fields)
        # Dial carries the dialled channel as "peer" (and no "channel"/"caller" field).
        event["peer" if kind == "Dial" else "channel"] = channel.to_json()
        self.stasis.emit(event, channels=(channel,))

    def spawn(self, channel: Channel, factory: Callable[[], Awaitable[None]]) -> None:
        """Run ``factory()`` as a task owned by ``channel`` (cancelled when it is gone)."""

        async def guarded() -> None:
            try:
                await factory()
            except asyncio.CancelledError:
                raise
            except Exception:  # one odd call must never stop the simulator
                log.exception("simulated behaviour of %s failed", channel.name)

        task = asyncio.get_running_loop().create_task(guarded())
        channel.tasks.add(task)
        task.add_done_callback(channel.tasks.discard)

    def channel(self, channel_id: str) -> Channel:
        found = self.channels.get(channel_id)
        if found is None:
            raise channel_not_found()
        return found

    def stasis_channel(self, channel_id: str) -> Channel:
        found = self.channel(channel_id)
        if found.stasis_app is None:
            raise not_in_stasis()
        return found

    def _check_new_id(self, channel_id: str) -> None:
        # Asterisk's legacy container matches on prefixes: an id that is a prefix of a live
        # channel's id is refused as well (traces/README.md, rest-errors).
        for existing in self.channels:
            if existing.startswith(channel_id):
                raise AriRefusal(409, "Channel with given unique ID already exists")

    def _register(self, channel: Channel) -> None:
        self.channels[channel.id] = channel
        self._idle.clear()
        if channel.endpoint is not None:
            channel.endpoint.channel_ids.append(channel.id)
            # Asterisk republishes the endpoint's snapshot whenever a channel comes or goes: apps
            # subscribed to the endpoint get it as an EndpointStateChange with its channel_ids.
            self._emit_endpoint_state(channel.endpoint)
            self._update_device(channel.endpoint)

    # ------------------------------------------------------------------ endpoints & agents
    def endpoint(self, name: str) -> Endpoint | None:
        return self.endpoints.get(name)

    def add_agent(self, script: AgentScript) -> AgentScript:
        tech, _, resource = script.endpoint.partition("/")
        endpoint = self.endpoints.get(script.endpoint)
        self.agents[script.endpoint] = script
        if endpoint is None:
            endpoint = Endpoint(tech, resource, online=script.registered)
            self.endpoints[script.endpoint] = endpoint
            self._update_device(endpoint, force=True)
        elif endpoint.online != script.registered:
            endpoint.online = script.registered
            self._emit_endpoint_state(endpoint)
            self._update_device(endpoint)
        return script

    def remove_agent(self, endpoint_name: str) -> None:
        if endpoint_name not in self.agents:
            raise ScriptError(f"no agent with endpoint {endpoint_name!r}")
        del self.agents[endpoint_name]
        endpoint = self.endpoints.get(endpoint_name)
        if endpoint is not None and endpoint.online:
            endpoint.online = False
            self._emit_endpoint_state(endpoint)
            self._update_device(endpoint)

    def _emit_endpoint_state(self, endpoint: Endpoint) -> None:
        event = self.event("EndpointStateChange", endpoint=endpoint.to_json())
        self.stasis.emit(event, endpoint=endpoint.name)

    def _device_state_of(self, endpoint: Endpoint) -> str:
        if not endpoint.online:
            return "UNAVAILABLE"
        states = [self.channels[c].state for c in endpoint.channel_ids if c in self.channels]
        if any(s == "Up" for s in states):
            return "RINGINUSE" if any(s == "Ringing" for s in states) else "INUSE"
        if any(s == "Ringing" for s in states):
            return "RINGING"
        return "INUSE" if states else "NOT_INUSE"

    def _update_device(self, endpoint: Endpoint, *, force: bool = False) -> None:
        state = self._device_state_of(endpoint)
        if state == endpoint.device_state and not force:
            return
        endpoint.device_state = state
        event = self.event(
            "DeviceStateChanged", device_state={"name": endpoint.name, "state": state}
        )
        self.stasis.emit(event, device=endpoint.name)

    def device_state(self, name: str) -> str:
        if name in self.custom_device_states:
            return self.custom_device_states[name]
        endpoint = self.endpoints.get(name)
        return endpoint.device_state if endpoint is not None else "UNKNOWN"

    # ------------------------------------------------------------------ state changes
    def set_state(self, channel: Channel, state: str) -> None:
        if channel.state == state:
            return
        channel.state = state
        self.emit_channel(channel, "ChannelStateChange")
        if channel.endpoint is not None:
            self._update_device(channel.endpoint)

    def enter_stasis(
        self, channel: Channel, app: str, args: list[str], replace: Channel | None = None
    ) -> None:
        channel.stasis_app = app
        channel.subscribers.add(app)
        channel.app_name = "Stasis"
        channel.app_data = ",".join([app, *args])
        stasis_app = self.stasis.apps.get(app)
        if stasis_app is not None:
            stasis_app.channel_ids.add(channel.id)
        fields: dict[str, object] = {"args": args}
        if replace is not None:
            fields["replace_channel"] = replace.to_json()
        self.emit_channel(channel, "StasisStart", **fields)

    def leave_stasis(self, channel: Channel) -> None:
        app = channel.stasis_app
        if app is None:
            return
        self.emit_channel(channel, "StasisEnd")
        channel.stasis_app = None
        stasis_app = self.stasis.apps.get(app)
        if stasis_app is not None:
            stasis_app.channel_ids.discard(channel.id)
            if not stasis_app.active and not stasis_app.channel_ids:
                del self.stasis.apps[app]
        if channel.kind is ChannelKind.INBOUND or channel.unsubscribe_at_stasis_end:
            # Back in the dialplan (or, after a blind transfer, no longer the app's): the app is
            # unsubscribed, so it never sees ChannelDestroyed.
            channel.subscribers.discard(app)

    def hangup(
        self,
        channel: Channel,
        *,
        request: dict[str, object],
        cause: int,
        tech_cause: int | None = None,
        how: str,
        emit_request: bool = True,
    ) -> None:
        """Tear a channel down with Asterisk's event order; ``request`` = HangupRequest fields."""
        if channel.hanging_up:
            return
        channel.hanging_up = True
        self.transfers.before_hangup(channel)
        if emit_request:
            self.emit_channel(channel, "ChannelHangupRequest", **request)
        for playback in list(channel.playbacks):
            self.finish_playback(channel, playback, "failed")
        if channel.bridge_id is not None:
            self.bridging.leave(channel, hung_up=True)
        self.leave_stasis(channel)
        channel.app_name = ""
        channel.app_data = ""
        fields: dict[str, object] = {"cause": cause, "cause_txt": cause_text(cause)}
        if tech_cause is not None:
            fields["tech_cause"] = tech_cause
        self.emit_channel(channel, "ChannelDestroyed", **fields)
        current = asyncio.current_task()
        for task in list(channel.tasks):
            if task is not current:
                task.cancel()
        del self.channels[channel.id]
        if channel.endpoint is not None:
            if channel.id in channel.endpoint.channel_ids:
                channel.endpoint.channel_ids.remove(channel.id)
                self._emit_endpoint_state(channel.endpoint)
            self._update_device(channel.endpoint)
        run = self.runs.pop(channel.id, None)
        if run is not None:
            self._finish_call(run.handle, how, cause)
        self._check_idle()
        self.transfers.after_hangup(channel)

    def _check_idle(self) -> None:
        if not self.channels and all(h.ended is not None for h in self.calls.values()):
            self._idle.set()

    async def wait_idle(self) -> None:
        await self._idle.wait()

    # ------------------------------------------------------------------ scripted callers
    def place_call(self, script: CallerScript) -> CallHandle:
        app = script.app or self.default_app
        handle = CallHandle(call_id=f"call-{next(self._call_seq)}", script=script, app=app)
        handle.started = self.now()
        self.calls[handle.call_id] = handle
        if not self.stasis.is_active(app):
            # res_stasis: "Stasis app '<app>' not active" -> Stasis() fails, the dialplan
            # continues and the caller gets SIP 603 Decline.
            self._finish_call(handle, "rejected_app_not_active", 21)
            return handle
        endpoint = self.endpoints.get(script.endpoint)
        if endpoint is None:
            tech, _, resource = script.endpoint.partition("/")
            endpoint = self.endpoints[script.endpoint] = Endpoint(tech, resource)
        channel = Channel(
            id=self.ids.unique_id(),
            name=f"{script.endpoint}-{self.ids.suffix()}",
            kind=ChannelKind.INBOUND,
            creationtime=self.now(),
            protocol_id=f"{uuid.uuid4().hex[:12]}@127.0.0.1",
            state="Ring",
            caller_name=script.caller_name,
            caller_number=script.caller_number,
            context=self.dialplan.inbound_context,
            exten=script.dialled,
            priority=2,
            endpoint=endpoint,
        )
        handle.channel_id = channel.id
        self._register(channel)
        run = CallerRun(self, handle)
        self.runs[channel.id] = run
        self.enter_stasis(channel, app, [script.dialled])
        run.start()
        return handle

    def _finish_call(self, handle: CallHandle, how: str, cause: int) -> None:
        if handle.ended is not None:
            return
        handle.ended = {"at": self.now(), "how": how, "cause": cause}
        for item in handle.heard:
            if item.get("ended") is None:
                item["ended"] = handle.ended["at"]
                item["state"] = "interrupted"
        handle.done.set()
        self._check_idle()

    # CallerHost protocol
    def caller_spawn(self, run: CallerRun, coro: Callable[[], Awaitable[None]]) -> None:
        channel = self.channels.get(run.handle.channel_id or "")
        if channel is not None:
            self.spawn(channel, coro)

    def caller_hangup(self, run: CallerRun, how: str) -> None:
        channel = self.channels.get(run.handle.channel_id or "")
        if channel is None:
            return
        if channel.state == "Up":
            # The caller's BYE: ChannelHangupRequest without any cause field.
            self.hangup(channel, request={}, cause=16, how=how)
        else:
            # CANCEL before answer: 127 / 487.
            self.hangup(
                channel,
                request={"cause": 127, "tech_cause": 487},
                cause=127,
                tech_cause=487,
                how=how,
            )

    def caller_dtmf(self, run: CallerRun, digit: str, duration_ms: int) -> None:
        channel = self.channels.get(run.handle.channel_id or "")
        if channel is None:
            return
        run.handle.pressed.append({"digit": digit, "at": self.now()})
        self.emit_channel(channel, "ChannelDtmfReceived", digit=digit, duration_ms=duration_ms)

    # ------------------------------------------------------------------ REST: channels
    def answer(self, channel_id: str) -> None:
        channel = self.stasis_channel(channel_id)
        channel.tone = None if channel.tone == "ring" else channel.tone
        if channel.state != "Up":
            self.set_state(channel, "Up")
            self.transfers.on_answered(channel)
            run = self.runs.get(channel.id)
            if run is not None:
                run.on_answer(self.now())

    def set_tone(self, channel_id: str, tone: str | None, *, stop: str | None = None) -> None:
        """moh / ring / silence / hold: no ARI event at all, only what the caller hears."""
        channel = self.stasis_channel(channel_id)
        if stop is not None:
            if channel.tone is not None and channel.tone.split(":")[0] == stop:
                self._heard_end(channel, channel.tone, "stopped")
                channel.tone = None
            return
        if channel.tone is not None:
            self._heard_end(channel, channel.tone, "replaced")
        channel.tone = tone
        if tone is not None:
            self._heard_start(channel, tone, None)

    def _heard_start(self, channel: Channel, media: str, playback_id: str | None) -> None:
        run = self.runs.get(channel.id)
        if run is not None:
            run.handle.heard.append(
                {
                    "media": media,
                    "playback_id": playback_id,
                    "started": self.now(),
                    "ended": None,
                    "state": None,
                }
            )

    def _heard_end(self, channel: Channel, media: str, state: str) -> None:
        run = self.runs.get(channel.id)
        if run is None:
            return
        for item in reversed(run.handle.heard):
            if item["media"] == media and item["ended"] is None:
                item["ended"] = self.now()
                item["state"] = state
                return

    def hangup_request(self, channel_id: str, reason: str | None, reason_code: str | None) -> None:
        if reason_code:
            try:
                cause = int(reason_code)
            except ValueError:
                cause = 0
        elif reason:
            if reason not in HANGUP_REASONS:
                # Asterisk checks the channel first: an unknown channel is a 404 either way.
                self.channel(channel_id)
                raise AriRefusal(400, "Invalid reason for hangup reason provided")
            cause = HANGUP_REASONS[reason]
        else:
            cause = 16
        channel = self.channel(channel_id)
        self.hangup(
            channel,
            request={"cause": SOFTHANGUP_EXPLICIT, "soft": True},
            cause=cause,
            how="hung_up_by_app",
        )

    def get_variable(self, channel_id: str, name: str | None) -> str:
        channel = self.channel(channel_id)
        if not name:
            raise AriRefusal(400, "Variable name is required")
        if name not in channel.variables:
            raise AriRefusal(404, "Provided variable was not found")
        return channel.variables[name]

    def set_variable(self, channel_id: str, name: str | None, value: str) -> None:
        if not name:
            raise AriRefusal(400, "Variable name is required")
        # Unlike reading one, setting a variable goes through the app's control of the channel.
        channel = self.stasis_channel(channel_id)
        channel.variables[name] = value
        if not name.endswith(")"):
            # Writing a dialplan function (PJSIP_TRANSFER_HANDLING()...) sets no variable: no
            # ChannelVarset (traces/blind-transfer-ari-only).
            self.emit_channel(channel, "ChannelVarset", variable=name, value=value)

    def send_dtmf(self, channel_id: str, dtmf: str | None) -> None:
        if not dtmf:
            raise AriRefusal(400, "DTMF is required")
        channel = self.stasis_channel(channel_id)
        run = self.runs.get(channel.id)
        if run is not None:
            run.handle.heard.append(
                {
                    "media": f"dtmf:{dtmf}",
                    "playback_id": None,
                    "started": self.now(),
                    "ended": self.now(),
                    "state": "done",
                }
            )

    # ------------------------------------------------------------------ create / originate
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
        endpoint = self.endpoints.get(spec)
        if endpoint is None or not endpoint.online or spec not in self.agents:
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
    ) -> Channel:
        if channel_id:
            self._check_new_id(channel_id)
        agent = self.agents.get(f"{tech}/{resource}")
        suffix = self.ids.suffix()
        name = f"{tech}/{resource}-{suffix}" + (";1" if tech == "Local" else "")
        caller_name, caller_number = (agent.name, agent.number) if agent else ("", "")
        if caller_id:
            caller_name, caller_number = _parse_caller_id(caller_id)
        channel = Channel(
            id=channel_id or self.ids.unique_id(),
            name=name,
            kind=kind,
            creationtime=self.now(),
            protocol_id="" if tech == "Local" else str(uuid.uuid4()),
            caller_name=caller_name,
            caller_number=caller_number,
            context=self.dialplan.agent_context if agent else "default",
            exten="s",
            priority=1,
            endpoint=endpoint,
            variables=dict(variables),
        )
        return channel

    def create(
        self,
        endpoint_spec: str | None,
        app: str | None,
        app_args: str | None,
        channel_id: str | None,
        variables: dict[str, str],
    ) -> Channel:
        tech, resource, endpoint = self._resolve_endpoint(endpoint_spec)
        channel = self._new_outbound(
            tech, resource, endpoint, ChannelKind.CREATED, channel_id, variables, None
        )
        if not app:
            # Asterisk answers 200, then the channel dies at once: "Stasis app '(null)'
            # doesn't exist", and no event reaches anyone.
            return channel
        self._register(channel)
        channel.subscribers.add(app)
        args = app_args.split(",") if app_args else []

        async def enter() -> None:
            # After the 200, and after Asterisk's own delay: until the StasisStart, a dial (or
            # any operation needing the channel in the app) is refused with 409.
            delay = self.stasis_window.draw()
            if delay > 0:
                await self.clock.sleep(delay)
            else:
                await asyncio.sleep(0)
            self.emit_channel(
                channel,
                "ChannelDialplan",
                dialplan_app="Stasis",
                dialplan_app_data=",".join([app, *args]),
            )
            self.enter_stasis(channel, app, args)

        self.spawn(channel, enter)
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
    ) -> Channel:
        tech, resource, endpoint = self._resolve_endpoint(endpoint_spec)
        if not app and not extension:
            raise AriRefusal(400, "Application or extension must be specified")
        kind = ChannelKind.ORIGINATED if app else ChannelKind.DIALPLAN
        channel = self._new_outbound(
            tech, resource, endpoint, kind, channel_id, variables, caller_id
        )
        self._register(channel)
        if not app:
            channel.context = context or "default"
            channel.exten = extension or "s"
            self.spawn(channel, lambda: self._run_dialplan_only(channel))
            return channel
        channel.subscribers.add(app)
        args = app_args.split(",") if app_args else []
        seconds = float(timeout) if timeout > 0 else 30.0
        self._start_dial(channel, dialstring=resource, timeout=seconds, stasis=(app, args))
        return channel

    async def _run_dialplan_only(self, channel: Channel) -> None:
        # A channel running dialplan only (never in Stasis): it lives its scripted time.
        talk = float(channel.variables.get("TALK_SECS", "20") or 20)
        ring = float(channel.variables.get("RING_SECS", "0") or 0)
        channel.state = "Up"
        await self.clock.sleep(ring + talk)
        self.hangup(channel, request={"cause": 16}, cause=16, how="dialplan")

    def dial(self, channel_id: str, caller: str | None, timeout: int) -> None:
        channel = self.stasis_channel(channel_id)
        if channel.state != "Down" or channel.dialled:
            raise AriRefusal(409, "Channel is not in the 'Down' state")
        peer = self.channels.get(caller) if caller else None
        if peer is not None:
            channel.connected_name, channel.connected_number = peer.caller_name, peer.caller_number
            self.emit_channel(channel, "ChannelConnectedLine")
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
                await self.clock.sleep(timeout)
                if channel.state != "Up":
                    ringing = channel.state == "Ringing"
                    self.hangup(
                        channel,
                        request={"cause": SOFTHANGUP_EXPLICIT, "soft": True},
                        cause=19 if ringing else 18,
                        tech_cause=480 if ringing else None,
                        how="dial_timeout",
                    )

            self.spawn(channel, dial_timeout)
        self.spawn(channel, lambda: self._run_dial(channel, dialstring, stasis))

    async def _run_dial(
        self, channel: Channel, dialstring: str, stasis: tuple[str, list[str]] | None
    ) -> None:
        await asyncio.sleep(0)
        self.emit_channel(channel, "Dial", dialstatus="", forward="", dialstring=dialstring)
        if channel.name.startswith("Local/"):
            self._answer_outbound(channel, stasis)
            self.spawn(channel, lambda: self._run_local_peer(channel))
            return
        agent = self.agents.get(f"{channel.name.split('-')[0]}")
        response = agent.response if agent else "answer"
        if agent is not None and agent.busy_when_in_use and channel.endpoint is not None:
            others = [self.channels.get(c) for c in channel.endpoint.channel_ids if c != channel.id]
            if any(o is not None and o.state == "Up" for o in others):
                response = "busy"
        if response in ("busy", "decline"):
            sip, cause = (486, 17) if response == "busy" else (603, 21)
            self.hangup(
                channel,
                request={"cause": cause, "tech_cause": sip},
                cause=cause,
                tech_cause=sip,
                how=response,
            )
            return
        if response == "unreachable":
            await self.clock.sleep(SIP_TIMER_B)
            self.hangup(
                channel,
                request={"cause": 18, "tech_cause": 408},
                cause=18,
                tech_cause=408,
                how="unreachable",
            )
            return
        self.emit_channel(channel, "Dial", dialstatus="RINGING", forward="", dialstring=dialstring)
        self.set_state(channel, "Ringing")
        if response == "no_answer":
            return
        await self.clock.sleep(agent.ring_time if agent else 3.0)
        self._answer_outbound(channel, stasis)
        if agent is not None and agent.talk_time is not None:
            await self.clock.sleep(agent.talk_time)
            # The agent's BYE: cause 16 without tech_cause.
            self.hangup(channel, request={"cause": 16}, cause=16, how="agent_hung_up")

    def _answer_outbound(self, channel: Channel, stasis: tuple[str, list[str]] | None) -> None:
        self.set_state(channel, "Up")
        self.emit_channel(
            channel,
            "Dial",
            dialstatus="ANSWER",
            forward="",
            dialstring=channel.name.split("/", 1)[1].rsplit("-", 1)[0],
        )
        if stasis is not None:
            self.enter_stasis(channel, stasis[0], stasis[1])

    async def _run_local_peer(self, channel: Channel) -> None:
        # The ;2 half runs the recorded "sim-caller" dialplan: DTMF after 1.7 s (100 ms each),
        # then waits CALLER_WAIT seconds and hangs up.
        digits = channel.variables.get("DTMF_DIGITS") or "1"
        wait = float(channel.variables.get("CALLER_WAIT", "20") or 0)
        await self.clock.sleep(LOCAL_DTMF_AT)
        for digit in digits:
            self.emit_channel(channel, "ChannelDtmfReceived", digit=digit, duration_ms=100)
            await self.clock.sleep(0.1)
        await self.clock.sleep(max(0.25, wait))
        self.hangup(channel, request={"cause": 16}, cause=16, how="peer_hung_up")

    def continue_in_dialplan(
        self, channel_id: str, context: str | None, extension: str | None, priority: int | None
    ) -> None:
        channel = self.stasis_channel(channel_id)
        app = channel.stasis_app
        assert app is not None
        run = self.runs.get(channel.id)
        for playback in list(channel.playbacks):
            self.finish_playback(channel, playback, "done")  # leaving Stasis stops it: "done"
        self.leave_stasis(channel)
        target_context = context or channel.context
        if context and context not in self.dialplan.contexts:
            # "sent to invalid extension": destroyed with cause 0, no hang-up request.
            self.hangup(channel, request={}, cause=0, how="continued_invalid", emit_request=False)
            if channel.kind is not ChannelKind.INBOUND:
                # Recorded after the destruction: the outgoing leg's own dialplan location.
                channel.context, channel.exten, channel.priority = context, "s", 1
                channel.app_name, channel.app_data = "AppDial2", "(Outgoing Line)"
                self.emit_channel(
                    channel,
                    "ChannelDialplan",
                    dialplan_app="AppDial2",
                    dialplan_app_data="(Outgoing Line)",
                )
            return
        if extension and target_context == self.dialplan.inbound_context:
            channel.context, channel.exten, channel.priority = target_context, extension, 2
            if self.stasis.is_active(app):
                if channel.kind is ChannelKind.INBOUND:
                    channel.subscribers.add(app)
                self.enter_stasis(channel, app, [extension])
                return
        where = f"{target_context},{extension or channel.exten},{priority or channel.priority + 1}"
        if run is not None:
            run.handle.heard.append(
                {
                    "media": f"dialplan:{where}",
                    "playback_id": None,
                    "started": self.now(),
                    "ended": self.now(),
                    "state": "done",
                }
            )
        self.hangup(channel, request={}, cause=16, how=f"continued:{where}", emit_request=False)

    def redirect(self, channel_id: str, endpoint: str | None) -> None:
        if not endpoint:
            raise AriRefusal(400, "Required parameter 'endpoint' not provided.")
        channel = self.stasis_channel(channel_id)
        # The phone is sent elsewhere (SIP 302): for the app the channel just goes away.
        self.hangup(channel, request={"cause": 16}, cause=16, how=f"redirected:{endpoint}")

    # ------------------------------------------------------------------ playbacks
    def play(
        self,
        target: Channel | Bridge,
        media: list[str],
        lang: str | None,
        playback_id: str | None,
    ) -> Playback:
        if not media or not all(media):
            raise AriRefusal(500, "Failed to queue media for playback")
        if isinstance(target, Channel):
            uri = f"channel:{target.id}"
            language = lang or target.language
        else:
            uri = f"bridge:{target.id}"
            language = lang or "en"
        playback = Playback(
            id=playback_id or str(uuid.uuid4()), media=media, target_uri=uri, language=language
        )
        self.playbacks[playback.id] = playback
        target.playbacks.append(playback)
        if len(target.playbacks) == 1:
            self._start_playback(target, playback)
        return playback

    def _owner(self, target: Channel | Bridge) -> Channel | None:
        if isinstance(target, Channel):
            return target
        return None

    def _start_playback(self, target: Channel | Bridge, playback: Playback) -> None:
        async def run() -> None:
            await asyncio.sleep(0)
            await self._run_playback(target, playback)

        if isinstance(target, Channel):
            self.spawn(target, run)
        else:
            task = asyncio.get_running_loop().create_task(run())
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            playback.task = task

    def _emit_playback(self, target: Channel | Bridge, kind: str, playback: Playback) -> None:
        event = self.event(kind, playback=playback.to_json())
        if isinstance(target, Channel):
            self.stasis.emit(event, channels=(target,))
        else:
            members = [self.channels[c] for c in target.channels if c in self.channels]
            self.stasis.emit(event, channels=members, bridge=target)

    def _listeners(self, target: Channel | Bridge) -> list[Channel]:
        if isinstance(target, Channel):
            return [target]
        return [self.channels[c] for c in target.channels if c in self.channels]

    async def _run_playback(self, target: Channel | Bridge, playback: Playback) -> None:
        if isinstance(target, Channel) and target.tone == "moh":
            self._heard_end(target, "moh", "stopped_by_playback")  # a playback stops MOH
            target.tone = None
        playback.task = asyncio.current_task()
        for index in range(len(playback.media)):
            playback.index = index
            playback.state = "playing"
            self._emit_playback(target, "PlaybackStarted", playback)
            for listener in self._listeners(target):
                self._heard_start(listener, playback.media_uri, playback.id)
                run = self.runs.get(listener.id)
                if run is not None:
                    run.on_prompt_started(playback.media_uri)
            duration = self.media.duration(playback.media_uri)
            if duration is UNSUPPORTED:
                # Started, then silently dropped: no PlaybackFinished ever (rest-errors).
                self._drop_playback(target, playback)
                return
            if duration is None:
                self.finish_playback(target, playback, "failed")
                return
            assert isinstance(duration, float)
            if math.isinf(duration):
                await asyncio.Event().wait()
            await self.clock.sleep(duration)
            if index + 1 < len(playback.media):
                playback.state = "continuing"
                for listener in self._listeners(target):
                    self._heard_end(listener, playback.media_uri, "done")
                self._emit_playback(target, "PlaybackContinuing", playback)
        playback.task = None
        self.finish_playback(target, playback, "done")

    def _drop_playback(self, target: Channel | Bridge, playback: Playback) -> None:
        if playback in target.playbacks:
            target.playbacks.remove(playback)
        if self.playbacks.get(playback.id) is playback:
            del self.playbacks[playback.id]
        for listener in self._listeners(target):
            self._heard_end(listener, playback.media_uri, "unsupported")
        if target.playbacks:
            self._start_playback(target, target.playbacks[0])

    def finish_playback(self, target: Channel | Bridge, playback: Playback, state: str) -> None:
        was_current = bool(target.playbacks) and target.playbacks[0] is playback
        if playback in target.playbacks:
            target.playbacks.remove(playback)
        if self.playbacks.get(playback.id) is playback:
            del self.playbacks[playback.id]
        if playback.task is not None and playback.task is not asyncio.current_task():
            playback.task.cancel()
        playback.task = None
        if not was_current:
            return  # a queued playback goes away silently
        playback.state = state
        self._emit_playback(target, "PlaybackFinished", playback)
        for listener in self._listeners(target):
            self._heard_end(listener, playback.media_uri, state)
        if target.playbacks and not (isinstance(target, Channel) and target.hanging_up):
            self._start_playback(target, target.playbacks[0])

    def stop_playback(self, playback_id: str) -> None:
        playback = self.playbacks.get(playback_id)
        if playback is None:
            raise AriRefusal(404, "Playback not found")
        target = self._playback_target(playback)
        if target is None:
            raise AriRefusal(404, "Playback not found")
        self.finish_playback(target, playback, "done")

    def control_playback(self, playback_id: str, operation: str | None) -> None:
        playback = self.playbacks.get(playback_id)
        if playback is None:
            raise AriRefusal(404, "Playback not found")
        if operation not in ("restart", "pause", "unpause", "reverse", "forward"):
            raise AriRefusal(400, "Invalid operation")
        if playback.state == "queued":
            raise AriRefusal(409, "Playback not in a valid state")

    def _playback_target(self, playback: Playback) -> Channel | Bridge | None:
        kind, _, target_id = playback.target_uri.partition(":")
        if kind == "channel":
            return self.channels.get(target_id)
        return self.bridges.get(target_id)


def _parse_caller_id(text: str) -> tuple[str, str]:
    """``Name <number>`` -> (name, number), as Asterisk's ast_callerid_parse."""
    if "<" in text and text.endswith(">"):
        name, _, number = text[:-1].partition("<")
        return name.strip().strip('"'), number.strip()
    if text.replace("+", "").isdigit():
        return "", text
    return text, ""
