"""The base entity: one device per Blink account, availability from the socket."""

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

    @property
    def available(self) -> bool:
        """Available until the data is really stale, not on every socket blip."""
        return super().available and not self.coordinator.stale
