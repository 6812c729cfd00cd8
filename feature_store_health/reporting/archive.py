"""The run archive: every run under reports/<checked date>/<run time>/, never overwritten.

A run's folder is reserved when the run starts (an exclusive ``mkdir``: two runs started in the
same second get ``…Z`` and ``…Z-1``). Reports are written into a hidden staging folder inside
it and moved into place with ``os.replace``, so a crash leaves no half-written file where a
reader looks. ``index.html`` lists the finished runs (those holding a results.json), newest
first; it is rebuilt under a lock so two runs finishing together both appear.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import html
import json
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

from feature_store_health.checks.verdict import STATUS_COLORS
from feature_store_health.reporting.files import write_atomic

__all__ = ["RunArchive", "update_index"]

STAGING = ".partial"
RESULTS = "results.json"
REPORT = "report.html"
JUNIT = "junit.xml"


@dataclass
class RunArchive:
    root: Path
    folder: Path

    @classmethod
    def reserve(cls, root: Path, check_date: dt.date, started_at: dt.datetime) -> "RunArchive":
        """Create this run's folder; an existing one (an earlier run) is never reused."""
        stamp = started_at.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        parent = root / check_date.isoformat()
        parent.mkdir(parents=True, exist_ok=True)
        suffix = 0
        while True:
            folder = parent / (stamp if suffix == 0 else f"{stamp}-{suffix}")
            try:
                folder.mkdir()
            except FileExistsError:
                suffix += 1
                continue
            (folder / STAGING).mkdir()
            return cls(root=root, folder=folder)

    @property
    def staging(self) -> Path:
        return self.folder / STAGING

    def staged(self, name: str) -> Path:
        return self.staging / name

    def publish(self, name: str, source: Path | None = None) -> Path:
        """Move a staged file into the folder (atomically), or copy ``source`` in through staging."""
        staged = self.staged(name)
        if source is not None:
            shutil.copyfile(source, staged)
        target = self.folder / name
        os.replace(staged, target)
        return target

    def write(self, name: str, text: str) -> Path:
        target = self.folder / name
        write_atomic(target, text)
        return target

    def finish(self, timezone: str = "America/New_York") -> None:
        """Drop the staging folder and list the run in the index (times in ``timezone``)."""
        shutil.rmtree(self.staging, ignore_errors=True)
        update_index(self.root, timezone)

    def discard(self) -> None:
        """A run that judged nothing leaves no folder behind."""
        shutil.rmtree(self.folder, ignore_errors=True)
        try:
            self.folder.parent.rmdir()  # only if no other run of that date is there
        except OSError:
            pass


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".index.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def update_index(root: Path, timezone: str = "America/New_York") -> Path:
    """Rebuild ``index.html`` from the finished runs under ``root``, newest first."""
    with _locked(root):
        runs = []
        for results in root.glob(f"*/*/{RESULTS}"):
            try:
                document = json.loads(results.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # unreadable: not listed, never fatal
            runs.append((document.get("run_at", ""), results.parent, document))
        runs.sort(key=lambda run: (run[0], str(run[1])), reverse=True)
        target = root / "index.html"
        write_atomic(target, _index_html(root, runs, ZoneInfo(timezone)))
        return target


def _index_html(root: Path, runs: list[tuple[str, Path, dict]], zone: ZoneInfo) -> str:
    rows = []
    for run_at, folder, document in runs:
        relative = folder.relative_to(root).as_posix()
        try:
            when = dt.datetime.fromisoformat(run_at).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")
        except ValueError:
            when = run_at
        dates = document.get("dates") or []
        shown_dates = dates[0] if len(dates) == 1 else f"{dates[0]} … {dates[-1]}" if dates else ""
        status = document.get("status", "?")
        summary = document.get("summary", {})
        report = f'<a href="{html.escape(relative)}/{REPORT}">report</a>' if (folder / REPORT).exists() else ""
        rows.append(
            "<tr>"
            f"<td>{html.escape(when)}</td><td>{html.escape(shown_dates)}</td>"
            f'<td style="color:{STATUS_COLORS.get(status, "#000")};font-weight:bold">{html.escape(status)}</td>'
            f"<td>{summary.get('passed', '')}/{summary.get('checks', '')}</td>"
            f"<td>{html.escape(str(document.get('backend', '')))}</td>"
            f'<td>{report} <a href="{html.escape(relative)}/{RESULTS}">json</a></td>'
            "</tr>"
        )
    body = "\n".join(rows) or '<tr><td colspan="6">No runs yet.</td></tr>'
    # the ops dashboard (reporting/dashboard.py), once a run with a history has built it
    dashboard = ('<p><a class="dashboard" href="dashboard.html">Ops dashboard</a>: the last 90 days of every table, '
                 'from the history</p>\n') if (root / "dashboard.html").is_file() else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Feature store health: runs</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ddd;padding:4px 10px;text-align:left}}th{{background:#f6f8fa}}</style></head>
<body><h1>Feature store health: runs</h1>
{dashboard}<p>{len(runs)} run(s), newest first. Times in {html.escape(zone.key)}.</p>
<table><thead><tr><th>run at</th><th>dates checked</th><th>status</th><th>checks passed</th><th>backend</th><th>files</th></tr></thead>
<tbody>
{body}
</tbody></table></body></html>
"""
