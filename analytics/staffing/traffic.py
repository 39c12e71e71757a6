"""The traffic each service receives, slot by slot (weekday × hour, or shorter), over a period.

Per service and slot (local time of the rules' time zone):

- **arrival rate**: the callers who entered the service while it was open, per open hour of
  that slot over the period — a slot open on 4 of the period's Mondays (a public holiday, or a
  dated closing, taking the fifth) is averaged over those 4. Left out: short abandons (misdials,
  as in the indicators) and entries that came by overflow from another service (the staffing
  of each service is sized for its own callers; an overflow is the symptom of a shortage
  upstream, and counting it twice would ask for agents in two places for one call);
- **mean handle time**: the talk of the answered entries plus the service's after-call work
  (none unless configured); a slot with fewer than :data:`MIN_ANSWERED_FOR_SLOT` answered calls
  takes the service's mean over the period (a handful of calls says little of an hour);
- **agents observed**: the agents whose phone rang for the service in the slot (a registered
  phone of a signed-in agent: busy, no answer and declined count, unreachable does not),
  averaged over the days that slot had callers. Agents who were there but never rang in that
  hour (every call taken by another agent first, in-order strategies) are not seen: the figure
  is a lower bound when calls are few.

Per service, over the whole period (too few abandons per slot to say more):

- **patience**: the mean of an exponential patience, estimated by maximum likelihood with
  censoring: abandons ÷ total time waited, where an answered or overflowed caller's wait counts
  as a lower bound of their patience (a call cut by the PBX or the link counts for neither).
  Erlang A assumes exponential patience, and this is its exact estimator (Mandelbaum & Zeltyn
  use the same on call-centre data); a Kaplan–Meier curve would describe the waits actually
  seen — a few seconds of ringing without a queue — but says nothing beyond the longest wait,
  which is where a queue would take callers. No abandon: no estimate (callers as patient as
  Erlang C assumes);
- **pick-up**: of the callers put through to a free agent's phone, the share answered, the
  share answered within the target wait, and the agents' ring-to-answer times (calls cut by the
  PBX or the link left out).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import numpy as np

from analytics.definitions import Parameters
from analytics.frame import (
    F64,
    I64,
    Bool,
    EntryFrame,
    Outcome,
    day_number,
    day_of,
    local_offsets,
)
from analytics.staffing.legs import LegFrame
from routing_rules.hours import public_holidays

MIN_ANSWERED_FOR_SLOT = 10
DEFAULT_HANDLE_S = 120.0  # a period where nobody was answered at all
_EPS = 1e-4  # as in the indicators: "exactly at the target" is within it

Span = tuple[int, int]  # seconds since local midnight, end exclusive


class OpeningHours(Protocol):
    """When each service takes calls: the spans of one local day, or None when the service is
    unknown to the rules (then open all day, public holidays excepted)."""

    def spans(self, service: str, day: date) -> Sequence[Span] | None: ...


class AlwaysOpen:
    """Every service open all day but on public holidays (a queue_log without rules)."""

    def __init__(self, country: str = "FR", subdivision: str | None = None) -> None:
        self._country = country
        self._subdivision = subdivision

    def spans(self, service: str, day: date) -> Sequence[Span] | None:
        return () if _is_holiday(self._country, self._subdivision, day) else ((0, 86400),)


def _is_holiday(country: str, subdivision: str | None, day: date) -> bool:
    # The rules' own calendar: the same holidays as the routing, memoised there.
    return day in public_holidays(country, subdivision, day.year)


@dataclass(frozen=True, slots=True)
class SlotTraffic:
    weekday: int  # ISO: 1 = Monday
    start_s: int  # seconds since local midnight
    end_s: int
    calls: int
    open_hours: float  # over the period
    mean_handle_s: float  # talk + after-call work
    agents_observed: float | None  # None: no leg recorded in the period at all

    @property
    def calls_per_hour(self) -> float:
        return self.calls / self.open_hours if self.open_hours > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Pickup:
    """Callers put through to a free agent's phone, and what came of it."""

    rung: int = 0
    answered: int = 0
    answered_within: int = 0  # within the target wait, counted from entering the service
    mean_delay_s: float = 0.0  # ring-to-answer of the answered legs
    # Ten equally likely ring-to-answer times (the mid-deciles), for convolution with a wait.
    delay_deciles: tuple[float, ...] = (0.0,)

    @classmethod
    def of(cls, rung: int, answered: int, within: int, delays: F64) -> Pickup:
        if len(delays) == 0:
            return cls(rung, answered, within)
        deciles = np.quantile(delays, (np.arange(10) + 0.5) / 10)
        return cls(rung, answered, within, float(delays.mean()), tuple(float(d) for d in deciles))

    @property
    def answered_share(self) -> float:
        return self.answered / self.rung if self.rung else 1.0

    @property
    def within_share(self) -> float:
        return self.answered_within / self.rung if self.rung else 1.0


