"""The weekly report's trend charts (reporting/charts.py, svg_plot.py): plain SVG text whose geometry
says what the warehouse holds. Read back from the archived report.html of real suite runs on the
demo warehouse, and rendered directly from TrendRow values for the properties of the text itself."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from feature_store_health.checks.trend import TrendRow
from feature_store_health.config import load_config
from feature_store_health.reporting.charts import trend_chart_svg
from feature_store_health.reporting.svg_plot import nice_ticks

SVG = "{http://www.w3.org/2000/svg}"
WEEK = ["01-30", "01-31", "02-01", "02-02", "02-03", "02-04", "02-05"]
COVERAGE, TIERS = "Coverage: rows and players per date", "Quality tier distribution (rows)"
NULLS, CONVERSION = "NULL rate per critical feature (%)", "Downstream conversion (active predictions / rows)"
DURATION = "Processing duration, MAX - MIN processed_at (min)"


def report_charts(reports: Path) -> list[ET.Element]:
    (report,) = reports.glob("*/*/report.html")
    found = re.findall(r'<svg xmlns="http://www.w3.org/2000/svg" class="trend-chart".*?</svg>', report.read_text(), re.S)
    return [ET.fromstring(svg) for svg in found]  # well-formed XML, or this raises


def panel(chart: ET.Element, title: str) -> ET.Element:
    (found,) = [g for g in chart.iter(f"{SVG}g") if g.get("data-title") == title]
    return found


def marks(element: ET.Element, tag: str, kind: str) -> list[ET.Element]:
    return [e for e in element.iter(f"{SVG}{tag}") if e.get("class") == kind]


def hover(element: ET.Element) -> str:
    return element.find(f"{SVG}title").text


def plot_box(element: ET.Element) -> tuple[float, float]:
    """The plot area's bottom edge and height (its frame)."""
    (frame,) = marks(element, "rect", "frame")
    return float(frame.get("y")) + float(frame.get("height")), float(frame.get("height"))


def top_tick(element: ET.Element) -> float:
    return max(float(text.text) for text in marks(element, "text", "ytick"))


def test_weekly_report_charts_draw_the_warehouse_numbers(warehouse, run_suite, tmp_path):
    reports = tmp_path / "reports"
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "--days=7", f"--reports-dir={reports}")
    assert run.ret == 0
    cache, composite = report_charts(reports)
    assert cache.get("role") == "img" and cache.get("aria-label").startswith("player_daily_cache, 2026-01-30 to 2026-02-05: ")
    assert (cache.get("width"), cache.get("viewBox")) == ("1150", f"0 0 1150 {cache.get('height')}")
    assert 500 <= int(cache.get("height")) <= 560
    # coverage: one bar per date, each as tall as its rows over the top tick, of the plot's height
    coverage = panel(cache, COVERAGE)
    bottom, height = plot_box(coverage)
    assert (height, top_tick(coverage)) == (160, 350)
    bars = {hover(bar).split()[0]: bar for bar in marks(coverage, "rect", "bar")}
    assert list(bars) == WEEK
    assert [hover(bar) for bar in bars.values()][4] == "02-03 rows: 307"
    rows = dict(zip(WEEK, [225, 114, 303, 125, 307, 218, 252]))
    heights = {date: float(bar.get("height")) for date, bar in bars.items()}
    assert max(heights, key=heights.get) == "02-03" == max(rows, key=rows.get)
    for date, bar in bars.items():
        assert abs(heights[date] - rows[date] / 350 * height) <= 1, date
        assert abs(float(bar.get("y")) + heights[date] - bottom) <= 0.1  # standing on the axis
    assert [t.text for t in marks(coverage, "text", "xtick")] == WEEK
    # the tier stack: its segments (every demo row has a configured tier) add up to the date's rows
    tiers = panel(cache, TIERS)
    assert top_tick(tiers) == 350 and plot_box(tiers)[1] == 160
    segments: dict[str, list[ET.Element]] = {}
    for segment in marks(tiers, "rect", "bar"):
        segments.setdefault(hover(segment).split()[0], []).append(segment)
    assert list(segments) == WEEK
    for date, stack in segments.items():
        stack.sort(key=lambda s: -float(s.get("y")))  # from the axis up
        assert abs(sum(float(s.get("height")) for s in stack) - rows[date] / 350 * 160) <= 1, date
        for lower, upper in zip(stack, stack[1:]):  # each sits on the one below, no gap, no overlap
            assert abs(float(upper.get("y")) + float(upper.get("height")) - float(lower.get("y"))) <= 0.1
    assert [hover(s) for s in segments["02-05"]][:2] == ["02-05 EXCELLENT: 210", "02-05 GOOD: 42"]
    # the composite factors have no tier column and no downstream usage: their panels say so
    for title in (TIERS, CONVERSION):
        shown = panel(composite, title)
        assert [t.text for t in marks(shown, "text", "note")] == ["not configured for this table"]
        assert marks(shown, "rect", "bar") == marks(shown, "path", "line") == []
    assert len(marks(panel(composite, COVERAGE), "rect", "bar")) == 7


