"""Diagnostics: a redacted dump with nothing secret in it."""

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from tests.simulator import TEST_API_KEY, BlinkSimulator


async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, init_integration
    )

    assert diagnostics == snapshot(
        exclude=props("timestamp", "catch_up_since", "api_url", "ws_url", "catch_ups")
    )
    dumped = repr(diagnostics)
    assert TEST_API_KEY not in dumped
    assert simulator.account.id not in dumped
    assert simulator.account.btc_wallet.id not in dumped
