"""Backoff: exponential, full jitter, capped, reset only by data."""

from collections.abc import Callable
import json
import random

import pytest

from custom_components.blink_wallet.api.backoff import (
    DEFAULT_BACKOFF_BASE,
    DEFAULT_BACKOFF_CAP,
    Backoff,
)
from tests.simulator import BlinkSimulator

from .harness import Harness

type Build = Callable[..., Harness]


def test_ceiling_doubles_from_base_up_to_the_cap() -> None:
    backoff = Backoff(1.0, 300.0, rng=lambda: 1.0)

    delays = [backoff.next_delay() for _ in range(12)]

    assert delays == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]


def test_full_jitter_stays_between_zero_and_the_ceiling() -> None:
    rng = random.Random(7)  # noqa: S311 - reproducible, not secret
    backoff = Backoff(1.0, 300.0, rng=rng.random)

    for failures in range(40):
        ceiling = min(300.0, 2.0**failures)
        delay = backoff.next_delay()
        assert 0 <= delay <= ceiling


def test_jitter_spreads_the_waits() -> None:
    rng = random.Random(3)  # noqa: S311 - reproducible, not secret
    waits = {Backoff(1.0, 300.0, rng=rng.random).next_delay() for _ in range(50)}

    assert len(waits) == 50
    assert min(waits) < 0.2
    assert max(waits) > 0.8


def test_first_retry_with_production_defaults_is_within_a_few_seconds() -> None:
    backoff = Backoff(DEFAULT_BACKOFF_BASE, DEFAULT_BACKOFF_CAP)

    assert backoff.next_delay() <= DEFAULT_BACKOFF_BASE <= 3
    assert DEFAULT_BACKOFF_CAP == 300


def test_retry_after_is_a_floor() -> None:
    backoff = Backoff(1.0, 300.0, rng=lambda: 0.5)

    assert backoff.next_delay(retry_after=30.0) == 30.0
    assert backoff.next_delay(retry_after=0.1) == 1.0


def test_reset_starts_again_from_base() -> None:
    backoff = Backoff(1.0, 300.0, rng=lambda: 1.0)
    for _ in range(20):
        backoff.next_delay()

    backoff.reset()

    assert backoff.failures == 0
    assert backoff.next_delay() == 1.0


def test_huge_failure_counts_do_not_overflow() -> None:
    backoff = Backoff(1.0, 300.0, rng=lambda: 1.0)
    backoff.failures = 10_000

    assert backoff.next_delay() == 300.0


async def test_waits_between_attempts_respect_the_bounds(
    simulator: BlinkSimulator, harness: Build
) -> None:
    await simulator.stop()
    h = harness(backoff_base=0.02, backoff_cap=0.08)
    h.ws.backoff = Backoff(0.02, 0.08, rng=lambda: 1.0)  # always the ceiling
    h.my_updates()
    waits: list[float] = []
    original = h.ws.backoff.next_delay

    def recording(retry_after: float | None = None) -> float:
        waits.append(original(retry_after))
        return waits[-1]

    h.ws.backoff.next_delay = recording  # type: ignore[method-assign]
    h.start()

    await h.wait_for(lambda: len(waits) >= 5)

    assert waits[:5] == pytest.approx([0.02, 0.04, 0.08, 0.08, 0.08])


async def test_backoff_resets_on_data_not_on_ack(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness()
    h.my_updates()
    h.start()
    await h.streaming()
    assert h.ws.backoff.failures == 0

    simulator.silence_sockets(new_too=True)  # acknowledged, but no data
    for connections in (2, 3, 4):
        await simulator.drop_sockets()
        await simulator.wait_for(
            lambda n=connections: simulator.stats.ws_connections >= n  # type: ignore[misc]
        )
        await h.connected()
    assert h.ws.backoff.failures == 3

    simulator.heal_sockets()
    await simulator.set_price(91_000)
    await h.wait_for(lambda: h.ws.backoff.failures == 0)


async def test_backoff_does_not_reset_on_a_refusal(
    simulator: BlinkSimulator, harness: Build
) -> None:
    refusal = {"errors": [{"message": "Not Authenticated for subscription"}]}

    def refuse_everything(_session: object, text: str) -> list[str]:
        frame = json.loads(text)
        if frame["type"] == "next":
            return [json.dumps({"id": frame["id"], "type": "next", "payload": refusal})]
        return [text]

    simulator.behaviour.frame_hook = refuse_everything
    h = harness()
    h.my_updates()
    h.start()
    for connections in (1, 2, 3):
        await simulator.wait_for(
            lambda n=connections: simulator.stats.ws_connections >= n  # type: ignore[misc]
        )
        await h.connected()
        await simulator.wait_for(
            lambda n=connections: simulator.stats.http_operations["Scopes"] >= n  # type: ignore[misc]
        )
        await simulator.drop_sockets()

    await h.wait_for(lambda: h.ws.backoff.failures >= 3)
