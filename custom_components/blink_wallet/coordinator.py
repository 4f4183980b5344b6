"""The push coordinator: one Blink socket per entry, turned into state.

State comes over HTTP once at setup; after that only pushes move it. Each pushed
transaction goes on to the payment feed (feed.py), which decides and fires its
event. After every gap (a reconnect, a Home Assistant start) the coordinator asks
the catch-up (catch_up.py) to read what arrived meanwhile, and hands what it read
on the same way: balances here, transactions to the feed, invoices to their watcher.
"""

from dataclasses import dataclass, replace

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from .account_watch import AccountWatch
from .api import (
    Account,
    BlinkClient,
    BlinkWebSocket,
    Currency,
    MyUpdate,
    PaymentUpdate,
    RealtimePrice,
)
from .availability import Availability
from .balance_history import BalanceHistory
from .catch_up import CatchUp, Reading
from .const import CONF_DISPLAY_CURRENCY, LOGGER
from .endpoint import Endpoint
from .feed import PaymentFeed
from .guard import PayGuard
from .invoices import InvoiceWatcher
from .key_watch import KeyWatch, check_not_refused_just_now, setup_errors
from .stream import Stream

type BlinkWalletConfigEntry = ConfigEntry[BlinkWalletCoordinator]


@dataclass(frozen=True, slots=True)
class WalletState:
    """An immutable snapshot of what the entities show."""

    account: Account
    price: RealtimePrice


