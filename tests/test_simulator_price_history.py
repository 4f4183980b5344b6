"""The simulator serves `btcPriceList` as Blink does: buckets, units, rounding, errors.

Blink's resolver and its price-history service are cited in
tests/simulator/price_history.py; docs/blink-fidelity.md has the row.
"""

from collections.abc import AsyncIterator, Generator
from datetime import UTC, datetime, timedelta
import itertools
from typing import Any

import aiohttp
import pytest

from tests.simulator import TEST_API_KEY, BlinkSimulator
from tests.simulator.price_history import (
    PriceHistory,
    float32,
    js_round,
    js_string,
    point,
)

pytest_plugins = ["tests.simulator.fixtures"]

QUERY = """query History($r: PriceGraphRange!) {
  btcPriceList(range: $r) {
    timestamp price { base offset currencyUnit formattedAmount } } }"""
# Wednesday 2026-12-02 13:20:00 UTC
NOW = datetime(2026, 12, 2, 13, 20, tzinfo=UTC)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> Generator[None]:
    """No Home Assistant here: the simulator stands alone."""
    return (yield)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


async def _history(
    session: aiohttp.ClientSession, simulator: BlinkSimulator, price_range: str
) -> dict[str, Any]:
    async with session.post(
        simulator.http_url,
        json={"query": QUERY, "variables": {"r": price_range}},
        headers={"X-API-KEY": TEST_API_KEY},
    ) as response:
        assert response.status == 200
        body: dict[str, Any] = await response.json()
        return body


def test_prices_travel_as_a_32_bit_float_and_come_out_as_javascript_writes_them() -> (
    None
):
    # the examples worked out from btc-price-list.ts with JavaScript's semantics
    assert point(0, 97_123.45).as_graphql()["price"] == {
        "base": 97_123_453_125,
        "offset": 4,
        "currencyUnit": "USDCENT",
        "formattedAmount": "9712345.3125",
    }
    assert point(0, 104_321.99).formatted_amount == "10432199.218749998"
    assert point(0, 65_000).formatted_amount == "6500000"
    assert float32(0.1) != 0.1
    assert (js_round(2.5), js_round(-2.5), js_string(3.0)) == (3, -2, "3")


@pytest.mark.parametrize(
    ("price_range", "first", "step", "count"),
    [
        # the last 24 hours, hour by hour, from the first whole hour
        ("ONE_DAY", datetime(2026, 12, 1, 14, tzinfo=UTC), timedelta(hours=1), 24),
        # from 00:00 a week ago, in 4-hour bins from 2009-01-01 (00, 04, 08...)
        ("ONE_WEEK", datetime(2026, 11, 25, tzinfo=UTC), timedelta(hours=4), 46),
        # from 00:00 the same day a month ago, a day each
        ("ONE_MONTH", datetime(2026, 11, 2, tzinfo=UTC), timedelta(days=1), 31),
    ],
)
def test_each_range_has_its_buckets_stamped_with_their_start(
    price_range: str, first: datetime, step: timedelta, count: int
) -> None:
    history = PriceHistory()
    start = NOW - timedelta(days=40)
    hour = datetime(start.year, start.month, start.day, tzinfo=UTC)
    while hour <= NOW:
        history.record(int(hour.timestamp()), 90_000 + hour.hour)
        hour += timedelta(hours=1)

    points = history.points(price_range, NOW)

    stamps = [p.timestamp for p in points]
    assert stamps[0] == int(first.timestamp())
    assert len(points) == count
    assert all(b - a == step.total_seconds() for a, b in itertools.pairwise(stamps))
    # each bucket carries the close of the latest hour stored in it
    last_hour = datetime.fromtimestamp(stamps[-1], UTC) + step - timedelta(hours=1)
    expected = point(0, 90_000 + min(last_hour, NOW).hour).base
    assert points[-1].base == expected


def test_weeks_start_on_monday_and_five_years_on_the_first_of_the_month() -> None:
    history = PriceHistory()
    day = datetime(2021, 11, 1, tzinfo=UTC)
    while day <= NOW:
        history.record(int(day.timestamp()), 50_000)
        day += timedelta(days=1)

    weeks = [
        datetime.fromtimestamp(p.timestamp, UTC)
        for p in history.points("ONE_YEAR", NOW)
    ]
    months = [
        datetime.fromtimestamp(p.timestamp, UTC)
        for p in history.points("FIVE_YEARS", NOW)
    ]

    assert {w.weekday() for w in weeks} == {0}
    assert weeks[0] >= datetime(2025, 12, 2, tzinfo=UTC)
    assert {m.day for m in months} == {1}
    assert (months[0], months[-1]) == (
        datetime(2022, 1, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
    )
    assert len(months) == 60


def test_a_month_back_from_the_31st_rolls_over_as_in_javascript() -> None:
    history = PriceHistory()
    end = datetime(2026, 3, 31, 12, tzinfo=UTC)
    day = datetime(2026, 2, 1, tzinfo=UTC)
    while day <= end + timedelta(days=2):  # two days Blink has not reached yet
        history.record(int(day.timestamp()), 50_000)
        day += timedelta(days=1)

    days = [
        datetime.fromtimestamp(p.timestamp, UTC)
        for p in history.points("ONE_MONTH", end)
    ]

    # "31 February" is 3 March to JavaScript's Date
    assert (days[0], days[-1]) == (
        datetime(2026, 3, 3, tzinfo=UTC),
        datetime(2026, 3, 31, tzinfo=UTC),
    )


def test_the_first_close_stored_for_an_hour_stays() -> None:
    history = PriceHistory()
    history.record(int(NOW.timestamp()) // 3600 * 3600, 90_000)
    history.record(int(NOW.timestamp()) // 3600 * 3600, 99_000)

    (only,) = history.points("ONE_DAY", NOW)

    assert only.base == point(0, 90_000).base


async def test_the_history_is_served_oldest_first_with_the_live_price_last(
    session: aiohttp.ClientSession, simulator: BlinkSimulator
) -> None:
    simulator.seed_price_history(days=2)
    await simulator.set_price(100_000)  # stores this hour's candle

    body = await _history(session, simulator, "ONE_DAY")

    points = body["data"]["btcPriceList"]
    stamps = [p["timestamp"] for p in points]
    assert stamps == sorted(stamps)
    assert all(s % 3600 == 0 for s in stamps[:-1])  # buckets start on the hour
    assert 24 <= len(points) - 1 <= 25
    live = points[-1]
    assert abs(live["timestamp"] - simulator.state.clock()) <= 1
    assert live["price"] == point(0, 100_000).as_graphql()["price"]
    assert points[-2]["price"] == live["price"]  # this hour's candle


async def test_no_history_is_an_error_with_its_code_at_the_top(
    session: aiohttp.ClientSession, simulator: BlinkSimulator
) -> None:
    body = await _history(session, simulator, "ONE_WEEK")

    assert body["data"] == {"btcPriceList": None}
    (error,) = body["errors"]
    assert error["code"] == "UNEXPECTED_CLIENT_ERROR"
    assert "PriceHistoryNotAvailableError" in error["message"]
