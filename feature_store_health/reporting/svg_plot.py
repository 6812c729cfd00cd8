"""One chart panel drawn as SVG text: a title, a legend above the plot (never over the data), bars
(``rect``) and lines with markers (``path``) on a y axis of round ticks, x tick labels rotated.

Pure string building, no third-party import: the weekly report's charts cost milliseconds, not the
second matplotlib took to import and draw. Coordinates are rounded to 0.1 px, so the same input
gives the same bytes. charts.py says what each panel of the weekly report shows.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Sequence

__all__ = ["LEFT", "LEGEND_LINE", "RIGHT", "TITLE_BAND", "Panel", "Series", "draw_panel", "legend_lines", "nice_ticks",
           "text_width", "tick_label"]

FONT_TICK, FONT_LEGEND, FONT_TITLE = 9, 9, 11
LEFT, RIGHT = 46, 14          # room for the y tick labels; a gap before the next panel
TITLE_BAND, LEGEND_LINE = 22, 13
MIN_LABEL_SPACING = 14        # px between rotated x labels, so neighbours never overlap
SWATCH = 14                   # a legend entry's mark, before its label
GRID, FRAME, NOTE = "#e6e6e6", "#9a9a9a", "#666"


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]   # one per date; None: no value that date (a gap, never a zero)
    color: str
    marker: str = "circle"           # lines only: "circle", "square" or "dot"


@dataclass(frozen=True)
class Panel:
    title: str
    bars: Sequence[Series] = ()      # stacked when more than one
    lines: Sequence[Series] = ()
    legend: bool = True
    y_range: tuple[float, float] | None = None   # fixed (lowest, highest); else from the data
    zero_based: bool = True          # bars and counts start at 0; a ratio's line may not
    note: str | None = None          # instead of data, e.g. "not configured for this table"
    tooltip_unit: str = ""           # after each value in the bars' and markers' hover titles


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _n(value: float) -> str:
    """A coordinate: 0.1 px, no trailing zeros (deterministic, compact)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def text_width(text: str, size: float) -> float:
    """An estimate of the rendered width (no font metrics at hand): enough to wrap legends."""
    narrow, wide = sum(ch in "il.,:;!|'()[]* " for ch in text), sum(ch.isupper() or ch in "mw%" for ch in text)
    return size * (0.32 * narrow + 0.66 * wide + 0.58 * (len(text) - narrow - wide))


def nice_ticks(lowest: float, highest: float, most: int = 7) -> list[float]:
    """Round tick values covering [lowest, highest]: the finest step of 1, 2, 2.5 or 5 x 10^k that
    needs at most ``most`` intervals."""
    if highest - lowest <= 0:
        pad = abs(highest) * 0.1 or 1.0
        lowest, highest = (lowest, highest + pad) if lowest == 0 else (lowest - pad, highest + pad)
    power = math.floor(math.log10((highest - lowest) / most))
    for step in (m * 10.0 ** p for p in (power, power + 1) for m in (1, 2, 2.5, 5)):
        first, last = math.floor(lowest / step + 1e-9), math.ceil(highest / step - 1e-9)
        if last - first <= most:
            return [round((first + i) * step, 10) for i in range(last - first + 1)]
    return [lowest, highest]  # not reached: 10^(power+1) >= (highest - lowest) / most


def tick_label(value: float, ticks: Sequence[float]) -> str:
    top = max(abs(t) for t in ticks)
    scale, suffix = (1e6, "M") if top >= 1e6 else (1e3, "k") if top >= 1e4 else (1.0, "")
    step = (ticks[1] - ticks[0]) / scale if len(ticks) > 1 else 1.0
    decimals = next(d for d in range(10) if abs(step * 10 ** d - round(step * 10 ** d)) < 1e-6)
    return "0" if value == 0 else f"{value / scale:.{decimals}f}{suffix}"


