"""The automation blueprints: valid for Home Assistant, and each does its job."""

import json
from pathlib import Path
import shutil
import tomllib
from typing import Any

from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint.models import Blueprint
from homeassistant.core import Event, HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import load_yaml_dict
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_mock_service,
)

from custom_components.blink_wallet.const import EVENT_PAYMENT_RECEIVED
from tests.conftest import state_of, wait_until
from tests.simulator import BlinkSimulator

ROOT = Path(__file__).parent.parent
BLUEPRINTS = ROOT / "blueprints" / "automation" / "blink_wallet"
NAMES = ["notify_on_payment", "unlock_on_payment", "price_alert"]
PRICE = "sensor.satoshi_btc_price"


def repository_url() -> str:
    """The repository's URL, from the one place it is written."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        url: str = tomllib.load(file)["project"]["urls"]["Repository"]
    return url


def oldest_supported() -> str:
    """The oldest Home Assistant the integration supports, as hacs.json says."""
    version: str = json.loads((ROOT / "hacs.json").read_text())["homeassistant"]
    return version


@pytest.mark.parametrize("name", NAMES)
def test_blueprint_is_valid(name: str) -> None:
    path = BLUEPRINTS / f"{name}.yaml"
    blueprint = Blueprint(
        load_yaml_dict(path),
        path=str(path),
        expected_domain="automation",
        schema=AUTOMATION_BLUEPRINT_SCHEMA,
    )
    assert blueprint.domain == "automation"
    assert blueprint.metadata["source_url"] == (
        f"{repository_url()}/blob/main/blueprints/automation/blink_wallet/{name}.yaml"
    )
    # The oldest Home Assistant the integration supports (hacs.json).
    assert blueprint.metadata["homeassistant"]["min_version"] == oldest_supported()
    assert blueprint.validate() is None


def test_every_blueprint_is_tested() -> None:
    assert sorted(p.stem for p in BLUEPRINTS.glob("*.yaml")) == sorted(NAMES)


def copy_blueprint(target: Path, name: str) -> None:
    """Put the blueprint where Home Assistant looks for it in the test config."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(BLUEPRINTS / f"{name}.yaml", target / f"{name}.yaml")


async def setup_automation(
    hass: HomeAssistant, name: str, inputs: dict[str, Any]
) -> None:
    """An automation from the blueprint, as a user would import and fill it."""
    await hass.async_add_executor_job(
        copy_blueprint,
        Path(hass.config.path("blueprints/automation/blink_wallet")),
        name,
    )
    config = {
        "automation": {
            "id": name,
            "alias": name,
            "use_blueprint": {"path": f"blink_wallet/{name}.yaml", "input": inputs},
        }
    }
    assert await async_setup_component(hass, "automation", config)
    await hass.async_block_till_done()
    assert state_of(hass, f"automation.{name}") == "on"


