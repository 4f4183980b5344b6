"""What decoding tolerates from a Blink newer than the client, and what it does not."""

import copy
import logging
from typing import Any

import msgspec
import pytest

from custom_components.blink_wallet.api import BlinkModelError, MyUpdate
from custom_components.blink_wallet.api.decoding import convert, tolerate

from .payloads import me, transaction


def _payment(**changes: Any) -> dict[str, Any]:
    pushed = transaction()
    del pushed["createdAt"]
    return {
        "errors": [],
        "me": me(),
        "update": {"__typename": "LnUpdate", "status": "PAID", "transaction": pushed},
    } | changes


def _with_wallets(payload: dict[str, Any], currencies: list[str]) -> dict[str, Any]:
    wallets = payload["me"]["defaultAccount"]["wallets"]
    wallets.extend(
        {"id": f"wallet-{c}-{i}", "walletCurrency": c, "balance": 1}
        for i, c in enumerate(currencies)
    )
    return payload


def test_several_unknowns_at_once_are_dropped_one_by_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    payload = _with_wallets(
        _payment(update={"__typename": "HandleUpdate"}), ["USDT", "EURC"]
    )
    original = copy.deepcopy(payload)

    update = convert(payload, MyUpdate, "myUpdates")

    assert update.update is None
    assert update.account is not None
    assert [w.id for w in update.account.wallets] == ["wallet-btc", "wallet-usd"]
    assert payload == original  # the caller's JSON is left as it was
    assert caplog.text.count("Ignoring a wallet of unknown currency") == 2
    assert "Ignoring a myUpdates member newer than this client" in caplog.text


def test_tolerance_gives_up_rather_than_loop_forever() -> None:
    payload = _with_wallets(_payment(), [f"X{i}" for i in range(20)])

    with pytest.raises(BlinkModelError, match="walletCurrency"):
        convert(payload, MyUpdate, "myUpdates")


def test_an_account_that_does_not_fit_is_dropped_only_beside_an_update() -> None:
    beside_a_payment = _payment(me={"defaultAccount": {"id": 7}})
    assert convert(beside_a_payment, MyUpdate, "myUpdates").account is None

    alone = {"errors": [], "me": {"defaultAccount": {"id": 7}}}
    with pytest.raises(BlinkModelError, match=r"\$\.me\.defaultAccount"):
        convert(alone, MyUpdate, "myUpdates")


@pytest.mark.parametrize(
    ("message", "raw"),
    [
        # Paths that do not lead to what the error names: not tolerated.
        ("Invalid enum value 'EUR' - at `$.wallets[0].walletCurrency`", {}),
        ("Invalid enum value 'EUR' - at `$.wallets[3].walletCurrency`", {"x": []}),
        ("Invalid value 'X' - at `$.a[5].update.__typename`", {"a": [1]}),
        ("Invalid value 'X' - at `$.a.update.__typename`", {"a": "text"}),
        ("Expected `str`, got `int` - at `$.me.id`", {"me": {}}),
        ("Expected `str`, got `int` - at `$.payload.me.id`", {"payload": []}),
        # Errors that are not about something newer.
        ("Expected `int`, got `str` - at `$.update.transaction.id`", {}),
        ("Object missing required field `__typename` - at `$.update`", {}),
    ],
)
def test_only_what_the_error_points_at_is_dropped(message: str, raw: object) -> None:
    before = copy.deepcopy(raw)

    assert tolerate(raw, msgspec.ValidationError(message)) is None
    assert raw == before
