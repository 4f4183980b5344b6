"""The Blink Wallet integration: a Blink Bitcoin/Lightning wallet in Home Assistant."""

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN
from .coordinator import BlinkWalletConfigEntry, BlinkWalletCoordinator
from .services import async_setup_services

PLATFORMS = [Platform.BINARY_SENSOR, Platform.EVENT, Platform.IMAGE, Platform.SENSOR]

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
