"""Percentiles of waits, from waits counted in classes.

A median is not the sum of daily medians: to give the percentiles of a year from the figures
kept for each day (:mod:`analytics.aggregates`), each day keeps how many waits fell in each
class, and classes add up. The classes are fixed, the same for every day and service:

- half a second wide from 0 to 10 minutes (1,200 classes), where the waits of a town hall's
  calls are;
- ten seconds wide from 10 minutes to 1 hour (300 classes);
- one last class for the waits of an hour or more.

A percentile is read from the classes as numpy's default method reads it from the sorted waits
(linear interpolation between the two waits around its rank), each wait standing at its rank
inside its class, the class's waits spread evenly across it. The wait at a rank is in the same
class as the true one, so **a percentile is exact to less than the width of its class: half a
second below 10 minutes**, ten seconds up to an hour; in the last class it is given as 1 hour
(« 1 h ou plus »). The same computation serves every period and every source (database, queue_log,
the entries of the open day), so a percentile does not depend on where it was read from.
"""

from __future__ import annotations

import numpy as np

from analytics.frame import F64, I64

FINE_S = 0.5  # width of the classes below COARSE_FROM_S
COARSE_FROM_S = 600.0
COARSE_S = 10.0  # width of the classes from COARSE_FROM_S to LAST_FROM_S
LAST_FROM_S = 3600.0

_FINE = int(COARSE_FROM_S / FINE_S)
_COARSE = int((LAST_FROM_S - COARSE_FROM_S) / COARSE_S)
N_CLASSES = _FINE + _COARSE + 1
# Lower bound and width of each class (the last is open: width 0, read as its lower bound).
LOWER: F64 = np.concatenate(
    (
        np.arange(_FINE) * FINE_S,
        COARSE_FROM_S + np.arange(_COARSE) * COARSE_S,
        [LAST_FROM_S],
    )
)
WIDTH: F64 = np.concatenate((np.full(_FINE, FINE_S), np.full(_COARSE, COARSE_S), [0.0]))

DESCRIPTION = f"{FINE_S}/{COARSE_FROM_S}/{COARSE_S}/{LAST_FROM_S}"  # in the figures' fingerprint


def classes(waits: F64) -> I64:
    """The class of each wait (seconds; a negative wait, from clocks out of step, is 0)."""
    waits = np.maximum(waits, 0.0)
    fine = np.floor(waits / FINE_S)
    coarse = _FINE + np.floor((waits - COARSE_FROM_S) / COARSE_S)
    last = _FINE + _COARSE
    found = np.where(waits < COARSE_FROM_S, fine, np.where(waits < LAST_FROM_S, coarse, last))
    result: I64 = found.astype(np.int64)
    return result


def quantile(counts: I64, q: float) -> float | None:
    """The ``q`` quantile (0..1) of the waits counted in ``counts`` (one count per class), or
    None when there is none."""
    total = int(counts.sum())
    if total == 0:
        return None
    rank = q * (total - 1)
    below = int(np.floor(rank))
    low = _at_rank(counts, below)
    if below + 1 >= total:
        return low
    high = _at_rank(counts, below + 1)
    return low + (rank - below) * (high - low)


def _at_rank(counts: I64, rank: int) -> float:
    """The wait of rank ``rank`` (0: the shortest), spread evenly inside its class."""
    cumulative = np.cumsum(counts)
    where = int(np.searchsorted(cumulative, rank, side="right"))
    before = int(cumulative[where - 1]) if where else 0
    inside = rank - before
    return float(LOWER[where] + (inside + 0.5) / int(counts[where]) * WIDTH[where])
