"""The integration inside a real Home Assistant core, in its own process.

`python -m bench.ha --ws-url ... --api-url ... --frames N --base-balance B`
sets the integration up against the simulator's HTTP API (in the server
process) and the replay server's socket, the way tests/conftest.py does with the
harness's `async_test_home_assistant`. Once the first push has been answered by
the catch-up every start runs, it times, for each frame, the state write of the
BTC balance sensor and the `blink_wallet_payment_received` bus event.

Lines printed: `connected`, `ready` (after the catch-up, listeners on), then
the result. The driver sends the frames through the server in between.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Sequence
import contextlib
import logging
from pathlib import Path
import sys
import time
from typing import Any
from unittest.mock import patch

from aiohttp.resolver import ThreadedResolver
from homeassistant import loader
from homeassistant.const import CONF_API_KEY, EVENT_STATE_CHANGED
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)

# Before Home Assistant resolves `custom_components`: this repository's.
import custom_components.blink_wallet  # noqa: F401
from custom_components.blink_wallet.const import (
    CONF_API_URL,
    CONF_ENVIRONMENT,
    CONF_LIGHTNING_ADDRESS_DOMAIN,
    CONF_WS_URL,
    DOMAIN,
    EVENT_PAYMENT_RECEIVED,
)
from custom_components.blink_wallet.coordinator import BlinkWalletCoordinator

from .frames import seq_of
from .pipes import say


class _Resolver(ThreadedResolver):
    """What the harness gives Home Assistant's session; it closes it this way."""

    async def real_close(self) -> None:
        """Close (Home Assistant calls this at shutdown)."""
        await self.close()


async def wait_until(predicate: Callable[[], bool], seconds: float) -> None:
    """Let the loop run until `predicate()` holds."""
    async with asyncio.timeout(seconds):
        while not predicate():  # noqa: ASYNC110 - conditions on any state
            await asyncio.sleep(0.005)


class Timings:
    """When each frame's state write and bus event happened."""

    def __init__(self, entity_id: str, base_balance: int, expected: int) -> None:
        """Watch `entity_id`, whose state is `base_balance + seq`."""
        self.entity_id = entity_id
        self.base_balance = base_balance
        self.expected = expected
        self.state: dict[int, int] = {}
        self.event: dict[int, int] = {}
        self.done = asyncio.Event()

    @callback
    def on_state(self, event: Event[EventStateChangedData]) -> None:
        """Keep when the balance sensor's state was written."""
        if event.data["entity_id"] != self.entity_id:
            return
        now = time.monotonic_ns()
        new = event.data["new_state"]
        if new is None:
            return
        with contextlib.suppress(ValueError):
            self.state.setdefault(int(new.state) - self.base_balance, now)

    @callback
    def on_payment(self, event: Event[dict[str, Any]]) -> None:
        """Keep when a payment event was fired."""
        now = time.monotonic_ns()
        self.event.setdefault(seq_of(event.data["transaction_id"]), now)
        if len(self.event) >= self.expected:
            self.done.set()


async def run(args: argparse.Namespace) -> None:
    """Set up, report readiness, time the frames, unload."""
    config_dir = Path(args.config_dir)
    # As the harness does: no zeroconf (and so no network scan) behind the
    # resolver of Home Assistant's shared aiohttp session; loopback needs none.
    with patch(
        "homeassistant.helpers.aiohttp_client._async_make_resolver",
        return_value=_Resolver(),
    ):
        await _run(args, config_dir)


async def _run(args: argparse.Namespace, config_dir: Path) -> None:
    async with async_test_home_assistant(config_dir=str(config_dir)) as hass:
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
        entry = MockConfigEntry(
            domain=DOMAIN,
            title="satoshi",
            data={
                CONF_API_KEY: args.api_key,
                CONF_ENVIRONMENT: "custom",
                CONF_API_URL: args.api_url,
                CONF_WS_URL: args.ws_url,
                CONF_LIGHTNING_ADDRESS_DOMAIN: "blink.localhost",
            },
        )
        entry.add_to_hass(hass)
        if not await hass.config_entries.async_setup(entry.entry_id):
            say({"error": f"setup failed: {entry.state}"})
            return
        await hass.async_block_till_done()
        coordinator: BlinkWalletCoordinator = entry.runtime_data
        await wait_until(lambda: coordinator.connected, 30.0)
        say({"connected": True})
        # The first push starts the catch-up that follows every start (HTTP).
        await wait_until(lambda: coordinator.catch_ups > 0, 30.0)
        await hass.async_block_till_done()
        await _measure(args, hass, coordinator)
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        await hass.async_stop(force=True)


async def _measure(
    args: argparse.Namespace, hass: HomeAssistant, coordinator: BlinkWalletCoordinator
) -> None:
    registry = er.async_get(hass)
    account_id = coordinator.data.account.id
    entity_id = registry.async_get_entity_id(
        "sensor", DOMAIN, f"{account_id}_btc_balance"
    )
    if entity_id is None:
        say({"error": "no BTC balance sensor"})
        return
    timings = Timings(entity_id, args.base_balance, args.frames)
    unsubscribe = [
        hass.bus.async_listen(EVENT_STATE_CHANGED, timings.on_state),
        hass.bus.async_listen(EVENT_PAYMENT_RECEIVED, timings.on_payment),
    ]
    say({"ready": True, "entity_id": entity_id})
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(args.timeout):
            await timings.done.wait()
    for cancel in unsubscribe:
        cancel()
    say(
        {
            "state": sorted(timings.state.items()),
            "event": sorted(timings.event.items()),
            "connected": coordinator.connected,
        }
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.ha")
    parser.add_argument("--ws-url", required=True)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--frames", type=int, required=True)
    parser.add_argument("--base-balance", type=int, required=True)
    parser.add_argument("--config-dir", required=True)
    parser.add_argument("--timeout", type=float, default=120.0)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the Home Assistant process."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    args = parse_args(argv)
    Path(args.config_dir).mkdir(parents=True, exist_ok=True)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
