"""Bridges: create, add/remove channels, destroy, with Asterisk's events and quirks.

Quirks reproduced (traces/bridge-destroyed-delivery, moh-while-waiting): no BridgeCreated for
REST bridges; BridgeDestroyed only when a channel hung up inside; the technology switches to
``native_rtp`` once two SIP channels are in a mixing bridge (visible in the next event only);
bridge MOH produces no event.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from .errors import AriRefusal
from .resources import Bridge, Channel, ChannelKind

if TYPE_CHECKING:
    from .engine import Engine

BRIDGE_TYPES = frozenset(
    {"mixing", "holding", "dtmf_events", "proxy_media", "video_sfu", "video_single", "sdp_label"}
)


class Bridging:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, bridge_id: str) -> Bridge:
        bridge = self.engine.bridges.get(bridge_id)
        if bridge is None:
            raise AriRefusal(404, "Bridge not found")
        return bridge

    def create(self, kind: str | None, bridge_id: str | None, name: str | None) -> Bridge:
        tokens = [t for t in (kind or "mixing").split(",") if t]
        if (
            not tokens
            or any(t not in BRIDGE_TYPES for t in tokens)
            or ("mixing" in tokens and "holding" in tokens)
        ):
            raise AriRefusal(500, "Unable to create bridge. Possible duplicate bridge id '(null)'")
        if bridge_id and bridge_id in self.engine.bridges:
            raise AriRefusal(409, f"Bridge with id '{bridge_id}' already exists")
        holding = "holding" in tokens
        bridge = Bridge(
            id=bridge_id or str(uuid.uuid4()),
            bridge_type="holding" if holding else "mixing",
            name=name or "",
            creationtime=self.engine.now(),
            technology="holding_bridge" if holding else "simple_bridge",
        )
        self.engine.bridges[bridge.id] = bridge
        return bridge

    def _emit(self, kind: str, bridge: Bridge, channel: Channel | None) -> None:
        event = self.engine.event(kind, bridge=bridge.to_json())
        channels: tuple[Channel, ...] = ()
        if channel is not None:
            event["channel"] = channel.to_json()
            channels = (channel,)
        self.engine.stasis.emit(event, channels=channels, bridge=bridge)

    def add_channels(self, bridge_id: str, channel_param: str | None) -> None:
        if not channel_param:
            raise AriRefusal(400, "Missing parameter channel")
        bridge = self.get(bridge_id)
        channels: list[Channel] = []
        for channel_id in channel_param.split(","):
            channel = self.engine.channels.get(channel_id)
            if channel is None:
                raise AriRefusal(400, "Channel not found")
            if channel.stasis_app is None:
                raise AriRefusal(422, "Channel not in Stasis application")
            channels.append(channel)
        for channel in channels:
            if channel.bridge_id == bridge.id:
                continue
            if channel.bridge_id is not None:
                self.leave(channel, hung_up=False)
            self._enter(bridge, channel)

    def _member(self, bridge: Bridge, channel: Channel, *, joins: bool) -> None:
        """The channel's app follows the bridge while one of its channels is in it."""
        app = self.engine.stasis.apps.get(channel.stasis_app or "")
        if app is None:
            return
        members = app.bridge_members.setdefault(bridge.id, set())
        if joins:
            members.add(channel.id)
            return
        members.discard(channel.id)
        if not members:
            del app.bridge_members[bridge.id]

    def _enter(self, bridge: Bridge, channel: Channel) -> None:
        engine = self.engine
        bridge.channels.append(channel.id)
        channel.bridge_id = bridge.id
        if channel.stasis_app is not None:
            bridge.subscribers.add(channel.stasis_app)
            self._member(bridge, channel, joins=True)
        if channel.tone in ("ring", "moh"):
            engine.callers.heard_end(channel, channel.tone, "bridged")
            channel.tone = None
        self._emit("ChannelEnteredBridge", bridge, channel)
        others = [engine.channels[c] for c in bridge.channels if c != channel.id]
        engine.note(channel, "bridged", bridge=bridge.id, **{"with": [o.id for o in others]})
        for other in others:
            engine.note(other, "joined", bridge=bridge.id, by=channel.id)
        if bridge.bridge_type == "mixing" and others:
            # Connected line: the newcomer first, then those already in (originate-agent-first).
            for who, peer in [(channel, others[0])] + [(o, channel) for o in others]:
                if (who.connected_name, who.connected_number) != (
                    peer.caller_name,
                    peer.caller_number,
                ):
                    who.connected_name = peer.caller_name
                    who.connected_number = peer.caller_number
                    engine.emit_channel(who, "ChannelConnectedLine")
                    engine.transfers.connected_changed(who)
            for who in [channel, *others]:
                peer = others[0] if who is channel else channel
                run = engine.runs.get(who.id)
                if run is not None:
                    run.on_bridged(
                        {"channel": peer.name, "number": peer.caller_number, "at": engine.now()}
                    )
                engine.transfers.on_bridged(who, peer)
        self._retech(bridge)

    def swap(self, bridge: Bridge, out: Channel, into: Channel) -> None:
        """``into`` takes ``out``'s place (blind transfer): the others never leave the bridge,
        so nobody is told they are alone. The technology changes after both events."""
        if out.id in bridge.channels:
            bridge.channels.remove(out.id)
        out.bridge_id = None
        self._member(bridge, out, joins=False)
        self.engine.note(out, "unbridged", bridge=bridge.id)
        self._emit("ChannelLeftBridge", bridge, out)
        others = list(bridge.channels)
        bridge.channels.append(into.id)
        into.bridge_id = bridge.id
        self.engine.note(into, "bridged", bridge=bridge.id, **{"with": others})
        if into.stasis_app is not None:
            bridge.subscribers.add(into.stasis_app)
            self._member(bridge, into, joins=True)
        self._emit("ChannelEnteredBridge", bridge, into)
        self._retech(bridge)

    def _retech(self, bridge: Bridge) -> None:
        if bridge.bridge_type != "mixing":
            return
        members = [self.engine.channels.get(c) for c in bridge.channels]
        sip_pair = len(members) == 2 and all(
            m is not None and m.name.startswith("PJSIP/") for m in members
        )
        bridge.technology = "native_rtp" if sip_pair else "simple_bridge"

    def leave(self, channel: Channel, *, hung_up: bool) -> None:
        bridge = self.engine.bridges.get(channel.bridge_id or "")
        channel.bridge_id = None
        if bridge is None:
            return
        if channel.id in bridge.channels:
            bridge.channels.remove(channel.id)
        self._member(bridge, channel, joins=False)
        if hung_up:
            bridge.hangup_inside = True
        self.engine.note(channel, "unbridged", bridge=bridge.id)
        self._emit("ChannelLeftBridge", bridge, channel)
        self._retech(bridge)
        self._unbridged(bridge, channel)

    def _unbridged(self, bridge: Bridge, gone: Channel) -> None:
        engine = self.engine
        run = engine.runs.get(gone.id)
        if run is not None and not gone.hanging_up:
            run.on_unbridged()
        if len(bridge.channels) < 2:
            for channel_id in bridge.channels:
                other = engine.runs.get(channel_id)
                if other is not None:
                    other.on_unbridged()

    def remove_channel(self, bridge_id: str, channel_id: str | None) -> None:
        if not channel_id:
            raise AriRefusal(400, "Missing parameter channel")
        bridge = self.get(bridge_id)
        channel = self.engine.channels.get(channel_id)
        if channel is None:
            raise AriRefusal(400, "Channel not found")
        if channel.stasis_app is None:
            raise AriRefusal(422, "Channel not in Stasis application")
        if channel.bridge_id != bridge.id:
            raise AriRefusal(422, "Channel not in this bridge")
        self.leave(channel, hung_up=False)

    def destroy(self, bridge_id: str) -> None:
        bridge = self.get(bridge_id)
        for playback in list(bridge.playbacks):
            self.engine.player.finish(bridge, playback, "done")
        for channel_id in list(bridge.channels):
            channel = self.engine.channels.get(channel_id)
            if channel is not None:
                self.leave(channel, hung_up=False)
        del self.engine.bridges[bridge.id]
        for app in self.engine.stasis.apps.values():
            app.bridge_members.pop(bridge.id, None)
        if bridge.hangup_inside:
            self._emit("BridgeDestroyed", bridge, None)

    def set_moh(self, bridge_id: str, on: bool) -> None:
        bridge = self.get(bridge_id)
        bridge.moh = on
        for channel_id in bridge.channels:
            channel = self.engine.channels.get(channel_id)
            if channel is None:
                continue
            if on:
                self.engine.callers.heard_start(channel, "moh", None)
            else:
                self.engine.callers.heard_end(channel, "moh", "stopped")

    @staticmethod
    def is_caller(channel: Channel) -> bool:
        return channel.kind is ChannelKind.INBOUND
