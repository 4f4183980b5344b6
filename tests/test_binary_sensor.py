"""The live connection sensor."""

from unittest.mock import patch

from homeassistant.const import STATE_OFF, STATE_ON, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from tests.conftest import state_of, wait_until
from tests.simulator import BlinkSimulator


@pytest.fixture(autouse=True)
def only_binary_sensors() -> object:
    with patch("custom_components.blink_wallet.PLATFORMS", [Platform.BINARY_SENSOR]):
        yield


async def test_binary_sensors(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    await snapshot_platform(hass, entity_registry, snapshot, init_integration.entry_id)


async def test_connection_follows_the_socket(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    entity_id = "binary_sensor.satoshi_live_connection"
    assert state_of(hass, entity_id) == STATE_ON

    await simulator.stop(close_code=None)
    await wait_until(lambda: state_of(hass, entity_id) == STATE_OFF)

    await simulator.start()
    await wait_until(lambda: state_of(hass, entity_id) == STATE_ON, seconds=15)
