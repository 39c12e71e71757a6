"""Small charts drawn on the server as inline SVG: no JavaScript, no CDN, and they print.

Every chart carries a ``<title>`` and a ``<desc>`` and is ``role="img"``; the pages and reports
put the same figures in a table beside it (RGAA: a chart always has a text alternative).
Colours come from a palette readable by colour-blind people and contrast >= 3:1 on white.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from analytics import glossary

# Okabe-Ito, darkened where needed for 3:1 contrast on white.
PALETTE = ("#0b5cad", "#b35900", "#007a5a", "#a3286b", "#5b5b5b", "#8a6d00")
TEXT = "#1a1a1a"
GRID = "#c8c8c8"
FONT = "font-family:Marianne,Arial,sans-serif"


def _open(width: int, height: int, title: str, desc: str) -> str:
    # class "chart": the pages shrink it to its box (never wider than drawn); PDFs keep its size.
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" style="{FONT}">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>"
    )


def _fmt(value: float) -> str:
    """A figure in French: decimal comma, no useless ``,0``."""
    return f"{value:.1f}".rstrip("0").rstrip(".").replace(".", ",")


def _percent(value: float, digits: int = 1) -> str:
    return glossary.percent(value, digits)


def axis_levels(peak: float, *, percent: bool = False, most: int = 5) -> list[float]:
    """The levels of a value axis from 0: quarters for a rate (0 to 100 %); otherwise whole,
    round steps (1, 2, 5, 10, 20, 50…) covering ``peak`` in at most ``most`` steps — calls are
    counted in whole calls, an axis reading 3,8 calls would be misread."""
    if percent:
        return [0.0, 0.25, 0.5, 0.75, 1.0]
    step = 1
    while step * most < peak:
        digits = len(str(step)) - 1
        step = {1: 2, 2: 5, 5: 10}[step // 10**digits] * 10**digits
    count = max(1, math.ceil(peak / step))
    return [float(step * i) for i in range(count + 1)]


def _whole(value: float) -> str:
    """A whole number, thousands apart by a narrow no-break space (French typography)."""
    return f"{round(value):,}".replace(",", "\u202f")


def _text_width(text: str, size: float) -> float:
    """About how wide ``text`` is drawn at ``size`` (a sans-serif's mean glyph width)."""
    return 0.6 * size * len(text)


def _value_axis(peak: float, percent: bool, max_value: float | None) -> tuple[float, list[str]]:
    """The axis' top and the labels of its levels (evenly spaced from 0)."""
    if percent:
        top = max_value or 1.0
        levels = [top * i / 4 for i in range(5)]
        return top, [_percent(level, 0) for level in levels]
    if max_value is not None:
        levels = [max_value * i / 4 for i in range(5)]
        return max_value, [_fmt(level) for level in levels]
    levels = axis_levels(peak)
    return levels[-1], [_whole(level) for level in levels]


def bar_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    title: str,
    desc: str,
    width: int = 640,
    height: int = 220,
    max_value: float | None = None,
    percent: bool = False,
    target: float | None = None,
    font_size: float = 10,
) -> Markup:
    """Grouped vertical bars: one group per label, one bar per series (``None``: no bar).

    The value axis is in whole, round steps (counts of calls) or in quarters of 100 %
    (``percent``); labels under the bars are thinned out so that none overlaps the next.
    ``target`` draws a dashed horizontal line (an objective).
    """
    values = [v for _, vs in series for v in vs if v is not None]
    peak, levels = _value_axis(max([*values, target or 0.0, 0.0]), percent, max_value)
    left = 10 + max(_text_width(text, font_size) for text in levels)
    right, top, bottom = 8, 10, 26 + 2.8 * font_size
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [_open(width, height, title, desc)]
    for i, text in enumerate(levels):
        y = top + plot_h - plot_h * i / (len(levels) - 1)
        parts.append(
            f'<line x1="{left:.1f}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}"/><text x="{left - 4:.1f}" y="{y + font_size * 0.35:.1f}" '
            f'font-size="{font_size}" text-anchor="end" fill="{TEXT}">{escape(text)}</text>'
        )
    n = max(1, len(labels))
    group_w = plot_w / n
    bar_w = max(1.0, group_w * 0.8 / max(1, len(series)))
    widest = max([_text_width(label, font_size) for label in labels] or [0.0]) + font_size
    step = max(1, math.ceil(widest / group_w))  # every label readable, none over the next
    for g, label in enumerate(labels):
        x0 = left + g * group_w + group_w * 0.1
        for s, (name, vs) in enumerate(series):
            value = vs[g] if g < len(vs) else None
            if value is None:
                continue
            h = plot_h * min(value, peak) / peak if peak else 0.0
            shown = _percent(value) if percent else _fmt(value)
            parts.append(
                f'<rect x="{x0 + s * bar_w:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}" fill="{PALETTE[s % len(PALETTE)]}">'
                f"<title>{escape(label)} — {escape(name)} : {escape(shown)}</title></rect>"
            )
        if g % step == 0:
            parts.append(
                f'<text x="{left + g * group_w + group_w / 2:.1f}" '
                f'y="{top + plot_h + font_size + 4:.1f}" font-size="{font_size}" '
                f'text-anchor="middle" fill="{TEXT}">{escape(label)}</text>'
            )
    if target is not None and peak:
        y = top + plot_h - plot_h * min(target, peak) / peak
        parts.append(
            f'<line x1="{left:.1f}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{TEXT}" stroke-dasharray="6 4" stroke-width="1.5"/>'
        )
    parts += _legend(series, left, height, font_size, target is not None)
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend(
    series: Sequence[tuple[str, object]], left: float, height: int, size: float, target: bool
) -> list[str]:
    parts: list[str] = []
    x = left
    for s, (name, _) in enumerate(series):
        parts.append(
            f'<rect x="{x:.1f}" y="{height - size - 4:.1f}" width="{size}" height="{size}" '
            f'fill="{PALETTE[s % len(PALETTE)]}"/>'
            f'<text x="{x + size + 4:.1f}" y="{height - 5}" font-size="{size + 1}" '
            f'fill="{TEXT}">{escape(name)}</text>'
        )
        x += size * 3 + _text_width(name, size + 1)
    if target:
        y = height - size / 2 - 4
        parts.append(
            f'<line x1="{x:.1f}" x2="{x + 2 * size:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{TEXT}" stroke-dasharray="6 4" stroke-width="1.5"/>'
            f'<text x="{x + 2 * size + 4:.1f}" y="{height - 5}" font-size="{size + 1}" '
            f'fill="{TEXT}">objectif</text>'
        )
    return parts


