"""Fault injection: payments while sockets, servers and Home Assistant fall over.

A `FaultRun` drives the real integration (in Home Assistant's harness) against the
simulator, mixing payments with faults, and checks the one invariant that matters:
every settled incoming payment made during the run fires
`blink_wallet_payment_received` exactly once, nothing from before fires, and the
balances end equal to the simulator's. The default suite (tests/test_faults.py)
and the long soak (scripts/soak) use the same runner.
"""

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
import random
import traceback
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Event, HomeAssistant
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.blink_wallet.const import EVENT_PAYMENT_RECEIVED
from tests.conftest import wait_until
from tests.simulator import BlinkSimulator
from tests.simulator.protocol import WsSession
from tests.simulator.state import Transaction

# Milliseconds instead of the production seconds, so a run takes seconds.
FAST_SOCKET: dict[str, Any] = {
    "ping_interval": 0.2,
    "pong_timeout": 0.2,
    "ack_timeout": 0.3,
    "connect_timeout": 0.5,
    "silence_timeout": 1.0,
    "resubscribe_timeout": 0.3,
    "backoff_base": 0.02,
    "backoff_cap": 0.2,
    "socket_window": 0.06,
    "refusal_window": 0.02,
}

# Server closes the contract calls retryable, and those it calls protocol bugs.
RETRYABLE_CLOSES = (1000, 1001, 1011, 1012, 1013, 4408, 4499, 4500)
PROTOCOL_BUG_CLOSES = (4400, 4409, 4429)


