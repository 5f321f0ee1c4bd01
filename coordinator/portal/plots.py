"""Small server-rendered SVG charts for the portal (no JavaScript, no plotting library).

Two shapes cover what a reader would rather look at than read: grouped horizontal bars
(benchmark intensity beside the CBAM default per cell; model error beside Tier-1 and the
CBAM default) and step lines (cumulative epsilon per node over rounds). Every chart is an
``<svg role="img">`` with a ``<title>`` and ``<desc>``; the page puts the same numbers in a
table next to it, which is the text alternative.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

#: Colour-blind-safe palette (Okabe & Ito, 2008), one colour per series.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
WIDTH = 720
LABEL_W = 230
ROW_H = 14
GAP = 10


def _fmt(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _svg(chart_id: str, title: str, desc: str, height: int, body: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" id="{chart_id}">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 - every text is escaped


def _legend(names: Sequence[str], y: int) -> list[str]:
    out, x = [], LABEL_W
    for i, name in enumerate(names):
        colour = PALETTE[i % len(PALETTE)]
        out.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{x + 16}" y="{y + 10}" font-size="12">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    return out


def grouped_bars(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    unit: str,
) -> Markup:
    """One group of horizontal bars per category, one bar per series (None: no bar)."""
    values = [v for _, vs in series for v in vs if v is not None and math.isfinite(v)]
    top = max(values, default=1.0) or 1.0
    plot_w = WIDTH - LABEL_W - 70
    group_h = ROW_H * len(series) + GAP
    height = 40 + group_h * max(len(categories), 1) + 30
    body = _legend([name for name, _ in series], 6)
    y = 30
    for c, label in enumerate(categories):
        body.append(
            f'<text x="{LABEL_W - 6}" y="{y + group_h / 2}" font-size="12" '
            f'text-anchor="end">{escape(label)}</text>'
        )
        for s, (name, vals) in enumerate(series):
            value = vals[c] if c < len(vals) else None
            by = y + s * ROW_H
            if value is None or not math.isfinite(value):
                body.append(
                    f'<text x="{LABEL_W + 4}" y="{by + 11}" font-size="11" fill="#555">'
                    f"{escape(name)}: none</text>"
                )
                continue
            w = max(plot_w * value / top, 1.0)
            colour = PALETTE[s % len(PALETTE)]
            body.append(
                f'<rect x="{LABEL_W}" y="{by}" width="{w:.1f}" height="{ROW_H - 2}" '
                f'fill="{colour}"><title>{escape(f"{label}, {name}: {_fmt(value)} {unit}")}'
                f"</title></rect>"
            )
            body.append(
                f'<text x="{LABEL_W + w + 4:.1f}" y="{by + 11}" font-size="11">'
                f"{escape(_fmt(value))}</text>"
            )
        y += group_h
    body.append(
        f'<text x="{LABEL_W}" y="{height - 8}" font-size="12">{escape(unit)} '
        f"(bar length from 0 to {escape(_fmt(top))})</text>"
    )
    desc = f"Grouped bar chart, {len(categories)} groups; the table below lists every value."
    return _svg(chart_id, title, desc, int(height), body)


def step_lines(
    chart_id: str,
    title: str,
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    unit: str,
) -> Markup:
    """Cumulative values per series over ordered steps (None: no value at that step)."""
    values = [v for _, vs in series for v in vs if v is not None]
    top = max(values, default=1.0) or 1.0
    left, right, top_pad, bottom = 60, 20, 30, 50
    height = 280
    plot_w = WIDTH - left - right
    plot_h = height - top_pad - bottom
    n = max(len(x_labels), 1)

    def px(i: int) -> float:
        return left + (plot_w * (i + 0.5) / n)

    def py(v: float) -> float:
        return top_pad + plot_h * (1 - v / top)

    body = _legend([name for name, _ in series], 6)
    body.append(
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{WIDTH - right}" '
        f'y2="{top_pad + plot_h}" stroke="#333"/>'
        f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + plot_h}" stroke="#333"/>'
        f'<text x="{left - 4}" y="{top_pad + 4}" font-size="11" text-anchor="end">'
        f"{escape(_fmt(top))}</text>"
        f'<text x="{left - 4}" y="{top_pad + plot_h}" font-size="11" text-anchor="end">0</text>'
    )
    for i, label in enumerate(x_labels):
        body.append(
            f'<text x="{px(i):.1f}" y="{top_pad + plot_h + 16}" font-size="11" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    for s, (name, vals) in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        points = [(px(i), py(v)) for i, v in enumerate(vals) if v is not None]
        if points:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            body.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        for i, v in enumerate(vals):
            if v is not None:
                body.append(
                    f'<circle cx="{px(i):.1f}" cy="{py(v):.1f}" r="3" fill="{colour}">'
                    f"<title>{escape(f'{name}, {x_labels[i]}: {_fmt(v)} {unit}')}</title>"
                    f"</circle>"
                )
    body.append(
        f'<text x="{left}" y="{height - 8}" font-size="12">{escape(unit)} '
        f"(vertical), round (horizontal)</text>"
    )
    desc = f"Line chart of {len(series)} series over {len(x_labels)} rounds; see the table."
    return _svg(chart_id, title, desc, height, body)
