"""The charts as drawn by a browser, measured in the page: in the bars by service, no value
(« 83,3 % ») touches the objective's dashed line, whatever the value beside it, and none runs
out of the chart. Chromium draws the SVG with the fonts the PDF uses (DejaVu Sans for the
chart's sans-serif); the figures are measured with ``getBBox``."""

from __future__ import annotations

import pytest

from reports.svg import hbar_chart
from tests.browser_support import ARTIFACTS, french_page

pytestmark = pytest.mark.browser

TARGET = 0.85
# Every value from far below the objective to past it, in steps finer than a label's width;
# 83,3 % is the one an auditor saw cross the line.
VALUES = [0.833, 0.0, 1.0, *(round(0.60 + 0.005 * i, 3) for i in range(81))]

MEASURE = """() => {
  const svg = document.querySelector('svg');
  const line = [...svg.querySelectorAll('line[stroke-dasharray]')]
    .find(l => l.getAttribute('x1') === l.getAttribute('x2'));
  const x = parseFloat(line.getAttribute('x1'));
  const half = parseFloat(line.getAttribute('stroke-width')) / 2;
  const values = [...svg.querySelectorAll('text')]
    .filter(t => !t.getAttribute('text-anchor') && /\\d\\s%$/.test(t.textContent))
    .map(t => { const b = t.getBBox(); return [t.textContent, b.x, b.x + b.width]; });
  return {line: [x - half, x + half], values, width: svg.viewBox.baseVal.width};
}"""


@pytest.mark.parametrize("width", [640, 680])
def test_no_value_touches_the_objective_line(browser, width: int) -> None:
    chunks = [VALUES[i : i + 12] for i in range(0, len(VALUES), 12)]
    with french_page(browser) as page:
        for n, chunk in enumerate(chunks):
            svg = hbar_chart(
                [f"Service {i}" for i in range(len(chunk))],
                chunk,
                title="Taux de décroché par service",
                desc="",
                name="taux de décroché",
                width=width,
                target=TARGET,
            )
            page.set_content(f"<!DOCTYPE html><html><body style='margin:0'>{svg}</body></html>")
            found = page.evaluate(MEASURE)
            if n == 0:
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / f"barres-par-service-{width}.png"))
            left, right = found["line"]
            assert len(found["values"]) == len(chunk)
            for text, start, end in found["values"]:
                # A pixel of air each side of the line's stroke.
                assert end < left - 1 or start > right + 1, f"{text} touches the line"
                assert end <= found["width"], f"{text} runs out of the chart"