@dataclass
class FaultRun:
    """One scenario: its world, what it did, and what must have fired."""

    hass: HomeAssistant
    simulator: BlinkSimulator
    entry: MockConfigEntry
    rng: random.Random
    received: list[Event]
    expected: Counter[str] = field(default_factory=Counter)
    done: Counter[str] = field(default_factory=Counter)
    pending: list[Transaction] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    # --- payments ------------------------------------------------------------------

    async def pay(self) -> None:
        """A settled incoming payment of a random kind (or a step towards one)."""
        sim = self.simulator
        amount = self.rng.randint(60, 5_000)
        kind = self.rng.choice(
            ["lightning", "usd", "intraledger", "anonymous", "invoice", "onchain"]
        )
        if kind == "onchain" and self.pending and self.rng.random() < 0.7:
            tx = await sim.confirm_onchain(self.pending.pop(0))
        elif kind == "onchain":
            self.pending.append(await sim.receive_onchain(amount))
            self.done["onchain_pending"] += 1
            return
        elif kind == "usd":
            tx = await sim.receive_lightning(amount // 10 + 1, wallet="USD")
        elif kind == "intraledger":
            tx = await sim.receive_intraledger(amount, sender_username="alice")
        elif kind == "anonymous":
            tx = await sim.receive_intraledger(amount, sender_username=None)
        elif kind == "invoice":
            tx = await sim.receive_blink_invoice_payment(amount)
        else:
            tx = await sim.receive_lightning(amount)
        self.expected[tx.id] += 1
        self.done["payments"] += 1

    async def burst(self) -> None:
        """Several payments in one go; a fault may land in the middle."""
        for _ in range(self.rng.randint(2, 6)):
            await self.pay()
            if self.rng.random() < 0.3:
                await self.drop()

    async def transfer(self) -> None:
        """A conversion between the account's own wallets: it must fire nothing."""
        await self.simulator.transfer(self.rng.randint(1_000, 20_000))
        self.done["transfers"] += 1

    # --- faults --------------------------------------------------------------------

    async def drop(self) -> None:
        """Cut every socket without a close frame (1006)."""
        await self.simulator.drop_sockets()
        self.done["drops"] += 1

    async def close(self) -> None:
        """Close every socket with a retryable or protocol-bug code."""
        code = self.rng.choice(RETRYABLE_CLOSES + PROTOCOL_BUG_CLOSES)
        await self.simulator.close_sockets(code, "fault injection")
        self.done["drops"] += 1
        self.done[f"close_{code}"] += 1

    async def restart_server(self) -> None:
        """Blink goes away for a moment; payments may arrive meanwhile."""
        await self.simulator.stop(close_code=self.rng.choice([None, 1001, 1012]))
        if self.rng.random() < 0.5:
            await self.pay()
        await asyncio.sleep(self.rng.uniform(0, 0.1))
        await self.simulator.start()
        self.done["server_restarts"] += 1
        self.done["drops"] += 1

    async def restart_home_assistant(self) -> None:
        """Unload the entry and set it up again from its persisted state."""
        await self.hass.config_entries.async_unload(self.entry.entry_id)
        if self.rng.random() < 0.6:
            await self.pay()
        # A pending HTTP fault makes the setup "not ready": Home Assistant retries.
        await self.hass.config_entries.async_setup(self.entry.entry_id)
        self.done["ha_restarts"] += 1

    async def freeze(self) -> None:
        """The socket goes dead: no pong, no data (the pong deadline must fire)."""
        self.simulator.freeze_sockets()
        await self.pay()
        await asyncio.sleep(self.rng.uniform(0, 0.5))
        self.done["frozen_sockets"] += 1

    async def silence(self) -> None:
        """Pongs keep coming, data does not (the silence watch must fire)."""
        self.simulator.silence_sockets()
        await self.pay()
        await asyncio.sleep(self.rng.uniform(0, 1.5))
        self.done["silent_subscriptions"] += 1

    async def duplicate_frames(self) -> None:
        """Every frame is sent twice for a while."""
        self.simulator.behaviour.frame_hook = _duplicate
        await self.pay()
        await self.pay()
        self.simulator.behaviour.frame_hook = None
        self.done["duplicated"] += 1

    async def reorder_frames(self) -> None:
        """Data frames leave in pairs, the second of each pair first."""
        held: list[tuple[WsSession, str]] = []

        def swap(session: WsSession, frame: str) -> Sequence[str]:
            if '"next"' not in frame:
                return [frame]
            if not held:
                held.append((session, frame))
                return []
            first_session, first = held.pop()
            if first_session is session:
                return [frame, first]
            return [frame]

        self.simulator.behaviour.frame_hook = swap
        await self.pay()
        await self.pay()
        await asyncio.sleep(0.05)
        self.simulator.behaviour.frame_hook = None
        for session, frame in held:
            await session.send_raw(frame)
        self.done["reordered"] += 1

    async def rate_limit(self) -> None:
        """The next HTTP requests answer 429 with Retry-After, or a gateway's HTML."""
        if self.rng.random() < 0.5:
            self.simulator.fail_http(
                429, body="Too Many Requests", headers={"Retry-After": "0.1"}, times=2
            )
        else:
            self.simulator.fail_http(
                502,
                body="<html><body>Bad Gateway</body></html>",
                content_type="text/html",
            )
        await self.drop()
        self.done["http_faults"] += 1

    # --- the scenario ------------------------------------------------------------

    def actions(self) -> list[tuple[Callable[[], Awaitable[None]], int]]:
        """Every step a scenario can take, with its weight."""
        return [
            (self.pay, 30),
            (self.burst, 6),
            (self.transfer, 4),
            (self.drop, 12),
            (self.close, 8),
            (self.restart_server, 4),
            (self.restart_home_assistant, 5),
            (self.freeze, 3),
            (self.silence, 2),
            (self.duplicate_frames, 3),
            (self.reorder_frames, 3),
            (self.rate_limit, 3),
        ]

    async def run(self, steps: int) -> None:
        """Take `steps` random steps, letting the loop run a little between them."""
        actions, weights = zip(*self.actions(), strict=True)
        for _ in range(steps):
            action = self.rng.choices(actions, weights)[0]
            self.log.append(f"{action.__name__} {len(self.received)}")
            await action()
            await asyncio.sleep(self.rng.choice([0, 0, 0.01, 0.05]))

    async def settle(self, seconds: float = 20.0) -> None:
        """Heal everything and wait until every expected event has fired."""
        sim = self.simulator
        # New sockets are healthy again; a dead or silent one stays so (the frames
        # it swallowed are gone, as on a real dead socket) until the client
        # notices and replaces it.
        sim.behaviour.freeze_new = sim.behaviour.silence_new = False
        sim.behaviour.frame_hook = None
        sim.behaviour.http_faults.clear()
        for tx in self.pending:
            confirmed = await sim.confirm_onchain(tx)
            self.expected[confirmed.id] += 1
        self.pending.clear()
        if not sim.running:
            await sim.start()
        if self.entry.state is not ConfigEntryState.LOADED:
            await self.hass.config_entries.async_reload(self.entry.entry_id)
        await wait_until(self._settled, seconds)

    def _settled(self) -> bool:
        if self.entry.state is not ConfigEntryState.LOADED:
            return False
        coordinator = self.entry.runtime_data
        fired = {event.data["transaction_id"] for event in self.received}
        return (
            coordinator.connected
            and fired >= set(self.expected)
            and self.shown_balances() == self.balances()
        )

    async def coordinator_flushed(self) -> None:
        """Write the delivery state now, as an orderly unload would."""
        await self.entry.runtime_data.feed.async_flush_to_disk()

    def fired(self) -> Counter[str]:
        """How often each transaction fired."""
        return Counter(event.data["transaction_id"] for event in self.received)

    def balances(self) -> tuple[int, int]:
        """The simulator's balances, (sats, cents)."""
        account = self.simulator.account
        return account.btc_wallet.balance, account.usd_wallet.balance

    def shown_balances(self) -> tuple[int, int]:
        """The balances the entities show, (sats, cents)."""
        account = self.entry.runtime_data.data.account
        btc, usd = account.btc_wallet, account.usd_wallet
        assert btc is not None
        assert usd is not None
        return btc.balance, usd.balance


def _tolerate_accept_race(loop: asyncio.AbstractEventLoop) -> None:
    """Ignore asyncio's own race when the simulator stops while accepting.

    A connection the kernel accepted just before the simulator's server closed
    reaches `Server._attach` after `close()` and trips its assertion (CPython).
    It concerns the test's server, not the integration; everything else still
    reaches the harness, which fails the test on it.
    """
    handler = loop.get_exception_handler()

    def filtered(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        if isinstance(error, AssertionError) and any(
            frame.name == "_attach"
            for frame in traceback.extract_tb(error.__traceback__)
        ):
            return
        if handler is None:
            loop.default_exception_handler(context)
        else:
            handler(loop, context)

    loop.set_exception_handler(filtered)


def _duplicate(session: WsSession, frame: str) -> Sequence[str]:
    return [frame, frame] if '"next"' in frame else [frame]


def summary(run: FaultRun) -> dict[str, Any]:
    """What a run did, for the soak report."""
    return {**run.done, "events": len(run.received), "expected": len(run.expected)}


async def start_run(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    entry: MockConfigEntry,
    seed: int,
) -> FaultRun:
    """Set the entry up and wait for its first catch-up; events count from here."""
    _tolerate_accept_race(hass.loop)
    # The scenarios compress hours of socket drops into seconds (the client's own
    # pace is shrunk with them, FAST_SOCKET); Blink's per-minute ingress limit is
    # tested on its own (test_simulator_ws, api/test_socket_budget).
    simulator.ingress.requests_per_minute = None
    received: list[Event] = async_capture_events(hass, EVENT_PAYMENT_RECEIVED)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    coordinator = entry.runtime_data
    await wait_until(lambda: coordinator.connected and coordinator.catch_ups > 0)
    # Seeded noise for reproducible scenarios, not cryptography.
    return FaultRun(hass, simulator, entry, random.Random(seed), received)  # noqa: S311
