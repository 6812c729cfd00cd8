"""drift's pictures and continuity's offending rows as a person sees them: the archived report.html
rendered in headless Chromium (tests/browser.py), self-contained, no request beyond the file."""

from __future__ import annotations

import json

from conftest import ROOT
from feature_store_health.warehouse import demo_warehouse_path


def _card(page, test_id: str) -> str:
    return f"""Array.from(document.querySelectorAll('tbody.results-table-row'))
        .find(r => r.id.endsWith({json.dumps(test_id)})).querySelector('.extra')"""


def test_the_spread_and_the_permutation_as_the_report_shows_them(browser, run_suite, tmp_path):
    reports = tmp_path / "reports"
    run = run_suite(f"--database={demo_warehouse_path(ROOT)}", "--date=2026-01-23", "--days=15", "--no-history",
                    "-m", "drift or continuity", f"--reports-dir={reports}")
    assert run.ret == 1
    (report,) = reports.glob("*/*/report.html")
    page = browser.open(report)
    assert page.console_errors == []
    assert [url for url in page.requests if not url.startswith("data:")] == [report.resolve().as_uri()]
    # 2026-01-09, three_pt_rate_last_10's spread x1.7: the baseline's 15 bin shares beside the date's
    chart = page.evaluate(f"""(() => {{
        const extra = {_card(page, "test_drift[player_daily_cache-2026-01-09]")};
        const svg = extra.querySelector('svg.drift-bins');
        const bars = Array.from(svg.querySelectorAll('rect'));
        return {{column: svg.dataset.column, width: Math.round(svg.getBoundingClientRect().width),
                 bars: bars.length, titles: bars.slice(26, 28).map(b => b.querySelector('title').textContent),
                 tall: bars.filter(b => b.getAttribute('fill') === '#d32f2f')
                           .map(b => Math.round(parseFloat(b.getAttribute('height'))))}};
    }})()""")
    assert chart["column"] == "three_pt_rate_last_10" and chart["bars"] == 30 and chart["width"] > 300
    assert chart["titles"][1].startswith("> ") and "above the usual max): this date 24.5 %" in chart["titles"][1]
    assert max(chart["tall"]) == chart["tall"][13] == 90   # the date's tallest bar: above the usual max
    # 2026-01-23, player_usage_rate_season permuted: the players with their previous and today's values
    rows = page.evaluate(f"""(() => {{
        const extra = {_card(page, "test_continuity[player_daily_cache-2026-01-23]")};
        const heading = Array.from(extra.querySelectorAll('h4')).find(h => h.textContent.startsWith('Offending rows'));
        const table = heading.nextElementSibling;
        return {{header: Array.from(table.querySelectorAll('th')).map(th => th.textContent),
                 rows: Array.from(table.querySelectorAll(':scope > tbody > tr')).map(tr =>
                       Array.from(tr.children).map(td => td.textContent))}};
    }})()""")
    assert rows["header"] == ["prev_date", "player_lookup", "prev__player_usage_rate_season", "player_usage_rate_season"]
    assert len(rows["rows"]) == 20
    for prev_date, player, before, now in rows["rows"]:
        assert "2026-01-16" <= prev_date[:10] <= "2026-01-22" and abs(float(now) - float(before)) > 0.89
    moves = [abs(float(now) - float(before)) for _, _, before, now in rows["rows"]]
    assert moves == sorted(moves, reverse=True)   # largest move first