async def test_notify_on_payment(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    calls: list[ServiceCall] = async_mock_service(hass, "notify", "phone")
    received: list[Event] = async_capture_events(hass, EVENT_PAYMENT_RECEIVED)
    extra: list[ServiceCall] = async_mock_service(hass, "test", "extra")
    await setup_automation(
        hass,
        "notify_on_payment",
        {
            "account": init_integration.entry_id,
            "min_amount": 1000,
            "memo_contains": "Coffee",
            "notify_targets": ["notify.phone"],
            "extra_actions": [{"action": "test.extra", "data": {"memo": "{{ memo }}"}}],
        },
    )

    await simulator.receive_lightning(500, memo="coffee")  # too small
    await simulator.receive_lightning(2_000, memo="rent")  # another memo
    await simulator.receive_lightning(2_000)  # no memo at all
    await simulator.receive_lightning(2_100, memo="Two coffees")
    await wait_until(lambda: len(received) == 4 and len(calls) == 1)
    await hass.async_block_till_done()

    assert len(calls) == 1
    message = calls[0].data["message"]
    assert "2100 sats" in message
    assert "BTC" in message
    assert "lightning" in message
    assert "Two coffees" in message
    assert [call.data for call in extra] == [{"memo": "Two coffees"}]


async def test_notify_on_every_payment_without_memo(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    calls: list[ServiceCall] = async_mock_service(hass, "notify", "phone")
    await setup_automation(
        hass,
        "notify_on_payment",
        {"account": init_integration.entry_id, "notify_targets": ["notify.phone"]},
    )

    await simulator.receive_lightning(21)
    await wait_until(lambda: len(calls) == 1)
    assert "21 sats" in calls[0].data["message"]


async def test_notify_ignores_other_accounts(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    calls: list[ServiceCall] = async_mock_service(hass, "notify", "phone")
    other: list[ServiceCall] = async_mock_service(hass, "notify", "other")
    await setup_automation(
        hass,
        "notify_on_payment",
        {"account": "another_entry", "notify_targets": ["notify.other"]},
    )

    received: list[Event] = async_capture_events(hass, EVENT_PAYMENT_RECEIVED)
    await simulator.receive_lightning(2_100, memo="coffee")
    await wait_until(lambda: len(received) == 1)
    await hass.async_block_till_done()
    assert other == []
    assert calls == []


async def test_unlock_on_payment(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {"door": {"name": "door"}}}
    )
    await setup_automation(
        hass,
        "unlock_on_payment",
        {
            "account": init_integration.entry_id,
            "min_amount": 1000,
            "memo_contains": "door",
            "target_entity": "input_boolean.door",
            "duration": {"seconds": 1},
        },
    )
    door = "input_boolean.door"
    received: list[Event] = async_capture_events(hass, EVENT_PAYMENT_RECEIVED)

    await simulator.receive_lightning(999, memo="door")  # too small
    await simulator.receive_lightning(5_000, memo="coffee")  # another memo
    await wait_until(lambda: len(received) == 2)
    await hass.async_block_till_done()
    assert state_of(hass, door) == "off"

    await simulator.receive_lightning(1_000, memo="Open the door")
    await wait_until(lambda: state_of(hass, door) == "on")
    await wait_until(lambda: state_of(hass, door) == "off", seconds=5)


async def test_price_alert(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    above: list[ServiceCall] = async_mock_service(hass, "notify", "above")
    below: list[ServiceCall] = async_mock_service(hass, "notify", "below")
    assert state_of(hass, PRICE) == "95000.00"
    await setup_automation(
        hass,
        "price_alert",
        {
            "price_sensor": PRICE,
            "threshold": 100_000,
            "direction": "above",
            "notify_targets": ["notify.above"],
        },
    )
    await simulator.set_price(99_000)  # still below
    await wait_until(lambda: state_of(hass, PRICE) == "99000.00")
    await hass.async_block_till_done()
    assert above == []

    await simulator.set_price(101_000)
    await wait_until(lambda: len(above) == 1)
    assert "101000.00" in above[0].data["message"]
    assert "rose above" in above[0].data["message"]

    await simulator.set_price(102_000)  # stays above: no second alert
    await wait_until(lambda: state_of(hass, PRICE) == "102000.00")
    await hass.async_block_till_done()
    assert len(above) == 1
    assert below == []


async def test_price_alert_below(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    above: list[ServiceCall] = async_mock_service(hass, "notify", "above")
    below: list[ServiceCall] = async_mock_service(hass, "notify", "below")
    await setup_automation(
        hass,
        "price_alert",
        {
            "price_sensor": PRICE,
            "threshold": 90_000,
            "direction": "below",
            "notify_targets": ["notify.below"],
        },
    )

    await simulator.set_price(120_000)  # moves away, upwards
    await wait_until(lambda: state_of(hass, PRICE) == "120000.00")
    await hass.async_block_till_done()
    assert below == []

    await simulator.set_price(89_500)
    await wait_until(lambda: len(below) == 1)
    assert "fell below" in below[0].data["message"]
    assert "89500.00" in below[0].data["message"]
    assert above == []