class BlinkWalletCoordinator(DataUpdateCoordinator[WalletState]):
    """Owns the Blink client and socket of one account."""

    config_entry: BlinkWalletConfigEntry

    def __init__(self, hass: HomeAssistant, entry: BlinkWalletConfigEntry) -> None:
        """Build the parts of the entry, upstream first; nothing connects yet."""
        super().__init__(
            hass, LOGGER, config_entry=entry, name=entry.title, update_interval=None
        )
        self.endpoint = Endpoint.from_config(entry.data)
        session = async_get_clientsession(hass)
        key = entry.data[CONF_API_KEY]
        client = self.client = BlinkClient(session, key, api_url=self.endpoint.api_url)
        self.currencies: dict[str, Currency] = {}
        self.availability = Availability(hass, entry.title, self.async_update_listeners)
        self.feed = PaymentFeed(hass, entry, client)
        self.key_watch = KeyWatch(hass, entry, client, self._on_key_accepted)
        self.catch_up = CatchUp(
            hass,
            entry,
            client,
            since=lambda: self.feed.delivery.catch_up_since,
            on_read=self._async_caught_up,
            on_key_refused=self.key_watch.async_refused,
        )
        self.websocket = BlinkWebSocket(
            session,
            key,
            self.endpoint.ws_url,
            client=client,
            on_connection_change=self.availability.async_connection,
            on_gap=self.catch_up.async_gap,
        )
        self.stream = Stream(
            hass,
            entry,
            self.websocket,
            on_key_refused=self.key_watch.async_refused,
            on_ended=lambda: self.availability.async_stale(stale=True),
        )
        self.invoices = InvoiceWatcher(
            hass, entry.entry_id, client, self.websocket, self.async_update_listeners
        )
        self.account_watch = AccountWatch(
            hass, entry, client, self._follow_display_currency
        )
        self.history = BalanceHistory(
            hass,
            entry,
            account=lambda: self.data.account,
            read_since=lambda since, pages: self.catch_up.async_read_since(
                since, max_pages=pages
            ),
        )
        self.guard = PayGuard(hass, entry, client)
        # When pushed balances were last taken (loop time): newer than a reading's.
        self._balances_at = 0.0
        self._closing = False
        # The currency the price is followed in.
        self._price_currency: str | None = None

    @property
    def display_currency(self) -> str:
        """Currency of the price sensor: the option, else the account's own."""
        chosen: str | None = self.config_entry.options.get(CONF_DISPLAY_CURRENCY)
        return chosen or self.data.account.display_currency

    @property
    def fraction_digits(self) -> int:
        """Decimals of the display currency, as Blink's currency list has them."""
        currency = self.currencies.get(self.display_currency)
        return 2 if currency is None else currency.fraction_digits

    @property
    def connected(self) -> bool:
        """Whether the socket is up."""
        return self.availability.connected

    @property
    def stale(self) -> bool:
        """Whether the data is stale (the entities unavailable)."""
        return self.availability.stale

    @property
    def catch_ups(self) -> int:
        """How many catch-ups went through since setup."""
        return self.catch_up.completed

    # --- HTTP state --------------------------------------------------------------

    async def _async_setup(self) -> None:
        """Load what is needed once: currencies and the delivery state."""
        await self.feed.async_load()
        await self.invoices.async_load()
        await self.guard.async_load()
        entry = self.config_entry
        check_not_refused_just_now(entry)
        with setup_errors(self.hass, entry):
            currencies = await self.client.currency_list()
        self.currencies = {currency.id: currency for currency in currencies}

    async def _async_update_data(self) -> WalletState:
        """Fetch the account and price; at the first setup, mark history as seen."""
        with setup_errors(self.hass, self.config_entry):
            account = await self.client.account()
            price = await self.client.realtime_price(
                self.config_entry.options.get(CONF_DISPLAY_CURRENCY)
                or account.display_currency
            )
            await self._async_read_history(account)
        return WalletState(account=account, price=price)

    async def _async_read_history(self, account: Account) -> None:
        """At the first setup, mark the history seen; the last payment if unknown."""
        feed = self.feed
        if feed.delivery.first_run or feed.last_payment is None:
            history = await self.catch_up.async_read_history(
                whole=feed.delivery.first_run
            )
            feed.async_history(account, history.transactions, newest_page=history.page)

    # --- the socket ----------------------------------------------------------------

    @callback
    def async_start_stream(self) -> None:
        """Start the socket and the parts that follow it (the entry is set up)."""
        entry = self.config_entry
        self.key_watch.async_set_up()
        self.websocket.subscribe_my_updates(self._on_my_update)
        self._price_currency = self.display_currency
        self.websocket.subscribe_realtime_price(self._price_currency, self._on_price)
        self.account_watch.async_start()
        entry.async_on_unload(self.feed.async_start())
        entry.async_on_unload(self.invoices.async_start())
        self.stream.async_start()
        self.history.async_start()

    @callback
    def _on_key_accepted(self) -> None:
        """Blink takes the key again: a new socket, or a catch-up on the one open."""
        if self._closing:
            return
        if not self.stream.running:
            self.stream.async_start()
        else:
            self.catch_up.async_request()

    async def async_shutdown(self) -> None:
        """Close the socket and write the delivery state (on unload)."""
        # Before anything awaits: from here on this coordinator announces nothing
        # and starts nothing. Home Assistant cancels the entry's background tasks
        # only once; one started during the unload would outlive it and fire what
        # the next setup of the entry fires again.
        self._closing = True
        for part in (self.feed, self.invoices, self.catch_up, self.key_watch):
            part.async_stop()
        self.history.async_stop()
        self.account_watch.async_stop()
        try:
            await super().async_shutdown()
            # The socket first: closing it reports the connection lost, which arms
            # the stale timer stopped next.
            await self.websocket.close()
        finally:
            self.availability.async_stop()
            # Whatever happened above, what was delivered is written before the
            # entry can be set up again.
            await self.feed.async_flush_to_disk()
            await self.invoices.async_flush_to_disk()

    # --- pushes ------------------------------------------------------------------

    @callback
    def _on_price(self, price: RealtimePrice) -> None:
        if price.denominator_currency != self.display_currency or self.data is None:
            return
        self.async_set_updated_data(replace(self.data, price=price))

    @callback
    def _on_my_update(self, update: MyUpdate) -> None:
        if self._closing:
            return
        self.catch_up.async_streaming()
        match update.update:
            case RealtimePrice() as price:
                self._on_price(price)
            case PaymentUpdate(transaction=tx):
                self.history.async_seen([tx])
                if tx.settlement_display_currency != self.data.account.display_currency:
                    # Booked in another display currency: the account's changed.
                    self.account_watch.async_check()
                # The event first, the entity states after: automations hear of a
                # payment before the state machine is busy with the balances.
                self.feed.async_push(tx, self.data.account)
        if update.account is not None:
            self._on_balances(update.account)

    @callback
    def _on_balances(self, pushed: Account) -> None:
        """Take the balances Blink sends with every price tick and payment.

        Blink reads them as each update goes out, so the latest frame has the
        newest; a missed payment push is made good by the next tick (every 30 s).
        The display currency is the one the socket connected with (Blink keeps
        the account of a socket from its connect), so HTTP's stays.
        """
        self._balances_at = self.hass.loop.time()
        account = pushed.with_display_currency(self.data.account.display_currency)
        if account != self.data.account:
            self.async_set_updated_data(replace(self.data, account=account))

    def _follow_display_currency(self, currency: str) -> None:
        """Follow a new display currency of the account in the Blink app.

        The price sensor is of one currency (its statistics must never mix
        units), so a change means a new price sensor: the entry is reloaded, as
        when the price currency option changes. A chosen option stays.
        """
        account = self.data.account
        if currency != account.display_currency:
            self.async_set_updated_data(
                replace(self.data, account=account.with_display_currency(currency))
            )
        if self._price_currency in (None, self.display_currency) or self._closing:
            return
        LOGGER.info(
            "The display currency of %s is now %s in Blink; following it",
            self.config_entry.title,
            currency,
        )
        self._price_currency = None  # once: the reload follows it
        self.hass.config_entries.async_schedule_reload(self.config_entry.entry_id)

    async def _async_caught_up(self, reading: Reading) -> None:
        """Take what a catch-up read: balances, payments, invoices."""
        if reading.started > self._balances_at:
            # Else a push carried balances newer than this reading.
            self.async_set_updated_data(replace(self.data, account=reading.account))
        self._follow_display_currency(reading.account.display_currency)
        self.history.async_seen(reading.transactions)
        self.feed.async_read(
            reading.account, reading.transactions, reading.pending, reading.newest
        )
        # Invoices paid or expired while nobody listened; the replay window
        # never applies to them.
        await self.invoices.async_check()