@dataclass(frozen=True, slots=True)
class ServiceTraffic:
    service: str
    slots: tuple[SlotTraffic, ...]
    abandons: int
    waited_s: float  # total time waited by every caller counted (the patience's exposure)
    mean_talk_s: float | None
    after_call_work_s: float
    pickup: Pickup = field(default_factory=Pickup)
    # What became of the arrivals (the callers counted in the slots), with the agents there.
    answered: int = 0
    answered_within: int = 0

    @property
    def arrivals(self) -> int:
        return sum(slot.calls for slot in self.slots)

    @property
    def mean_patience_s(self) -> float | None:
        """Exponential patience, MLE with censoring; None when nobody hung up waiting."""
        return self.waited_s / self.abandons if self.abandons else None


@dataclass(frozen=True, slots=True)
class _Local:
    """Local day and second of day of each row."""

    day: I64
    second: F64


def _local(epochs: F64, timezone: str) -> _Local:
    local = epochs + local_offsets(epochs, timezone)
    day = np.floor(local / 86400.0).astype(np.int64)
    return _Local(day, local - day * 86400.0)


class _Calendar:
    """Opening spans per (service, day), looked up once each."""

    def __init__(self, hours: OpeningHours) -> None:
        self._hours = hours
        self._cache: dict[tuple[str, int], tuple[Span, ...]] = {}
        self.unknown: set[str] = set()

    def spans(self, service: str, day: int) -> tuple[Span, ...]:
        key = (service, day)
        found = self._cache.get(key)
        if found is None:
            spans = self._hours.spans(service, day_of(day))
            if spans is None:
                self.unknown.add(service)
                spans = AlwaysOpen().spans(service, day_of(day))
                assert spans is not None
            found = self._cache[key] = tuple(spans)
        return found


def _open_rows(
    calendar: _Calendar, names: Sequence[str], service: I64, where: _Local, rows: Bool
) -> Bool:
    """Rows (among ``rows``) whose service was open at their local time."""
    open_: Bool = np.zeros(len(service), dtype=np.bool_)
    chosen = np.flatnonzero(rows)
    if len(chosen) == 0:
        return open_
    keys = service[chosen] * 1_000_000 + (where.day[chosen] - where.day[chosen].min())
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    bounds = np.flatnonzero(np.diff(sorted_keys)) + 1
    for group in np.split(order, bounds):
        first = chosen[group[0]]
        spans = calendar.spans(names[int(service[first])], int(where.day[first]))
        if not spans:
            continue
        seconds = where.second[chosen[group]]
        inside = np.zeros(len(group), dtype=np.bool_)
        for start, end in spans:
            inside |= (seconds >= start) & (seconds < end)
        open_[chosen[group]] = inside
    return open_


