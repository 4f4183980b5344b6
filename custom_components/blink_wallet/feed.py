"""The payment feed: from transactions (pushed or read) to payment events, fired here.

Every transaction the entry learns of comes here, live from the socket or read by
a catch-up. The feed decides what each one is (a payment received, pending or
sent; a conversion between the account's own wallets or a fee reimbursement,
which are not payments), keeps week-old payments from opening a gate today (the
replay window), and hands the rest to the delivery, which fires each once, in
order, once Home Assistant has started. It fires the bus event, tells the event
entity (`PAYMENT_SIGNAL`) and owns the time of the last payment received
(`LAST_PAYMENT_SIGNAL`), which it persists with the delivery state.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from homeassistant.components import persistent_notification
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util
from homeassistant.util.signal_type import SignalTypeFormat

from .api import Account, BlinkClient, BlinkError, Transaction, TxDirection, TxStatus
from .const import (
    CONF_REPLAY_WINDOW_HOURS,
    CONF_SENT_EVENTS,
    DEFAULT_REPLAY_WINDOW_HOURS,
    DEFAULT_SENT_EVENTS,
    DOMAIN,
    LOGGER,
)
from .delivery import Offer, PaymentDelivery
from .payments import (
    BUS_EVENTS,
    PaymentEventType,
    classify,
    event_data,
    is_fee_reimbursement,
    is_own_transfer,
    may_be_own_transfer,
)

# Each payment fired, to the event entity of the entry (by entry id).
PAYMENT_SIGNAL: SignalTypeFormat[PaymentEventType, dict[str, Any]] = SignalTypeFormat(
    f"{DOMAIN}_{{}}_payment"
)
# The time of the last payment received moved (by entry id).
LAST_PAYMENT_SIGNAL: SignalTypeFormat[datetime] = SignalTypeFormat(
    f"{DOMAIN}_{{}}_last_payment"
)
# A conversion's two legs are booked together, so the newest page holds the twin.
TWIN_CHECK_PAGE_SIZE = 20
TWIN_CHECK_RETRY_SECONDS = 30


def last_received(
    transactions: Sequence[Transaction], account: Account
) -> datetime | None:
    """When the newest settled incoming payment among `transactions` arrived."""
    own_wallets = {wallet.id for wallet in account.wallets}
    return max(
        (
            tx.created_at
            for tx in transactions
            if tx.direction is TxDirection.RECEIVE
            and tx.status is TxStatus.SUCCESS
            and not is_own_transfer(tx, own_wallets, transactions)
            and not is_fee_reimbursement(tx, transactions)
        ),
        default=None,
    )


class PaymentFeed:
    """Classifies the transactions of one entry and fires their events."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, client: BlinkClient
    ) -> None:
        """Fire the events of `entry`; twin checks read over `client`."""
        self._hass = hass
        self._entry = entry
        self._client = client
        self.delivery = PaymentDelivery(hass, entry.entry_id, self._fire)
        # Pushed transfers waiting for their twin check, with the account then.
        self._undecided: dict[str, tuple[Transaction, Account]] = {}
        self._twin_retry: CALLBACK_TYPE | None = None
        self._closed = False

    @property
    def last_payment(self) -> datetime | None:
        """When the last payment received arrived (None: none known)."""
        return self.delivery.last_payment

    # --- lifecycle -------------------------------------------------------------------

    async def async_load(self) -> None:
        """Load what was delivered before."""
        await self.delivery.async_load()

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Fire once Home Assistant has started; returns the unsubscribe."""
        return self.delivery.async_start()

    @callback
    def async_stop(self) -> None:
        """Fire nothing more, check nothing more (on unload)."""
        self._closed = True
        self.delivery.async_stop()
        if self._twin_retry is not None:
            self._twin_retry()
            self._twin_retry = None

    async def async_flush_to_disk(self) -> None:
        """Write the delivery state now (on unload)."""
        await self.delivery.async_flush_to_disk()

    # --- what comes in ----------------------------------------------------------------

    @callback
    def async_history(
        self,
        account: Account,
        history: Sequence[Transaction],
        *,
        newest_page: Sequence[Transaction],
    ) -> None:
        """Mark the existing history seen: the first setup announces none of it."""
        self.delivery.async_mark_seen(history, history=True)
        # The newest page reaches further back than the history read: the last
        # payment may be older than the newest transactions (a conversion, a send).
        newest = {tx.id: tx for tx in [*newest_page, *history]}
        if (when := last_received(list(newest.values()), account)) is not None:
            self._note_payment(when)

    @callback
    def async_push(self, tx: Transaction, account: Account) -> None:
        """Take a transaction Blink pushed as it happened."""
        if may_be_own_transfer(tx):
            self._undecided[tx.id] = (tx, account)
            self._entry.async_create_background_task(
                self._hass,
                self._async_check_twins(),
                f"{DOMAIN} twin check {self._entry.title}",
            )
        else:
            self._offer(account, [tx], neighbours=(), replayed=False)

    @callback
    def async_read(
        self,
        account: Account,
        transactions: Sequence[Transaction],
        pending: Sequence[Transaction],
        newest: datetime | None,
    ) -> None:
        """Take what a catch-up read: announced late (replayed), if not known yet."""
        self._offer(
            account, [*transactions, *pending], neighbours=transactions, replayed=True
        )
        self.delivery.async_caught_up(newest)

    # --- deciding ----------------------------------------------------------------------

    async def _async_check_twins(self) -> None:
        """Look at the newest transactions: only a twin marks a conversion.

        The page tells only about the transactions pushed before it was asked
        for; one pushed meanwhile waits for the check its own push started.
        """
        asked_about = list(self._undecided)
        try:
            page = await self._client.transactions(first=TWIN_CHECK_PAGE_SIZE)
        except BlinkError as err:
            LOGGER.debug("Could not check for twins: %s", err)
            self._retry_twin_check()
            return
        if self._closed:
            return
        for tx_id in asked_about:
            if (undecided := self._undecided.pop(tx_id, None)) is not None:
                tx, account = undecided
                self._offer(account, [tx], neighbours=page.transactions, replayed=False)

    def _retry_twin_check(self) -> None:
        if self._closed or self._twin_retry is not None:
            return

        @callback
        def _due(_: datetime) -> None:
            self._twin_retry = None
            self._entry.async_create_background_task(
                self._hass, self._async_check_twins(), f"{DOMAIN} twin check retry"
            )

        self._twin_retry = async_call_later(self._hass, TWIN_CHECK_RETRY_SECONDS, _due)

    def _offer(
        self,
        account: Account,
        transactions: Sequence[Transaction],
        *,
        neighbours: Sequence[Transaction],
        replayed: bool,
    ) -> None:
        own_wallets = {wallet.id for wallet in account.wallets}
        wallet_ids = {wallet.currency: wallet.id for wallet in account.wallets}
        options = self._entry.options
        window = options.get(CONF_REPLAY_WINDOW_HOURS, DEFAULT_REPLAY_WINDOW_HOURS)
        sent_events = options.get(CONF_SENT_EVENTS, DEFAULT_SENT_EVENTS)
        oldest_replayed = dt_util.utcnow() - timedelta(hours=window)
        offers: list[Offer] = []
        seen: list[Transaction] = []
        too_old = 0
        for tx in transactions:
            if self.delivery.knows(tx.id):
                continue
            self._undecided.pop(tx.id, None)  # decided here, with its neighbours
            kind = classify(
                tx,
                not_a_payment=is_own_transfer(tx, own_wallets, neighbours)
                or is_fee_reimbursement(tx, neighbours),
            )
            if kind is None or (kind is PaymentEventType.SENT and not sent_events):
                seen.append(tx)
            elif replayed and tx.created_at < oldest_replayed:
                # A week-old payment must not open a gate today.
                seen.append(tx)
                too_old += 1
                self._note_payment(tx.created_at)
            else:
                data = event_data(
                    tx,
                    config_entry_id=self._entry.entry_id,
                    account_id=account.id,
                    wallet_ids=wallet_ids,
                    replayed=replayed,
                )
                offers.append(Offer(tx, kind, replayed=replayed, data=data))
        if seen:
            self.delivery.async_mark_seen(seen)
        if offers:
            self.delivery.async_offer(offers)
        if too_old:
            self._report_not_replayed(too_old, window)

    # --- announcing ----------------------------------------------------------------

    @callback
    def _fire(self, offer: Offer) -> None:
        """Announce one payment: the bus event, then the event entity."""
        data = dict(offer.data)
        self._hass.bus.async_fire(BUS_EVENTS[offer.kind], data)
        async_dispatcher_send(
            self._hass, PAYMENT_SIGNAL.format(self._entry.entry_id), offer.kind, data
        )
        if offer.kind is PaymentEventType.RECEIVED:
            self._note_payment(offer.transaction.created_at)

    def _note_payment(self, received_at: datetime) -> None:
        if self.delivery.async_note_payment(received_at):
            async_dispatcher_send(
                self._hass,
                LAST_PAYMENT_SIGNAL.format(self._entry.entry_id),
                received_at,
            )

    def _report_not_replayed(self, count: int, window: int) -> None:
        LOGGER.warning(
            "%s payment(s) of %s arrived more than %s hours ago while Home Assistant "
            "was not connected; they are not replayed as events",
            count,
            self._entry.title,
            window,
        )
        self._entry.async_create_background_task(
            self._hass,
            self._async_notify_not_replayed(count, window),
            f"{DOMAIN} not replayed notice",
        )

    async def _async_notify_not_replayed(self, count: int, window: int) -> None:
        """Post the notification the contract promises, in the user's language."""
        texts = await async_get_translations(
            self._hass, self._hass.config.language, "exceptions", {DOMAIN}
        )
        prefix = f"component.{DOMAIN}.exceptions.not_replayed"
        persistent_notification.async_create(
            self._hass,
            texts[f"{prefix}.message"].format(
                count=count, title=self._entry.title, window=window
            ),
            title=texts[f"{prefix}_title.message"],
            notification_id=f"{DOMAIN}_not_replayed_{self._entry.entry_id}",
        )

    def diagnostics(self) -> dict[str, Any]:
        """Counters for diagnostics (no ids)."""
        return {**self.delivery.diagnostics(), "undecided": len(self._undecided)}
