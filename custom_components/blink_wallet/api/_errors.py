"""Reading failures: GraphQL error lists, Retry-After, frames fit for a log."""

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
import math
from typing import Final

from .exceptions import BlinkGraphQLError

# Codes Blink (Galoy) and common GraphQL servers use for a missing or bad credential.
_UNAUTHENTICATED_CODES: Final = frozenset(
    {"UNAUTHENTICATED", "NOT_AUTHENTICATED", "INVALID_AUTHENTICATION", "INVALID_TOKEN"}
)
_UNAUTHENTICATED_MESSAGES: Final = ("not authenticated", "unauthenticated")
# A valid key without the scope: Blink's scope middleware answers with its
# AuthorizationError ("not authorized to execute mutations"), which reaches the
# client as NOT_AUTHORIZED or wrapped in an unexpected-error message.
_NOT_AUTHORIZED_CODE: Final = "NOT_AUTHORIZED"
_NOT_AUTHORIZED_MARKS: Final = ("not authorized", "authorizationerror")
# A server asking for more than an hour is misconfigured; do not go dark for days.
MAX_RETRY_AFTER: Final = 3600.0
_SNIPPET: Final = 160


def graphql_error(raw: object) -> BlinkGraphQLError:
    """Turn a GraphQL `errors` list into an exception, tolerating odd shapes."""
    messages: list[str] = []
    codes: list[str | None] = []
    for error in raw if isinstance(raw, list) else [raw]:
        if not isinstance(error, Mapping):
            messages.append(cut(str(error)))
            codes.append(None)
            continue
        message = error.get("message")
        messages.append(cut(message) if isinstance(message, str) else "unknown error")
        code = error.get("code")
        extensions = error.get("extensions")
        if code is None and isinstance(extensions, Mapping):
            code = extensions.get("code")
        codes.append(code if isinstance(code, str) else None)
    return BlinkGraphQLError(messages, codes)


def says_unauthenticated(error: BlinkGraphQLError) -> bool:
    """Whether the errors say the credential was missing or refused."""
    if any(code and code.upper() in _UNAUTHENTICATED_CODES for code in error.codes):
        return True
    return any(
        phrase in message.lower()
        for message in error.messages
        for phrase in _UNAUTHENTICATED_MESSAGES
    )


def says_not_authorized(error: BlinkGraphQLError) -> bool:
    """Whether the errors say the key may not do this (a missing scope)."""
    if any(code and code.upper() == _NOT_AUTHORIZED_CODE for code in error.codes):
        return True
    return any(
        mark in text.lower()
        for text in (*error.messages, *(code or "" for code in error.codes))
        for mark in _NOT_AUTHORIZED_MARKS
    )


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Read `Retry-After` (seconds or an HTTP date) as seconds from now."""
    value = headers.get("Retry-After") if headers is not None else None
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except TypeError, ValueError, IndexError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def cut(text: str | bytes, limit: int = _SNIPPET) -> str:
    """Shorten what a server sent, to quote it in a log or a message."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"
