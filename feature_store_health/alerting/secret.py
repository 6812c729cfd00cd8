"""Secret values (the Slack webhook URL, a bearer token) that never print themselves, and one
redactor that takes every one of them out of a text."""

from __future__ import annotations

import re
import urllib.parse
from typing import Iterable

__all__ = ["Redactor", "Secret", "redact"]

REDACTED = "<redacted webhook URL>"


class Secret:
    """Holds a secret; ``str``/``repr`` are redacted so tracebacks, logs and reports cannot leak it.
    ``label`` says what it is in the redacted text (``<redacted ID token>``)."""

    __slots__ = ("_value", "_label")

    def __init__(self, value: str, label: str = "webhook URL") -> None:
        self._value = value
        self._label = label

    def reveal(self) -> str:
        return self._value

    @property
    def redacted(self) -> str:
        return f"<redacted {self._label}>"

    def __repr__(self) -> str:
        return f"Secret({self.redacted!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def redact(text: str, secret: "Secret | Iterable[Secret | None] | None") -> str:
    """Remove each secret from ``text`` in every form an HTTP library may print it. A URL: the whole
    URL, or its path (the credential), raw or percent-encoded in either case (``/T0SECRET%20XYZ/%C3%BC``,
    ``%c3%bc``), with spaces as ``+``, or decoded. Any other value (a token): itself, in the same forms."""
    secrets = [secret] if isinstance(secret, Secret) else [found for found in (secret or ()) if found is not None]
    # the longest first: a secret inside another is taken out with it
    for found in sorted(secrets, key=lambda item: -len(item.reveal())):
        text = _redact_one(text, found)
    return text


def _redact_one(text: str, secret: Secret) -> str:
    value = secret.reveal()
    if not value:
        return text
    if "://" not in value:
        for form in dict.fromkeys((value, urllib.parse.unquote(value))):
            text = _pattern(form).sub(secret.redacted, text)
        return text
    path = urllib.parse.unquote(value.split("://", 1)[-1].partition("/")[2])
    text = _pattern(urllib.parse.unquote(value)).sub(secret.redacted, text)
    if path:
        text = _pattern("/" + path).sub("/<redacted>", text)
    return text


class Redactor:
    """One redactor for the secrets of a delivery (a webhook URL, a bearer token): every detail
    text a channel reports goes through it."""

    def __init__(self, *secrets: Secret | None) -> None:
        self.secrets: tuple[Secret, ...] = tuple(secret for secret in secrets if secret is not None)

    def __call__(self, text: str) -> str:
        return redact(text, self.secrets)

    def adding(self, *secrets: Secret | None) -> "Redactor":
        return Redactor(*self.secrets, *secrets)


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
