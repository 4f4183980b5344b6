"""Exceptions of the Blink API client.

Messages are short and never contain the API key: they end up in logs and in
Home Assistant's UI.
"""

from collections.abc import Sequence
from typing import Final

_SUMMARY_LIMIT: Final = 200
# Blink's error code for a wallet that cannot cover amount plus fee.
INSUFFICIENT_BALANCE: Final = "INSUFFICIENT_BALANCE"


class BlinkError(Exception):
    """Base of every error the Blink client raises."""


class BlinkAuthError(BlinkError):
    """Blink refused the API key (revoked, mistyped, or missing a scope)."""


class BlinkConnectionError(BlinkError):
    """Blink could not be reached or answered with a transient failure.

    Retrying later is the right reaction; `retry_after` is the wait in seconds the
    server asked for, when it asked.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        """Store the server's requested wait next to the message."""
        super().__init__(message)
        self.retry_after = retry_after


class BlinkRateLimitError(BlinkConnectionError):
    """Blink asked us to slow down (HTTP 429)."""


class BlinkProtocolError(BlinkError):
    """Blink sent something this client cannot read (a malformed frame or body)."""


class BlinkModelError(BlinkProtocolError):
    """A payload lacks a field the models need, or has it in the wrong shape."""


class BlinkConfigurationError(BlinkError):
    """The endpoint does not accept what we send: schema drift or a wrong URL.

    Retrying cannot help; the user has to check the endpoint or update.
    """


class BlinkGraphQLError(BlinkError):
    """Blink answered a request with GraphQL errors."""

    def __init__(
        self, messages: Sequence[str], codes: Sequence[str | None] = ()
    ) -> None:
        """Keep every message and code; the first message becomes the summary."""
        self.messages: tuple[str, ...] = tuple(messages)
        self.codes: tuple[str | None, ...] = tuple(codes)
        summary = self.messages[0] if self.messages else "unknown error"
        if len(summary) > _SUMMARY_LIMIT:
            summary = summary[:_SUMMARY_LIMIT] + "…"
        super().__init__(f"Blink answered with an error: {summary}")


class BlinkPermissionError(BlinkGraphQLError):
    """The API key works but lacks the scope for this operation (WRITE, RECEIVE).

    Not an authentication failure: the key is valid, so no reauthentication; the
    user has to create a key with the scope the operation needs.
    """


class BlinkPaymentError(BlinkGraphQLError):
    """Blink refused or failed a payment; the errors came in the mutation's payload.

    `status` is Blink's PaymentSendResult when it sent one (FAILURE, usually).
    """

    def __init__(
        self,
        messages: Sequence[str],
        codes: Sequence[str | None] = (),
        *,
        status: str | None = None,
    ) -> None:
        """Keep the payment's status next to Blink's messages and codes."""
        super().__init__(messages, codes)
        self.status = status

    @property
    def insufficient_balance(self) -> bool:
        """Whether Blink refused because the wallet cannot cover amount and fee."""
        return INSUFFICIENT_BALANCE in self.codes


class BlinkInvoiceError(BlinkError):
    """A payment request is not a BOLT11 invoice this client can read."""


class BlinkInvoiceAmountError(BlinkInvoiceError):
    """An invoice asks for a fraction of a sat, which a Blink wallet cannot pay."""