def _exposure(calendar: _Calendar, service: str, first_day: int, last_day: int, slot_s: int) -> F64:
    """Open seconds of each (weekday 0-6, slot) over the period."""
    starts = np.arange(86400 // slot_s) * slot_s
    seconds = np.zeros((7, len(starts)))
    for day in range(first_day, last_day + 1):
        weekday = (day + 3) % 7  # 1970-01-01 was a Thursday
        for start, end in calendar.spans(service, day):
            overlap = np.minimum(end, starts + slot_s) - np.maximum(start, starts)
            seconds[weekday] += np.clip(overlap, 0, None)
    return seconds


def service_traffic(
    frame: EntryFrame,
    legs: LegFrame,
    hours: OpeningHours,
    start: date,
    end: date,
    *,
    slot_minutes: int = 60,
    params: Parameters | None = None,
    after_call_work_s: Mapping[str, float] | None = None,
) -> dict[str, ServiceTraffic]:
    """The traffic of every service that received calls while open in ``start``..``end``."""
    if end < start:
        raise ValueError(f"period ends ({end}) before it starts ({start})")
    if slot_minutes <= 0 or 1440 % slot_minutes:
        raise ValueError(f"slot_minutes must divide a day, got {slot_minutes}")
    params = params or Parameters()
    work = after_call_work_s or {}
    slot_s = slot_minutes * 60
    per_day = 86400 // slot_s
    first_day, last_day = day_number(start), day_number(end)
    calendar = _Calendar(hours)
    where = _local(frame.entered, params.timezone)
    in_period = (where.day >= first_day) & (where.day <= last_day)
    service = frame.service.astype(np.int64)
    wait_end = np.where(np.isnan(frame.answered), frame.ended, frame.answered)
    waited = np.maximum(wait_end - frame.entered, 0.0)
    short = (frame.outcome == Outcome.ABANDONED) & (
        frame.ended - frame.entered < params.short_abandon_s - _EPS
    )
    counted = _open_rows(calendar, frame.services, service, where, in_period) & ~short
    arrivals = counted & ~_overflowed_in(frame)
    answered = counted & (frame.outcome == Outcome.ANSWERED)
    talk = np.where(answered, frame.ended - frame.answered, 0.0)
    slot = (where.second // slot_s).astype(np.int64)
    cell = ((where.day + 3) % 7) * per_day + slot  # weekday 0-6 and slot
    rung = _agents_rung(legs, params.timezone, slot_s, first_day, last_day)
    pickups = _pickups(legs, params, first_day, last_day)
    every_talk = talk[answered]
    overall_talk = float(every_talk.mean()) if len(every_talk) else DEFAULT_HANDLE_S
    result: dict[str, ServiceTraffic] = {}
    for code, name in enumerate(frame.services):
        mine = arrivals & (service == code)
        if not mine.any():
            continue
        exposure = _exposure(calendar, name, first_day, last_day, slot_s).ravel()
        calls = np.bincount(cell[mine], minlength=7 * per_day)
        answered_here = answered & (service == code)
        talk_count = np.bincount(cell[answered_here], minlength=len(calls))
        talk_sum = np.bincount(
            cell[answered_here], weights=talk[answered_here], minlength=len(calls)
        )
        service_talk = float(talk[answered_here].mean()) if answered_here.any() else None
        fallback = overall_talk if service_talk is None else service_talk
        extra = float(work.get(name, 0.0))
        observed = _observed(rung, name, where.day[mine], slot[mine], per_day, bool(len(legs)))
        slots: list[SlotTraffic] = []
        for index in np.flatnonzero((calls > 0) & (exposure > 0)):
            weekday, slot_index = divmod(int(index), per_day)
            own = talk_count[index] >= MIN_ANSWERED_FOR_SLOT
            handle = (talk_sum[index] / talk_count[index] if own else fallback) + extra
            slots.append(
                SlotTraffic(
                    weekday=weekday + 1,
                    start_s=slot_index * slot_s,
                    end_s=(slot_index + 1) * slot_s,
                    calls=int(calls[index]),
                    open_hours=float(exposure[index]) / 3600.0,
                    mean_handle_s=float(handle),
                    agents_observed=observed.get(int(index)),
                )
            )
        # Cut calls (PBX restarted, link lost) say nothing of the callers' patience.
        here = counted & (service == code) & (frame.outcome != Outcome.CUT)
        taken = mine & (frame.outcome == Outcome.ANSWERED) & (exposure[cell] > 0)
        in_time = taken & (frame.answered - frame.entered <= params.target_s + _EPS)
        result[name] = ServiceTraffic(
            service=name,
            slots=tuple(slots),
            abandons=int((here & (frame.outcome == Outcome.ABANDONED)).sum()),
            waited_s=float(waited[here].sum()),
            mean_talk_s=service_talk,
            after_call_work_s=extra,
            pickup=pickups.get(name, Pickup()),
            answered=int(taken.sum()),
            answered_within=int(in_time.sum()),
        )
    return result


def _overflowed_in(frame: EntryFrame) -> Bool:
    """Rows that entered their service by overflow from the previous entry of the same call."""
    came: Bool = np.zeros(len(frame), dtype=np.bool_)
    if len(frame) > 1:
        same_call = frame.call[1:] == frame.call[:-1]
        came[1:] = same_call & (frame.overflow_to[:-1] == frame.service[1:])
    return came


def _agents_rung(
    legs: LegFrame, timezone: str, slot_s: int, first_day: int, last_day: int
) -> dict[tuple[str, int, int], int]:
    """Distinct agents rung on a registered phone per (service, local day, slot)."""
    if len(legs) == 0:
        return {}
    where = _local(legs.ring_started, timezone)
    keep = (where.day >= first_day) & (where.day <= last_day) & legs.present
    slot = (where.second // slot_s).astype(np.int64)
    triples = np.unique(
        np.stack(
            [
                legs.service[keep].astype(np.int64),
                where.day[keep],
                slot[keep],
                legs.endpoint[keep].astype(np.int64),
            ]
        ),
        axis=1,
    )
    counts: dict[tuple[str, int, int], int] = {}
    for service, day, slot_index, _ in triples.T:
        key = (legs.services[int(service)], int(day), int(slot_index))
        counts[key] = counts.get(key, 0) + 1
    return counts


def _observed(
    rung: Mapping[tuple[str, int, int], int],
    service: str,
    days: I64,
    slots: I64,
    per_day: int,
    have_legs: bool,
) -> dict[int, float]:
    """Mean agents rung per (weekday × slot) cell, over the days that slot had callers (a day
    on which every caller was turned away for want of anyone counts 0). Nothing without any
    leg recorded at all (a source that keeps none)."""
    if not have_legs:
        return {}
    pairs = np.unique(np.stack([days, slots]), axis=1)
    totals: dict[int, list[int]] = {}
    for day, slot_index in pairs.T:
        cell = int((day + 3) % 7) * per_day + int(slot_index)
        totals.setdefault(cell, []).append(rung.get((service, int(day), int(slot_index)), 0))
    return {cell: float(np.mean(values)) for cell, values in totals.items()}


def _pickups(
    legs: LegFrame, params: Parameters, first_day: int, last_day: int
) -> dict[str, Pickup]:
    """Per service: entries put through to a registered phone, answered, answered in time."""
    if len(legs) == 0:
        return {}
    where = _local(legs.entered, params.timezone)
    short = (legs.entry_outcome == Outcome.ABANDONED) & (
        legs.entry_ended - legs.entered < params.short_abandon_s - _EPS
    )
    # A ringing cut by the PBX or the link says nothing of how agents pick up.
    cut = legs.entry_outcome == Outcome.CUT
    keep = (where.day >= first_day) & (where.day <= last_day) & legs.present & ~short & ~cut
    answered_at = np.where(np.isnan(legs.answered), np.inf, legs.answered)
    result: dict[str, Pickup] = {}
    for code, name in enumerate(legs.services):
        mine = keep & (legs.service == code)
        if not mine.any():
            continue
        entries, first, position = np.unique(
            legs.entry[mine], return_index=True, return_inverse=True
        )
        answer = np.full(len(entries), np.inf)
        np.minimum.at(answer, position, answered_at[mine])
        got = np.isfinite(answer)
        within = got & (answer - legs.entered[mine][first] <= params.target_s + _EPS)
        picked = mine & np.isfinite(answered_at)
        delays = np.maximum(legs.answered[picked] - legs.ring_started[picked], 0.0)
        result[name] = Pickup.of(len(entries), int(got.sum()), int(within.sum()), delays)
    return result
