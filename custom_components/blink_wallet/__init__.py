"""The Blink Wallet integration: a Blink Bitcoin/Lightning wallet in Home Assistant."""

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant

from .coordinator import BlinkWalletConfigEntry, BlinkWalletCoordinator

PLATFORMS = [Platform.BINARY_SENSOR, Platform.EVENT, Platform.SENSOR]


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
