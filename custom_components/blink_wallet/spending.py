"""What the pay actions sent in the last 24 hours, persisted across reloads."""

from datetime import timedelta
from typing import Final, TypedDict

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import store_key

STORAGE_VERSION: Final = 1
WINDOW: Final = timedelta(hours=24)


class SpendingData(TypedDict):
    """Sends as [POSIX seconds, sats (amount plus fee)]."""

    sends: list[tuple[float, int]]


class SpendingLedger:
    """A rolling 24-hour total of the successful and pending sends of an entry."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Persist under the entry's id."""
        self._store: Store[SpendingData] = Store(
            hass, STORAGE_VERSION, store_key(entry_id, "spending")
        )
        self._sends: list[tuple[float, int]] = []

    async def async_load(self) -> None:
        """Read the sends of earlier runs."""
        if (data := await self._store.async_load()) is not None:
            self._sends = [(float(at), int(sats)) for at, sats in data["sends"]]

    def total(self) -> int:
        """Sats sent (amount plus fee) in the last 24 hours."""
        horizon = (dt_util.utcnow() - WINDOW).timestamp()
        self._sends = [(at, sats) for at, sats in self._sends if at >= horizon]
        return sum(sats for _, sats in self._sends)

    async def async_record(self, sats: int) -> None:
        """Count a send now, and write it before the action answers."""
        self._sends.append((dt_util.utcnow().timestamp(), sats))
        await self._store.async_save({"sends": list(self._sends)})
