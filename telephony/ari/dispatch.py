"""Route ARI events to calls, each call's events in the order Asterisk sent them.

One :class:`CallInbox` (an ordered queue) per call and one task per call that reads it — never a
task per event, so a call's events can never overtake each other. :meth:`Dispatcher.dispatch` is
synchronous and cheap; give it to :class:`telephony.ari.stream.EventStream` as its sink.

Routing (first id that is bound to a live call wins, see :func:`routing_keys`):

- ``StasisStart`` of a channel nobody bound opens a new call: ``open_call(event, inbox)`` returns
  the coroutine that runs the call (or ``None`` to decline). The call's key is that inbound
  channel's id. A ``StasisStart`` with ``replace_channel`` (blind transfer swapping a Local
  channel into a bridge) joins the call of the replaced channel.
- The flow binds the channels it creates (agents) with :meth:`Dispatcher.bind` *before*
  creating them, and its bridges with :meth:`Dispatcher.bind_bridge`.
- Channel events by ``channel.id``; playbacks and recordings by ``target_uri``
  (``channel:<id>`` / ``bridge:<id>``); bridge events by the channel in them, then the bridge;
  ``Dial`` by ``peer.id``; transfers by every channel they name.
- ``DeviceStateChanged``, ``EndpointStateChange`` and the other events about no call go to
  ``on_global``.
- A call Asterisk lost while we were not listening (it restarted) is ended by
  :meth:`Dispatcher.lose`: its inbox raises :class:`CallLost` once its queued events are read.
- ``StasisEnd`` of the call's inbound channel is delivered, then the inbox ends: the next
  :meth:`CallInbox.get` raises :class:`CallEnded`, and the call's bindings are dropped (a later
  ``StasisStart`` of the same channel, after ``continue``, opens a new call). Other channels stay
  bound until their ``ChannelDestroyed`` (it carries the real hang-up cause, after StasisEnd).

Events for no live call are counted (``counters.unrouted``) and passed to ``on_unrouted``
(default: a debug log line). Durations must come from the events' ``timestamp``, never from the
time an event was received or dequeued.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telephony.ari.errors import AriError
from telephony.ari.models import (
    BridgeAttendedTransfer,
    BridgeBlindTransfer,
    ChannelTransfer,
    Dial,
    Event,
    PlaybackContinuing,
    PlaybackFinished,
    PlaybackStarted,
    RecordingFailed,
    RecordingFinished,
    RecordingStarted,
    StasisEnd,
    StasisStart,
)

log = logging.getLogger(__name__)

CallKey = str
CallRunner = Coroutine[Any, Any, None]
CallOpener = Callable[[StasisStart, "CallInbox"], CallRunner | None]

# Events that concern no call: agents' phones and the application itself.
GLOBAL_EVENT_TYPES = frozenset(
    {
        "DeviceStateChanged",
        "EndpointStateChange",
        "PeerStatusChange",
        "ContactStatusChange",
        "ApplicationReplaced",
        "ApplicationRegistered",
        "ApplicationUnregistered",
        "ApplicationMoveFailed",
        "TextMessageReceived",
        "RESTResponse",
    }
)

CHANNEL = "channel"
BRIDGE = "bridge"


class CallEnded(AriError):
    """The call's inbound channel left our application; its inbox holds nothing more."""

    def __init__(self, key: CallKey) -> None:
        self.key = key
        super().__init__(f"call {key} has ended (StasisEnd of its inbound channel)")


class CallLost(CallEnded):
    """Asterisk lost the call while we were not listening (it restarted): no StasisEnd will
    ever come; ``at`` is the last moment it was known to be there."""

    def __init__(self, key: CallKey, at: datetime) -> None:
        self.key = key
        self.at = at
        AriError.__init__(self, f"call {key} was lost by Asterisk (last known at {at})")


