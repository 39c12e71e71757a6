"""Cutting a traffic model into parts that can be replayed apart (pure)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from whatif.traffic import AgentChange, ReplayCall, TrafficModel

# A call can still be going on this long after its caller's patience and talk are spent: the
# survey, a message, an agent finishing a transfer; the simulator ends any call after an hour.
_CALL_MARGIN_S = 900.0
_CALL_LONGEST_S = 3600.0 + _CALL_MARGIN_S


def _end_bound(call: ReplayCall) -> datetime:
    """A time by which ``call`` has certainly ended, whatever the rules do with it."""
    lasts = sum(after for _, after in call.keys) + call.patience + call.talk_time
    return call.at + timedelta(seconds=min(_CALL_LONGEST_S, lasts + _CALL_MARGIN_S))


def quiet_parts(model: TrafficModel) -> list[TrafficModel]:
    """``model`` cut wherever nobody can still be on the line: nights, mostly.

    Each part starts with every agent's phone as it was at that moment, so replaying the parts
    one after the other (or side by side in several processes) gives what one replay of the
    whole gives. The cut depends only on the traffic, never on the number of processes, so a
    replay is the same on every machine.
    """
    groups: list[list[ReplayCall]] = []
    quiet_from: datetime | None = None
    for call in model.calls:
        if quiet_from is None or call.at > quiet_from:
            groups.append([])
            quiet_from = _end_bound(call)
        else:
            quiet_from = max(quiet_from, _end_bound(call))
        groups[-1].append(call)
    if len(groups) <= 1:
        return [model]
    parts: list[TrafficModel] = []
    for i, calls in enumerate(groups):
        start = calls[0].at
        end = groups[i + 1][0].at if i + 1 < len(groups) else None
        parts.append(
            dataclasses.replace(model, calls=calls, agent_changes=_changes_in(model, start, end))
        )
    return parts


def _changes_in(model: TrafficModel, start: datetime, end: datetime | None) -> list[AgentChange]:
    """Each phone's change in force at ``start`` (moved to the front), then those until ``end``."""
    in_force: dict[str, AgentChange] = {}
    later: list[AgentChange] = []
    for change in model.agent_changes:  # by time
        if change.at <= start:
            in_force[change.script.endpoint] = change
        elif end is None or change.at < end:
            later.append(change)
        else:
            break
    return [*in_force.values(), *later]
