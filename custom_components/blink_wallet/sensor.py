"""Sensors: BTC price, wallet balances, pending incoming balances, last payment."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import slugify

from .api import Wallet, WalletCurrency, btc_price
from .coordinator import BlinkWalletConfigEntry, BlinkWalletCoordinator
from .entity import BlinkWalletEntity
from .feed import LAST_PAYMENT_SIGNAL

PARALLEL_UPDATES = 0

CENT = Decimal("0.01")


@dataclass(frozen=True, kw_only=True)
class BlinkWalletSensorDescription(SensorEntityDescription):
    """A wallet sensor and how to read its value from the coordinator."""

    value_fn: Callable[[BlinkWalletCoordinator], Decimal | int | datetime | None]
    exists_fn: Callable[[BlinkWalletCoordinator], bool] = lambda _: True


def _wallet(
    coordinator: BlinkWalletCoordinator, currency: WalletCurrency
) -> Wallet | None:
    return next(
        (w for w in coordinator.data.account.wallets if w.currency is currency), None
    )


def _amount(
    currency: WalletCurrency, *, pending: bool
) -> Callable[[BlinkWalletCoordinator], Decimal | int | None]:
    def value(coordinator: BlinkWalletCoordinator) -> Decimal | int | None:
        if (wallet := _wallet(coordinator, currency)) is None:
            return None
        amount = wallet.pending_incoming_balance if pending else wallet.balance
        if amount is None:
            return None
        if currency is WalletCurrency.USD:
            return Decimal(amount) * CENT
        return amount

    return value


def _reports_pending(
    currency: WalletCurrency,
) -> Callable[[BlinkWalletCoordinator], bool]:
    def exists(coordinator: BlinkWalletCoordinator) -> bool:
        wallet = _wallet(coordinator, currency)
        return wallet is not None and wallet.pending_incoming_balance is not None

    return exists


def _has_wallet(currency: WalletCurrency) -> Callable[[BlinkWalletCoordinator], bool]:
    return lambda coordinator: _wallet(coordinator, currency) is not None


def _price(coordinator: BlinkWalletCoordinator) -> Decimal:
    # To the display currency's minor unit: a price of 95000.000000 says no more.
    digits = coordinator.fraction_digits
    return btc_price(coordinator.data.price, digits).quantize(
        Decimal(1).scaleb(-digits)
    )


def _balance(
    key: str, currency: WalletCurrency, *, pending: bool
) -> BlinkWalletSensorDescription:
    """Describe a wallet's balance, or its pending incoming balance if reported."""
    usd = currency is WalletCurrency.USD
    return BlinkWalletSensorDescription(
        key=key,
        translation_key=key,
        native_unit_of_measurement="USD" if usd else "sat",
        device_class=SensorDeviceClass.MONETARY if usd else None,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2 if usd else 0,
        value_fn=_amount(currency, pending=pending),
        exists_fn=_reports_pending(currency) if pending else _has_wallet(currency),
    )


SENSORS: tuple[BlinkWalletSensorDescription, ...] = (
    _balance("btc_balance", WalletCurrency.BTC, pending=False),
    _balance("usd_balance", WalletCurrency.USD, pending=False),
    _balance("btc_pending_balance", WalletCurrency.BTC, pending=True),
    _balance("usd_pending_balance", WalletCurrency.USD, pending=True),
)

LAST_PAYMENT = BlinkWalletSensorDescription(
    key="last_payment",
    translation_key="last_payment",
    device_class=SensorDeviceClass.TIMESTAMP,
    entity_category=EntityCategory.DIAGNOSTIC,
    value_fn=lambda coordinator: coordinator.feed.last_payment,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BlinkWalletConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of a Blink account."""
    coordinator = entry.runtime_data
    entities: list[SensorEntity] = [
        BlinkWalletSensor(coordinator, description)
        for description in SENSORS
        if description.exists_fn(coordinator)
    ]
    entities.append(BlinkLastPaymentSensor(coordinator, LAST_PAYMENT))
    price = BlinkPriceSensor(coordinator)
    entities.append(price)
    registry = er.async_get(hass)
    replaced = [
        old.entity_id
        for old in er.async_entries_for_config_entry(registry, entry.entry_id)
        if old.domain == Platform.SENSOR
        and old.unique_id.startswith(PRICE_PREFIX.format(coordinator.data.account.id))
        and old.unique_id != price.unique_id
    ]
    if replaced:
        # The price currency changed: the new sensor gets an id of its own, so the
        # statistics of the old currency, kept under the old id, never mix with it.
        price.entity_id = f"sensor.{slugify(entry.title)}_btc_price_{price.currency}"
    async_add_entities(entities)
    for entity_id in replaced:
        registry.async_remove(entity_id)


class BlinkWalletSensor(BlinkWalletEntity, SensorEntity):
    """A balance or timestamp of the account."""

    entity_description: BlinkWalletSensorDescription

    @property
    def native_value(self) -> Decimal | int | datetime | None:
        """Read the value from the latest snapshot."""
        return self.entity_description.value_fn(self.coordinator)


class BlinkLastPaymentSensor(BlinkWalletSensor):
    """When the last payment arrived, as the payment feed keeps it (across restarts)."""

    async def async_added_to_hass(self) -> None:
        """Follow the feed's last payment."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                LAST_PAYMENT_SIGNAL.format(self.coordinator.config_entry.entry_id),
                self._async_moved,
            )
        )

    @callback
    def _async_moved(self, _: datetime) -> None:
        self._async_show()


# Unique ids of the price sensors of an account, one per currency ever shown.
PRICE_PREFIX = "{}_btc_price_"


class BlinkPriceSensor(BlinkWalletEntity, SensorEntity):
    """The BTC price in the display currency.

    The unique id includes the currency, so that long-term statistics never mix
    units when the display currency option changes.
    """

    _attr_state_class = SensorStateClass.MEASUREMENT

    def __init__(self, coordinator: BlinkWalletCoordinator) -> None:
        """Price in the coordinator's display currency."""
        currency = coordinator.display_currency
        self.currency = currency.lower()
        super().__init__(
            coordinator,
            SensorEntityDescription(key="btc_price", translation_key="btc_price"),
            unique_suffix=f"btc_price_{self.currency}",
        )
        self._attr_native_unit_of_measurement = currency
        self._attr_suggested_display_precision = coordinator.fraction_digits

    @property
    def native_value(self) -> Decimal:
        """BTC price in major units of the display currency."""
        return _price(self.coordinator)
