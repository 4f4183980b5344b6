"""Whether an entry's data is live: connected now, stale after five minutes without.

A reconnect takes seconds, so the entities stay available through it; only a
connection lost for `STALE_AFTER` (or a socket that stopped for good) makes them
unavailable. Logged once each way, at info level (the quality scale's
log-when-unavailable).
"""

from collections.abc import Callable
from datetime import datetime

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

from .const import LOGGER, STALE_AFTER


class Availability:
    """The connection state of one entry, and whether its data is stale."""

    def __init__(
        self, hass: HomeAssistant, title: str, on_change: Callable[[], None]
    ) -> None:
        """Call `on_change()` whenever either changes."""
        self._hass = hass
        self._title = title
        self._on_change = on_change
        self.connected = False
        self.stale = False
        self._timer: CALLBACK_TYPE | None = None

    @callback
    def async_connection(self, connected: bool) -> None:  # noqa: FBT001
        """Take the socket's state: up, or lost (stale once lost for `STALE_AFTER`)."""
        self.connected = connected
        if connected:
            self._cancel()
            self.async_stale(stale=False)
        elif self._timer is None and not self.stale:
            self._timer = async_call_later(self._hass, STALE_AFTER, self._timeout)
        self._on_change()

    @callback
    def async_stale(self, *, stale: bool) -> None:
        """Mark the data stale (the socket stopped for good) or live."""
        if stale == self.stale:
            return
        self.stale = stale
        if stale:
            LOGGER.info(
                "Blink data of %s is stale: no live connection for %s",
                self._title,
                STALE_AFTER,
            )
        else:
            LOGGER.info("Blink data of %s is live again", self._title)
        self._on_change()

    @callback
    def async_stop(self) -> None:
        """Stop the timer (on unload)."""
        self._cancel()

    @callback
    def _timeout(self, _: datetime) -> None:
        self._timer = None
        self.async_stale(stale=True)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer()
            self._timer = None
