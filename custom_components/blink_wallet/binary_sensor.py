"""Binary sensor: whether the live socket to Blink is up."""

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)

try:
    from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
except ImportError:  # before Home Assistant 2026.10, which moved it into const
    from homeassistant.components.binary_sensor import (  # type: ignore[attr-defined] # pragma: no cover - tested by scripts/test-oldest
        BinarySensorDeviceClass,
    )
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import BlinkWalletConfigEntry
from .entity import BlinkWalletEntity

PARALLEL_UPDATES = 0

CONNECTION = BinarySensorEntityDescription(
    key="connection",
    translation_key="connection",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
    entity_category=EntityCategory.DIAGNOSTIC,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BlinkWalletConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the connection sensor of a Blink account."""
    async_add_entities([BlinkConnectionSensor(entry.runtime_data, CONNECTION)])


class BlinkConnectionSensor(BlinkWalletEntity, BinarySensorEntity):
    """On while the socket is connected and subscribed."""

    @property
    def available(self) -> bool:
        """The connection state is always known, stale data or not."""
        return True

    @property
    def is_on(self) -> bool:
        """Whether the live socket is up."""
        return self.coordinator.connected
