"""The health checks run in one process: under pytest-xdist they are refused (exit 4).

One aggregate query per table feeds every check of that table, and the verdicts, the summary, the
results JSON, the history and the alert are kept by the process that judged them. Under xdist
each worker would query and judge a part of the checks while the controller, which reports,
judges none: an empty report (0 checks) and verdicts split over processes.

The plugin is loaded for every pytest run of the checkout, and the project's own tests run under
xdist: only a run whose workers collect health checks is refused. A worker cannot end the run
with a usage error itself (the controller would report a crashed worker), so it fails its
collection with ``REFUSAL`` and the controller turns that report into the run's usage error
before any test is scheduled.
"""

from __future__ import annotations

import pytest

__all__ = ["REFUSAL", "ControllerGuard", "DistributedHealthRun", "is_worker"]

REFUSAL = ("data_tests runs in one process (one query per table feeds all its checks); "
           "drop -n/--numprocesses (pytest-xdist), or give -n 0")


class DistributedHealthRun(Exception):
    """Raised on an xdist worker while collecting a health test: its collection error carries REFUSAL."""


def is_worker(config: pytest.Config) -> bool:
    """An xdist worker: xdist sets ``workerinput`` on the worker's config, never on the controller's."""
    return hasattr(config, "workerinput")


class ControllerGuard:
    """Registered on every process but xdist workers (in a run without xdist it never fires)."""

    @pytest.hookimpl(tryfirst=True)  # before xdist and the terminal show it as a collection error
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed and REFUSAL in str(report.longrepr):
            raise pytest.UsageError(REFUSAL)
