"""Exactly-once, in-order delivery of payment events, across gaps and restarts.

A payment can reach us twice (live push and HTTP catch-up racing after a gap, a
duplicated frame, a restart that replays what was fired just before a crash) and
events can arise before Home Assistant has started. The payment feed decides what
a transaction is; this module decides whether and when its event fires: once per
transaction id, in `createdAt` order, never before Home Assistant has started.

What has been delivered is persisted with `Store`: the ids a catch-up can still
see (with their `createdAt`), where the next catch-up must start, and when the
last payment arrived. The write is delayed and batched, off the hot path: a hard
crash between firing and the write can repeat an event (flagged `replayed`) at
the next start, never lose one.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypedDict

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .api import Transaction
from .const import store_key
from .gate import AnnounceGate
from .payments import PaymentEventType

STORAGE_VERSION = 1
STORAGE_MINOR_VERSION = 3
# Blink commits transactions with second resolution and not always in order; a
# catch-up looks this far behind the newest transaction it has already seen.
CATCH_UP_OVERLAP = timedelta(minutes=10)
# Ids are kept while a catch-up can still read their transaction (and this much
# longer); the cap only guards the storage against the absurd.
KEEP_BEYOND_OVERLAP = timedelta(hours=1)
MAX_REMEMBERED_IDS = 20_000
SAVE_DELAY_SECONDS = 2


class DeliveryData(TypedDict):
    """What is persisted per config entry.

    The ids delivered with their `createdAt`, where the next catch-up starts,
    and when the last payment received arrived.
    """

    delivered: dict[str, float]
    since: str | None
    last_payment: str | None


class DeliveryStore(Store[DeliveryData]):
    """The persisted delivery state, with its migration path."""

    async def _async_migrate_func(
        self,
        old_major_version: int,
        old_minor_version: int,
        old_data: dict[str, Any],
    ) -> DeliveryData:
        """Bring older data forward; a newer major version cannot be read."""
        if old_major_version > STORAGE_VERSION:
            msg = f"Cannot read delivery state of version {old_major_version}"
            raise NotImplementedError(msg)
        delivered = old_data.get("delivered", {})
        since = old_data.get("since")
        if isinstance(delivered, list):
            # Minor version 1 kept bare ids: keep them as if seen at `since`, so
            # they last as long as a catch-up can still read them.
            seen_at = (
                dt_util.parse_datetime(since or "") or dt_util.utcnow()
            ).timestamp()
            delivered = dict.fromkeys(delivered, seen_at)
        # Minor version 2 had no last payment: it is read again at setup.
        last_payment = old_data.get("last_payment")
        return {
            "delivered": dict(delivered),
            "since": since,
            "last_payment": last_payment,
        }


@dataclass(frozen=True, slots=True)
class Offer:
    """A transaction offered for delivery, the event it stands for, how it came."""

    transaction: Transaction
    kind: PaymentEventType
    replayed: bool
    # the event's payload
    data: Mapping[str, Any] = field(default_factory=dict)


type Fire = Callable[[Offer], None]


def _order(offer: Offer) -> tuple[int, str]:
    """Blink's order: the second of `createdAt`, then the ids (ObjectIds).

    Over HTTP `createdAt` is whole seconds; a pushed transaction is dated by its
    arrival, to the microsecond. Compared finer than the second, a payment read over
    HTTP would pass one pushed just before it in the same second; within a second
    Blink's ids count up in creation order.
    """
    return int(offer.transaction.created_at.timestamp()), offer.transaction.id


class PaymentDelivery:
    """Decides, once per transaction, whether and when its event fires."""

    def __init__(self, hass: HomeAssistant, entry_id: str, fire: Fire) -> None:
        """Deliver through `fire`, which announces one offer."""
        self._hass = hass
        self._fire = fire
        self._store = DeliveryStore(
            hass,
            STORAGE_VERSION,
            store_key(entry_id, "delivery"),
            minor_version=STORAGE_MINOR_VERSION,
        )
        # id → createdAt (POSIX seconds) of every transaction delivered or seen
        self._delivered: dict[str, float] = {}
        self._held: dict[str, Offer] = {}
        self._since: datetime | None = None
        self._last_payment: datetime | None = None
        self._gate = AnnounceGate(hass, self._flush)
        self._first_run = True

    @property
    def first_run(self) -> bool:
        """Whether nothing was ever delivered or recorded for this entry."""
        return self._first_run

    @property
    def last_payment(self) -> datetime | None:
        """When the last payment received arrived (None: none known)."""
        return self._last_payment

    @callback
    def async_note_payment(self, received_at: datetime) -> bool:
        """Move the last payment forward; whether it moved."""
        if self._last_payment is not None and received_at <= self._last_payment:
            return False
        self._last_payment = received_at
        self._schedule_save()
        return True

    @property
    def catch_up_since(self) -> datetime | None:
        """Transactions older than this were all seen; None means none ever were."""
        return None if self._since is None else self._since - CATCH_UP_OVERLAP

    async def async_load(self) -> None:
        """Load what was delivered before, and wait for Home Assistant to start."""
        if (data := await self._store.async_load()) is not None:
            self._first_run = False
            self._delivered.update(data["delivered"])
            self._since = dt_util.parse_datetime(data["since"] or "")
            self._last_payment = dt_util.parse_datetime(data["last_payment"] or "")

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Begin firing once Home Assistant has started; returns the unsubscribe."""
        return self._gate.async_start()

    @callback
    def async_stop(self) -> None:
        """Fire nothing more; what is held stays undelivered (and comes again)."""
        self._gate.async_close()

    def knows(self, tx_id: str) -> bool:
        """Whether a transaction was delivered, seen, or is held for delivery."""
        return tx_id in self._delivered or tx_id in self._held

    @callback
    def async_mark_seen(
        self, transactions: Iterable[Transaction], *, history: bool = False
    ) -> None:
        """Record transactions as announced without firing (history, own transfers).

        Only the history of a first setup moves where catch-ups start: a transfer
        seen live says nothing about payments a gap may still hide before it.
        """
        for tx in transactions:
            self._remember(tx)
            if history:
                self._advance(tx.created_at)
        self._schedule_save()

    @callback
    def async_offer(self, offers: Iterable[Offer]) -> None:
        """Deliver each transaction not delivered yet, oldest first."""
        for offer in sorted(offers, key=_order):
            tx_id = offer.transaction.id
            if self.knows(tx_id):
                continue
            self._held[tx_id] = offer
        self._flush()

    @callback
    def async_caught_up(self, newest: datetime | None) -> None:
        """Record that a catch-up has seen every transaction up to `newest`."""
        if self._held:
            # Held events are not delivered yet: the next catch-up must still see them.
            oldest_held = min(o.transaction.created_at for o in self._held.values())
            newest = oldest_held if newest is None else min(newest, oldest_held)
        if newest is not None:
            self._advance(newest)
            # Only here does the start of the next catch-up move: prune then.
            self._forget_unreachable()
            self._schedule_save()

    def _flush(self) -> None:
        # A held event counts as delivered only once it has fired: if Home Assistant
        # stops before it has started, the event comes again at the next start.
        if not self._gate.open or not self._held:
            return
        offers = sorted(self._held.values(), key=_order)
        self._held.clear()
        for offer in offers:
            self._fire(offer)
            self._remember(offer.transaction)
        self._schedule_save()

    def _remember(self, tx: Transaction) -> None:
        self._delivered[tx.id] = tx.created_at.timestamp()
        if len(self._delivered) > MAX_REMEMBERED_IDS:
            self._forget_unreachable()

    def _forget_unreachable(self) -> None:
        """Drop ids no catch-up can read again (older than where it starts)."""
        if (since := self.catch_up_since) is not None:
            horizon = (since - KEEP_BEYOND_OVERLAP).timestamp()
            self._delivered = {
                tx_id: at for tx_id, at in self._delivered.items() if at >= horizon
            }
        if len(self._delivered) > MAX_REMEMBERED_IDS:
            newest = sorted(self._delivered.items(), key=lambda item: item[1])
            self._delivered = dict(newest[-MAX_REMEMBERED_IDS:])

    def _advance(self, created_at: datetime) -> None:
        if self._since is None or created_at > self._since:
            self._since = created_at

    def _schedule_save(self) -> None:
        self._first_run = False
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY_SECONDS)

    def _data_to_save(self) -> DeliveryData:
        return {
            "delivered": dict(self._delivered),
            "since": None if self._since is None else self._since.isoformat(),
            "last_payment": (
                None if self._last_payment is None else self._last_payment.isoformat()
            ),
        }

    async def async_flush_to_disk(self) -> None:
        """Write pending state now (on unload)."""
        await self._store.async_save(self._data_to_save())

    def diagnostics(self) -> dict[str, Any]:
        """Return counters for diagnostics (no ids)."""
        return {
            "remembered_transactions": len(self._delivered),
            "held_until_started": len(self._held),
            "catch_up_since": None if self._since is None else self._since.isoformat(),
        }
