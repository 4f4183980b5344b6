"""The payments event entity: the UI trigger for automations."""

from unittest.mock import patch

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from tests.conftest import wait_until
from tests.simulator import BlinkSimulator

ENTITY_ID = "event.satoshi_payments"


@pytest.fixture(autouse=True)
def only_events() -> object:
    with patch("custom_components.blink_wallet.PLATFORMS", [Platform.EVENT]):
        yield


async def test_event_entity(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    await snapshot_platform(hass, entity_registry, snapshot, init_integration.entry_id)


async def test_received_payment_triggers_the_event_entity(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    tx = await simulator.receive_lightning(1_234, memo="tip")

    def fired() -> bool:
        state = hass.states.get(ENTITY_ID)
        return state is not None and state.attributes.get("event_type") == "received"

    await wait_until(fired)
    state = hass.states.get(ENTITY_ID)
    assert state is not None
    assert state.attributes["amount"] == 1_234
    assert state.attributes["memo"] == "tip"
    assert state.attributes["transaction_id"] == tx.id
    assert state.attributes["event_types"] == ["received", "pending", "sent"]


async def test_pending_receipt_triggers_the_pending_type(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    await simulator.receive_onchain(10_000)

    def fired() -> bool:
        state = hass.states.get(ENTITY_ID)
        return state is not None and state.attributes.get("event_type") == "pending"

    await wait_until(fired)
