"""The whole what-if of a period: records in, recorded / current / new indicators out."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import date

from analytics.definitions import Parameters
from routing_rules.compiled import CompiledRules
from telephony.records.model import CallRecord
from whatif.compare import WhatIfResult, in_period, indicators_of
from whatif.errors import WhatIfError
from whatif.explain import unchanged_notes
from whatif.parts import quiet_parts
from whatif.replay import Progress, default_workers, replay, replay_pool
from whatif.traffic import traffic_from_records


def what_if(
    records: Sequence[CallRecord],
    current: CompiledRules,
    new: CompiledRules,
    start: date,
    end: date,
    *,
    direct: bool = False,
    queue_map: Mapping[str, str] | None = None,
    params: Parameters | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    seed: int = 2026,
    workers: int | None = None,
) -> WhatIfResult:
    """Recorded, replayed-current and replayed-new indicators of ``start``..``end``.

    ``workers``: processes to replay in (default: one a core; 1 keeps everything here).
    """
    if end < start:
        raise WhatIfError(f"la fin ({end:%d/%m/%Y}) précède le début ({start:%d/%m/%Y})")
    chosen = in_period(records, start, end, current.tz)
    if not chosen:
        raise WhatIfError(
            f"aucun appel enregistré du {start:%d/%m/%Y} au {end:%d/%m/%Y} : rien à rejouer"
        )
    if queue_map:
        chosen = [_renamed(r, queue_map) for r in chosen]
    model = traffic_from_records(chosen, direct=direct, rules=current, seed=seed)

    def step(label: str) -> Progress | None:
        if progress is None:
            return None
        report = progress
        return lambda done, total: report(label, done, total)

    parts = len(quiet_parts(model)) if model.calls else 0
    with replay_pool(min(parts, workers or default_workers())) as pool:
        replay_current = replay(model, current, step("règles actuelles"), pool=pool)
        replay_new = replay(model, new, step("nouvelles règles"), pool=pool)
    result = WhatIfResult(
        start,
        end,
        indicators_of(chosen, start, end, params),
        indicators_of(replay_current, start, end, params),
        indicators_of(replay_new, start, end, params),
        len(model.calls),
    )
    result.notes = tuple(unchanged_notes(current, new, replay_current, result.difference))
    return result


def _renamed(record: CallRecord, queue_map: Mapping[str, str]) -> CallRecord:
    entries = [
        dataclasses.replace(e, service_id=queue_map.get(e.service_id, e.service_id))
        for e in record.entries
    ]
    return dataclasses.replace(record, entries=entries)
