"""The HTML report's mutes: a "muted" badge beside a muted check's severity (with its reason and
``until``), and a section naming the active mutes and the expired ones (ignored: their checks
alert as usual). Inline only, like the rest of the report."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from feature_store_health.alerting.mutes import Mute
    from feature_store_health.run import HealthRun

__all__ = ["muted_badge", "mutes_html"]

BADGE_STYLE = ("display:inline-block;margin-left:6px;padding:0 6px;border-radius:8px;background:#eaeef2;"
               "color:#424a53;border:1px solid #afb8c1;font-size:12px")


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def muted_badge(mute: "Mute | None") -> str:
    """``<span class="muted-badge">muted until 2026-03-20: <reason></span>``; "" when not muted."""
    if mute is None:
        return ""
    return (f'<span class="muted-badge" data-until="{_e(mute.until)}" title="{_e(mute.describe())}: alerts off; '
            f'still counted in the status and exit code" style="{BADGE_STYLE}">{_e(mute.label)}</span>')


def mutes_html(run: "HealthRun") -> str:
    """The active mutes (what each silences in this run) and the expired ones; "" without any."""
    mutes = run.mutes
    if not mutes.active and not mutes.expired:
        return ""
    counts = mutes.to_json(run.verdicts)
    rows = []
    for mute, entry in zip(mutes.active, counts["active"]):
        rows.append(f'<tr class="mute-active"><td>{_e(mute.describe())}</td><td>{muted_badge(mute)}</td>'
                    f"<td>{entry['checks']} check{'s' if entry['checks'] != 1 else ''} muted in this run</td></tr>")
    for mute, entry in zip(mutes.expired, counts["expired"]):
        rows.append(f'<tr class="mute-expired"><td>{_e(mute.describe())}</td><td>expired on {_e(mute.until)}: '
                    f"{_e(mute.reason)}</td><td>ignored: {entry['checks']} check{'s' if entry['checks'] != 1 else ''} "
                    "alert as usual; remove it from the config, or renew it with a new until</td></tr>")
    return ('<h3 class="mutes">Mutes</h3><p>A muted check is judged and counted as usual (status, exit code, '
            'gate); only its alerts are off.</p><table class="mutes"><thead><tr><th>mute</th><th>until</th>'
            f"<th>this run</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")
