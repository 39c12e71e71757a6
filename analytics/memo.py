"""One load of call entries per page: a page asks the indicators several questions (dashboard,
by day...) over overlapping periods; :class:`SpanMemo` loads the widest once and answers the
others from it.

Serving a sub-period from a wider frame is exact: :class:`analytics.api.FrameSource` may return
more entries than asked, the engine keeps the exact local dates itself. A memo lives for one
request only, so figures are never stale.
"""

from __future__ import annotations

from datetime import date

from analytics.api import FrameSource, LoadedFrame


class SpanMemo:
    def __init__(self, source: FrameSource, start: date, end: date) -> None:
        """``start``..``end``: the widest span the page will ask, loaded on first use."""
        self._source = source
        self._span = (start, end)
        self._loaded: LoadedFrame | None = None

    def load(self, start: date, end: date) -> LoadedFrame:
        low, high = self._span
        if start < low or end > high:
            return self._source.load(start, end)
        if self._loaded is None:
            self._loaded = self._source.load(low, high)
        return self._loaded
