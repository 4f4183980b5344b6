"""Keeps an entry's balance statistics up: the history once, then every hour.

At start the history is imported if the recorder has none (statistics.py does the
arithmetic and the writing); after that, 30 s past every hour, the hours not
imported yet are written from the transactions the entry has seen meanwhile
(pushed or read by catch-ups), kept here for two days. After Home Assistant was
away, what happened since the last imported hour is read from Blink first. An
hour Blink cannot answer for is written at the next one, never half.
"""

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_track_utc_time_change
from homeassistant.util import dt as dt_util

from .api import Account, BlinkError, Transaction
from .const import DOMAIN, LOGGER
from .statistics import HISTORY_DAYS, BalanceStatistics

# The first import reads at most this many pages of history.
HISTORY_MAX_PAGES = 200
# Statistics of an hour are written this long after it ends.
STATISTICS_DELAY_SECONDS = 30
# How long transactions seen are kept for continuing the statistics.
RECENT_HORIZON = timedelta(days=2)

type ReadSince = Callable[
    [datetime | None, int], Awaitable[tuple[list[Transaction], datetime | None]]
]


class BalanceHistory:
    """The schedule and the buffer of one entry's balance statistics."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        *,
        account: Callable[[], Account],
        read_since: ReadSince,
    ) -> None:
        """Write the balances of `account()`; read missing history with `read_since`."""
        self._hass = hass
        self._entry = entry
        self._account = account
        self._read_since = read_since
        self.statistics = BalanceStatistics(hass, entry.title)
        # Transactions seen since `_recent_since`.
        self._recent: dict[str, Transaction] = {}
        self._recent_since = dt_util.utcnow()
        self._closed = False
        # Updates finished (imported, or given up until the next hour).
        self.updates = 0

    @callback
    def async_start(self) -> None:
        """Import what is missing now, then every hour (while the recorder runs)."""
        if not self.statistics.available():
            return
        self._entry.async_create_background_task(
            self._hass, self._async_update(), f"{DOMAIN} statistics {self._entry.title}"
        )
        self._entry.async_on_unload(
            async_track_utc_time_change(
                self._hass, self._on_hour, minute=0, second=STATISTICS_DELAY_SECONDS
            )
        )

    @callback
    def async_stop(self) -> None:
        """Write nothing more (on unload)."""
        self._closed = True

    @callback
    def async_seen(self, transactions: Iterable[Transaction]) -> None:
        """Keep transactions for the hours not written yet."""
        for tx in transactions:
            if tx.created_at >= self._recent_since:
                self._recent[tx.id] = tx
        horizon = dt_util.utcnow() - RECENT_HORIZON
        if self._recent_since < horizon:
            self._recent = {
                tx_id: tx
                for tx_id, tx in self._recent.items()
                if tx.created_at >= horizon
            }
            self._recent_since = horizon

    def diagnostics(self) -> dict[str, Any]:
        """How much is kept for the hours not written yet (no ids, no amounts)."""
        return {"transactions_kept": len(self._recent), "updates": self.updates}

    @callback
    def _on_hour(self, now: datetime) -> None:
        if self._closed:
            return
        self._entry.async_create_background_task(
            self._hass,
            self._async_update(now),
            f"{DOMAIN} statistics {self._entry.title}",
        )

    async def _async_update(self, now: datetime | None = None) -> None:
        """Import the history once, then every complete hour not imported yet."""
        account = self._account()
        try:
            next_hour = await self.statistics.async_next_hour(account)
            if next_hour is None:
                await self._async_import_history(account)
                return
            if next_hour < self._recent_since:
                # Home Assistant was away: read what happened since the last hour.
                older, _ = await self._read_since(next_hour, HISTORY_MAX_PAGES)
                self._recent.update((tx.id, tx) for tx in older)
                self._recent_since = next_hour
            await self.statistics.async_import(
                account, list(self._recent.values()), history_start=None, now=now
            )
        except BlinkError as err:
            LOGGER.debug(
                "Balance statistics of %s not updated: %s", self._entry.title, err
            )
        finally:
            self.updates += 1

    async def _async_import_history(self, account: Account) -> None:
        """Read the history (bounded) and import every past hour of the balances."""
        bound = dt_util.utcnow() - timedelta(days=HISTORY_DAYS)
        LOGGER.debug("Importing the balance history of %s", self._entry.title)
        history, _ = await self._read_since(bound, HISTORY_MAX_PAGES)
        start = min((tx.created_at for tx in history), default=dt_util.utcnow())
        rows = await self.statistics.async_import(
            account, history, history_start=max(start, bound)
        )
        LOGGER.debug(
            "Imported %s transactions of %s as %s hourly balance statistics",
            len(history),
            self._entry.title,
            rows,
        )
