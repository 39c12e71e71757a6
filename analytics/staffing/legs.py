"""Columnar form of the agent legs (each time a phone rang for a caller), for staffing.

A leg says an agent was signed in and reachable when it rang (an agent signed out, paused or
with an unregistered phone is never rung), and how long they took to pick up. One row per leg,
carrying the columns of its service entry that staffing needs (so no join is done in Python).
Times are float epoch seconds (UTC); "not answered" is NaN.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from analytics.frame import F64, I8, I32, I64, Bool, outcome_code
from telephony.records.model import CallRecord, LegOutcome

# Rang on a registered phone: the agent was there (busy on another line counts: they were
# signed in). Unreachable or failed legs say nothing of the agent.
PRESENT_OUTCOMES = frozenset(
    {
        LegOutcome.ANSWERED,
        LegOutcome.NO_ANSWER,
        LegOutcome.BUSY,
        LegOutcome.DECLINED,
        LegOutcome.CANCELLED,
    }
)


@dataclass(slots=True)
class LegFrame:
    services: list[str]
    endpoints: list[str]
    entry: I64  # one code per service entry (legs of one entry share it)
    service: I32
    entered: F64  # the entry's
    entry_ended: F64
    entry_outcome: I8  # analytics.frame.Outcome of the entry
    ring_started: F64
    answered: F64  # the leg's
    endpoint: I32
    present: Bool  # rang on a registered phone (PRESENT_OUTCOMES)

    def __len__(self) -> int:
        return len(self.entry)

    @classmethod
    def empty(cls) -> LegFrame:
        return legs_from_rows([])


LegRow = tuple[int, str, float, float, int, float, float, str, bool]
"""(entry code, service, entered, entry ended, entry outcome code, ring started, answered
(NaN), endpoint, present)"""


def legs_from_rows(rows: Iterable[LegRow]) -> LegFrame:
    """A frame from rows, column by column (a year of a town is some 150,000 legs)."""
    materialised = list(rows)
    if not materialised:
        columns: list[tuple[object, ...]] = [()] * 9
    else:
        columns = list(zip(*materialised, strict=True))
    services: dict[str, int] = {}
    endpoints: dict[str, int] = {}
    service_codes = [services.setdefault(str(s), len(services)) for s in columns[1]]
    endpoint_codes = [endpoints.setdefault(str(e), len(endpoints)) for e in columns[7]]
    return LegFrame(
        services=list(services),
        endpoints=list(endpoints),
        entry=np.asarray(columns[0], dtype=np.int64),
        service=np.asarray(service_codes, dtype=np.int32),
        entered=np.asarray(columns[2], dtype=np.float64),
        entry_ended=np.asarray(columns[3], dtype=np.float64),
        entry_outcome=np.asarray(columns[4], dtype=np.int8),
        ring_started=np.asarray(columns[5], dtype=np.float64),
        answered=np.asarray(columns[6], dtype=np.float64),
        endpoint=np.asarray(endpoint_codes, dtype=np.int32),
        present=np.asarray(columns[8], dtype=np.bool_),
    )


def legs_from_records(records: Iterable[CallRecord]) -> LegFrame:
    """The legs of call records (queue_log imports, what-if replays, tests)."""

    def rows() -> Iterable[LegRow]:
        code = 0
        for record in records:
            for entry in record.entries:
                for leg in entry.legs:
                    yield (
                        code,
                        entry.service_id,
                        entry.entered_at.timestamp(),
                        entry.ended_at.timestamp(),
                        int(outcome_code(entry.outcome)),
                        leg.ring_started_at.timestamp(),
                        leg.answered_at.timestamp() if leg.answered_at else np.nan,
                        leg.endpoint,
                        leg.outcome in PRESENT_OUTCOMES,
                    )
                code += 1

    return legs_from_rows(rows())
