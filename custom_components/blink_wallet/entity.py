"""The base entity: one device per Blink account, availability from the socket."""

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import BlinkWalletCoordinator


class BlinkWalletEntity(CoordinatorEntity[BlinkWalletCoordinator]):
    """An entity of a Blink account."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: BlinkWalletCoordinator,
        description: EntityDescription,
        unique_suffix: str | None = None,
    ) -> None:
        """Describe the entity and attach it to the account's device."""
        super().__init__(coordinator)
        self.entity_description = description
        account = coordinator.data.account
        self._attr_unique_id = f"{account.id}_{unique_suffix or description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, account.id)},
            name=coordinator.config_entry.title,
            manufacturer="Blink",
            model="Bitcoin wallet",
            entry_type=DeviceEntryType.SERVICE,
            configuration_url="https://dashboard.blink.sv",
        )

    _last_shown: object = None

    async def async_added_to_hass(self) -> None:
        """Remember what the first state shows (Home Assistant writes it next)."""
        await super().async_added_to_hass()
        self._last_shown = self._shown()

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state only if what this entity shows changed.

        The coordinator updates all entities together (a price tick, a balance):
        each writes only when its own state or attributes moved, so a payment is
        one write per entity it concerns.
        """
        if self._shown() != self._last_shown:
            self._async_show()

    @callback
    def _async_show(self) -> None:
        """Write the state now (also for updates that do not come from the coordinator)."""
        self._last_shown = self._shown()
        self.async_write_ha_state()

    def _shown(self) -> object:
        return (
            self.available,
            self.state,
            self.state_attributes,
            self.extra_state_attributes,
        )

    @property
    def available(self) -> bool:
        """Available until the data is really stale, not on every socket blip."""
        return super().available and not self.coordinator.stale
