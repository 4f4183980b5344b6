"""The delivery state: its store, its bound, and which transactions are events."""

from datetime import UTC, datetime, timedelta
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.blink_wallet import delivery as delivery_module
from custom_components.blink_wallet.api import (
    Transaction,
    TxDirection,
    TxStatus,
)
from custom_components.blink_wallet.delivery import (
    CATCH_UP_OVERLAP,
    Offer,
    PaymentDelivery,
)
from custom_components.blink_wallet.payments import (
    PaymentEventType,
    classify,
    is_fee_reimbursement,
    is_own_transfer,
)
from tests.api.payloads import make_transaction
from tests.conftest import wait_until
from tests.simulator import BlinkSimulator


def _tx(tx_id: str, **changes: Any) -> Transaction:
    return make_transaction(tx_id, **changes)


async def test_state_of_an_older_minor_version_is_migrated(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    since = datetime(2026, 1, 1, tzinfo=UTC)
    hass_storage["blink_wallet.entry.delivery"] = {
        "version": 1,
        "minor_version": 1,
        "key": "blink_wallet.entry.delivery",
        "data": {"delivered": ["a", "b"], "since": since.isoformat()},
    }
    delivery = PaymentDelivery(hass, "entry", lambda _: None)
    await delivery.async_load()

    assert not delivery.first_run
    assert delivery.knows("a")
    assert delivery.knows("b")
    assert delivery.catch_up_since == since - CATCH_UP_OVERLAP
    await delivery.async_flush_to_disk()
    saved = hass_storage["blink_wallet.entry.delivery"]
    assert saved["minor_version"] == 3
    assert saved["data"]["last_payment"] is None  # read again at setup
    assert saved["data"]["delivered"] == dict.fromkeys(["a", "b"], since.timestamp())


async def test_ids_are_forgotten_once_no_catch_up_can_see_them(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    delivery = PaymentDelivery(hass, "entry", lambda _: None)
    day = datetime(2026, 1, 1, tzinfo=UTC)
    delivery.async_mark_seen(
        [_tx(f"old{i}", created_at=day) for i in range(3)], history=True
    )
    delivery.async_mark_seen([_tx("recent", created_at=day + timedelta(days=1))])
    # A transaction seen live does not move where catch-ups start.
    assert delivery.catch_up_since == day - CATCH_UP_OVERLAP

    # Many transactions inside the catch-up window are all kept, whatever their number.
    burst = [_tx(f"b{i}", created_at=day + timedelta(days=2)) for i in range(3_000)]
    delivery.async_mark_seen(burst)
    delivery.async_caught_up(day + timedelta(days=2))

    assert all(delivery.knows(tx.id) for tx in burst)
    assert not delivery.knows("old0")
    assert not delivery.knows("recent")
    assert delivery.diagnostics()["remembered_transactions"] == 3_000

    monkeypatch.setattr(delivery_module, "MAX_REMEMBERED_IDS", 10)
    delivery.async_mark_seen([_tx("newest", created_at=day + timedelta(days=3))])
    assert delivery.knows("newest")
    assert delivery.diagnostics()["remembered_transactions"] == 10
    await delivery.async_flush_to_disk()


async def test_offers_fire_once_in_order_after_start(hass: HomeAssistant) -> None:
    fired: list[str] = []
    delivery = PaymentDelivery(hass, "entry", lambda o: fired.append(o.transaction.id))
    later = _tx("b", created_at=datetime(2026, 1, 2, tzinfo=UTC))
    earlier = _tx("a")
    delivery.async_offer([Offer(later, PaymentEventType.RECEIVED, replayed=False)])
    delivery.async_offer(
        [
            Offer(earlier, PaymentEventType.RECEIVED, replayed=True),
            Offer(later, PaymentEventType.RECEIVED, replayed=True),
        ]
    )
    cancel = delivery.async_start()
    await wait_until(lambda: fired == ["a", "b"])
    delivery.async_offer([Offer(later, PaymentEventType.RECEIVED, replayed=True)])
    assert fired == ["a", "b"]
    cancel()
    await delivery.async_flush_to_disk()


async def test_pushed_and_read_in_the_same_second_fire_in_blinks_order(
    hass: HomeAssistant,
) -> None:
    """Pushed: dated by arrival (01.7 s); read over HTTP: whole seconds (01 s)."""
    fired: list[str] = []
    delivery = PaymentDelivery(hass, "entry", lambda o: fired.append(o.transaction.id))
    second = datetime(2026, 1, 1, 12, 0, 1, tzinfo=UTC)
    pushed = _tx("695f0b51aaaaaaaaaa000005", created_at=second + timedelta(seconds=0.7))
    read = _tx("695f0b51aaaaaaaaaa000006", created_at=second)

    delivery.async_offer(
        [
            Offer(pushed, PaymentEventType.RECEIVED, replayed=False),
            Offer(read, PaymentEventType.RECEIVED, replayed=True),
        ]
    )
    cancel = delivery.async_start()
    await wait_until(lambda: len(fired) == 2)

    assert fired == [pushed.id, read.id]
    cancel()
    await delivery.async_flush_to_disk()


def test_which_transactions_are_events() -> None:
    assert classify(_tx("r"), not_a_payment=False) is PaymentEventType.RECEIVED
    assert (
        classify(_tx("p", status=TxStatus.PENDING), not_a_payment=False)
        is PaymentEventType.PENDING
    )
    assert classify(_tx("f", status=TxStatus.FAILURE), not_a_payment=False) is None
    assert (
        classify(_tx("s", direction=TxDirection.SEND), not_a_payment=False)
        is PaymentEventType.SENT
    )
    assert classify(_tx("o"), not_a_payment=True) is None


def test_a_named_counterparty_wallet_decides_a_transfer() -> None:
    mine = _tx("m", settlement="intraledger", counterparty_wallet_id="usd-wallet")
    theirs = _tx("t", settlement="intraledger", counterparty_wallet_id="elsewhere")
    named = _tx("n", settlement="intraledger", counterparty_username="alice")

    assert is_own_transfer(mine, {"usd-wallet"}, [])
    assert not is_own_transfer(theirs, {"usd-wallet"}, [])
    assert not is_own_transfer(named, {"usd-wallet"}, [named])
    assert not is_own_transfer(_tx("l"), {"usd-wallet"}, [])


async def test_transfer_with_the_counterparty_wallet_reported_fires_nothing(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    simulator.state.report_counterparty_wallet_id = True
    requests = simulator.stats.http_requests
    await simulator.transfer(5_000)
    await simulator.receive_lightning(60)
    coordinator = init_integration.runtime_data
    await wait_until(lambda: coordinator.feed.last_payment is not None)

    # The wallet id told it: no look for a twin over HTTP.
    assert simulator.stats.http_requests == requests


# --- fee reimbursements (what-blink-sends 7) ------------------------------------------

_SENT_AT = datetime(2026, 1, 1, 12, tzinfo=UTC)


def _lightning_send(fee: int, at: datetime = _SENT_AT) -> Transaction:
    return _tx(
        "send",
        direction=TxDirection.SEND,
        settlement_amount=-20_000 - fee,
        settlement_fee=fee,
        created_at=at,
        initiation="lightning",
    )


def _nameless_receipt(
    amount: int, memo: str | None = None, **changes: Any
) -> Transaction:
    return _tx(
        "back",
        settlement="intraledger",
        initiation="intraledger",
        settlement_amount=amount,
        memo=memo,
        created_at=_SENT_AT + timedelta(seconds=3),
        **changes,
    )


@pytest.mark.parametrize(
    ("receipt", "neighbours", "reimbursement"),
    [
        # Blink says so in the memo from 50 sats.
        (_nameless_receipt(60, "fee reimbursement"), [], True),
        # Smaller: its Lightning payment just before, fee at least the refund.
        (_nameless_receipt(7), [_lightning_send(fee=10)], True),
        (_nameless_receipt(7), [_lightning_send(fee=5)], False),
        (_nameless_receipt(7), [], False),
        (
            _nameless_receipt(7),
            [_lightning_send(fee=10, at=_SENT_AT - timedelta(minutes=20))],
            False,
        ),
        # A nameless payment of 50 sats or more shows its memo: a payment.
        (_nameless_receipt(300), [_lightning_send(fee=500)], False),
        (_nameless_receipt(7, "thanks"), [_lightning_send(fee=10)], False),
        # Naming a payer, or over Lightning: a payment.
        (
            _nameless_receipt(7, counterparty_username="bob"),
            [_lightning_send(fee=10)],
            False,
        ),
        (_tx("ln", settlement_amount=7), [_lightning_send(fee=10)], False),
    ],
)
def test_fee_reimbursements_are_told_from_payments(
    receipt: Transaction, neighbours: list[Transaction], reimbursement: bool
) -> None:
    assert is_fee_reimbursement(receipt, neighbours) is reimbursement
