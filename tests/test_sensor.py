"""Sensors: what they show, how pushes move them, when they become unavailable."""

from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
import json
from typing import Any
from unittest.mock import patch

from homeassistant.const import STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.blink_wallet.const import (
    CONF_DISPLAY_CURRENCY,
    DOMAIN,
    STALE_AFTER,
)
from tests.conftest import state_of, wait_until
from tests.simulator import BlinkSimulator
from tests.simulator.protocol import WsSession

# A fixed clock: the last payment (the simulator's opening receipts) snapshots alike.
FIXED_TIME = datetime(2026, 6, 1, 12, tzinfo=UTC).timestamp()


@pytest.fixture
async def simulator(socket_enabled: None) -> AsyncGenerator[BlinkSimulator]:
    """The simulator, with a clock that stands still."""
    async with BlinkSimulator(clock=lambda: FIXED_TIME) as sim:
        yield sim


@pytest.fixture
def platforms() -> list[Platform]:
    return [Platform.SENSOR]


@pytest.fixture(autouse=True)
def only_platforms(platforms: list[Platform]) -> object:
    with patch("custom_components.blink_wallet.PLATFORMS", platforms):
        yield


async def test_last_payment_comes_from_history_and_survives_a_restart(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    opening = datetime.fromtimestamp(FIXED_TIME, UTC) - timedelta(days=1)
    assert state_of(hass, "sensor.satoshi_last_payment") == opening.isoformat()

    await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, "sensor.satoshi_last_payment") == opening.isoformat()


async def test_last_payment_is_read_again_when_the_stored_state_had_none(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    # Stored by a version that did not keep the last payment (minor version 2).
    key = f"{DOMAIN}.{mock_config_entry.entry_id}.delivery"
    since = datetime.fromtimestamp(FIXED_TIME, UTC)
    hass_storage[key] = {
        "version": 1,
        "minor_version": 2,
        "key": key,
        "data": {"delivered": {}, "since": since.isoformat()},
    }
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    opening = datetime.fromtimestamp(FIXED_TIME, UTC) - timedelta(days=1)
    assert state_of(hass, "sensor.satoshi_last_payment") == opening.isoformat()


async def test_sensors(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    await snapshot_platform(hass, entity_registry, snapshot, init_integration.entry_id)


async def test_price_push_moves_the_price(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    requests = simulator.stats.http_requests
    assert state_of(hass, "sensor.satoshi_btc_price") == "95000.00"

    await simulator.set_price("96123.45")
    await wait_until(lambda: state_of(hass, "sensor.satoshi_btc_price") == "96123.45")

    assert simulator.stats.http_requests == requests


async def test_price_in_another_display_currency(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, options={CONF_DISPLAY_CURRENCY: "JPY"}
    )
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    await wait_until(lambda: mock_config_entry.runtime_data.connected)

    state = hass.states.get("sensor.satoshi_btc_price")
    assert state is not None
    assert state.attributes["unit_of_measurement"] == "JPY"
    entry = entity_registry.async_get("sensor.satoshi_btc_price")
    assert entry is not None
    assert entry.unique_id.endswith("_btc_price_jpy")
    assert entry.options["sensor"]["suggested_display_precision"] == 0
    before = state.state

    await simulator.move_price(1)
    await wait_until(lambda: state_of(hass, "sensor.satoshi_btc_price") != before)
    await hass.config_entries.async_unload(mock_config_entry.entry_id)


async def test_entities_stay_available_through_a_blip_but_not_a_long_outage(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    coordinator = init_integration.runtime_data
    await simulator.stop(close_code=None)
    await wait_until(lambda: not coordinator.connected)

    async_fire_time_changed(hass, dt_util.utcnow() + STALE_AFTER - timedelta(seconds=5))
    await hass.async_block_till_done()
    assert state_of(hass, "sensor.satoshi_btc_balance") == "250000"

    async_fire_time_changed(hass, dt_util.utcnow() + STALE_AFTER + timedelta(seconds=1))
    await hass.async_block_till_done()
    assert state_of(hass, "sensor.satoshi_btc_balance") == STATE_UNAVAILABLE
    assert caplog.text.count("is stale") == 1

    await simulator.start()
    await wait_until(lambda: coordinator.connected, seconds=15)
    await hass.async_block_till_done()
    assert state_of(hass, "sensor.satoshi_btc_balance") == "250000"
    assert caplog.text.count("is live again") == 1


async def test_a_new_price_currency_replaces_the_price_sensor_without_an_orphan(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    assert state_of(hass, "sensor.satoshi_btc_price") != "unavailable"

    hass.config_entries.async_update_entry(
        init_integration, options={CONF_DISPLAY_CURRENCY: "EUR"}
    )
    await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()

    # A sensor of its own, so the statistics of the two currencies never mix;
    # the USD one (and its entity id) is gone, its statistics stay in the database.
    prices = [
        entry
        for entry in er.async_entries_for_config_entry(
            entity_registry, init_integration.entry_id
        )
        if "_btc_price_" in entry.unique_id
    ]
    assert [(p.entity_id, p.unique_id.rsplit("_", 1)[1]) for p in prices] == [
        ("sensor.satoshi_btc_price_eur", "eur")
    ]
    state = hass.states.get("sensor.satoshi_btc_price_eur")
    assert state is not None
    assert state.attributes["unit_of_measurement"] == "EUR"
    assert hass.states.get("sensor.satoshi_btc_price") is None


def _drift_balances(_session: WsSession, text: str) -> list[str]:
    """Blink's `me` without the Stablesats wallet and without pending balances."""
    frame = json.loads(text)
    me = (frame.get("payload", {}).get("data") or {}).get("myUpdates", {}).get("me")
    if me is None:
        return [text]
    wallets = me["defaultAccount"]["wallets"]
    me["defaultAccount"]["wallets"] = [
        {**wallet, "pendingIncomingBalance": None}
        for wallet in wallets
        if wallet["walletCurrency"] == "BTC"
    ]
    return [json.dumps(frame)]


async def test_balances_blink_stops_reporting_are_unknown_not_wrong(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    simulator.behaviour.frame_hook = _drift_balances
    await simulator.receive_lightning(1_000)

    await wait_until(
        lambda: state_of(hass, "sensor.satoshi_stablesats_balance") == "unknown"
    )
    assert state_of(hass, "sensor.satoshi_btc_balance") == "251000"
    assert state_of(hass, "sensor.satoshi_btc_pending_incoming") == "unknown"
