"""The pay actions' guard: one payment at a time, within the key's scopes and the limits.

A payment goes out only inside `async_payment`: the entry's lock held, the
amount within the per-payment and 24-hour limits of the options, the API key
allowed to write (its scopes are read at the first payment and do not change),
and the amount covered by the BTC balance. What went out, or may have, is
counted in the 24-hour total (`async_count`).
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import NoReturn

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .api import BlinkClient, BlinkError
from .const import (
    CONF_MAX_DAILY_SATS,
    CONF_MAX_PAYMENT_SATS,
    DEFAULT_MAX_DAILY_SATS,
    DEFAULT_MAX_PAYMENT_SATS,
    DOMAIN,
)
from .spending import SpendingLedger


def refuse(key: str, **placeholders: str | int) -> NoReturn:
    """Refuse an action with a translated message (the user can change the call)."""
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={k: str(v) for k, v in placeholders.items()},
    )


def failed(key: str, err: BlinkError) -> HomeAssistantError:
    """Blink refused or failed: a translated error that carries its message."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"error": str(err)},
    )


class PayGuard:
    """Lets one payment of an entry out at a time, and only within its limits."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, client: BlinkClient
    ) -> None:
        """Guard the payments of `entry`; scopes are read over `client`."""
        self._entry = entry
        self._client = client
        self._lock = asyncio.Lock()
        self._scopes: frozenset[str] | None = None
        self.spending = SpendingLedger(hass, entry.entry_id)

    async def async_load(self) -> None:
        """Read what was sent in the last 24 hours."""
        await self.spending.async_load()

    @asynccontextmanager
    async def async_payment(
        self, amount: int, balance: Callable[[], int]
    ) -> AsyncIterator[None]:
        """Hold the lock while `amount` sats go out; refuse what must not."""
        async with self._lock:
            options = self._entry.options
            limit = int(options.get(CONF_MAX_PAYMENT_SATS, DEFAULT_MAX_PAYMENT_SATS))
            if amount > limit:
                refuse("over_payment_limit", amount=amount, limit=limit)
            daily = int(options.get(CONF_MAX_DAILY_SATS, DEFAULT_MAX_DAILY_SATS))
            spent = self.spending.total()
            if spent + amount > daily:
                refuse("over_daily_limit", amount=amount, spent=spent, limit=daily)
            if self._scopes is None:
                # A key's scopes are fixed when it is created; a new key reloads.
                try:
                    self._scopes = await self._client.scopes()
                except BlinkError as err:
                    raise failed(key="cannot_connect", err=err) from err
            # Like Blink, a key without scopes may do everything.
            if self._scopes and "WRITE" not in self._scopes:
                refuse("missing_scope", scope="WRITE")
            if amount > (available := balance()):
                refuse("over_balance", amount=amount, balance=available)
            yield

    async def async_count(self, sats: int) -> None:
        """Count `sats` as sent (amount plus fee) in the 24-hour total."""
        await self.spending.async_record(sats)