def _value(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def _marker(marker: str, x: float, y: float) -> str:
    if marker == "square":
        return f"M{_n(x - 3)} {_n(y - 3)}h6v6h-6Z"
    r = 2 if marker == "dot" else 3
    return f"M{_n(x - r)} {_n(y)}a{r} {r} 0 1 0 {2 * r} 0a{r} {r} 0 1 0 {-2 * r} 0Z"


def legend_lines(panel: Panel, width: float) -> list[list[tuple[Series, str, float]]]:
    """The legend's entries (series, kind, width) flowed into lines no wider than the plot."""
    if not panel.legend or panel.note:
        return []
    entries = [(s, "bar") for s in panel.bars] + [(s, "line") for s in panel.lines]
    lines: list[list[tuple[Series, str, float]]] = []
    used = 0.0
    for series, kind in entries:
        entry_width = SWATCH + 4 + text_width(series.label, FONT_LEGEND) + 10
        if not lines or used + entry_width - 10 > width:  # a line's last trailing gap may overhang
            lines.append([])
            used = 0.0
        lines[-1].append((series, kind, entry_width))
        used += entry_width
    return lines


def _legend(lines: list[list[tuple[Series, str, float]]], left: float, top: float) -> list[str]:
    parts = []
    for number, line in enumerate(lines):
        x, y = left, top + number * LEGEND_LINE + LEGEND_LINE / 2
        for series, kind, entry_width in line:
            if kind == "bar":
                parts.append(f'<rect class="swatch" x="{_n(x)}" y="{_n(y - 4)}" width="{SWATCH - 4}" height="8" '
                             f'fill="{series.color}"/>')
            else:
                parts.append(f'<path class="swatch" d="M{_n(x)} {_n(y)}h{SWATCH}" stroke="{series.color}" '
                             f'stroke-width="1.5"/><path class="swatch" d="{_marker(series.marker, x + SWATCH / 2, y)}" '
                             f'fill="{series.color}"/>')
            parts.append(f'<text x="{_n(x + SWATCH + 4)}" y="{_n(y + 3)}" font-size="{FONT_LEGEND}">'
                         f'{_e(series.label)}</text>')
            x += entry_width
    return parts


def draw_panel(panel: Panel, dates: Sequence[str], left: float, top: float, width: float,
               legend_band: float, plot_height: float) -> str:
    """The panel in the cell at (left, top), ``width`` wide; its plot starts ``legend_band`` below
    the title (the tallest legend of its row, so the plots of a row line up)."""
    px, pw = left + LEFT, width - LEFT - RIGHT
    py, ph = top + TITLE_BAND + legend_band, plot_height
    parts = [f'<g class="panel" data-title="{_e(panel.title)}">',
             f'<text class="panel-title" x="{_n(px + pw / 2)}" y="{_n(top + 14)}" font-size="{FONT_TITLE}" '
             f'text-anchor="middle">{_e(panel.title)}</text>']
    parts += _legend(legend_lines(panel, pw), px, top + TITLE_BAND - 4)
    slot = pw / max(len(dates), 1)
    centres = [px + (i + 0.5) * slot for i in range(len(dates))]
    if panel.note:
        parts.append(f'<text class="note" x="{_n(px + pw / 2)}" y="{_n(py + ph / 2)}" font-size="{FONT_LEGEND + 1}" '
                     f'text-anchor="middle" fill="{NOTE}">{_e(panel.note)}</text>')
    else:
        parts += _data(panel, dates, centres, slot, px, py, pw, ph)
    parts.append(f'<rect class="frame" x="{_n(px)}" y="{_n(py)}" width="{_n(pw)}" height="{_n(ph)}" fill="none" '
                 f'stroke="{FRAME}"/>')
    every = max(1, math.ceil(MIN_LABEL_SPACING / slot))
    ticks = "".join(f"M{_n(x)} {_n(py + ph)}v4" for x in centres[::every])
    if ticks:
        parts.append(f'<path class="xticks" d="{ticks}" stroke="{FRAME}"/>')
    for x, label in list(zip(centres, dates))[::every]:
        ly = py + ph + 12
        parts.append(f'<text class="xtick" x="{_n(x + 3)}" y="{_n(ly)}" font-size="{FONT_TICK}" text-anchor="end" '
                     f'transform="rotate(-45 {_n(x + 3)} {_n(ly)})">{_e(label)}</text>')
    parts.append("</g>")
    return "".join(parts)


def _data(panel: Panel, dates: Sequence[str], centres: Sequence[float], slot: float,
          px: float, py: float, pw: float, ph: float) -> list[str]:
    stacks = [sum(v for v in column if v is not None) for column in zip(*(s.values for s in panel.bars))
              if any(v is not None for v in column)]
    known = stacks + [v for s in panel.lines for v in s.values if v is not None]
    if panel.y_range:  # a fixed range (0-101 for shares): its round ticks inside it
        lowest, highest = panel.y_range
        ticks = [t for t in nice_ticks(lowest, highest) if lowest <= t <= highest]
    else:  # from the data: the axis spans round ticks, the top one just above the highest value
        low, high = min(known, default=0.0), max(known, default=0.0)
        pad = (high - low) * 0.03  # headroom: a top (or free bottom) value never sits on the frame
        ticks = nice_ticks(min(low, 0.0) if panel.zero_based else low - pad, high + pad)
        lowest, highest = ticks[0], ticks[-1]

    def y_of(value: float) -> float:
        return round(py + ph - (value - lowest) / (highest - lowest) * ph, 1)

    parts = [f'<path class="grid" d="{"".join(f"M{_n(px)} {_n(y_of(t))}h{_n(pw)}" for t in ticks)}" stroke="{GRID}"/>']
    parts += [f'<text class="ytick" x="{_n(px - 5)}" y="{_n(y_of(t) + 3)}" font-size="{FONT_TICK}" '
              f'text-anchor="end">{tick_label(t, ticks)}</text>' for t in ticks]
    bar_width = slot * 0.7
    base = [0.0] * len(dates)
    for series in panel.bars:
        for i, value in enumerate(series.values):
            if value is None or value == 0:
                continue
            bottom, top = y_of(base[i]), y_of(base[i] + value)
            base[i] += value
            # min/abs: a negative value hangs below the axis (a negative height is invalid SVG)
            parts.append(f'<rect class="bar" x="{_n(centres[i] - bar_width / 2)}" y="{_n(min(top, bottom))}" '
                         f'width="{_n(bar_width)}" height="{_n(abs(bottom - top))}" fill="{series.color}">'
                         f'<title>{_e(dates[i])} {_e(series.label)}: {_value(value)}{panel.tooltip_unit}</title></rect>')
    for series in panel.lines:
        points = [(centres[i], y_of(v)) if v is not None else None for i, v in enumerate(series.values)]
        # a None ends the run of points: the next known point starts a new subpath (M), so a missing
        # date shows as a gap in the line, never as a drop to zero
        path, previous = [], None
        for point in points:
            if point is not None:
                path.append(f"{'L' if previous else 'M'}{_n(point[0])} {_n(point[1])}")
            previous = point
        parts.append(f'<path class="line" data-series="{_e(series.label)}" d="{"".join(path)}" fill="none" '
                     f'stroke="{series.color}" stroke-width="1.5"/>')
        for i, point in enumerate(points):
            if point is not None:
                parts.append(f'<path class="marker" d="{_marker(series.marker, *point)}" fill="{series.color}">'
                             f'<title>{_e(dates[i])} {_e(series.label)}: {_value(series.values[i])}'
                             f'{panel.tooltip_unit}</title></path>')
    return parts
