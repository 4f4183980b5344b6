"""Price arithmetic: exact `base / 10^offset`, scaled to major units per BTC."""

from decimal import Decimal, localcontext

from hypothesis import given, strategies as st
import pytest

from custom_components.blink_wallet.api import RealtimePrice, btc_price

from .payloads import parsed, realtime_price

SAFE_INT = 2**53 - 1


def price(base: int, offset: int) -> RealtimePrice:
    return parsed(RealtimePrice, realtime_price(btc=(base, offset)))


def test_worked_example_of_blink_api_md() -> None:
    # USD, btcSatPrice {base: 95000000000, offset: 12}: 0.095 cents per sat.
    usd = price(95_000_000_000, 12)

    assert usd.btc_sat_price == Decimal("0.095")
    assert btc_price(usd, 2) == Decimal("95000.00")


@pytest.mark.parametrize(
    ("base", "offset", "fraction_digits", "expected"),
    [
        # JPY has no minor unit: 14.25 yen per sat is 1,425,000,000 yen per BTC.
        (14_250_000_000_000, 12, 0, Decimal(1_425_000_000)),
        # EUR 87,400.00: 0.0874 cents per sat.
        (87_400_000_000, 12, 2, Decimal(87400)),
        # A server choosing another offset for the same price.
        (95, 3, 2, Decimal(95000)),
        # Three fraction digits (e.g. KWD): 0.03 fils per sat is 3,000 KWD.
        (30_000_000_000, 12, 3, Decimal(3000)),
        # Sub-cent precision survives: 0.095123456789 cents per sat.
        (95_123_456_789, 12, 2, Decimal("95123.456789")),
    ],
)
def test_btc_price_in_major_units(
    base: int, offset: int, fraction_digits: int, expected: Decimal
) -> None:
    assert btc_price(price(base, offset), fraction_digits) == expected


def test_usd_cent_price_reads_its_own_offset() -> None:
    payload = parsed(RealtimePrice, realtime_price(usd=(920_000, 6)))

    assert payload.usd_cent_price == Decimal("0.92")


@given(
    base=st.integers(min_value=0, max_value=SAFE_INT),
    offset=st.integers(min_value=0, max_value=20),
    fraction_digits=st.integers(min_value=0, max_value=4),
)
def test_btc_price_is_exact(base: int, offset: int, fraction_digits: int) -> None:
    result = btc_price(price(base, offset), fraction_digits)

    # Undo the scaling with plenty of precision: nothing was rounded on the way.
    with localcontext() as ctx:
        ctx.prec = 100
        assert result * 10**fraction_digits / 10**8 * 10**offset == base
        assert result == Decimal(base) / 10**offset * 10**8 / 10**fraction_digits


@given(
    base=st.integers(min_value=1, max_value=SAFE_INT),
    offset=st.integers(min_value=0, max_value=20),
)
def test_btc_price_scales_by_powers_of_ten_per_fraction_digit(
    base: int, offset: int
) -> None:
    sat_price = price(base, offset)

    assert btc_price(sat_price, 0) == btc_price(sat_price, 2) * 100
    assert btc_price(sat_price, 2) > 0


@given(
    base=st.integers(min_value=0, max_value=SAFE_INT),
    offset=st.integers(min_value=0, max_value=20),
)
def test_same_price_with_a_larger_offset_reads_the_same(base: int, offset: int) -> None:
    assert (
        price(base, offset).btc_sat_price
        == price(base * 1000, offset + 3).btc_sat_price
    )


def test_prices_are_never_floats() -> None:
    sat_price = price(95_000_000_000, 12)

    assert isinstance(sat_price.btc_sat_price, Decimal)
    assert isinstance(sat_price.usd_cent_price, Decimal)
    assert isinstance(btc_price(sat_price, 2), Decimal)
