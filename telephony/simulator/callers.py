"""Scripted callers: their calls placed into the dialplan, what they do, and what they hear.

A :class:`~.people.CallerRun` plays a caller's script and acts back through the narrow
``CallerHost`` this class implements; ``heard`` lists every prompt, tone and transfer a caller
heard, with its start, end and how it ended (the tests read it).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from telephony.clock import Clock

from .people import CallerRun, CallHandle
from .resources import Channel, ChannelKind, Endpoint
from .scripts import CallerScript

if TYPE_CHECKING:
    from .engine import Engine


class Callers:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._call_seq = itertools.count(1)

    @property
    def clock(self) -> Clock:
        return self.engine.clock

    def place_call(self, script: CallerScript) -> CallHandle:
        app = script.app or self.engine.default_app
        handle = CallHandle(call_id=f"call-{next(self._call_seq)}", script=script, app=app)
        handle.started = self.engine.now()
        self.engine.calls[handle.call_id] = handle
        if not self.engine.stasis.is_active(app):
            # res_stasis: "Stasis app '<app>' not active" -> Stasis() fails, the dialplan
            # continues and the caller gets SIP 603 Decline.
            self.finish_call(handle, "rejected_app_not_active", 21)
            return handle
        context = script.context or self.engine.dialplan.inbound_context
        args = [script.dialled]
        if context == self.engine.dialplan.agent_context:
            codes = self.engine.dialplan.agent_code_args(script.dialled)
            if codes is None:
                # Not a code: the colleague, emergency and outside numbers are not simulated.
                self.finish_call(handle, "not_simulated", 1)
                return handle
            args = codes
        elif context != self.engine.dialplan.inbound_context:
            self.finish_call(handle, "no_such_context", 1)
            return handle
        endpoint = self.engine.endpoints.get(script.endpoint)
        if endpoint is None:
            tech, _, resource = script.endpoint.partition("/")
            endpoint = self.engine.endpoints[script.endpoint] = Endpoint(tech, resource)
        channel = Channel(
            id=self.engine.ids.unique_id(),
            name=f"{script.endpoint}-{self.engine.ids.suffix()}",
            kind=ChannelKind.INBOUND,
            creationtime=self.engine.now(),
            protocol_id=f"{uuid.uuid4().hex[:12]}@127.0.0.1",
            state="Ring",
            caller_name=script.caller_name,
            caller_number=script.caller_number,
            context=context,
            exten=script.dialled,
            priority=2,
            endpoint=endpoint,
        )
        handle.channel_id = channel.id
        self.engine.register(channel)
        run = CallerRun(self, handle)
        self.engine.runs[channel.id] = run
        self.engine.enter_stasis(channel, app, args)
        run.start()
        return handle

    def finish_call(self, handle: CallHandle, how: str, cause: int) -> None:
        if handle.ended is not None:
            return
        handle.ended = {"at": self.engine.now(), "how": how, "cause": cause}
        for item in handle.heard:
            if item.get("ended") is None:
                item["ended"] = handle.ended["at"]
                item["state"] = "interrupted"
        handle.done.set()
        self.engine.check_idle()

    # --- CallerHost: what a scripted caller does to its channel

    def caller_spawn(self, run: CallerRun, coro: Callable[[], Awaitable[None]]) -> None:
        channel = self.engine.channels.get(run.handle.channel_id or "")
        if channel is not None:
            self.engine.spawn(channel, coro)

    def caller_hangup(self, run: CallerRun, how: str) -> None:
        channel = self.engine.channels.get(run.handle.channel_id or "")
        if channel is None:
            return
        if channel.state == "Up":
            # The caller's BYE: ChannelHangupRequest without any cause field.
            self.engine.hangup(channel, request={}, cause=16, how=how)
        else:
            # CANCEL before answer: 127 / 487.
            self.engine.hangup(
                channel,
                request={"cause": 127, "tech_cause": 487},
                cause=127,
                tech_cause=487,
                how=how,
            )

    def caller_dtmf(self, run: CallerRun, digit: str, duration_ms: int) -> None:
        channel = self.engine.channels.get(run.handle.channel_id or "")
        if channel is None:
            return
        run.handle.pressed.append({"digit": digit, "at": self.engine.now()})
        self.engine.note(channel, "dtmf", digit=digit)
        self.engine.emit_channel(
            channel, "ChannelDtmfReceived", digit=digit, duration_ms=duration_ms
        )

    def heard_start(self, channel: Channel, media: str, playback_id: str | None) -> None:
        run = self.engine.runs.get(channel.id)
        if run is not None:
            run.handle.heard.append(
                {
                    "media": media,
                    "playback_id": playback_id,
                    "started": self.engine.now(),
                    "ended": None,
                    "state": None,
                }
            )

    def heard_end(self, channel: Channel, media: str, state: str) -> None:
        run = self.engine.runs.get(channel.id)
        if run is None:
            return
        for item in reversed(run.handle.heard):
            if item["media"] == media and item["ended"] is None:
                item["ended"] = self.engine.now()
                item["state"] = state
                return

    def heard_now(self, channel: Channel, media: str) -> None:
        """Something the caller hears at once, with no duration (DTMF sent, back to dialplan)."""
        run = self.engine.runs.get(channel.id)
        if run is not None:
            now = self.engine.now()
            run.handle.heard.append(
                {"media": media, "playback_id": None, "started": now, "ended": now, "state": "done"}
            )