class CallInbox:
    """The ordered events of one call, read by that call's task only.

    Wrap waits in a timeout (``telephony.clock.wait_for(clock, inbox.get(), seconds)``).
    """

    __slots__ = ("_ended", "_items", "_lost_at", "_waiter", "delivered", "key", "start")

    def __init__(self, key: CallKey, start: StasisStart) -> None:
        self.key = key
        self.start = start
        self.delivered = 0
        self._items: deque[Event] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._ended = False
        self._lost_at: datetime | None = None

    @property
    def ended(self) -> bool:
        """True once the call's end was queued (events before it may still be unread)."""
        return self._ended

    def __len__(self) -> int:
        return len(self._items)

    async def get(self) -> Event:
        """The next event of this call; :class:`CallEnded` once the final StasisEnd was read."""
        while not self._items:
            if self._ended:
                raise self._end_error()
            waiter = asyncio.get_running_loop().create_future()
            self._waiter = waiter
            try:
                await waiter
            finally:
                self._waiter = None
        return self._items.popleft()

    async def wait(self) -> None:
        """Until an event is queued, or the call's end; nothing is taken (see :meth:`get`)."""
        while not self._items and not self._ended:
            waiter = asyncio.get_running_loop().create_future()
            self._waiter = waiter
            try:
                await waiter
            finally:
                # Cancelled, this may run after a get() set its own waiter: leave that one.
                if self._waiter is waiter:
                    self._waiter = None

    def get_nowait(self) -> Event | None:
        """The next event if one is queued, else ``None`` (``CallEnded`` at the end)."""
        if self._items:
            return self._items.popleft()
        if self._ended:
            raise self._end_error()
        return None

    def _end_error(self) -> CallEnded:
        if self._lost_at is not None:
            return CallLost(self.key, self._lost_at)
        return CallEnded(self.key)

    def _put(self, event: Event) -> None:
        self._items.append(event)
        self.delivered += 1
        self._wake()

    def _end(self) -> None:
        self._ended = True
        self._wake()

    def _lose(self, at: datetime) -> None:
        if not self._ended:
            self._lost_at = at
        self._end()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


@dataclass(slots=True)
class DispatchCounters:
    events: int = 0
    routed: int = 0
    calls_opened: int = 0
    calls_declined: int = 0
    calls_failed: int = 0
    global_events: int = 0
    unrouted: int = 0


def _channel_id(event: Any) -> str | None:
    channel = getattr(event, "channel", None)
    return getattr(channel, "id", None) if channel is not None else None


def _target(uri: str) -> tuple[str, str] | None:
    kind, sep, ident = uri.partition(":")
    return (kind, ident) if sep and ident else None


def routing_keys(event: Event) -> Iterator[tuple[str, str]]:
    """``(kind, id)`` pairs naming what ``event`` is about, most specific first."""
    if isinstance(event, (PlaybackStarted, PlaybackContinuing, PlaybackFinished)):
        target = _target(event.playback.target_uri)
        if target is not None:
            yield target
        return
    if isinstance(event, (RecordingStarted, RecordingFinished, RecordingFailed)):
        target = _target(event.recording.target_uri)
        if target is not None:
            yield target
        return
    if isinstance(event, Dial):
        yield CHANNEL, event.peer.id
        if event.caller is not None:
            yield CHANNEL, event.caller.id
        return
    if isinstance(event, BridgeAttendedTransfer):
        for channel in (
            event.transferer_first_leg,
            event.transferer_second_leg,
            event.transferee,
            event.transfer_target,
            event.replace_channel,
        ):
            if channel is not None:
                yield CHANNEL, channel.id
        for bridge in (event.transferer_first_leg_bridge, event.transferer_second_leg_bridge):
            if bridge is not None:
                yield BRIDGE, bridge.id
        return
    if isinstance(event, BridgeBlindTransfer):
        yield CHANNEL, event.channel.id
        for channel in (event.transferee, event.replace_channel):
            if channel is not None:
                yield CHANNEL, channel.id
        if event.bridge is not None:
            yield BRIDGE, event.bridge.id
        return
    if isinstance(event, ChannelTransfer):
        referred, refer_to = event.referred_by, event.refer_to
        for channel in (
            referred.source_channel,
            referred.connected_channel,
            refer_to.destination_channel,
            refer_to.connected_channel,
        ):
            if channel is not None:
                yield CHANNEL, channel.id
        for bridge in (referred.bridge, refer_to.bridge):
            if bridge is not None:
                yield BRIDGE, bridge.id
        return
    channel_id = _channel_id(event)
    if channel_id is not None:
        yield CHANNEL, channel_id
    bridge = getattr(event, "bridge", None)
    bridge_id = getattr(bridge, "id", None)
    if isinstance(bridge_id, str):
        yield BRIDGE, bridge_id
    extra = event.model_extra
    if extra:
        # Unknown event types (newer Asterisk) still name their channel/bridge as plain dicts.
        for kind in (CHANNEL, BRIDGE):
            value = extra.get(kind)
            if isinstance(value, dict) and isinstance(value.get("id"), str):
                yield kind, value["id"]


