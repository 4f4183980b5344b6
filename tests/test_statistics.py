"""Balance history in long-term statistics: imported once, continued without a seam."""

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from homeassistant.components.recorder.core import Recorder
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.blink_wallet import balance_history
from custom_components.blink_wallet.api import (
    Account,
    Wallet,
    WalletCurrency,
)
from custom_components.blink_wallet.balance_history import STATISTICS_DELAY_SECONDS
from custom_components.blink_wallet.const import EVENT_PAYMENT_RECEIVED
from custom_components.blink_wallet.statistics import (
    BalanceStatistics,
    hourly_balances,
    statistic_id,
)
from tests.api.payloads import make_transaction
from tests.conftest import wait_until
from tests.simulator import BlinkSimulator, Transaction

HOUR = timedelta(hours=1)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The recorder must start before Home Assistant does."""


EARLY = datetime(2020, 1, 1, tzinfo=UTC)


async def _rows(hass: HomeAssistant, stat_id: str) -> list[dict[str, Any]]:
    await async_wait_recording_done(hass)
    stats = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        EARLY,
        None,
        {stat_id},
        "hour",
        None,
        {"min", "max", "mean"},
    )
    return [dict(row) for row in stats.get(stat_id, [])]


def _expected_hourly(
    transactions: Sequence[Transaction], currency: str
) -> dict[float, tuple[float, float, float]]:
    """(min, max, time-weighted mean) of each hour, replayed forward from zero."""
    moves = sorted(
        (tx.created_at, tx.settlement_amount)
        for tx in transactions
        if tx.settlement_currency == currency and tx.status != "FAILURE"
    )
    hour = datetime.fromtimestamp(moves[0][0], UTC).replace(minute=0, second=0)
    last = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    expected: dict[float, tuple[float, float, float]] = {}
    balance, index = 0, 0
    while hour < last:
        start, end = hour.timestamp(), (hour + HOUR).timestamp()
        low = high = balance
        area, since = 0.0, start
        while index < len(moves) and moves[index][0] < end:
            at, amount = moves[index]
            area += balance * (at - since)
            balance += amount
            low, high, since = min(low, balance), max(high, balance), at
            index += 1
        area += balance * (end - since)
        expected[start] = (float(low), float(high), area / 3600)
        hour += HOUR
    return expected


def _shown(
    rows: list[dict[str, Any]], scale: float = 1
) -> dict[float, tuple[float, float, float]]:
    return {
        row["start"]: (
            round(row["min"] * scale, 6),
            round(row["max"] * scale, 6),
            round(row["mean"] * scale, 6),
        )
        for row in rows
    }


def _rounded(
    expected: dict[float, tuple[float, float, float]],
) -> dict[float, tuple[float, float, float]]:
    return {k: tuple(round(v, 6) for v in values) for k, values in expected.items()}  # type: ignore[misc]


def _assert_series(
    shown: dict[float, tuple[float, float, float]],
    expected: dict[float, tuple[float, float, float]],
) -> None:
    """Equal hour by hour; hours before the wallet's first payment are empty."""
    first = min(expected)
    assert {k: v for k, v in shown.items() if k >= first} == expected
    assert {v for k, v in shown.items() if k < first} <= {(0.0, 0.0, 0.0)}


async def _written_after(
    hass: HomeAssistant, stat_id: str, start: float, *, hours: int = 1
) -> list[dict[str, Any]]:
    """The rows after `start`, once at least `hours` of them are written."""
    for _ in range(200):  # no timeout: the tests move the clock, which fires them
        new = [row for row in await _rows(hass, stat_id) if row["start"] > start]
        if len(new) >= hours:
            return new
        await asyncio.sleep(0.05)
    pytest.fail(f"fewer than {hours} hours written after {start}")


async def _set_up_and_import(
    hass: HomeAssistant, entry: MockConfigEntry, stat_id: str
) -> list[dict[str, Any]]:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    rows: list[dict[str, Any]] = []

    async def imported() -> bool:
        rows[:] = await _rows(hass, stat_id)
        return bool(rows)

    async with asyncio.timeout(30):
        while not await imported():  # noqa: ASYNC110 - the recorder has no event for it
            await asyncio.sleep(0.05)
    return rows


