"""Invoices created through `blink_wallet.create_invoice`, watched until they settle.

Each open invoice has one status subscription on the entry's socket, cancelled
once it is PAID or EXPIRED. The open invoices are persisted, and re-checked over
HTTP after every gap and every start, so one paid while the socket was down or
the entry unloaded announces itself once, late. Like payment events, these fire
only once Home Assistant has started; an invoice counts as announced only once
its event has fired.

Blink's status stream is not the last word (core/api/src/graphql/public/root/
subscription/ln-invoice-payment-status-by-hash.ts): older Blink announced PAID
even when its own check of the payment failed, and a failed check at expiry
announces no EXPIRED at all. So a streamed PAID is confirmed over HTTP before
`invoice_paid` fires, and every open invoice is asked about over HTTP shortly
after its expiry, whether or not the stream said anything.
"""

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
import logging
from typing import Any, Final, TypedDict

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .api import (
    BlinkClient,
    BlinkError,
    BlinkGraphQLError,
    BlinkWebSocket,
    InvoiceStatus,
    Subscription,
)
from .const import DOMAIN, EVENT_INVOICE_EXPIRED, EVENT_INVOICE_PAID, store_key
from .gate import AnnounceGate

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION: Final = 1
SAVE_DELAY_SECONDS: Final = 1
# An invoice Blink no longer knows is forgotten this long after its expiry.
FORGET_AFTER: Final = timedelta(days=1)
# Blink announces EXPIRED a second after the expiry; ask a little later than that.
EXPIRY_CHECK_DELAY: Final = timedelta(seconds=10)
# An HTTP check that could not tell is tried again after this long, this often.
RECHECK_DELAY: Final = timedelta(seconds=60)
RECHECKS: Final = 5

EVENTS: Final = {
    InvoiceStatus.PAID: EVENT_INVOICE_PAID,
    InvoiceStatus.EXPIRED: EVENT_INVOICE_EXPIRED,
}


class OpenInvoice(TypedDict):
    """An invoice created by the action and not settled yet (JSON as stored)."""

    payment_hash: str
    payment_request: str
    amount: int
    currency: str
    memo: str | None
    expires_at: str


class InvoiceData(TypedDict):
    """What is persisted per config entry."""

    open: dict[str, OpenInvoice]
    latest: str | None


