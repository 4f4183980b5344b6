"""Blink's BTC price history (`btcPriceList`), bucketed and rounded the way Blink does it.

blinkbitcoin/blink core/api/src/graphql/public/root/query/btc-price-list.ts asks the
price-history service (blinkbitcoin/price, history/) for a range; that service reads
one SQL view per range (history/src/config/database/migrations/*_create_view_prices_by_*):
each bucket is stamped with its start and carries the price of the latest candle
stored in it, oldest first, missing buckets simply absent. Prices travel as a
32-bit float of US dollars per bitcoin (price_history.proto `float price`); Blink
turns each into US cents per bitcoin with offset 4 (`USDCENT`), JavaScript's
`Math.round` for the base and `Number.toString` for `formattedAmount`, and appends
the live price stamped `Math.round(now)`.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
import math
import struct
from typing import Final

# core/api/src/domain/fiat/display-currency.ts BTC_PRICE_PRECISION_OFFSET
OFFSET: Final = 4
CURRENCY_UNIT: Final = "USDCENT"
HOUR: Final = 3600
# history/src/domain/price/index.ts: 4-hour bins from this origin (date_bin)
_FOUR_HOURS_ORIGIN: Final = datetime(2009, 1, 1, tzinfo=UTC)


def float32(value: float) -> float:
    """What survives a protobuf `float`: the nearest 32-bit value."""
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def js_string(value: float) -> str:
    """JavaScript's `Number.prototype.toString` for the magnitudes prices have."""
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def js_round(value: float) -> int:
    """JavaScript's `Math.round`: halves go up, not to even."""
    return math.floor(value + 0.5)


@dataclass(frozen=True, slots=True)
class PricePoint:
    """One point as Blink serves it."""

    timestamp: int
    base: int
    formatted_amount: str

    def as_graphql(self) -> dict[str, object]:
        """The `PricePoint` object."""
        return {
            "timestamp": self.timestamp,
            "price": {
                "base": self.base,
                "offset": OFFSET,
                "currencyUnit": CURRENCY_UNIT,
                "formattedAmount": self.formatted_amount,
            },
        }


def point(timestamp: int, usd_per_btc: float) -> PricePoint:
    """A point of `usd_per_btc` as Blink computes it (btc-price-list.ts)."""
    # price-history sends a float; core divides by 10^8 sats, then multiplies
    # by 100 cents and 10^8 sats again.
    per_sat = float32(usd_per_btc) / 1e8
    cents = per_sat * 100 * 1e8
    return PricePoint(timestamp, js_round(cents * 10**OFFSET), js_string(cents))


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _four_hours(at: datetime) -> datetime:
    bins = (at - _FOUR_HOURS_ORIGIN) // timedelta(hours=4)
    return _FOUR_HOURS_ORIGIN + bins * timedelta(hours=4)


def _day(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def _week(at: datetime) -> datetime:
    return _day(at) - timedelta(days=at.weekday())  # ISO weeks start on Monday


def _month(at: datetime) -> datetime:
    return _day(at).replace(day=1)


def _months_back(at: datetime, months: int) -> datetime:
    """JavaScript's `setMonth(getMonth() - months)`: a day the month lacks rolls over.

    On 31 March, one month back is "31 February", which JavaScript makes 3 March.
    """
    month = at.month - 1 - months
    first = at.replace(year=at.year + month // 12, month=month % 12 + 1, day=1)
    return first + timedelta(days=at.day - 1)


# history/src/domain/price/index.ts getStartDateByRange; the bucket of each view
RANGES: Final[
    dict[str, tuple[Callable[[datetime], datetime], Callable[[datetime], datetime]]]
] = {
    "ONE_DAY": (lambda now: now - timedelta(hours=24), _hour),
    "ONE_WEEK": (lambda now: _day(now - timedelta(days=7)), _four_hours),
    "ONE_MONTH": (lambda now: _day(_months_back(now, 1)), _day),
    "ONE_YEAR": (lambda now: _day(_months_back(now, 12)), _week),
    "FIVE_YEARS": (lambda now: _day(_months_back(now, 60)), _month),
}


class PriceHistory:
    """Hourly closes, as the history service stores its candles; oldest first."""

    def __init__(self) -> None:
        """No history: Blink answers PriceHistoryNotAvailableError then."""
        self._times: list[int] = []
        self._prices: list[float] = []

    def record(self, timestamp: int, usd_per_btc: Decimal | float) -> None:
        """Store the close of the hour that starts at `timestamp` (whole hours)."""
        index = bisect_left(self._times, timestamp)
        if index < len(self._times) and self._times[index] == timestamp:
            return  # INSERT ... ON CONFLICT DO NOTHING: the first close stays
        self._times.insert(index, timestamp)
        self._prices.insert(index, float(usd_per_btc))

    def points(self, price_range: str, now: datetime) -> list[PricePoint]:
        """The range's buckets from its start until `now`, oldest first."""
        start_of, bucket_of = RANGES[price_range]
        start = start_of(now).timestamp()
        buckets: dict[int, float] = {}
        for timestamp, price in zip(self._times, self._prices, strict=True):
            if timestamp > now.timestamp():
                break
            bucket = int(bucket_of(datetime.fromtimestamp(timestamp, UTC)).timestamp())
            if bucket >= start:
                buckets[bucket] = price  # the latest candle inside the bucket
        return [point(at, price) for at, price in sorted(buckets.items())]
