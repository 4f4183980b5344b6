"""The Blink Wallet integration: a Blink Bitcoin/Lightning wallet in Home Assistant."""

from typing import Any

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.storage import Store
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN, store_key
from .coordinator import BlinkWalletConfigEntry, BlinkWalletCoordinator
from .services import async_setup_services

PLATFORMS = [Platform.BINARY_SENSOR, Platform.EVENT, Platform.IMAGE, Platform.SENSOR]
# What an entry keeps in .storage/blink_wallet.<entry id>.<name>: the payments
# delivered (delivery.py), the open invoices (invoices.py), the sends of the last
# day (spending.py).
STORED = ("delivery", "invoices", "spending")

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions, whether or not an entry is loaded."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: BlinkWalletConfigEntry) -> bool:
    """Set up a Blink account: HTTP state first, then the socket in the background."""
    coordinator = BlinkWalletCoordinator(hass, entry)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    coordinator.async_start_stream()
    return True


async def async_unload_entry(
    hass: HomeAssistant, entry: BlinkWalletConfigEntry
) -> bool:
    """Unload a config entry; the coordinator's shutdown closes the socket."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(
    hass: HomeAssistant, entry: BlinkWalletConfigEntry
) -> None:
    """Forget what the entry stored; a new entry of the account starts afresh."""
    for name in STORED:
        # The version does not matter for removing.
        store: Store[dict[str, Any]] = Store(hass, 1, store_key(entry.entry_id, name))
        await store.async_remove()
