"""Fixtures shared by every test: the Blink simulator, a config entry, a set-up entry."""

import asyncio
from collections.abc import AsyncGenerator, Callable, Generator
from datetime import datetime
import logging

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.syrupy import (
    HomeAssistantSnapshotExtension,
)
from syrupy.assertion import SnapshotAssertion

# Import the integration before any `hass` fixture runs, so Home Assistant resolves
# `custom_components` to this repository and not to the harness's own folder.
import custom_components.blink_wallet  # noqa: F401
from custom_components.blink_wallet.const import (
    CONF_API_URL,
    CONF_ENVIRONMENT,
    CONF_LIGHTNING_ADDRESS_DOMAIN,
    CONF_WS_URL,
    DOMAIN,
)
from custom_components.blink_wallet.coordinator import BlinkWalletCoordinator
from tests.simulator import TEST_API_KEY, BlinkSimulator

pytest_plugins = ["tests.simulator.fixtures"]

# The harness logs every SQL statement at info; the statistics tests write thousands
# of rows, and capturing their log took a third of those tests' time.
logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)

ENTRY_ID = "01JBLINKWALLETTESTENTRY000"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    enable_custom_integrations: None,
) -> Generator[None]:
    """Let Home Assistant load integrations from custom_components/."""
    return (yield)


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots serialised the Home Assistant way (no timestamps, no random ids)."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


def entry_data(
    simulator: BlinkSimulator, api_key: str = TEST_API_KEY
) -> dict[str, str]:
    """Config entry data of an account on the simulator (a custom instance)."""
    return {
        CONF_API_KEY: api_key,
        CONF_ENVIRONMENT: "custom",
        CONF_API_URL: simulator.http_url,
        CONF_WS_URL: simulator.ws_url,
        CONF_LIGHTNING_ADDRESS_DOMAIN: "blink.localhost",
    }


@pytest.fixture
def mock_config_entry(simulator: BlinkSimulator) -> MockConfigEntry:
    """The simulator's account as a config entry (not added to hass)."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="satoshi",
        unique_id=simulator.account.id,
        data=entry_data(simulator),
        entry_id=ENTRY_ID,
    )


def state_of(hass: HomeAssistant, entity_id: str) -> str:
    """The state of an entity that must exist."""
    state = hass.states.get(entity_id)
    assert state is not None, f"{entity_id} does not exist"
    return state.state


async def wait_until(predicate: Callable[[], bool], seconds: float = 5.0) -> None:
    """Let the event loop run until `predicate()` holds."""
    async with asyncio.timeout(seconds):
        # Polling: the conditions are about sockets, tasks and state alike.
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


async def move_clock_until(
    hass: HomeAssistant, when: datetime, predicate: Callable[[], bool]
) -> None:
    """Move Home Assistant's clock to `when` until `predicate()` holds.

    A timer armed by a background task (a retry after a failed answer) may not
    be armed yet when the clock first moves: it is moved again until it fires.
    Bounded by a count, not a timeout: moving the clock fires timeouts too.
    """
    for _ in range(500):
        async_fire_time_changed(hass, when)
        await asyncio.sleep(0.01)
        if predicate():
            return
    pytest.fail(f"still not so after moving the clock to {when}")


@pytest.fixture
async def init_integration(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> AsyncGenerator[MockConfigEntry]:
    """Set up the entry and wait until its socket is live; unload afterwards."""
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    coordinator: BlinkWalletCoordinator = mock_config_entry.runtime_data
    # Connected, and the catch-up that follows every start has run.
    await wait_until(lambda: coordinator.connected and coordinator.catch_ups > 0)
    yield mock_config_entry
    if mock_config_entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(mock_config_entry.entry_id)
        await hass.async_block_till_done()


@pytest.fixture
def coordinator(init_integration: MockConfigEntry) -> BlinkWalletCoordinator:
    """The set-up entry's coordinator: connected, and its first catch-up done."""
    coordinator: BlinkWalletCoordinator = init_integration.runtime_data
    assert coordinator.catch_ups == 1
    return coordinator


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print what the fuzz tests counted (output of xdist's workers is not shown)."""
    lines = [
        str(value)
        for report in terminalreporter.stats.get("passed", [])
        for name, value in report.user_properties
        if name == "fuzz"
    ]
    if lines:
        terminalreporter.write_sep("-", "fuzz")
        for line in sorted(lines):
            terminalreporter.write_line(line)