async def _settled(entry: MockConfigEntry) -> None:
    """Wait until the start's statistics update and catch-up are both over."""
    await wait_until(
        lambda: (
            entry.runtime_data.history.updates > 0 and entry.runtime_data.catch_ups > 0
        )
    )


async def test_history_is_imported_hour_by_hour(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    history = simulator.seed_history(count=300, days=30, seed=3)
    btc_id = statistic_id(simulator.account.id, WalletCurrency.BTC)
    usd_id = statistic_id(simulator.account.id, WalletCurrency.USD)

    btc_rows = await _set_up_and_import(hass, mock_config_entry, btc_id)
    usd_rows = await _rows(hass, usd_id)

    expected_btc = _expected_hourly(history, "BTC")
    assert len(expected_btc) > 24 * 25
    _assert_series(_shown(btc_rows), _rounded(expected_btc))
    # Stablesats statistics are in dollars; the history is in cents.
    _assert_series(
        _shown(usd_rows, scale=100), _rounded(_expected_hourly(history, "USD"))
    )
    await hass.config_entries.async_unload(mock_config_entry.entry_id)


async def test_second_setup_imports_nothing_new(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    simulator.seed_history(count=600, days=15, seed=4)
    btc_id = statistic_id(simulator.account.id, WalletCurrency.BTC)
    first = await _set_up_and_import(hass, mock_config_entry, btc_id)
    await _settled(mock_config_entry)
    requests = simulator.stats.http_operations["Transactions"]
    history_pages = 600 // 50

    assert await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await _settled(mock_config_entry)

    assert await _rows(hass, btc_id) == first
    # The reload read only what the catch-up needs, not the whole history again.
    assert (
        simulator.stats.http_operations["Transactions"] - requests < history_pages / 2
    )
    await hass.config_entries.async_unload(mock_config_entry.entry_id)


async def test_an_unload_during_the_first_import_leaves_no_wallet_half_done(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    mock_config_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One series written and not the other reads as no import: all history again."""
    lookup = BalanceStatistics.async_last_hour
    usd_lookups = 0
    stuck = asyncio.Event()

    async def slow_usd_lookup(
        self: BalanceStatistics, account: Account, wallet: Wallet
    ) -> datetime | None:
        nonlocal usd_lookups
        if wallet.currency is WalletCurrency.USD:
            usd_lookups += 1
            if usd_lookups == 2:  # the import's own, after the start's question
                stuck.set()
                await asyncio.Event().wait()  # a slow recorder; the unload cancels
        return await lookup(self, account, wallet)

    monkeypatch.setattr(BalanceStatistics, "async_last_hour", slow_usd_lookup)
    simulator.seed_history(count=100, days=5, seed=6)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await asyncio.wait_for(stuck.wait(), 10)

    await hass.config_entries.async_unload(mock_config_entry.entry_id)
    await async_wait_recording_done(hass)

    btc_rows = await _rows(hass, statistic_id(simulator.account.id, WalletCurrency.BTC))
    usd_rows = await _rows(hass, statistic_id(simulator.account.id, WalletCurrency.USD))
    assert (len(btc_rows) > 0) is (len(usd_rows) > 0)


async def test_payment_after_setup_continues_the_series(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    simulator.seed_history(count=50, days=5, seed=5)
    btc_id = statistic_id(simulator.account.id, WalletCurrency.BTC)
    rows = await _set_up_and_import(hass, mock_config_entry, btc_id)
    coordinator = mock_config_entry.runtime_data
    await wait_until(lambda: coordinator.connected and coordinator.catch_ups > 0)
    last = rows[-1]
    balance_before = simulator.account.btc_wallet.balance
    # The last imported hour closes at the balance the series continues from.
    assert last["max"] >= balance_before >= last["min"]

    await simulator.receive_lightning(7_777)
    await wait_until(
        lambda: (
            coordinator.data.account.btc_wallet is not None
            and coordinator.data.account.btc_wallet.balance == balance_before + 7_777
        )
    )
    next_hour_end = dt_util.utcnow().replace(minute=0, second=0, microsecond=0) + HOUR
    async_fire_time_changed(
        hass, next_hour_end + timedelta(seconds=STATISTICS_DELAY_SECONDS)
    )
    new = await _written_after(hass, btc_id, last["start"])
    # Hours in between stay at the last balance (no gap, no jump); the hour of
    # the payment rises from it to the new balance.
    for row in new[:-1]:
        assert (row["min"], row["max"]) == (balance_before, balance_before)
    assert new[-1]["min"] == balance_before
    assert new[-1]["max"] == balance_before + 7_777
    assert balance_before < new[-1]["mean"] < balance_before + 7_777
    await hass.config_entries.async_unload(mock_config_entry.entry_id)


async def test_an_hour_blink_cannot_tell_is_imported_at_the_next(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    simulator.seed_history(count=50, days=5, seed=6)
    btc_id = statistic_id(simulator.account.id, WalletCurrency.BTC)
    rows = await _set_up_and_import(hass, mock_config_entry, btc_id)
    coordinator = mock_config_entry.runtime_data
    await wait_until(lambda: coordinator.connected and coordinator.catch_ups > 0)
    balance_before = simulator.account.btc_wallet.balance
    await simulator.receive_lightning(4_321)
    await wait_until(
        lambda: (
            coordinator.data.account.btc_wallet is not None
            and coordinator.data.account.btc_wallet.balance == balance_before + 4_321
        )
    )
    hour_end = dt_util.utcnow().replace(minute=0, second=0, microsecond=0) + HOUR
    delay = timedelta(seconds=STATISTICS_DELAY_SECONDS)

    # At the hour Blink is down: the hour cannot be read, nothing is written.
    simulator.fail_http(503, times=1_000)
    failing = len(simulator.behaviour.http_faults)
    async_fire_time_changed(hass, hour_end + delay)
    await simulator.wait_for(lambda: len(simulator.behaviour.http_faults) < failing)
    await hass.async_block_till_done()
    assert await _rows(hass, btc_id) == rows

    # An hour later Blink answers: both hours are written, the payment in the first.
    simulator.behaviour.http_faults.clear()
    async_fire_time_changed(hass, hour_end + HOUR + delay)
    new = await _written_after(hass, btc_id, rows[-1]["start"], hours=2)
    payment_hour = next(row for row in new if row["max"] == balance_before + 4_321)
    assert payment_hour["start"] == (hour_end - HOUR).timestamp()

    # And on, hour by hour, at the balance since.
    async_fire_time_changed(hass, hour_end + 2 * HOUR + delay)
    later = await _written_after(hass, btc_id, new[-1]["start"])
    assert later[0]["min"] == later[0]["max"] == balance_before + 4_321
    await hass.config_entries.async_unload(mock_config_entry.entry_id)


async def test_transactions_are_kept_only_as_long_as_the_hours_need_them(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(balance_history, "RECENT_HORIZON", timedelta(seconds=0.3))
    history = init_integration.runtime_data.history
    await simulator.receive_lightning(1_000)
    await wait_until(lambda: history.diagnostics()["transactions_kept"] == 1)

    await asyncio.sleep(0.4)  # two days in production
    received = async_capture_events(hass, EVENT_PAYMENT_RECEIVED)
    await simulator.receive_lightning(2_000)
    await wait_until(lambda: len(received) == 1)

    # The first fell out of the window as the second came in.
    assert history.diagnostics()["transactions_kept"] == 1


def test_hourly_balances_are_time_weighted() -> None:
    """A step from 100 to 160 halfway through the hour averages 130."""
    hour = datetime(2026, 1, 1, 10, tzinfo=UTC)
    payment = make_transaction("t1", created_at=hour + HOUR / 2, settlement_amount=60)

    hours = hourly_balances(160, [payment], hour, hour + 2 * HOUR)

    assert [(h.state, h.minimum, h.maximum, h.mean) for h in hours] == [
        (160, 100, 160, 130.0),
        (160, 160, 160, 160.0),
    ]
