"""How soon sockets open again: Blink's ingress limit and the pace after a refusal.

Blink's ingress admits 10 new sockets a minute per IP and answers 503 past that
(what-blink-sends 6); a refused key is presented at most 3 times in the 20 s
after a refusal (the contract's socket table).
"""

import asyncio
from collections.abc import Callable, Sequence
import json

import pytest

from custom_components.blink_wallet.api.budget import SocketBudget
from tests.simulator import BlinkSimulator
from tests.simulator.protocol import WsSession

from .harness import Harness

type Build = Callable[..., Harness]


async def started(h: Harness, within: float = 5.0) -> None:
    h.my_updates()
    h.start()
    await h.streaming(within)


# --- the budget on its own (loop time in seconds) ---------------------------------


def test_ten_sockets_a_minute_then_the_oldest_must_leave_the_window() -> None:
    budget = SocketBudget()
    for second in range(10):
        assert budget.delay(second) == 0
        budget.opened(second)

    assert budget.delay(10) == 50  # the first left the window at 60
    assert budget.delay(60) == 0


def test_three_sockets_after_a_refusal_then_wait_out_the_twenty_seconds() -> None:
    budget = SocketBudget()
    budget.refused(100)
    for at in (100.5, 101, 102):
        assert budget.delay(at) == 0
        budget.opened(at)

    assert budget.delay(103) == 17
    assert budget.delay(120) == 0


def test_every_refusal_has_its_own_window() -> None:
    budget = SocketBudget()
    budget.refused(0)
    budget.opened(1)
    budget.opened(2)
    budget.refused(3)  # a second refusal does not restart the count of the first
    budget.opened(4)

    assert budget.delay(5) == 15


def test_old_openings_and_refusals_are_forgotten() -> None:
    budget = SocketBudget()
    budget.refused(0)
    for at in range(10):
        budget.opened(at)

    assert budget.delay(1_000) == 0
    assert budget.delay(1_000) == 0


# --- the socket keeps to it -----------------------------------------------------------


def _close_after_first_data(session: WsSession, text: str) -> Sequence[str]:
    """Each socket dies right after its first data (which resets the backoff)."""
    if json.loads(text).get("type") == "next":
        asyncio.get_running_loop().call_soon(session.drop)
    return [text]


async def test_sockets_that_die_after_their_first_data_stay_within_the_limit(
    simulator: BlinkSimulator, harness: Build
) -> None:
    simulator.ingress.requests_per_minute = None  # count, do not refuse
    simulator.behaviour.frame_hook = _close_after_first_data
    h = harness(socket_window=1.0)
    h.my_updates()
    h.start()
    loop = asyncio.get_running_loop()
    start = loop.time()
    await simulator.wait_for(lambda: simulator.stats.ws_connections >= 11, 5.0)
    elapsed = loop.time() - start
    await h.stop()

    # The eleventh socket waited for the first to leave the one-second window.
    assert elapsed >= 0.9


async def test_refused_sockets_are_at_most_three_per_refusal_window(
    simulator: BlinkSimulator, harness: Build
) -> None:
    # Blink's key check at connect fails again and again (its key service is
    # slow) while HTTP accepts the key: each socket is replaced, slowly.
    simulator.fail_key_checks(6)
    h = harness(refusal_window=0.5, socket_window=0.001)
    loop = asyncio.get_running_loop()
    start = loop.time()
    await started(h, within=10.0)
    elapsed = loop.time() - start

    assert simulator.stats.key_checks_failed == 6
    assert simulator.stats.ws_connections == 7
    assert simulator.stats.http_operations["Scopes"] == 6
    # Three sockets after the first refusal; the fifth only once its window passed.
    assert elapsed >= 0.45


async def test_a_503_on_the_upgrade_is_a_rate_limit_and_retried(
    simulator: BlinkSimulator, harness: Build, caplog: pytest.LogCaptureFixture
) -> None:
    simulator.fail_handshake(503, times=2)
    h = harness()
    await started(h)

    assert simulator.stats.ws_connections == 1
    assert "HTTP 503" in caplog.text
    assert simulator.stats.http_requests == 0  # not mistaken for a refused key
