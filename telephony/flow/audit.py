"""The call flow's side of audit calls (what they do differently is decided in
``routing_rules.routing.audit``; ``docs/audit.md`` tells the whole story).

- :func:`audit_mark`: whether a call entering the app is one of decroche's audit calls. Only a
  Local channel can be (the audit robot's pair, dialled into the callers' dialplan entry); its
  ``DECROCHE_AUDIT`` variable is read from the channel (from the event when Asterisk lists it in
  ``channelvars``, else with one ``GET``). A real caller's channel costs nothing.
- :func:`tell_reached`: the flow tells the robot where the call ended, as a variable on the
  call's channel (the robot hears that channel's events).
- :class:`AuditRecords`: where the router hands an audit call's record: nowhere near the call
  records, so no indicator, export or report ever counts it (the robot stores its own results
  apart, with the checks).
"""

from __future__ import annotations

import logging
from datetime import datetime

from routing_rules.routing import AUDIT_VARIABLE, REACHED_VARIABLE, AuditMark, Reached
from telephony.ari.client import AriClient
from telephony.ari.errors import AriError, NotFound, is_gone
from telephony.ari.models import Channel
from telephony.records.model import CallProgress, CallRecord, CallStart

log = logging.getLogger(__name__)


async def audit_mark(client: AriClient, channel: Channel) -> AuditMark | None:
    """The audit mark of ``channel`` (None: a caller's call, the usual case)."""
    if not channel.name.startswith("Local/"):
        return None
    listed = channel.channelvars or {}
    if AUDIT_VARIABLE in listed:
        return AuditMark.parse(str(listed[AUDIT_VARIABLE]))
    try:
        value = await client.get_variable(channel.id, AUDIT_VARIABLE)
    except NotFound:
        return None  # no such variable (a transfer's leg), or the channel already left
    except AriError as exc:
        if not is_gone(exc):
            # Unknown: handled as a caller's call, which is what it most likely is.
            log.warning("call %s: audit mark unreadable (%s), taken as a caller", channel.id, exc)
        return None
    return AuditMark.parse(value)


async def tell_reached(client: AriClient, channel_id: str, reached: Reached) -> None:
    """Set where the audit call ended on its channel, for the robot to read."""
    try:
        await client.set_variable(channel_id, REACHED_VARIABLE, reached.value)
    except AriError as exc:
        if not is_gone(exc):
            raise


class AuditRecords:
    """The record sink of audit calls: their records are logged, never stored with the calls."""

    async def call_started(self, start: CallStart) -> None:
        return None

    async def call_finished(self, record: CallRecord) -> None:
        log.info(
            "audit call %s ended (%s, %d IVR steps): not a call record",
            record.call_id,
            record.outcome.value,
            len(record.ivr),
        )

    def touch(self, call_id: str, at: datetime) -> None:
        return None

    def call_progress(self, progress: CallProgress) -> None:
        return None
