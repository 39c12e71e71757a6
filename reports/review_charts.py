"""The annual review's small charts: one indicator of one service over the twelve months, its
objective as a dashed line. Small multiples (three side by side on an A4 page) read better than
one chart mixing rates that live at 90 % and at 5 %.

Same conventions as :mod:`reports.svg`: inline SVG with ``<title>`` and ``<desc>``, the values
in a table beside it (RGAA), whole-number axis labels with decimal commas.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from reports import format as fmt
from reports.svg import FONT, GRID, PALETTE, TEXT

MISSED = "#a1161b"


def _ceiling(peak: float, percent: bool) -> float:
    """A round top for the axis: 100 % for high rates, else the next 10 points (or whole unit)."""
    if percent:
        if peak > 0.5:
            return 1.0
        return max(0.1, math.ceil(peak * 10 - 1e-9) / 10)  # half-way lines at whole points
    return max(1.0, float(math.ceil(peak * 1.1)))


def _label(value: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.0f} %"
    return fmt.number(round(value, 1))


def month_line(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    title: str,
    desc: str,
    target: float | None,
    met: Sequence[bool | None] = (),
    percent: bool = True,
    ticks: Sequence[str] | None = None,
    width: int = 220,
    height: int = 140,
) -> Markup:
    """A line over the months (gaps where ``None``), a dot per month (red when the month missed
    its objective, ``met``), the objective dashed; ``ticks``: the axis' shorter labels."""
    left, right, top, bottom = 38, 6, 20, 20
    plot_w, plot_h = width - left - right, height - top - bottom
    known = [v for v in values if v is not None]
    peak = _ceiling(max([*known, target or 0.0, 0.0]), percent)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="{FONT}">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>",
        f'<text x="{left}" y="11" font-size="11" font-weight="bold" fill="{TEXT}">'
        f"{escape(title)}</text>",
    ]
    for i in range(3):
        level = peak * i / 2
        y = top + plot_h - plot_h * i / 2
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 3}" y="{y + 3:.1f}" font-size="9" text-anchor="end" '
            f'fill="{TEXT}">{escape(_label(level, percent))}</text>'
        )
    n = max(1, len(labels))
    step = plot_w / n

    def x_of(i: int) -> float:
        return left + step * (i + 0.5)

    def y_of(v: float) -> float:
        return top + plot_h - plot_h * min(max(v, 0.0), peak) / peak

    for i, label in enumerate(ticks or labels):
        parts.append(
            f'<text x="{x_of(i):.1f}" y="{height - 6}" font-size="9" text-anchor="middle" '
            f'fill="{TEXT}">{escape(label)}</text>'
        )
    if target is not None:
        y = y_of(target)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{TEXT}" stroke-dasharray="4 3" stroke-width="1"/>'
        )
    run: list[str] = []
    for i, v in enumerate(values):
        if v is None:
            if len(run) > 1:
                parts.append(_polyline(run))
            run = []
            continue
        run.append(f"{x_of(i):.1f},{y_of(v):.1f}")
    if len(run) > 1:
        parts.append(_polyline(run))
    for i, v in enumerate(values):
        if v is None:
            continue
        missed = i < len(met) and met[i] is False
        shown = fmt.percent(v) if percent else fmt.number(v)
        parts.append(
            f'<circle cx="{x_of(i):.1f}" cy="{y_of(v):.1f}" r="2.4" '
            f'fill="{MISSED if missed else PALETTE[0]}"><title>{escape(labels[i])} : '
            f"{escape(shown)}</title></circle>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _polyline(points: list[str]) -> str:
    return (
        f'<polyline points="{" ".join(points)}" fill="none" stroke="{PALETTE[0]}" '
        'stroke-width="1.6"/>'
    )
