"""In-process publish/subscribe, the simulator's stand-in for Blink's Redis pubsub.

Blink's subscription resolvers listen on named triggers (an account's updates,
a currency's price, an invoice's status) and its services publish to them; the
topics below keep those names so the fan-out behaves the same: a price move
reaches every `myUpdates` of that display currency, a payment every `myUpdates`
of that account, an invoice's settlement every subscription to its status.
"""

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass

from .state import InvoiceStatus, RealtimePrice, TransactionUpdate


def account_topic(account_id: str) -> str:
    """Blink's ACCOUNT_UPDATE trigger of one account."""
    return f"ACCOUNT_UPDATE.{account_id}"


def user_price_topic(currency: str) -> str:
    """Blink's USER_PRICE_UPDATE trigger: price moves for `myUpdates`."""
    return f"USER_PRICE_UPDATE.{currency}"


def price_topic(currency: str) -> str:
    """Blink's PRICE_UPDATE trigger: price moves for `realtimePrice`/`price`."""
    return f"PRICE_UPDATE.{currency}"


def invoice_topic(payment_hash: str) -> str:
    """Blink's LN_PAYMENT_STATUS trigger of one invoice."""
    return f"LN_PAYMENT_STATUS.{payment_hash}"


@dataclass(frozen=True, slots=True)
class PriceEvent:
    """A price (re)published; `deprecated` marks Blink's `{price: ...}` payload."""

    quote: RealtimePrice
    deprecated: bool = False


@dataclass(frozen=True, slots=True)
class TransactionEvent:
    """A payment update published to an account."""

    update: TransactionUpdate


@dataclass(frozen=True, slots=True)
class InvoiceEvent:
    """An invoice's status, as published to its status subscriptions."""

    payment_hash: str
    payment_request: str
    status: InvoiceStatus


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """An error Blink publishes to a subscription's private trigger."""

    message: str
    code: str | None = None


type Event = PriceEvent | TransactionEvent | InvoiceEvent | ErrorEvent


@dataclass(frozen=True, slots=True)
class Alarm:
    """A timer a subscription keeps, like the `setTimeout` of Blink's resolvers.

    `delay()` says how long to wait quietly (None: no alarm now); then `ring()`
    runs, and may publish to the listener's topics.
    """

    delay: Callable[[], float | None]
    ring: Callable[[], None]


class Listener(AsyncIterator[Event]):
    """The event stream of one subscription; closing it unsubscribes."""

    def __init__(
        self, hub: Hub, topics: tuple[str, ...], alarm: Alarm | None = None
    ) -> None:
        """Listen on `topics` of `hub` (registration is done by the hub)."""
        self._hub = hub
        self.topics = topics
        self._alarm = alarm
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self.closed = False

    def put(self, event: Event) -> None:
        """Deliver one event (called by the hub)."""
        self._queue.put_nowait(event)

    async def __anext__(self) -> Event:
        """Wait for the next event, ringing the alarm when it is due."""
        while not self.closed:
            delay = None if self._alarm is None else self._alarm.delay()
            if delay is None or not self._queue.empty():
                return await self._queue.get()
            try:
                async with asyncio.timeout(delay):
                    return await self._queue.get()
            except TimeoutError:
                assert self._alarm is not None
                self._alarm.ring()
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Stop listening; graphql-core calls this when the subscription ends."""
        if not self.closed:
            self.closed = True
            self._hub.remove(self)


class Hub:
    """Topics to listeners."""

    def __init__(self) -> None:
        """Start with no listeners."""
        self._listeners: defaultdict[str, list[Listener]] = defaultdict(list)

    def listen(self, topics: Iterable[str], alarm: Alarm | None = None) -> Listener:
        """A new listener on `topics`; events published from now on reach it."""
        listener = Listener(self, tuple(topics), alarm)
        for topic in listener.topics:
            self._listeners[topic].append(listener)
        return listener

    def remove(self, listener: Listener) -> None:
        """Unregister `listener` from all its topics."""
        for topic in listener.topics:
            listeners = self._listeners.get(topic, [])
            if listener in listeners:
                listeners.remove(listener)
            if not listeners:
                self._listeners.pop(topic, None)

    def publish(self, topic: str, event: Event) -> int:
        """Deliver `event` to every listener of `topic`; return how many got it."""
        listeners = list(self._listeners.get(topic, ()))
        for listener in listeners:
            listener.put(event)
        return len(listeners)
