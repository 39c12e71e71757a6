"""The agent channels one call created: which phone each one rings, and which are still ours.

:class:`AgentLegs` is the call's ledger of agent legs, kept by its :class:`CallSession`: the
ringing (``telephony.flow.ringing``) adds a leg before asking Asterisk for its channel (its
events may come before the answer), the session marks a leg ended when Asterisk says so, and
cleanup hangs up whatever is still ours, whatever happened. Every channel's endpoint is
remembered for the whole call, so the flow can free the right phone after the leg is gone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from telephony.ari.client import AriClient
from telephony.ari.errors import AriError, AriHttpError, is_gone
from telephony.ari.models import ChannelDestroyed, ChannelHangupRequest, Event, StasisEnd
from telephony.records.model import LegOutcome

log = logging.getLogger(__name__)


@dataclass(slots=True)
class RingingLeg:
    """One agent channel of a ringing, as the ringing follows it."""

    endpoint: str
    channel_id: str
    dialled: bool = False  # the dial request was sent (after the channel's StasisStart)
    # When the phone started ringing (its 180: ChannelStateChange to Ringing, or Dial RINGING,
    # whichever Asterisk tells first); None while it has not: a phone that never rang has no
    # ring time.
    ringing_at: datetime | None = None
    ended: bool = False  # Asterisk said it is hung up or gone
    outcome: LegOutcome | None = None  # how it ended, once known


class AgentLegs:
    def __init__(self, ari: AriClient, call_id: str) -> None:
        self._ari = ari
        self._call_id = call_id
        self._owned: dict[str, RingingLeg] = {}  # still ours to hang up
        self._endpoints: dict[str, str] = {}  # every agent channel of the call -> its endpoint

    def own(self, leg: RingingLeg) -> None:
        """A leg whose channel is being created: cleanup hangs it up from now on."""
        self._owned[leg.channel_id] = leg
        self._endpoints[leg.channel_id] = leg.endpoint

    def refused(self, leg: RingingLeg) -> None:
        """Asterisk would not create the channel: there is nothing to hang up or to free."""
        del self._owned[leg.channel_id], self._endpoints[leg.channel_id]

    def forget(self, channel_id: str) -> None:
        """The channel is gone, or no longer ours to hang up; its endpoint stays known."""
        self._owned.pop(channel_id, None)

    def replaced(self, old_channel_id: str, channel_id: str, endpoint: str) -> None:
        """A blind transfer swapped ``channel_id`` (a Local channel's half) in for the agent's
        ``old_channel_id``: it is ours now, to hang up with the call — its other half, the
        transferred leg, then ends too instead of going on for nobody."""
        self.forget(old_channel_id)
        self._owned[channel_id] = RingingLeg(endpoint, channel_id, dialled=True)
        self._endpoints[channel_id] = endpoint

    def endpoint_of(self, channel_id: str) -> str | None:
        return self._endpoints.get(channel_id)

    def track(self, event: Event) -> None:
        """Note a leg Asterisk hung up or took away (the ringing dates and judges it)."""
        if isinstance(event, (ChannelHangupRequest, ChannelDestroyed, StasisEnd)):
            leg = self._owned.get(event.channel.id)
            if leg is not None:
                leg.ended = True

    async def hangup(self, channel_id: str, *, forget: bool = True) -> None:
        """Hang the channel up (gone already is fine); ``forget=False`` keeps it ours until its
        hang-up event is read."""
        try:
            await self._ari.hangup(channel_id)
        except AriError as exc:
            # Out of reach (the link is down) is logged too: the resync after the reconnection
            # hangs up what no call owns any more.
            if not (isinstance(exc, AriHttpError) and is_gone(exc)):
                log.warning("call %s: hanging up %s failed: %s", self._call_id, channel_id, exc)
        if forget:
            self.forget(channel_id)

    async def hangup_all(self) -> None:
        for channel_id in list(self._owned):
            await self.hangup(channel_id)
