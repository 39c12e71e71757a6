"""Small charts drawn on the server as inline SVG: no JavaScript, no CDN, and they print.

Every chart carries a ``<title>`` and a ``<desc>`` and is ``role="img"``; the pages and reports
put the same figures in a table beside it (RGAA: a chart always has a text alternative).
Colours come from a palette readable by colour-blind people and contrast >= 3:1 on white.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

# Okabe-Ito, darkened where needed for 3:1 contrast on white.
PALETTE = ("#0b5cad", "#b35900", "#007a5a", "#a3286b", "#5b5b5b", "#8a6d00")
TEXT = "#1a1a1a"
GRID = "#c8c8c8"
FONT = "font-family:Marianne,Arial,sans-serif"


def _open(width: int, height: int, title: str, desc: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="{FONT}">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>"
    )


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


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
) -> Markup:
    """Grouped vertical bars: one group per label, one bar per series (``None``: no bar).

    ``target`` draws a dashed horizontal line (an objective).
    """
    left, right, top, bottom = 44, 8, 10, 38
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, vs in series for v in vs if v is not None]
    peak = max_value if max_value is not None else max([*values, target or 0.0, 1e-9])
    peak = peak or 1.0
    parts = [_open(width, height, title, desc)]
    for i in range(5):
        level = peak * i / 4
        y = top + plot_h - plot_h * i / 4
        text = f"{level * 100:.0f} %" if percent else _fmt(level)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end" '
            f'fill="{TEXT}">{escape(text)}</text>'
        )
    n = max(1, len(labels))
    group_w = plot_w / n
    bar_w = max(1.0, group_w * 0.8 / max(1, len(series)))
    step = max(1, n // 16)  # at most ~16 axis labels
    for g, label in enumerate(labels):
        x0 = left + g * group_w + group_w * 0.1
        for s, (name, vs) in enumerate(series):
            value = vs[g] if g < len(vs) else None
            if value is None:
                continue
            h = plot_h * min(value, peak) / peak
            shown = f"{value * 100:.1f} %" if percent else _fmt(value)
            parts.append(
                f'<rect x="{x0 + s * bar_w:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}" fill="{PALETTE[s % len(PALETTE)]}">'
                f"<title>{escape(label)} — {escape(name)} : {escape(shown)}</title></rect>"
            )
        if g % step == 0:
            parts.append(
                f'<text x="{left + g * group_w + group_w / 2:.1f}" y="{height - bottom + 14}" '
                f'font-size="10" text-anchor="middle" fill="{TEXT}">{escape(label)}</text>'
            )
    if target is not None:
        y = top + plot_h - plot_h * min(target, peak) / peak
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{TEXT}" stroke-dasharray="6 4" stroke-width="1.5"/>'
        )
    legend_x = left
    for s, (name, _) in enumerate(series):
        parts.append(
            f'<rect x="{legend_x}" y="{height - 14}" width="10" height="10" '
            f'fill="{PALETTE[s % len(PALETTE)]}"/>'
            f'<text x="{legend_x + 14}" y="{height - 5}" font-size="11" fill="{TEXT}">'
            f"{escape(name)}</text>"
        )
        legend_x += 24 + 7 * len(name)
    parts.append("</svg>")
    return Markup("".join(parts))


def sparkline(
    values: Sequence[float | None],
    *,
    title: str,
    desc: str,
    width: int = 160,
    height: int = 36,
    low: float = 0.0,
    high: float = 1.0,
    target: float | None = None,
) -> Markup:
    """A small line for a dashboard card (e.g. the daily answer rate); gaps where ``None``."""
    parts = [_open(width, height, title, desc)]
    span = (high - low) or 1.0
    n = len(values)

    def point(i: int, v: float) -> str:
        x = 2 + (width - 4) * (i / max(1, n - 1))
        y = 2 + (height - 4) * (1 - (min(max(v, low), high) - low) / span)
        return f"{x:.1f},{y:.1f}"

    if target is not None:
        y = 2 + (height - 4) * (1 - (target - low) / span)
        parts.append(
            f'<line x1="0" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}" '
            'stroke-dasharray="3 3"/>'
        )
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, v in enumerate(values):
        if v is None:
            if segment:
                segments.append(segment)
            segment = []
        else:
            segment.append(point(i, v))
    if segment:
        segments.append(segment)
    for points in segments:
        if len(points) == 1:
            cx, cy = points[0].split(",")
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="2" fill="{PALETTE[0]}"/>')
        else:
            parts.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{PALETTE[0]}" '
                'stroke-width="2"/>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _heat(value: float) -> str:
    """White (0) to dark blue (1); text switches to white on dark cells for contrast."""
    value = min(max(value, 0.0), 1.0)
    r = round(255 - (255 - 11) * value)
    g = round(255 - (255 - 92) * value)
    b = round(255 - (255 - 173) * value)
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap(
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    title: str,
    desc: str,
    cell: int = 26,
    label_width: int = 120,
) -> Markup:
    """A grid of cells shaded by value (each row scaled to its own maximum)."""
    width = label_width + cell * len(columns) + 4
    height = 18 + cell * len(rows) + 4
    parts = [_open(width, height, title, desc)]
    for c, column in enumerate(columns):
        parts.append(
            f'<text x="{label_width + c * cell + cell / 2:.1f}" y="12" font-size="9" '
            f'text-anchor="middle" fill="{TEXT}">{escape(column)}</text>'
        )
    for r, row in enumerate(rows):
        y = 18 + r * cell
        parts.append(
            f'<text x="{label_width - 6}" y="{y + cell / 2 + 4:.1f}" font-size="11" '
            f'text-anchor="end" fill="{TEXT}">{escape(row)}</text>'
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
            share = v / peak
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" '
                f'fill="{_heat(share)}"><title>{escape(row)} {escape(columns[c])} : '
                f"{escape(_fmt(v))}</title></rect>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))
