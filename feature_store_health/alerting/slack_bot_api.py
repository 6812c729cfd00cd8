"""The Slack bot's Web API calls (chat.postMessage, chat.update) through Slack's own SDK.

``slack_sdk`` is an optional extra (``pip install -e '.[oncall]'``), imported only when a bot is
configured. Its WebClient retries a 429 after Retry-After (RateLimitErrorRetryHandler) and a
connection error with backoff (ConnectionErrorRetryHandler); both are bounded here by
``[slack]``'s attempts and total time, so a long Retry-After is not waited for. A call that still
fails raises ``BotFailure``: one line, redacted, with what to do. The token is a Secret: the
SDK's own logger is silenced (its debug lines carry the request), and every text is redacted.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Mapping, NamedTuple, TYPE_CHECKING

from feature_store_health.alerting.secret import Redactor, Secret

if TYPE_CHECKING:
    from feature_store_health.config import SlackConfig

__all__ = ["BotClient", "BotFailure", "Posted", "open_client"]

# the answers that mean the token itself is wrong: every other call would fail the same way
AUTH_ERRORS = frozenset({"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"})
_JITTER = 1.0   # the SDK adds up to a second to Retry-After


class Posted(NamedTuple):
    channel: str   # the channel's ID (Slack answers with it even for a #name): chat.update needs it
    ts: str


class BotFailure(Exception):
    """A call Slack did not accept: ``line`` says what and what to do, never the token."""

    def __init__(self, method: str, line: str, error: str | None = None) -> None:
        super().__init__(line)
        self.method, self.line, self.error = method, line, error

    @property
    def auth(self) -> bool:
        return self.error in AUTH_ERRORS


class _Budget:
    """The run's calls and their retries within ``total_seconds``, from the first call on (as the
    PagerDuty events share theirs): a retry whose wait would pass it is not made, and no call is
    started once it is used up."""

    def __init__(self, total_seconds: float) -> None:
        self.total_seconds = total_seconds
        self.deadline: float | None = None
        self.retries = 0

    def start(self) -> None:
        if self.deadline is None:
            self.deadline = time.monotonic() + self.total_seconds

    @property
    def used_up(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def allows(self, wait: float) -> bool:
        return self.deadline is not None and time.monotonic() + wait < self.deadline


class BotClient:
    def __init__(self, client: Any, budget: _Budget, redactor: Redactor, config: "SlackConfig") -> None:
        self._client, self._budget, self._redact, self._config = client, budget, redactor, config

    @property
    def retries(self) -> int:
        return self._budget.retries

    def post(self, channel: str, text: str, thread_ts: str | None = None) -> Posted:
        extra = {"thread_ts": thread_ts} if thread_ts is not None else {}
        answer = self._call("chat.postMessage", self._client.chat_postMessage, channel=channel, text=text,
                            unfurl_links=False, unfurl_media=False, **extra)
        return Posted(str(answer.get("channel") or channel), str(answer["ts"]))

    def update(self, channel: str, ts: str, text: str) -> None:
        self._call("chat.update", self._client.chat_update, channel=channel, ts=ts, text=text)

    def _call(self, method: str, function: Any, **arguments: Any) -> Mapping[str, Any]:
        from slack_sdk.errors import SlackApiError

        self._budget.start()
        if self._budget.used_up:
            raise BotFailure(method, f"{method}: not made: the run's {self._config.total_seconds:g} s limit "
                                     "(slack.total_seconds) was used up")
        try:
            response = function(**arguments)
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            status = exc.response.status_code
            error = str(data.get("error") or f"HTTP {status}")
            if status == 429:
                error = "ratelimited"
            raise BotFailure(method, self._redact(f"{error}: {self._hint(method, error, data)}"), error) from None
        except Exception as exc:  # no answer: refused, timed out, the name did not resolve
            raise BotFailure(method, self._redact(f"{method}: no answer from {self._config.api_url}: "
                                                  f"{type(exc).__name__}: {exc}")) from None
        return response.data if isinstance(response.data, dict) else {}

    def _hint(self, method: str, error: str, data: Mapping[str, Any]) -> str:
        config = self._config
        if error in AUTH_ERRORS:
            return f"check {config.bot_token_env} (the app's Bot User OAuth Token, xoxb-…)"
        if error == "channel_not_found":
            return f"check slack.channel = {config.channel!r} (a channel ID like C0123, or a #name the bot can see)"
        if error == "not_in_channel":
            return "invite the bot to the channel, or give it the chat:write.public scope"
        if error == "missing_scope":
            return f"give the bot the {data.get('needed') or 'chat:write'} scope and reinstall the app"
        if error == "ratelimited":
            return "Slack rate limited the bot (HTTP 429) beyond slack.max_attempts or slack.total_seconds"
        return f"see https://api.slack.com/methods/{method}#errors"


def open_client(token: Secret, config: "SlackConfig") -> BotClient:
    """A WebClient on ``config.api_url`` with bounded retry handlers. Raises ImportError without
    the ``oncall`` extra."""
    from slack_sdk import WebClient
    from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

    budget = _Budget(config.total_seconds)
    retries = max(0, config.max_attempts - 1)

    class RateLimits(RateLimitErrorRetryHandler):
        """The SDK's 429 handler, which sleeps Retry-After: only when that wait fits the budget."""

        def _can_retry(self, *, state, request, response=None, error=None) -> bool:  # type: ignore[no-untyped-def]
            if not super()._can_retry(state=state, request=request, response=response, error=error):
                return False
            wait = _retry_after(response.headers)
            return wait is not None and budget.allows(wait + _JITTER)

        def prepare_for_next_attempt(self, **arguments: Any) -> None:
            budget.retries += 1
            super().prepare_for_next_attempt(**arguments)

    class ConnectionErrors(ConnectionErrorRetryHandler):
        """The SDK's connection-error handler (backoff), within the budget."""

        def _can_retry(self, *, state, request, response=None, error=None) -> bool:  # type: ignore[no-untyped-def]
            wait = self.interval_calculator.calculate_sleep_duration(state.current_attempt)
            return super()._can_retry(state=state, request=request, response=response, error=error) \
                and budget.allows(wait + config.timeout_seconds)

        def prepare_for_next_attempt(self, **arguments: Any) -> None:
            budget.retries += 1
            super().prepare_for_next_attempt(**arguments)

    client = WebClient(token=token.reveal(), base_url=config.api_url, timeout=config.timeout_seconds,
                       logger=_silent_logger(),
                       retry_handlers=[RateLimits(max_retry_count=retries), ConnectionErrors(max_retry_count=retries)])
    return BotClient(client, budget, Redactor(token), config)


def _retry_after(headers: Mapping[str, Any]) -> float | None:
    """Retry-After in whole seconds, as the SDK reads it (a list of values, or one)."""
    for key, value in headers.items():
        if key.lower() == "retry-after":
            value = value[0] if isinstance(value, (list, tuple)) and value else value
            try:
                return float(int(str(value).strip()))
            except ValueError:
                return None   # the SDK could not read it either: not retried
    return None


def _silent_logger() -> logging.Logger:
    """The SDK's logger: its debug lines show each request, its error lines the URL; we say what
    happened ourselves, redacted."""
    logger = logging.getLogger("feature_store_health.slack_bot.sdk")
    logger.propagate = False
    logger.setLevel(logging.CRITICAL + 1)
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    return logger