def _wrap(text: str, chars: int) -> list[str]:
    """``text`` on lines of at most ``chars`` characters, cut at spaces (two lines at most: the
    rest is kept on the second)."""
    words, lines = text.split(), [""]
    for word in words:
        if lines[-1] and len(lines[-1]) + 1 + len(word) > chars and len(lines) < 2:
            lines.append(word)
        else:
            lines[-1] = f"{lines[-1]} {word}".strip()
    return lines


def _value_x(bar_end: float, shown: str, font_size: float, line_x: float | None) -> float:
    """Where a bar's value starts: just after the bar, or just past the objective's line when
    the value would cross it there (« 83,3 % » of a bar ending short of an 85 % line). The
    width is taken generously (a fifth more than the estimate, and the line's stroke)."""
    x = bar_end + 4
    if line_x is None:
        return x
    reach = _text_width(shown, font_size) * 1.2
    if x - 3 <= line_x <= x + reach + 3:
        return line_x + 5
    return x


def hbar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    title: str,
    desc: str,
    name: str,
    width: int = 640,
    font_size: float = 10,
    target: float | None = None,
) -> Markup:
    """Horizontal bars of rates, one per named category (services): long names stay readable
    on the left (on two lines if need be), the value at the end of each bar, ``target`` as a
    dashed vertical line."""
    label_chars = 30
    label_w = (
        max(
            _text_width(line, font_size)
            for label in labels or [""]
            for line in _wrap(label, label_chars)
        )
        + 8
    )
    value_w = _text_width("100,0 %", font_size) + 6
    row = font_size * 2.9
    top, axis = 6, font_size + 8
    height = round(top + row * max(1, len(labels)) + axis + font_size + 12)
    plot_w = width - label_w - value_w - 8
    parts = [_open(width, height, title, desc)]
    bottom = top + row * max(1, len(labels))
    line_x = None if target is None else label_w + plot_w * min(max(target, 0.0), 1.0)
    for i in range(5):
        x = label_w + plot_w * i / 4
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom:.1f}" stroke="{GRID}"/>'
            f'<text x="{x:.1f}" y="{bottom + font_size + 4:.1f}" font-size="{font_size}" '
            f'text-anchor="middle" fill="{TEXT}">{_percent(i / 4, 0)}</text>'
        )
    for r, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + r * row
        lines = _wrap(label, label_chars)
        first = y + row / 2 + font_size * 0.35 - (len(lines) - 1) * font_size * 0.6
        for k, line in enumerate(lines):
            parts.append(
                f'<text x="{label_w - 6:.1f}" y="{first + k * font_size * 1.2:.1f}" '
                f'font-size="{font_size}" text-anchor="end" fill="{TEXT}">{escape(line)}</text>'
            )
        shown = "—" if value is None else _percent(value)
        w = 0.0 if value is None else plot_w * min(max(value, 0.0), 1.0)
        parts.append(
            f'<rect x="{label_w:.1f}" y="{y + row * 0.2:.1f}" width="{w:.1f}" '
            f'height="{row * 0.6:.1f}" fill="{PALETTE[0]}"><title>{escape(label)} — '
            f"{escape(name)} : {escape(shown)}</title></rect>"
            f'<text x="{_value_x(label_w + w, shown, font_size, line_x):.1f}" '
            f'y="{y + row / 2 + font_size * 0.35:.1f}" '
            f'font-size="{font_size}" fill="{TEXT}">{escape(shown)}</text>'
        )
    if line_x is not None:
        parts.append(
            f'<line x1="{line_x:.1f}" x2="{line_x:.1f}" y1="{top}" y2="{bottom:.1f}" '
            f'stroke="{TEXT}" stroke-dasharray="6 4" stroke-width="1.5"/>'
        )
    parts += _legend([(name, None)], label_w, height, font_size, target is not None)
    parts.append("</svg>")
    return Markup("".join(parts))