class InvoiceWatcher:
    """Follows the open invoices of one entry and fires their events once."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        client: BlinkClient,
        websocket: BlinkWebSocket,
        on_change: Callable[[], None],
    ) -> None:
        """Watch over `websocket`, check over `client`; `on_change` after changes."""
        self._hass = hass
        self._entry_id = entry_id
        self._client = client
        self._websocket = websocket
        self._on_change = on_change
        self._store: Store[InvoiceData] = Store(
            hass, STORAGE_VERSION, store_key(entry_id, "invoices")
        )
        self._open: dict[str, OpenInvoice] = {}
        self._latest: str | None = None
        self._subscriptions: dict[str, Subscription] = {}
        # Settled but not announced yet (Home Assistant still starting).
        self._settled: dict[str, InvoiceStatus] = {}
        self._gate = AnnounceGate(hass, self._flush)
        # Per open invoice: its HTTP check after its expiry, and a retry of a
        # check that could not tell.
        self._checks: dict[str, CALLBACK_TYPE] = {}
        self._retries: dict[str, CALLBACK_TYPE] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def latest(self) -> OpenInvoice | None:
        """The most recent invoice created, while it is open."""
        if self._latest is None or self._latest in self._settled:
            return None
        return self._open.get(self._latest)

    @property
    def open_count(self) -> int:
        """How many invoices are watched."""
        return len(self._open)

    async def async_load(self) -> None:
        """Read the invoices still open from the last run."""
        if (data := await self._store.async_load()) is not None:
            self._open = dict(data["open"])
            self._latest = data["latest"]

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Subscribe to every open invoice; announce once Home Assistant started."""
        for payment_hash in self._open:
            self._subscribe(payment_hash)
            self._check_after_expiry(payment_hash)
        return self._gate.async_start()

    @callback
    def async_stop(self) -> None:
        """Announce nothing more and stop following the invoices."""
        self._gate.async_close()
        for subscription in self._subscriptions.values():
            subscription.cancel()
        self._subscriptions.clear()
        for timers in (self._checks, self._retries):
            for cancel in timers.values():
                cancel()
            timers.clear()
        for task in self._tasks:
            task.cancel()

    async def async_flush_to_disk(self) -> None:
        """Write the open invoices now (on unload)."""
        await self._store.async_save(self._data_to_save())

    @callback
    def async_add(self, invoice: OpenInvoice) -> None:
        """Follow a new invoice; it is the latest from now on."""
        payment_hash = invoice["payment_hash"]
        self._open[payment_hash] = invoice
        self._latest = payment_hash
        self._subscribe(payment_hash)
        self._check_after_expiry(payment_hash)
        self._schedule_save()
        self._on_change()

    async def async_check(self) -> None:
        """Ask Blink for the status of every open invoice (after a gap or a start)."""
        for payment_hash in list(self._open):
            if payment_hash in self._settled:
                continue
            try:
                status = await self._client.invoice_status(payment_hash)
            except BlinkGraphQLError as err:
                self._forget_if_long_expired(payment_hash, err)
                continue
            except BlinkError as err:
                _LOGGER.debug("Status of invoice %s unknown: %s", payment_hash, err)
                continue
            if self._gate.closed:
                return
            self._on_status(payment_hash, status)

    def _forget_if_long_expired(
        self, payment_hash: str, err: BlinkGraphQLError
    ) -> None:
        """Blink answers but does not know the invoice: keep it only for a while."""
        invoice = self._open[payment_hash]
        expires_at = dt_util.parse_datetime(invoice["expires_at"])
        if expires_at is not None and expires_at + FORGET_AFTER > dt_util.utcnow():
            _LOGGER.debug("Status of invoice %s unknown: %s", payment_hash, err)
            return
        _LOGGER.warning(
            "Blink does not know invoice %s, which expired at %s; no longer following it",
            payment_hash,
            invoice["expires_at"],
        )
        del self._open[payment_hash]
        self._stop_following(payment_hash)
        if self._latest == payment_hash:
            self._latest = None
        self._schedule_save()
        self._on_change()

    def _subscribe(self, payment_hash: str) -> None:
        if payment_hash in self._subscriptions or self._gate.closed:
            return

        @callback
        def on_status(status: InvoiceStatus) -> None:
            if status is InvoiceStatus.PAID:
                # Blink may announce PAID it could not check: ask HTTP first.
                self._spawn(self._async_check_one(payment_hash, streamed=status))
            else:
                self._on_status(payment_hash, status)

        @callback
        def on_error(err: BlinkGraphQLError) -> None:
            _LOGGER.debug("Blink cannot follow invoice %s: %s", payment_hash, err)

        self._subscriptions[payment_hash] = self._websocket.subscribe_invoice_status(
            payment_hash, on_status, on_error=on_error
        )

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = self._hass.async_create_background_task(
            coro, f"{DOMAIN} invoice check", eager_start=False
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _check_after_expiry(self, payment_hash: str) -> None:
        """Ask Blink shortly after the expiry: its EXPIRED may never come."""
        expires_at = dt_util.parse_datetime(self._open[payment_hash]["expires_at"])
        if expires_at is None:
            return
        self._check_at(
            self._checks, payment_hash, expires_at + EXPIRY_CHECK_DELAY, attempt=0
        )

    def _check_at(
        self,
        timers: dict[str, CALLBACK_TYPE],
        payment_hash: str,
        when: datetime,
        *,
        attempt: int,
    ) -> None:
        """Check the invoice over HTTP at `when`; `timers` holds its cancel meanwhile."""

        @callback
        def _due(_: datetime) -> None:
            timers.pop(payment_hash, None)
            self._spawn(self._async_check_one(payment_hash, attempt=attempt))

        timers[payment_hash] = async_track_point_in_utc_time(self._hass, _due, when)

    async def _async_check_one(
        self,
        payment_hash: str,
        *,
        streamed: InvoiceStatus | None = None,
        attempt: int = 0,
    ) -> None:
        """One HTTP check of one open invoice; what it says, it says for good."""
        if payment_hash not in self._open or payment_hash in self._settled:
            return
        try:
            status = await self._client.invoice_status(payment_hash)
        except BlinkError as err:
            _LOGGER.debug("Status of invoice %s unknown: %s", payment_hash, err)
            status = None
        if status is InvoiceStatus.PENDING and streamed is not None:
            _LOGGER.warning(
                "Blink announced invoice %s as %s, but says it is still pending; "
                "waiting for it to be paid",
                payment_hash,
                streamed,
            )
        if status is None or status is InvoiceStatus.PENDING:
            if attempt < RECHECKS and payment_hash not in self._retries:
                self._check_at(
                    self._retries,
                    payment_hash,
                    dt_util.utcnow() + RECHECK_DELAY,
                    attempt=attempt + 1,
                )
            return
        self._on_status(payment_hash, status)

    def _stop_following(self, payment_hash: str) -> None:
        if (subscription := self._subscriptions.pop(payment_hash, None)) is not None:
            subscription.cancel()
        for timers in (self._checks, self._retries):
            if (cancel := timers.pop(payment_hash, None)) is not None:
                cancel()

    @callback
    def _on_status(self, payment_hash: str, status: InvoiceStatus) -> None:
        if (
            status is InvoiceStatus.PENDING
            or self._gate.closed
            or payment_hash not in self._open
            or payment_hash in self._settled
        ):
            return
        self._stop_following(payment_hash)
        self._settled[payment_hash] = status
        self._flush()
        self._on_change()

    def _flush(self) -> None:
        if not self._gate.open or not self._settled:
            return
        settled = list(self._settled.items())
        self._settled.clear()
        for payment_hash, status in settled:
            invoice = self._open.pop(payment_hash)
            self._hass.bus.async_fire(EVENTS[status], self._event_data(invoice))
        if self._latest is not None and self._latest not in self._open:
            self._latest = None
        self._schedule_save()

    def _event_data(self, invoice: OpenInvoice) -> dict[str, Any]:
        return {
            "config_entry_id": self._entry_id,
            "payment_hash": invoice["payment_hash"],
            "payment_request": invoice["payment_request"],
            "amount": invoice["amount"],
            "currency": invoice["currency"],
            "memo": invoice["memo"],
        }

    def _schedule_save(self) -> None:
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY_SECONDS)

    def _data_to_save(self) -> InvoiceData:
        return {"open": dict(self._open), "latest": self._latest}
