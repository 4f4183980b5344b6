"""One subscription of the socket: its state on the current socket, its deadlines, its data.

A `Subscription` lives until cancelled, across sockets. On each socket it is
*waiting* (no id: to be subscribed now, or after a backoff, or after a key
check), or *live* (an id: its stream runs, watched for silence when asked). It
changes state only through its own methods, each taking the loop time; the socket
asks `due()` what to do and `deadline()` when to ask again. It does no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum, auto
from typing import Any, Protocol

from ._errors import cut, graphql_error
from .backoff import Backoff
from .const import LOGGER
from .exceptions import BlinkError, BlinkGraphQLError, BlinkModelError
from .models import SubscriptionData

type Handler = Callable[[SubscriptionData | BlinkModelError], None]


class Due(Enum):
    """What the socket should do for a subscription now."""

    NOTHING = auto()
    SUBSCRIBE = auto()  # waiting, and its wait is over
    SILENT = auto()  # live, but nothing came within its deadline


class Subscription:
    """One subscription of a BlinkWebSocket; it survives reconnects until cancelled."""

    def __init__(
        self,
        document: str,
        variables: Mapping[str, Any],
        operation_name: str | None,
        handler: Handler,
        *,
        silence_timeout: float | None,
        resubscribe_timeout: float,
        backoff: Backoff,
        on_cancel: Callable[[Subscription], None],
    ) -> None:
        """Start waiting, on no socket yet; `silence_timeout` None watches no silence."""
        self.document = document
        self.variables: dict[str, Any] = dict(variables)
        self.operation_name = operation_name
        self._handler = handler
        self._silence_timeout = silence_timeout
        self._resubscribe_timeout = resubscribe_timeout
        self._backoff = backoff
        self._on_cancel = on_cancel
        self._active = True
        self._refusals = 0
        self._troubled = False
        # nothing to undo since data last came (the path of every frame)
        self._clean = True
        # on the current socket
        self._op_id: str | None = None
        self._deadline: float | None = None
        self._resubscribed = False
        self._retry_at: float | None = None
        self._confirming = False
        self._lost = False

    @property
    def active(self) -> bool:
        """False once cancelled."""
        return self._active

    @property
    def name(self) -> str:
        """A name to log: the operation name, or the start of the document."""
        return self.operation_name or cut(self.document, 40)

    @property
    def op_id(self) -> str | None:
        """Its id on the current socket, while live."""
        return self._op_id

    def cancel(self) -> None:
        """Stop this subscription: the socket completes it if live, then forgets it."""
        if not self._active:
            return
        self._active = False
        self._on_cancel(self)

    # --- the socket's questions ----------------------------------------------------------

    def due(self, now: float) -> Due:
        """Return what is due at `now`."""
        if self._op_id is None:
            if not self._confirming and (
                self._retry_at is None or now >= self._retry_at
            ):
                return Due.SUBSCRIBE
            return Due.NOTHING
        if self._deadline is not None and now >= self._deadline:
            return Due.SILENT
        return Due.NOTHING

    def deadline(self) -> float | None:
        """Return when `due()` may change by itself, if ever."""
        if self._op_id is None:
            return None if self._confirming else self._retry_at
        return self._deadline

    # --- transitions ---------------------------------------------------------------------

    def reset(self) -> None:
        """Forget the last socket's state (a new socket); the subscription lives on."""
        self._op_id = None
        self._deadline = None
        self._resubscribed = False
        self._retry_at = None
        self._confirming = False
        self._lost = False

    def start(self, op_id: str, now: float) -> bool:
        """Go live under `op_id`; True when its stream was lost on this socket.

        What a lost stream should have carried is gone, as over a reconnect: the
        owner catches up once this subscribe is out.
        """
        self._op_id = op_id
        self._retry_at = None
        if self._silence_timeout is not None:
            # A stream resubscribed for its silence gets a shorter deadline.
            self._deadline = now + (
                self._resubscribe_timeout
                if self._resubscribed
                else self._silence_timeout
            )
        else:
            self._deadline = None
        lost, self._lost = self._lost, False
        return lost

    def drop(self) -> str | None:
        """Its stream is lost on this socket; return the id to forget."""
        op_id, self._op_id = self._op_id, None
        self._lost = True
        return op_id

    def healthy(self, now: float) -> None:
        """Take note: data without errors came, so it works."""
        if self._silence_timeout is not None:
            self._deadline = now + self._silence_timeout
        if self._clean:
            return
        self._clean = True
        self._resubscribed = False
        self._refusals = 0
        self._backoff.reset()
        if self._troubled:
            self._troubled = False
            LOGGER.info("Blink's %s subscription works again", self.name)

    def silent(self) -> bool:
        """Nothing came in time: to be subscribed again; False if that was tried.

        The socket may still answer pings while the server has lost the stream;
        only the data tells (home-assistant/core#86462).
        """
        if self._resubscribed:
            return False
        self._resubscribed = True
        self._clean = False
        return True

    def refused(self) -> int:
        """Blink refused it (validation); return how often in a row."""
        self._clean = False
        self._refusals += 1
        return self._refusals

    def retry_later(self, now: float, why: object) -> None:
        """Wait a backoff before subscribing again."""
        self._retry_at = now + self._backoff.next_delay()
        self._clean = False
        self.trouble(why)

    def trouble(self, why: object) -> None:
        """Log a failure: a warning the first time, then debug until it works."""
        self._clean = False
        if self._troubled:
            LOGGER.debug("Blink's %s subscription: %s", self.name, why)
            return
        self._troubled = True
        LOGGER.warning("Blink's %s subscription failed: %s", self.name, why)

    def confirm_key(self) -> None:
        """Hold it until a key check decides (a refused key must not refuse twice)."""
        self._confirming = True

    def deliver(self, data: SubscriptionData | BlinkModelError) -> None:
        """Hand a result to the owner's handler; its bug must not end the stream."""
        try:
            self._handler(data)
        except Exception:  # noqa: BLE001 - the owner's bug must not end the stream
            LOGGER.exception("Error handling an update of %s", self.name)


# --- typed handlers ----------------------------------------------------------------------


class Payload(Protocol):
    """A subscription's payload: Blink's errors beside the value."""

    @property
    def errors(self) -> tuple[Any, ...]:
        """Blink's errors about this result."""
        ...


def typed[P: Payload, T](
    name: str,
    pick: Callable[[SubscriptionData], P | None],
    value: Callable[[P], T | None],
    callback: Callable[[T], None],
    *,
    on_error: Callable[[BlinkGraphQLError], None] | None = None,
) -> Handler:
    """Hand `callback` the value of each result; a drifted payload is logged once.

    Errors in the payload go to `on_error` when given.
    """
    warned = False

    def handle(data: SubscriptionData | BlinkModelError) -> None:
        nonlocal warned
        try:
            if isinstance(data, BlinkModelError):
                raise data
            payload = pick(data)
            if payload is None:
                msg = f"{name} sent a result without its field"
                raise BlinkModelError(msg)
            if payload.errors:
                error = graphql_error(list(payload.errors))
                if on_error is not None:
                    on_error(error)
                    return
                raise error
            result = value(payload)
        except BlinkError as err:
            (LOGGER.debug if warned else LOGGER.warning)(
                "Skipping an update of %s: %s", name, err
            )
            warned = True
            return
        warned = False
        if result is not None:
            callback(result)

    return handle
