"""Exactly-once payment events under faults: named kill points and random scenarios.

Each random scenario prints its seed when it fails; rerun one with
BLINK_FAULT_SEEDS=<seed>. scripts/soak runs the long version.
"""

import asyncio
from collections import Counter
from functools import partial
import json
import os
from pathlib import Path
import resource

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.blink_wallet import (
    catch_up as catch_up_module,
    coordinator as coordinator_module,
)
from custom_components.blink_wallet.api import BlinkWebSocket
from tests.conftest import wait_until
from tests.faults import FAST_SOCKET, FaultRun, start_run, summary
from tests.simulator import BlinkSimulator

SEEDS = [int(s) for s in os.environ.get("BLINK_FAULT_SEEDS", "1 2 3 4 5 6").split()]
STEPS = int(os.environ.get("BLINK_FAULT_STEPS", "30"))


@pytest.fixture(autouse=True)
def fast_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    # The socket's timings and the catch-up's retry, in milliseconds.
    fast = partial(BlinkWebSocket, **FAST_SOCKET)
    monkeypatch.setattr(coordinator_module, "BlinkWebSocket", fast)
    monkeypatch.setattr(catch_up_module, "CATCH_UP_RETRY_SECONDS", 0.1)


@pytest.fixture
async def run(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> FaultRun:
    simulator.seed_history(count=40, days=10)
    return await start_run(hass, simulator, mock_config_entry, seed=0)


async def assert_exactly_once(run: FaultRun, context: str = "") -> None:
    await run.settle()
    await asyncio.sleep(0.2)  # anything doubled would fire now
    fired = run.fired()
    doubled = [tx for tx, n in fired.items() if n > 1]
    assert fired == run.expected, (
        f"{context} lost: {set(run.expected) - set(fired)}, "
        f"doubled: {doubled} "
        f"{[(e.data['replayed'], e.time_fired) for e in run.received if e.data['transaction_id'] in doubled]}, "
        f"not expected: {set(fired) - set(run.expected)}, log: {run.log[-12:]}"
    )
    assert run.shown_balances() == run.balances(), context


async def _unload(hass: HomeAssistant, run: FaultRun) -> None:
    await hass.config_entries.async_unload(run.entry.entry_id)
    await hass.async_block_till_done()


# --- named kill points -------------------------------------------------------------


async def test_payment_before_the_ack(hass: HomeAssistant, run: FaultRun) -> None:
    run.simulator.behaviour.ack_delay = 0.2
    await run.drop()
    await asyncio.sleep(0.05)
    await run.pay()
    run.simulator.behaviour.ack_delay = 0
    await assert_exactly_once(run)
    await _unload(hass, run)


async def test_payment_between_subscribe_and_first_frame(
    hass: HomeAssistant, run: FaultRun
) -> None:
    held: list[str] = []

    def hold_first_frames(session: object, frame: str) -> list[str]:
        if '"next"' in frame and len(held) < 2:
            held.append(frame)
            return []
        return [frame]

    run.simulator.behaviour.frame_hook = hold_first_frames
    await run.drop()
    await run.simulator.wait_for(lambda: len(held) == 2)
    await run.pay()
    run.simulator.behaviour.frame_hook = None
    for session in run.simulator.sessions:
        for frame in held:
            await session.send_raw(frame)
    await assert_exactly_once(run)
    await _unload(hass, run)


async def test_socket_drops_in_the_middle_of_a_burst(
    hass: HomeAssistant, run: FaultRun
) -> None:
    for _ in range(3):
        await run.pay()
    await run.drop()
    for _ in range(3):
        await run.pay()
    await assert_exactly_once(run)
    await _unload(hass, run)


async def test_payment_while_blink_restarts(hass: HomeAssistant, run: FaultRun) -> None:
    await run.simulator.stop(close_code=1012)
    await run.pay()
    await run.simulator.start()
    await assert_exactly_once(run)
    await _unload(hass, run)


async def test_payment_while_home_assistant_is_down(
    hass: HomeAssistant, run: FaultRun
) -> None:
    await _unload(hass, run)
    await run.pay()
    await run.pay()
    assert await hass.config_entries.async_setup(run.entry.entry_id)
    await assert_exactly_once(run)
    assert all(event.data["replayed"] for event in run.received)
    await _unload(hass, run)


async def test_crash_before_persisting_repeats_an_event_flagged_replayed(
    hass: HomeAssistant,
    run: FaultRun,
    hass_storage: dict[str, object],
) -> None:
    """The documented worst case: fired, then a crash before the delayed write."""
    await run.coordinator_flushed()
    before_crash = json.loads(json.dumps(hass_storage))
    await run.pay()
    await run.settle()
    assert len(run.received) == 1
    await _unload(hass, run)
    hass_storage.clear()
    hass_storage.update(before_crash)  # the write after firing never happened

    assert await hass.config_entries.async_setup(run.entry.entry_id)
    await run.settle()  # at once: the payment fired before the crash
    # The catch-up every start runs finds the payment again.
    await wait_until(lambda: run.entry.runtime_data.catch_ups > 0)
    await hass.async_block_till_done()

    assert [e.data["replayed"] for e in run.received] == [False, True]
    assert len({e.data["transaction_id"] for e in run.received}) == 1
    await _unload(hass, run)


async def test_dead_socket_is_replaced(hass: HomeAssistant, run: FaultRun) -> None:
    connections = run.simulator.stats.ws_connections
    await run.freeze()
    await assert_exactly_once(run)
    assert run.simulator.stats.ws_connections > connections
    await _unload(hass, run)


async def test_silent_subscription_is_replaced(
    hass: HomeAssistant, run: FaultRun
) -> None:
    await run.silence()
    await assert_exactly_once(run)
    await _unload(hass, run)


async def test_duplicated_and_reordered_frames(
    hass: HomeAssistant, run: FaultRun
) -> None:
    await run.duplicate_frames()
    await run.reorder_frames()
    await assert_exactly_once(run)
    await _unload(hass, run)


async def test_rate_limited_catch_up_waits_and_succeeds(
    hass: HomeAssistant, run: FaultRun
) -> None:
    run.simulator.fail_http(429, headers={"Retry-After": "0.2"}, times=3)
    await run.drop()
    await run.pay()
    await assert_exactly_once(run)
    await _unload(hass, run)


async def test_own_transfers_during_faults_fire_nothing(
    hass: HomeAssistant, run: FaultRun
) -> None:
    await run.transfer()
    await run.drop()
    await run.transfer()
    await assert_exactly_once(run)
    assert run.expected == Counter()
    await _unload(hass, run)


# --- random scenarios ----------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
async def test_random_faults_lose_and_double_nothing(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    mock_config_entry: MockConfigEntry,
    seed: int,
) -> None:
    simulator.seed_history(count=40, days=10, seed=seed)
    run = await start_run(hass, simulator, mock_config_entry, seed)
    await run.run(STEPS)
    await assert_exactly_once(run, f"seed {seed} ({summary(run)}):")
    await _unload(hass, run)


@pytest.mark.skipif("BLINK_SOAK_REPORT" not in os.environ, reason="scripts/soak")
# Over a hundred simulator restarts meet asyncio's own race in Server.close (a
# transport collected after its server went); it concerns the test's server.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_soak(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Run until ≥ 1,000 drops and ≥ 100 restarts; report growth of tasks and memory.

    Tasks and sockets are compared with no entry loaded, before the first setup and
    after the last unload: whatever the entry started must be gone.
    """
    drops = int(os.environ.get("BLINK_SOAK_DROPS", "1000"))
    restarts = int(os.environ.get("BLINK_SOAK_RESTARTS", "100"))
    tasks_before = _task_names()
    fds_before = _open_fds()
    run = await start_run(hass, simulator, mock_config_entry, seed=2026)
    await run.settle()
    rss_before = _rss_kib()
    rounds = 0
    while run.done["drops"] < drops or run.done["ha_restarts"] < restarts:
        await run.run(50)
        await assert_exactly_once(run, f"round {rounds}:")
        rounds += 1
    rss_after = _rss_kib()
    await _unload(hass, run)
    await wait_until(lambda: run.simulator.open_sockets == 0)
    await asyncio.sleep(0.5)
    report = {
        **summary(run),
        "rounds": rounds,
        "lost": sum((run.expected - run.fired()).values()),
        "doubled": sum(n - 1 for n in run.fired().values() if n > 1),
        "asyncio_tasks_before": sum(tasks_before.values()),
        "asyncio_tasks_after": sum(_task_names().values()),
        "asyncio_tasks_new": sorted((_task_names() - tasks_before).elements()),
        "open_fds_before": fds_before,
        "open_fds_after": _open_fds(),
        "open_sockets_at_simulator": run.simulator.open_sockets,
        "rss_kib_before": rss_before,
        "rss_kib_after": rss_after,
        "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    report_path = Path(os.environ["BLINK_SOAK_REPORT"])
    await asyncio.to_thread(report_path.write_text, json.dumps(report, indent=2))
    assert report["lost"] == report["doubled"] == 0
    assert report["asyncio_tasks_new"] == []
    assert report["open_sockets_at_simulator"] == 0
    # Open fds include the HTTP client's keep-alive pool, which varies a little.
    assert report["open_fds_after"] <= report["open_fds_before"] + 5


def _task_names() -> Counter[str]:
    """Tasks by coroutine, leaving out the simulator's per-connection handlers."""
    names = (
        getattr(task.get_coro(), "__qualname__", "") or task.get_name()
        for task in asyncio.all_tasks()
    )
    return Counter(name for name in names if not name.startswith("RequestHandler."))


def _open_fds() -> int:
    return len(list(Path("/proc/self/fd").iterdir()))


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0
