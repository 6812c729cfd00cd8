"""A secret value (the Slack webhook URL) that never prints itself."""

from __future__ import annotations

import re
import urllib.parse

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
    """Remove the secret from ``text`` in every form an HTTP library may print it: the whole URL, or
    its path (the credential), raw or percent-encoded in either case (``/T0SECRET%20XYZ/%C3%BC``,
    ``%c3%bc``), with spaces as ``+``, or decoded."""
    if secret is None:
        return text
    value = secret.reveal()
    path = urllib.parse.unquote(value.split("://", 1)[-1].partition("/")[2])
    text = _pattern(urllib.parse.unquote(value)).sub(REDACTED, text)
    if path:
        text = _pattern("/" + path).sub("/<redacted>", text)
    return text


def _pattern(plain: str) -> "re.Pattern[str]":
    """Each character of ``plain`` as itself or as its percent-encoded UTF-8 bytes, in any case."""
    parts = []
    for char in plain:
        encoded = "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))
        options = [re.escape(char), re.escape(encoded)]
        if char == " ":
            options.append(r"\+")
        if char == "%":  # an encoded value decoded once stays encoded: match %25 as well
            options.append("%25")
        parts.append("(?:" + "|".join(options) + ")")
    # case-insensitive: a lowercased or uppercased copy still gives the token away
    return re.compile("".join(parts), re.IGNORECASE)
