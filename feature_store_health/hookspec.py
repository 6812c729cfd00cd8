"""Hooks for teams to extend the suite from their own conftest.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from feature_store_health.run import HealthRun

__all__ = ["pytest_feature_store_health_id_token", "pytest_feature_store_health_slack_message"]


@pytest.hookspec(firstresult=True)
def pytest_feature_store_health_slack_message(run: "HealthRun", message: dict[str, Any]) -> dict[str, Any] | None:
    """Reshape the Slack alert before it is sent.

    ``message`` is the Block Kit payload the suite built (``{"text": ..., "blocks": [...]}``).
    Return a replacement payload, or ``None`` to send it unchanged. The first implementation that
    returns a value wins. Example, in your ``conftest.py``::

        def pytest_feature_store_health_slack_message(run, message):
            if run.status == "CRITICAL":
                message["text"] = "<!here> " + message["text"]
                return message
            return None
    """


@pytest.hookspec(firstresult=True)
def pytest_feature_store_health_id_token(audience: str) -> str | None:
    """A Google ID token for ``audience``, for the reprocess request (``[remediation]``).

    Return the token, or ``None`` to let the suite fetch one with google-auth from the environment
    (GOOGLE_APPLICATION_CREDENTIALS, else the metadata server on Cloud Run). The first
    implementation that returns a value wins; an exception is reported as the request's outcome
    ("not sent: no ID token for ..."), never as a traceback. The token is never printed or
    recorded. Example, in your ``conftest.py`` (a token minted by another tool)::

        import subprocess

        def pytest_feature_store_health_id_token(audience):
            return subprocess.run(
                ["gcloud", "auth", "print-identity-token", f"--audiences={audience}"],
                capture_output=True, text=True, check=True,
            ).stdout.strip()
    """
