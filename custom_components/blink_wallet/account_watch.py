"""The account's display currency, read over HTTP: Blink pushes no account changes.

A socket keeps the account of its connect (what-blink-sends 9), so the account
is read hourly, when a payment is booked in another display currency, and after
every gap (the catch-up reads it anyway). One read at a time; a failed one
changes nothing.
"""

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval

from .api import BlinkClient, BlinkError
from .const import DOMAIN, LOGGER

# The account is read this often.
ACCOUNT_CHECK_INTERVAL = timedelta(hours=1)


class AccountWatch:
    """Reads the account of one entry now and then, for its display currency."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        client: BlinkClient,
        on_currency: Callable[[str], None],
    ) -> None:
        """Read over `client`; tell `on_currency` the display currency read."""
        self._hass = hass
        self._entry = entry
        self._client = client
        self._on_currency = on_currency
        self._running: asyncio.Task[None] | None = None
        self._closed = False

    @callback
    def async_start(self) -> None:
        """Read the account every hour until unload."""
        self._entry.async_on_unload(
            async_track_time_interval(self._hass, self._on_hour, ACCOUNT_CHECK_INTERVAL)
        )

    @callback
    def async_stop(self) -> None:
        """Read nothing more (on unload)."""
        self._closed = True

    @callback
    def async_check(self) -> None:
        """Read the account now, unless a read is under way."""
        if self._closed or self._running is not None:
            return
        self._running = self._entry.async_create_background_task(
            self._hass, self._async_read(), f"{DOMAIN} account check"
        )

    @callback
    def _on_hour(self, _: datetime) -> None:
        self.async_check()

    async def _async_read(self) -> None:
        try:
            account = await self._client.account()
        except BlinkError as err:
            LOGGER.debug("Account of %s not read: %s", self._entry.title, err)
            return
        finally:
            self._running = None
        if not self._closed:
            self._on_currency(account.display_currency)