def test_a_date_without_rows_leaves_a_gap_never_a_zero(warehouse, run_suite, tmp_path):
    warehouse.execute("DELETE FROM nba_precompute.player_daily_cache WHERE cache_date = '2026-02-02'")
    reports = tmp_path / "reports"
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "--days=7", f"--reports-dir={reports}")
    assert run.ret == 1  # coverage fails that date; the report still has its charts
    cache = report_charts(reports)[0]
    # rows and players are counts: 0 is a value, drawn on the axis (no bar, a marker at 0)
    coverage = panel(cache, COVERAGE)
    bottom, _ = plot_box(coverage)
    assert [hover(bar).split()[0] for bar in marks(coverage, "rect", "bar")] == [d for d in WEEK if d != "02-02"]
    (players,) = marks(coverage, "path", "line")
    assert players.get("d").count("M") == 1 and players.get("d").count("L") == 6
    zero = [m for m in marks(coverage, "path", "marker") if hover(m) == "02-02 players: 0"]
    assert len(zero) == 1 and f" {bottom:g}a" in zero[0].get("d")
    # a NULL rate, processing time or conversion on a date without rows is None: the line breaks
    # there (a second M starts after the gap) and the date has no marker and no bar
    nulls = panel(cache, NULLS)
    lines = marks(nulls, "path", "line")
    assert [line.get("data-series") for line in lines] == ["points_avg_last_10", "minutes_avg_last_10",
                                                           "usage_rate_last_10", "ts_pct_last_10"]
    for line in lines + marks(panel(cache, CONVERSION), "path", "line"):
        assert line.get("d").count("M") == 2 and line.get("d").count("L") == 4
    for shown in (nulls, panel(cache, CONVERSION)):
        dates = [hover(m).split()[0] for m in marks(shown, "path", "marker")]
        assert "02-02" not in dates and len(dates) == 6 * len(marks(shown, "path", "line"))
    assert [hover(bar).split()[0] for bar in marks(panel(cache, DURATION), "rect", "bar")] == [
        d for d in WEEK if d != "02-02"]


def trend_rows() -> list[TrendRow]:
    return [TrendRow(dt.date(2026, 2, day), 200 + day, 190, 8, 99.5, None if day == 3 else 97.0,
                     {"EXCELLENT": 150, "GOOD": 50 + day, "ACCEPTABLE": 0, "POOR": 0, "NULL": 0},
                     {"points_avg_last_10": 0.0, "minutes_avg_last_10": 1.5 * day, "usage_rate_last_10": None,
                      "ts_pct_last_10": 0.0}, 6.5, 700, 3.4, from_history=day == 1)
            for day in range(1, 6)]


def test_the_same_rows_give_the_same_bytes_and_every_text_is_escaped():
    cache = load_config().tables[0]
    first = trend_chart_svg(trend_rows(), 'cache <b>&"week"', cache)
    assert first == trend_chart_svg(trend_rows(), 'cache <b>&"week"', cache)
    assert "<b>" not in first and 'cache &lt;b&gt;&amp;&quot;week&quot;' in first
    chart = ET.fromstring(first)
    assert chart.find(f"{SVG}text").text == 'cache <b>&"week"'
    assert [t.text for t in marks(panel(chart, COVERAGE), "text", "xtick")] == ["02-01*", "02-02", "02-03",
                                                                                "02-04", "02-05"]
    # a series with no value at all draws no point; the one gap in completeness splits its line
    readiness = panel(chart, "Readiness and completeness (%)")
    assert [line.get("d").count("M") for line in marks(readiness, "path", "line")] == [1, 2]
    assert [t.text for t in marks(readiness, "text", "ytick")] == ["0", "20", "40", "60", "80", "100"]
    (empty,) = [line for line in marks(panel(chart, NULLS), "path", "line")
                if line.get("data-series") == "usage_rate_last_10"]
    assert empty.get("d") == ""


def test_round_ticks_cover_the_values_with_at_most_seven_intervals():
    assert nice_ticks(0, 316.2) == [0, 50, 100, 150, 200, 250, 300, 350]
    assert nice_ticks(0, 8.9) == [0, 2, 4, 6, 8, 10]
    assert nice_ticks(3.33, 3.79) == [3.3, 3.4, 3.5, 3.6, 3.7, 3.8]
    assert nice_ticks(0, 0) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]  # all zero: the axis still has a scale


def test_drawing_the_charts_imports_no_plotting_library():
    program = ("import sys\n"
               "from feature_store_health.config import load_config\n"
               "from tests.test_charts import trend_rows\n"
               "from feature_store_health.reporting.charts import trend_chart_svg\n"
               "for table in load_config().tables:\n"
               "    assert trend_chart_svg(trend_rows(), table.name, table).startswith('<svg')\n"
               "print(sorted(name for name in ('matplotlib', 'numpy', 'PIL') if name in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout == "[]\n"
