"""The simulated Asterisk: its state (channels, bridges, playbacks, phones, calls) and the
channel operations every part shares — register, state changes, entering and leaving Stasis,
the hang-up with Asterisk's event order, and the channel REST operations (answer, tones,
variables, DTMF, continue, redirect).

Every operation either raises :class:`AriRefusal` with Asterisk's status and body, or changes the
state and emits the events Asterisk 22 emits, in the same order (see the traces recorded from a
real Asterisk in ``tests/data/ari-traces`` and their README). The engine's parts, one role each,
act on that state through it: ``devices`` (phones and device states), ``callers`` (scripted
callers and what they hear), ``dialling`` (create, originate, dial, agents' phones),
``playback`` (the :class:`Player`), ``bridging``, ``transfer``. HTTP is in ``ari_http``. Timers
are tasks sleeping on the clock, attached to the channel they concern and cancelled when it
goes away.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telephony.clock import Clock

from .bridging import Bridging
from .callers import Callers
from .devices import Devices
from .dialling import Dialling
from .errors import AriRefusal, channel_not_found, not_in_stasis
from .history import History
from .latency import StasisWindow
from .local import LocalChannels
from .media import MediaCatalogue
from .people import CallerRun, CallHandle
from .playback import Player
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
from .scripts import AgentScript
from .stasis import StasisApps
from .transfer import Transfers

log = logging.getLogger(__name__)

STASIS_ENTERING = frozenset({"Ring", "Up", "Down", "Ringing"})


@dataclass
class DialplanConfig:
    """The little of the dialplan the simulator needs to know."""

    inbound_context: str = "from-callers"  # exten => _X.,n,Stasis(<app>,${EXTEN})
    # The shipped dialplan's context for the operator's calls (asterisk/extensions.conf): +33
    # numbers in national form, no number at all as "standard", language fr, then Stasis().
    trunk_context: str = "from-trunk"
    agent_context: str = "from-agents"
    # Agents' blind transfers (asterisk/extensions.conf): Stasis(<app>,${EXTEN},transfer).
    transfer_context: str = "decroche-transfer"
    # Known contexts (continuing elsewhere is Asterisk's "invalid extension"): the shipped
    # dialplan's, decroche-fallback included (where decroche hands back what it cannot handle).
    contexts: set[str] = field(
        default_factory=lambda: {
            "from-callers", "from-trunk", "from-agents", "decroche-transfer", "default",
            "sim-caller", "decroche-fallback",
        }
    )  # fmt: skip
    # A call carrying this variable (decroche's audit calls) is hung up when Stasis() fails,
    # instead of going to the fallback ring group.
    audit_variable: str = "DECROCHE_AUDIT"
    # The agents' codes, as the shipped dialplan's [agent-dial] has them: ``*51`` enters
    # Stasis(<app>,agent-login), ``*51`` followed by digits Stasis(<app>,agent-login,<digits>).
    agent_codes: dict[str, str] = field(
        default_factory=lambda: {"*51": "agent-login", "*52": "agent-logout", "*53": "agent-pause"}
    )

    def is_inbound(self, context: str) -> bool:
        """Whether calls in ``context`` enter Stasis(<app>,${EXTEN}) as callers."""
        return context in (self.inbound_context, self.trunk_context)

    def inbound_exten(self, context: str, exten: str) -> str:
        """The number Stasis() is given for ``exten`` dialled in an inbound context."""
        if context != self.trunk_context:
            return exten
        if exten.startswith("+33"):
            return "0" + exten[3:]
        return "standard" if exten == "s" else exten

    def stasis_priority(self, context: str) -> int:
        """The priority of the Stasis() line in an inbound or the transfer context (after
        NoOp and Set(language) in the shipped from-trunk and decroche-transfer)."""
        return 3 if context in (self.trunk_context, self.transfer_context) else 2

    def stasis_args(self, context: str, exten: str) -> list[str] | None:
        """The arguments a channel reaching ``exten@context`` enters the app with (None: that
        context does not enter the app)."""
        if self.is_inbound(context):
            return [self.inbound_exten(context, exten)]
        if context == self.transfer_context:
            return [exten, "transfer"]
        return None

    def agent_code_args(self, exten: str) -> list[str] | None:
        """The Stasis arguments an agent's phone dialling ``exten`` enters with (None: not a
        code)."""
        code, digits = exten[:3], exten[3:]
        action = self.agent_codes.get(code)
        if action is None:
            return None
        if not digits:
            return [action]
        return [action, digits] if digits.isdigit() else None


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
        self._idle = asyncio.Event()
        self._idle.set()
        # What happened on every channel (``history``), when a test asks for it.
        self.history: History | None = None
        # When this Asterisk started (GET /asterisk/info): a restart changes it.
        self.started_at = self.now()
        # The engine's parts, by role; each acts on the state above through the engine.
        self.devices = Devices(self)
        self.callers = Callers(self)
        self.dialling = Dialling(self)
        self.player = Player(self)
        self.bridging = Bridging(self)
        self.locals = LocalChannels(self)
        self.transfers = Transfers(self)

    # ------------------------------------------------------------------ helpers
    def now(self) -> str:
        return self.stasis.timestamp()

    def event(self, kind: str, **fields: object) -> JsonDict:
        return {"type": kind, "timestamp": self.now(), **fields}

    def note(self, channel: Channel, what: str, **fields: object) -> None:
        """Keep a fact of ``channel``'s life in the history, if one is kept."""
        if self.history is not None:
            self.history.note(self.now(), channel.id, what, **fields)

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

    def check_new_id(self, channel_id: str) -> None:
        # Asterisk's legacy container matches on prefixes: an id that is a prefix of a live
        # channel's id is refused as well (traces/README.md, rest-errors).
        for existing in self.channels:
            if existing.startswith(channel_id):
                raise AriRefusal(409, "Channel with given unique ID already exists")

    def register(self, channel: Channel) -> None:
        self.channels[channel.id] = channel
        self._idle.clear()
        if self.history is not None:
            self.history.born(
                self.now(),
                channel_id=channel.id,
                name=channel.name,
                kind=channel.kind.value,
                endpoint=channel.endpoint.name if channel.endpoint is not None else None,
                originator=channel.originator,
                local_peer=channel.local_peer.id if channel.local_peer is not None else None,
            )
        if channel.endpoint is not None:
            channel.endpoint.channel_ids.append(channel.id)
            # Asterisk republishes the endpoint's snapshot whenever a channel comes or goes: apps
            # subscribed to the endpoint get it as an EndpointStateChange with its channel_ids.
            self.devices.emit_endpoint_state(channel.endpoint)
            self.devices.update(channel.endpoint)

    # ------------------------------------------------------------------ state changes
    def set_state(self, channel: Channel, state: str) -> None:
        if channel.state == state:
            return
        channel.state = state
        self.note(channel, "state", state=state)
        self.emit_channel(channel, "ChannelStateChange")
        if channel.endpoint is not None:
            self.devices.update(channel.endpoint)

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
        self.note(
            channel, "stasis_start", app=app, args=list(args), number=channel.caller_number,
            replacing=replace.id if replace is not None else None,
        )  # fmt: skip
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
        self.note(channel, "hangup", how=how, cause=cause)
        self.transfers.before_hangup(channel)
        if emit_request:
            self.emit_channel(channel, "ChannelHangupRequest", **request)
        for playback in list(channel.playbacks):
            self.player.finish(channel, playback, "failed")
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
                self.devices.emit_endpoint_state(channel.endpoint)
            self.devices.update(channel.endpoint)
        run = self.runs.pop(channel.id, None)
        if run is not None:
            self.callers.finish_call(run.handle, how, cause)
        self.check_idle()
        self.locals.after_hangup(channel)

    def check_idle(self) -> None:
        if not self.channels and all(h.ended is not None for h in self.calls.values()):
            self._idle.set()

    async def wait_idle(self) -> None:
        await self._idle.wait()

    # ------------------------------------------------------------------ REST: channels
    def answer(self, channel_id: str) -> None:
        channel = self.stasis_channel(channel_id)
        if channel.tone == "ring":
            # Before the answer, ring is SIP 180: the caller's own ring-back, which the 200 ends.
            self.callers.heard_end(channel, "ring", "answered")
            channel.tone = None
        if channel.state != "Up":
            self.set_state(channel, "Up")
            self.transfers.on_answered(channel)
            self.locals.answered(channel)
            run = self.runs.get(channel.id)
            if run is not None:
                run.on_answer(self.now())

    def set_tone(self, channel_id: str, tone: str | None, *, stop: str | None = None) -> None:
        """moh / ring / silence / hold: no ARI event at all, only what the caller hears."""
        channel = self.stasis_channel(channel_id)
        if stop is not None:
            if channel.tone is not None and channel.tone.split(":")[0] == stop:
                self.callers.heard_end(channel, channel.tone, "stopped")
                channel.tone = None
                self.note(channel, "tone", tone=None)
            return
        if channel.tone is not None:
            self.callers.heard_end(channel, channel.tone, "replaced")
        channel.tone = tone
        self.note(channel, "tone", tone=tone)
        if tone is not None:
            self.callers.heard_start(channel, tone, None)

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

    def send_dtmf(
        self,
        channel_id: str,
        dtmf: str | None,
        *,
        before_ms: int = 0,
        between_ms: int = 100,
        duration_ms: int = 100,
        after_ms: int = 0,
    ) -> None:
        if not dtmf:
            raise AriRefusal(400, "DTMF is required")
        channel = self.stasis_channel(channel_id)
        self.locals.send_dtmf(
            channel,
            dtmf,
            before_ms=before_ms,
            between_ms=between_ms,
            duration_ms=duration_ms,
            after_ms=after_ms,
        )
        self.callers.heard_now(channel, f"dtmf:{dtmf}")

    def continue_in_dialplan(
        self, channel_id: str, context: str | None, extension: str | None, priority: int | None
    ) -> None:
        channel = self.stasis_channel(channel_id)
        app = channel.stasis_app
        assert app is not None
        for playback in list(channel.playbacks):
            self.player.finish(channel, playback, "done")  # leaving Stasis stops it: "done"
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
        self.callers.heard_now(channel, f"dialplan:{where}")
        self.hangup(channel, request={}, cause=16, how=f"continued:{where}", emit_request=False)

    def redirect(self, channel_id: str, endpoint: str | None) -> None:
        if not endpoint:
            raise AriRefusal(400, "Required parameter 'endpoint' not provided.")
        channel = self.stasis_channel(channel_id)
        # The phone is sent elsewhere (SIP 302): for the app the channel just goes away.
        self.hangup(channel, request={"cause": 16}, cause=16, how=f"redirected:{endpoint}")