def _heat(value: float) -> str:
    """White (0) to dark blue (1); text switches to white on dark cells for contrast."""
    value = min(max(value, 0.0), 1.0)
    r = round(255 - (255 - 11) * value)
    g = round(255 - (255 - 92) * value)
    b = round(255 - (255 - 173) * value)
    return f"#{r:02x}{g:02x}{b:02x}"


# Shades up to 0.7 take dark text (contrast >= 4.9:1), shades from 0.85 white text (>= 4.8:1);
# the shades between, where neither reaches 4.5:1, are skipped.
LIGHT, DARK = 0.7, 0.85


def _shade(share: float) -> float:
    share = min(max(share, 0.0), 1.0)
    return share if share <= LIGHT else DARK + (share - LIGHT) / (1 - LIGHT) * (1 - DARK)


def heatmap(
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    title: str,
    desc: str,
    cell: int = 26,
    label_width: int | None = None,
    font_size: float = 10,
    max_width: int | None = None,
) -> Markup:
    """A grid of cells shaded by value (each row scaled to its own maximum), each cell's value
    written in it (white on the dark ones, for contrast). ``max_width``: the cells shrink so
    that the grid fits it (a PDF page's width), their values then left to the table beside."""
    if label_width is None:
        label_width = round(max(_text_width(r, font_size + 1) for r in rows or [""]) + 12)
    if max_width is not None and columns:
        cell = max(8, min(cell, (max_width - label_width - 4) // len(columns)))
    head = font_size + 8
    width = label_width + cell * len(columns) + 4
    height = round(head + cell * len(rows) + 4)
    parts = [_open(width, height, title, desc)]
    for c, column in enumerate(columns):
        parts.append(
            f'<text x="{label_width + c * cell + cell / 2:.1f}" y="{font_size + 2}" '
            f'font-size="{font_size}" text-anchor="middle" fill="{TEXT}">{escape(column)}</text>'
        )
    for r, row in enumerate(rows):
        y = head + r * cell
        parts.append(
            f'<text x="{label_width - 6}" y="{y + cell / 2 + font_size * 0.35:.1f}" '
            f'font-size="{font_size + 1}" text-anchor="end" fill="{TEXT}">{escape(row)}</text>'
        )
        line = values[r]
        peak = max([v for v in line if v is not None] or [0.0]) or 1.0
        for c, v in enumerate(line):
            x = label_width + c * cell
            if v is None:
                parts.append(
                    f'<rect x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" '
                    f'fill="#f2f2f2"><title>{escape(row)} {escape(columns[c])} : —</title></rect>'
                )
                continue
            share = _shade(v / peak)
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" '
                f'fill="{_heat(share)}"><title>{escape(row)} {escape(columns[c])} : '
                f"{escape(_fmt(v))}</title></rect>"
            )
            if cell >= 2.5 * font_size:
                ink = "#ffffff" if share > LIGHT else TEXT
                parts.append(
                    f'<text x="{x + cell / 2:.1f}" y="{y + cell / 2 + font_size * 0.35:.1f}" '
                    f'font-size="{font_size}" text-anchor="middle" fill="{ink}" '
                    f'aria-hidden="true">{escape(_fmt(v))}</text>'
                )
    parts.append("</svg>")
    return Markup("".join(parts))