class _Call:
    __slots__ = ("bridges", "channels", "inbox", "key", "task")

    def __init__(self, key: CallKey, inbox: CallInbox) -> None:
        self.key = key
        self.inbox = inbox
        self.channels: set[str] = {key}
        self.bridges: set[str] = set()
        self.task: asyncio.Task[None] | None = None


class Dispatcher:
    """Routes every event to its call's inbox, or to the global listener.

    ``open_call(start, inbox)`` is called for the ``StasisStart`` of an unknown channel; the
    coroutine it returns becomes the call's only task (it must read ``inbox``). Exceptions
    escaping a call's coroutine are logged, never propagated to the event stream.
    """

    def __init__(
        self,
        open_call: CallOpener,
        *,
        on_global: Callable[[Event], None] | None = None,
        on_unrouted: Callable[[Event], None] | None = None,
    ) -> None:
        self._open_call = open_call
        self._on_global = on_global
        self._on_unrouted = on_unrouted
        self._calls: dict[CallKey, _Call] = {}
        self._by_channel: dict[str, _Call] = {}
        self._by_bridge: dict[str, _Call] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.counters = DispatchCounters()

    # -- bindings -------------------------------------------------------------------------------

    def bind(self, channel_id: str, call_key: CallKey) -> None:
        """Route ``channel_id``'s events to call ``call_key`` (do it before creating it)."""
        call = self._live(call_key)
        call.channels.add(channel_id)
        self._by_channel[channel_id] = call

    def bind_bridge(self, bridge_id: str, call_key: CallKey) -> None:
        """Route events about ``bridge_id`` (playbacks on it, BridgeDestroyed) to the call."""
        call = self._live(call_key)
        call.bridges.add(bridge_id)
        self._by_bridge[bridge_id] = call

    def unbind(self, channel_id: str) -> None:
        call = self._by_channel.pop(channel_id, None)
        if call is not None:
            call.channels.discard(channel_id)

    def unbind_bridge(self, bridge_id: str) -> None:
        call = self._by_bridge.pop(bridge_id, None)
        if call is not None:
            call.bridges.discard(bridge_id)

    @property
    def bound_channels(self) -> set[str]:
        """Every channel a live call holds (its own, its agents', transfers')."""
        return set(self._by_channel)

    def call_of(self, channel_id: str) -> CallKey | None:
        call = self._by_channel.get(channel_id)
        return None if call is None else call.key

    @property
    def active_calls(self) -> list[CallKey]:
        return list(self._calls)

    def lose(self, call_key: CallKey, at: datetime) -> None:
        """Asterisk lost the call (it restarted while we were not listening): after the events
        already queued, its inbox raises :class:`CallLost` (``at``: last known alive)."""
        call = self._calls.get(call_key)
        if call is None:
            return
        call.inbox._lose(at)
        self._finish(call)

    def _live(self, call_key: CallKey) -> _Call:
        call = self._calls.get(call_key)
        if call is None:
            raise KeyError(f"no live call {call_key!r} to bind to")
        return call

    # -- routing --------------------------------------------------------------------------------

    def dispatch(self, event: Event) -> None:
        """Hand ``event`` to the call it belongs to (synchronous, never raises for an event)."""
        self.counters.events += 1
        event_type = event.type
        if event_type in GLOBAL_EVENT_TYPES:
            self._global(event)
            return
        if isinstance(event, StasisStart):
            self._stasis_start(event)
            return
        # Fast path: most events name their channel first (see routing_keys).
        channel = getattr(event, "channel", None)
        call = self._by_channel.get(channel.id) if channel is not None else None
        if call is None:
            call = self._find(event)
        if call is None:
            if _channel_id(event) is None and event.type not in _CALL_ONLY_TYPES:
                self._global(event)
            else:
                self._unrouted(event)
            return
        self.counters.routed += 1
        call.inbox._put(event)
        if isinstance(event, StasisEnd) and event.channel.id == call.key:
            self._finish(call)
        elif event_type == "ChannelDestroyed":
            channel_id = _channel_id(event)
            if channel_id is not None and channel_id != call.key:
                self.unbind(channel_id)

    def _find(self, event: Event) -> _Call | None:
        for kind, ident in routing_keys(event):
            table = self._by_channel if kind == CHANNEL else self._by_bridge
            call = table.get(ident)
            if call is not None:
                return call
        return None

    def _stasis_start(self, event: StasisStart) -> None:
        call = self._by_channel.get(event.channel.id)
        if call is None and event.replace_channel is not None:
            call = self._by_channel.get(event.replace_channel.id)
            if call is not None:
                self.bind(event.channel.id, call.key)
        if call is not None:
            self.counters.routed += 1
            call.inbox._put(event)
            return
        self._open(event)

    def _open(self, event: StasisStart) -> None:
        key = event.channel.id
        inbox = CallInbox(key, event)
        try:
            runner = self._open_call(event, inbox)
        except Exception:
            self.counters.calls_failed += 1
            log.exception("opening a call for channel %s failed", key)
            return
        if runner is None:
            self.counters.calls_declined += 1
            log.debug("StasisStart of %s declined by the call opener", key)
            return
        call = _Call(key, inbox)
        self._calls[key] = call
        self._by_channel[key] = call
        self.counters.calls_opened += 1
        task = asyncio.get_running_loop().create_task(runner, name=f"call-{key}")
        call.task = task
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._task_done(call, done))

    def _finish(self, call: _Call) -> None:
        call.inbox._end()
        if self._calls.get(call.key) is call:
            del self._calls[call.key]
        for channel_id in call.channels:
            if self._by_channel.get(channel_id) is call:
                del self._by_channel[channel_id]
        for bridge_id in call.bridges:
            if self._by_bridge.get(bridge_id) is call:
                del self._by_bridge[bridge_id]

    def _task_done(self, call: _Call, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        # A call whose task returned reads nothing more: drop its bindings so its later events
        # are counted as unrouted instead of piling up in an inbox nobody reads.
        self._finish(call)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self.counters.calls_failed += 1
            log.error("call %s ended with an error", call.key, exc_info=exc)

    def _global(self, event: Event) -> None:
        self.counters.global_events += 1
        if self._on_global is not None:
            try:
                self._on_global(event)
            except Exception:
                log.exception("global listener failed on %s", event.type)

    def _unrouted(self, event: Event) -> None:
        self.counters.unrouted += 1
        if self._on_unrouted is not None:
            try:
                self._on_unrouted(event)
            except Exception:
                log.exception("unrouted-event listener failed on %s", event.type)
        elif log.isEnabledFor(logging.DEBUG):
            log.debug("unrouted %s event: %s", event.type, list(routing_keys(event)))

    # -- lifecycle ------------------------------------------------------------------------------

    async def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for every call task to finish; True if they all did."""
        if not self._tasks:
            return True
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        return not pending

    async def aclose(self, grace: float = 5.0) -> None:
        """Cancel every call task (their ``finally`` blocks run) and wait up to ``grace`` s."""
        tasks = set(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                log.error("call task %s did not stop within %.1f s", task.get_name(), grace)


# Event types that are about a playback/recording/bridge: if no call owns them they are unrouted
# (a call's event), not global ones.
_CALL_ONLY_TYPES = frozenset(
    {
        "PlaybackStarted",
        "PlaybackContinuing",
        "PlaybackFinished",
        "RecordingStarted",
        "RecordingFinished",
        "RecordingFailed",
        "Dial",
        "BridgeCreated",
        "BridgeDestroyed",
        "BridgeMerged",
        "BridgeVideoSourceChanged",
        "BridgeBlindTransfer",
        "BridgeAttendedTransfer",
        "ChannelTransfer",
    }
)
