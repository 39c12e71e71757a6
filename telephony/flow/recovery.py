"""What decroche finds on Asterisk that none of its calls holds, and what becomes of it.

Asterisk keeps the channels of an application in Stasis, and their bridges, when the process
that drove them is gone (decroche crashed or was killed) or when a call's own cleanup could not
reach Asterisk (the link was down): nobody else will ever take care of them. A caller left alone
in a bridge hears silence until they hang up; the bridge stays until Asterisk restarts. So at
start, and after every reconnection, decroche looks at what its application holds and decides,
for everything no call of its own holds (:func:`plan_orphans`, pure):

- a **caller** (an inbound channel) not in a bridge — in the menus, waiting, ringing — goes
  back to the dialplan's fallback (``decroche-fallback``: the accueil général's phones), as a call
  decroche cannot handle does (one of decroche's audit calls is hung up instead);
- a caller **alone in a bridge** (their agent hung up meanwhile) already talked: hung up;
- an **agent's leg** (a channel decroche created: ringing, or alone in a bridge): hung up;
- a caller and an agent **still talking** in a bridge are left alone, and watched: when one of
  them leaves, the other is hung up and the bridge destroyed (:class:`OrphanKeeper`);
- a **bridge decroche created** (its ids start with ``dc-``) that no call holds and nobody talks
  in: destroyed.

Only channels created before decroche was listening are considered: a channel that entered the
application since then was announced to decroche by its ``StasisStart`` and belongs to a call.

The calls themselves were already recorded when decroche last saw them (the crashed process's
progress, closed as ``interrupted`` at the next start; see ``telephony.records``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from telephony.ari.client import AriClient
from telephony.ari.errors import AriError, AriHttpError, is_gone
from telephony.ari.models import (
    Bridge,
    Channel,
    ChannelDestroyed,
    ChannelHangupRequest,
    Event,
    StasisEnd,
)
from telephony.flow.audit import audit_mark

log = logging.getLogger(__name__)

# Every channel, bridge and playback id decroche makes starts so (CallSession.new_id).
OWN_ID_PREFIX = "dc-"
# The first Stasis argument of the channels decroche creates to ring agents, and of the agents'
# phone codes (asterisk/extensions.conf): never callers.
AGENT_ARGS = frozenset({"agent", "agent-login", "agent-logout", "agent-pause"})


class Fate(StrEnum):
    HAND_BACK = "hand_back"  # to the dialplan's fallback
    HANG_UP = "hang_up"
    WATCH = "watch"  # still talking: left alone until one leaves


@dataclass(frozen=True, slots=True)
class OrphanChannel:
    channel_id: str
    fate: Fate
    why: str
    bridge_id: str | None = None


@dataclass(frozen=True, slots=True)
class OrphanPlan:
    channels: tuple[OrphanChannel, ...] = ()
    bridges: tuple[str, ...] = ()  # decroche's bridges to destroy, once the channels are dealt with

    @property
    def empty(self) -> bool:
        return not self.channels and not self.bridges


def stasis_args(channel: Channel) -> list[str]:
    """The arguments the channel entered the application with (``Stasis(app,a,b)``)."""
    if channel.dialplan.app_name != "Stasis":
        return []
    return channel.dialplan.app_data.split(",")[1:]


def plan_orphans(
    channels: Sequence[Channel],
    bridges: Sequence[Bridge],
    *,
    owned_channels: Collection[str],
    owned_bridges: Collection[str],
    listening_since: datetime,
) -> OrphanPlan:
    """What to do with the application's ``channels`` and Asterisk's ``bridges`` that no call of
    decroche holds (see the module's text). Pure."""
    ours = {b.id: b for b in bridges if b.id.startswith(OWN_ID_PREFIX)}
    bridge_of = {c: b for b in bridges for c in b.channels}
    planned: list[OrphanChannel] = []
    talking: set[str] = set()
    for channel in sorted(channels, key=lambda c: c.id):
        if channel.id in owned_channels or channel.creationtime >= listening_since:
            continue
        bridge = bridge_of.get(channel.id)
        if bridge is not None and bridge.id in owned_bridges:
            continue  # in a bridge a live call holds: it is that call's business
        created = channel.id.startswith(OWN_ID_PREFIX) or (
            stasis_args(channel)[:1] and stasis_args(channel)[0] in AGENT_ARGS
        )
        if bridge is not None and len(bridge.channels) > 1:
            planned.append(
                OrphanChannel(channel.id, Fate.WATCH, "still talking in a bridge", bridge.id)
            )
            talking.add(bridge.id)
        elif created:
            where = "alone in a bridge" if bridge is not None else "no call to ring for"
            planned.append(OrphanChannel(channel.id, Fate.HANG_UP, f"an agent's leg, {where}"))
        elif bridge is not None:
            planned.append(
                OrphanChannel(channel.id, Fate.HANG_UP, "a caller who talked, alone in a bridge")
            )
        else:
            planned.append(OrphanChannel(channel.id, Fate.HAND_BACK, "a caller nobody is handling"))
    doomed = tuple(sorted(b for b in ours if b not in owned_bridges and b not in talking))
    return OrphanPlan(tuple(planned), doomed)


@dataclass(slots=True)
class RecoveryCounts:
    handed_back: int = 0
    hung_up: int = 0
    watched: int = 0
    bridges_destroyed: int = 0


@dataclass(slots=True)
class _Watch:
    bridge_id: str
    channels: set[str] = field(default_factory=set)


class OrphanKeeper:
    """Carries out :func:`plan_orphans`, and watches the conversations it left alone."""

    def __init__(
        self,
        client: AriClient,
        *,
        fallback: tuple[str, str, int] | None,
    ) -> None:
        self._client = client
        self._fallback = fallback  # context, extension, priority; None: where it came from
        self._watched: dict[str, _Watch] = {}  # channel id -> its conversation
        self._tasks: set[asyncio.Task[None]] = set()
        self._channels: dict[str, Channel] = {}  # the application's, at the last look
        self.counts = RecoveryCounts()

    async def recover(
        self,
        *,
        owned_channels: Collection[str],
        owned_bridges: Collection[str],
        listening_since: datetime,
        still_unowned: Callable[[str], bool],
    ) -> OrphanPlan:
        """Look at what the application holds and carry out the plan. ``still_unowned(id)`` is
        asked again right before acting on a channel (a call may have taken it since)."""
        snapshot = await self._client.app_snapshot()
        bridges = await self._client.list_bridges()
        self._channels = {c.id: c for c in snapshot.channels}
        plan = plan_orphans(
            snapshot.channels,
            bridges,
            owned_channels=owned_channels,
            owned_bridges=owned_bridges,
            listening_since=listening_since,
        )
        for orphan in plan.channels:
            if not still_unowned(orphan.channel_id):
                continue
            log.info("orphan channel %s (%s): %s", orphan.channel_id, orphan.why, orphan.fate)
            if orphan.fate is Fate.WATCH and orphan.bridge_id is not None:
                # One watch per bridge, shared by everyone talking in it.
                watch = next(
                    (w for w in self._watched.values() if w.bridge_id == orphan.bridge_id),
                    None,
                ) or _Watch(orphan.bridge_id)
                watch.channels.add(orphan.channel_id)
                self._watched[orphan.channel_id] = watch
                self.counts.watched += 1
            elif orphan.fate is Fate.HAND_BACK and not await self._is_audit(orphan.channel_id):
                if await self._continue(orphan.channel_id):
                    self.counts.handed_back += 1
            elif await self._hang_up(orphan.channel_id):
                self.counts.hung_up += 1
        for bridge_id in plan.bridges:
            if await self._destroy(bridge_id):
                log.info("orphan bridge %s destroyed", bridge_id)
                self.counts.bridges_destroyed += 1
        return plan

    def on_unrouted(self, event: Event) -> None:
        """An event no call takes: one party of a watched conversation left, end it."""
        if not isinstance(event, (StasisEnd, ChannelHangupRequest, ChannelDestroyed)):
            return
        watch = self._watched.pop(event.channel.id, None)
        if watch is None:
            return
        for member in watch.channels:
            self._watched.pop(member, None)
        others = sorted(watch.channels - {event.channel.id})
        self._spawn(self._end_conversation(watch.bridge_id, others))

    async def _end_conversation(self, bridge_id: str, channel_ids: Iterable[str]) -> None:
        for channel_id in channel_ids:
            if await self._hang_up(channel_id):
                self.counts.hung_up += 1
        if await self._destroy(bridge_id):
            self.counts.bridges_destroyed += 1
        log.info("orphan conversation in %s ended", bridge_id)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro, name="orphan-conversation")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- Asterisk ---------------------------------------------------------------------------

    async def _is_audit(self, channel_id: str) -> bool:
        """One of decroche's audit calls: never to the fallback (real agents would ring)."""
        channel = self._channels.get(channel_id)
        return channel is not None and await audit_mark(self._client, channel) is not None

    async def _continue(self, channel_id: str) -> bool:
        if self._fallback is None:
            request = self._client.continue_in_dialplan(channel_id)
        else:
            context, extension, priority = self._fallback
            request = self._client.continue_in_dialplan(
                channel_id, context=context, extension=extension, priority=priority
            )
        return await _done("handing back", channel_id, request)

    async def _hang_up(self, channel_id: str) -> bool:
        return await _done("hanging up", channel_id, self._client.hangup(channel_id))

    async def _destroy(self, bridge_id: str) -> bool:
        return await _done("destroying", bridge_id, self._client.destroy_bridge(bridge_id))


async def _done(doing: str, what: str, request: Awaitable[None]) -> bool:
    """Whether Asterisk did it; gone already is fine (False, quietly), anything else is logged."""
    try:
        await request
    except AriError as exc:
        if not (isinstance(exc, AriHttpError) and is_gone(exc)):
            log.warning("orphan %s: %s failed: %s", what, doing, exc)
        return False
    return True
