"""A secret value (the Slack webhook URL) that never prints itself."""

from __future__ import annotations

__all__ = ["Secret", "redact"]

REDACTED = "<redacted webhook URL>"


class Secret:
    """Holds a secret; ``str``/``repr`` are redacted so tracebacks, logs and reports cannot leak it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({REDACTED!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def redact(text: str, secret: Secret | None) -> str:
    """Remove the secret, and its path (what HTTP libraries print of a URL), from ``text``."""
    if secret is None:
        return text
    value = secret.reveal()
    text = text.replace(value, REDACTED)
    path = value.split("://", 1)[-1].partition("/")[2]
    if path:
        text = text.replace("/" + path, "/<redacted>")
    return text
