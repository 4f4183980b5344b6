"""Event entity `payments`: the UI trigger for automations on payments."""

from typing import Any

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import BlinkWalletConfigEntry
from .entity import BlinkWalletEntity
from .feed import PAYMENT_SIGNAL
from .payments import PaymentEventType

PARALLEL_UPDATES = 0

PAYMENTS = EventEntityDescription(
    key="payments",
    translation_key="payments",
    event_types=[kind.value for kind in PaymentEventType],
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BlinkWalletConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the payments event entity of a Blink account."""
    async_add_entities([BlinkPaymentsEvent(entry.runtime_data, PAYMENTS)])


class BlinkPaymentsEvent(BlinkWalletEntity, EventEntity):
    """Fires `received`, `pending` and (with the option on) `sent`."""

    async def async_added_to_hass(self) -> None:
        """Listen for payments the coordinator fires."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                PAYMENT_SIGNAL.format(self.coordinator.config_entry.entry_id),
                self._async_payment,
            )
        )

    @callback
    def _async_payment(self, kind: PaymentEventType, data: dict[str, Any]) -> None:
        self._trigger_event(kind.value, data)
        self._async_show()
