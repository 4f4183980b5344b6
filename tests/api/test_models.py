"""Models built from Blink's payloads: what is read, what is tolerated, what fails."""

from datetime import UTC, datetime
from decimal import Decimal
import json
import logging
import time
from typing import Any

import aiohttp
import msgspec
import pytest

from custom_components.blink_wallet.api import (
    Account,
    BlinkClient,
    BlinkModelError,
    BlinkProtocolError,
    BlinkWebSocket,
    Currency,
    IntraLedgerUpdate,
    LnUpdate,
    MyUpdate,
    OnChainUpdate,
    PaymentKind,
    PaymentUpdate,
    PushedTransaction,
    RealtimePrice,
    Transaction,
    TransactionPage,
    TxDirection,
    TxStatus,
    WalletCurrency,
)
from custom_components.blink_wallet.api.framing import (
    ExecutionResult,
    Frame,
    FrameDecoder,
)
from custom_components.blink_wallet.api.models import (
    NO_TRANSACTIONS,
    Price,
    SubscriptionData,
    Via,
)

from .payloads import PAYMENT_HASH, TX_HASH, me, parsed, realtime_price, transaction


def my_update(payload: object) -> MyUpdate:
    """Read a `myUpdates` payload as the socket does."""
    return parsed(MyUpdate, payload)


def test_lightning_receipt_is_read_in_full() -> None:
    tx = parsed(Transaction, transaction())

    assert tx == Transaction(
        id="tx-1",
        created=1_735_689_600,
        direction=TxDirection.RECEIVE,
        status=TxStatus.SUCCESS,
        memo="coffee",
        settlement_amount=1000,
        settlement_currency=WalletCurrency.BTC,
        settlement_fee=0,
        settlement_display_amount=Decimal("0.95"),
        settlement_display_currency="USD",
        external_id=None,
        settlement_via=Via(typename="SettlementViaLn"),
        initiation_via=Via(typename="InitiationViaLn", payment_hash=PAYMENT_HASH),
    )
    assert tx.created_at == datetime(2025, 1, 1, tzinfo=UTC)
    assert tx.created_at.tzinfo is UTC
    assert tx.direction == "RECEIVE"
    assert tx.settlement_display_amount == Decimal("0.95")
    assert (tx.settlement, tx.initiation) == ("lightning", "lightning")
    assert (tx.payment_hash, tx.tx_hash, tx.counterparty_wallet_id) == (
        PAYMENT_HASH,
        None,
        None,
    )


def test_onchain_receipt_carries_its_tx_hash() -> None:
    tx = parsed(
        Transaction,
        transaction(
            status="PENDING",
            settlementVia={
                "__typename": "SettlementViaOnChain",
                "transactionHash": TX_HASH,
            },
            initiationVia={"__typename": "InitiationViaOnChain", "address": "bc1q"},
        ),
    )

    assert tx.settlement == "onchain"
    assert tx.tx_hash == TX_HASH
    assert tx.payment_hash is None
    assert tx.status is TxStatus.PENDING


def test_blink_to_blink_invoice_payment_settles_intraledger_with_its_hash() -> None:
    tx = parsed(
        Transaction,
        transaction(
            settlementVia={
                "__typename": "SettlementViaIntraLedger",
                "counterPartyWalletId": "wallet-other",
                "counterPartyUsername": "hal",
            }
        ),
    )

    assert tx.settlement == "intraledger"
    assert tx.counterparty_wallet_id == "wallet-other"
    assert tx.counterparty_username == "hal"
    assert tx.payment_hash == PAYMENT_HASH


def test_signed_display_amount_of_a_send_is_an_exact_decimal() -> None:
    tx = parsed(
        Transaction,
        transaction(
            direction="SEND",
            settlementAmount=-1010,
            settlementFee=10,
            settlementDisplayAmount="-0.9595",
            memo=None,
            externalId="order-7",
        ),
    )

    assert tx.settlement_display_amount == Decimal("-0.9595")
    assert tx.settlement_amount == -1010
    assert tx.memo is None
    assert tx.external_id == "order-7"


@pytest.mark.parametrize(
    "field",
    [
        "id",
        "createdAt",
        "direction",
        "status",
        "settlementAmount",
        "settlementCurrency",
        "settlementFee",
        "settlementDisplayAmount",
        "settlementDisplayCurrency",
        "settlementVia",
        "initiationVia",
    ],
)
def test_missing_required_transaction_field_raises_model_error(field: str) -> None:
    payload = transaction()
    del payload[field]

    with pytest.raises(BlinkModelError, match=field):
        parsed(Transaction, payload)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", 7),
        ("createdAt", "yesterday"),
        ("createdAt", True),
        ("createdAt", 10**20),
        ("direction", "SIDEWAYS"),
        ("status", "MAYBE"),
        ("settlementAmount", 1.5),
        ("settlementAmount", "1000"),
        ("settlementCurrency", "EUR"),
        ("settlementDisplayAmount", "lots"),
        ("memo", 5),
        ("settlementVia", []),
        ("settlementVia", {"transactionHash": TX_HASH}),
    ],
)
def test_mistyped_transaction_field_raises_model_error(field: str, value: Any) -> None:
    with pytest.raises(BlinkModelError):
        parsed(Transaction, transaction(**{field: value}))


def test_model_error_is_a_protocol_error_never_a_key_error() -> None:
    with pytest.raises(BlinkProtocolError):
        parsed(Transaction, {})
    with pytest.raises(BlinkModelError):
        parsed(Transaction, None)


def test_unknown_fields_and_settlement_types_are_tolerated(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    tx = parsed(
        Transaction,
        transaction(
            settlementPrice={"base": 1, "offset": 0},
            settlementVia={"__typename": "SettlementViaTeleport", "preImage": "x"},
        ),
    )

    assert tx.settlement == "teleport"
    assert tx.tx_hash is None
    assert not caplog.records


def test_a_lightning_initiation_without_its_hash_reads_as_no_hash() -> None:
    tx = parsed(
        Transaction, transaction(initiationVia={"__typename": "InitiationViaLn"})
    )

    assert tx.initiation == "lightning"
    assert tx.payment_hash is None


def test_a_display_amount_sent_as_a_number_is_read_exactly() -> None:
    tx = parsed(Transaction, transaction(settlementDisplayAmount=0.95))

    assert tx.settlement_display_amount == Decimal("0.95")


def test_integer_display_amount_is_accepted() -> None:
    tx = parsed(Transaction, transaction(settlementDisplayAmount=3))

    assert tx.settlement_display_amount == Decimal(3)


def test_account_exposes_its_wallets_by_currency() -> None:
    account = parsed(Account, me())

    assert account.id == "account-1"
    assert account.username == "satoshi"
    assert account.display_currency == "USD"
    assert account.btc_wallet is not None
    assert account.btc_wallet.balance == 5000
    assert account.btc_wallet.pending_incoming_balance == 0
    assert account.usd_wallet is not None
    assert account.usd_wallet.id == "wallet-usd"
    assert account.usd_wallet.pending_incoming_balance is None


def test_account_ignores_a_wallet_of_an_unknown_currency() -> None:
    payload = me(username=None)
    payload["defaultAccount"]["wallets"].append(
        {"id": "wallet-x", "walletCurrency": "USDT", "balance": 1}
    )
    payload["defaultAccount"]["wallets"].pop(1)

    account = parsed(Account, payload)

    assert [w.id for w in account.wallets] == ["wallet-btc"]
    assert account.usd_wallet is None
    assert account.username is None


@pytest.mark.parametrize(
    "broken",
    [
        {"defaultAccount": None},
        {"defaultAccount": {"id": "a", "displayCurrency": "USD", "wallets": "none"}},
        {"defaultAccount": {"id": "a", "displayCurrency": "USD", "wallets": [7]}},
        {"defaultAccount": {"displayCurrency": "USD", "wallets": []}},
    ],
)
def test_broken_account_raises_model_error(broken: dict[str, Any]) -> None:
    with pytest.raises(BlinkModelError):
        parsed(Account, broken)


def test_currency_is_read() -> None:
    currency = parsed(
        Currency,
        {"id": "JPY", "symbol": "¥", "name": "Yen", "flag": "🇯🇵", "fractionDigits": 0},
    )

    assert currency == Currency(
        id="JPY", symbol="¥", name="Yen", flag="🇯🇵", fraction_digits=0
    )


def test_transaction_page_reads_edges_and_page_info() -> None:
    page = parsed(
        TransactionPage,
        {
            "edges": [
                {"cursor": "tx-2", "node": transaction(id="tx-2")},
                {"cursor": "tx-1", "node": transaction(id="tx-1")},
            ],
            "pageInfo": {"hasNextPage": True, "endCursor": "tx-1"},
        },
    )

    assert [tx.id for tx in page.transactions] == ["tx-2", "tx-1"]
    assert page.has_next_page is True
    assert page.end_cursor == "tx-1"


def test_absent_transaction_connection_is_an_empty_page() -> None:
    assert NO_TRANSACTIONS.transactions == ()
    assert not NO_TRANSACTIONS.has_next_page
    page = parsed(TransactionPage, {"edges": [], "pageInfo": {"hasNextPage": False}})
    assert page.transactions == ()
    assert page.end_cursor is None


@pytest.mark.parametrize(
    "broken",
    [
        {"edges": {}, "pageInfo": {"hasNextPage": False}},
        {"edges": []},
        {"edges": [], "pageInfo": {"hasNextPage": "no"}},
        {"edges": [{"cursor": "x"}], "pageInfo": {"hasNextPage": False}},
    ],
)
def test_broken_transaction_page_raises_model_error(broken: dict[str, Any]) -> None:
    with pytest.raises(BlinkModelError):
        parsed(TransactionPage, broken)


def test_realtime_price_reads_offsets_from_the_payload() -> None:
    price = parsed(
        RealtimePrice, realtime_price(currency="EUR", btc=(874, 1), usd=(92, 2))
    )

    assert price.denominator_currency == "EUR"
    assert price.btc_sat_price == Decimal("87.4")
    assert price.usd_cent_price == Decimal("0.92")
    assert price.timestamp == datetime(2025, 1, 1, tzinfo=UTC)


def test_realtime_price_falls_back_to_the_deprecated_currency_field() -> None:
    payload = realtime_price()
    del payload["denominatorCurrencyDetails"]
    payload["denominatorCurrency"] = "CHF"

    assert parsed(RealtimePrice, payload).denominator_currency == "CHF"


@pytest.mark.parametrize(
    "broken",
    [
        {"btcSatPrice": None},
        {"btcSatPrice": {"base": 1}},
        {"usdCentPrice": {"base": "1", "offset": 6}},
        {"usdCentPrice": {"base": 1, "offset": 10_000}},
        {"denominatorCurrencyDetails": {"code": "USD"}},
        {"timestamp": None},
    ],
)
def test_broken_realtime_price_raises_model_error(broken: dict[str, Any]) -> None:
    payload = realtime_price()
    payload.update(broken)

    with pytest.raises(BlinkModelError):
        parsed(RealtimePrice, payload)


def test_my_update_with_a_price() -> None:
    update = my_update(
        {
            "errors": [],
            "me": None,
            "update": {"__typename": "RealtimePrice", **realtime_price()},
        }
    )

    assert isinstance(update.update, RealtimePrice)
    assert update.update.btc_sat_price == Decimal("0.095")
    assert update.account is None


def test_my_update_with_a_lightning_payment_and_the_balances_after_it() -> None:
    update = my_update(
        {
            "errors": [],
            "me": me(btc=6000),
            "update": {
                "__typename": "LnUpdate",
                "status": "PAID",
                "transaction": transaction(),
            },
        }
    )

    assert isinstance(update.update, LnUpdate)
    assert update.update.kind is PaymentKind.LN
    assert update.update.status == "PAID"
    assert update.update.transaction.id == "tx-1"
    assert update.update.transaction.payment_hash == PAYMENT_HASH
    assert update.account is not None
    assert update.account.btc_wallet is not None
    assert update.account.btc_wallet.balance == 6000


@pytest.mark.parametrize(
    ("typename", "member", "kind", "notification"),
    [
        ("OnChainUpdate", OnChainUpdate, PaymentKind.ONCHAIN, "OnchainReceiptPending"),
        (
            "IntraLedgerUpdate",
            IntraLedgerUpdate,
            PaymentKind.INTRALEDGER,
            "IntraLedgerReceipt",
        ),
    ],
)
def test_my_update_with_other_payments(
    typename: str,
    member: type[OnChainUpdate | IntraLedgerUpdate],
    kind: PaymentKind,
    notification: str,
) -> None:
    update = my_update(
        {
            "update": {
                "__typename": typename,
                "txNotificationType": notification,
                "transaction": transaction(),
            }
        }
    )

    assert isinstance(update.update, member)
    assert update.update.kind is kind
    assert update.update.kind == kind.value
    assert update.update.tx_notification_type == notification


@pytest.mark.parametrize(
    ("member", "read"),
    [
        (None, None),
        ({"__typename": "Price"}, Price()),
        (
            {"__typename": "Price", "base": 95, "offset": 3, "currencyUnit": "USDCENT"},
            Price(),
        ),
        ({"__typename": "HandleUpdate", "handle": "x"}, None),
    ],
)
def test_my_update_members_this_client_does_not_use_are_read_as_nothing(
    member: Any, read: Price | None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    update = my_update({"errors": [], "me": me(), "update": member})

    assert update.update == read
    assert update.account == parsed(Account, me())
    assert ("HandleUpdate" in caplog.text) is (read is None and member is not None)


def test_a_malformed_account_beside_a_payment_does_not_lose_the_payment() -> None:
    update = my_update(
        {
            "me": {"defaultAccount": None},
            "update": {
                "__typename": "LnUpdate",
                "status": "PAID",
                "transaction": transaction(),
            },
        }
    )

    assert isinstance(update.update, PaymentUpdate)
    assert update.account is None


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"update": []},
        {"update": {"status": "PAID"}},
        {"update": {"__typename": "LnUpdate", "transaction": transaction()}},
        {"update": {"__typename": "LnUpdate", "status": "PAID"}},
        {"update": {"__typename": "OnChainUpdate", "transaction": transaction()}},
        {"update": {"__typename": "RealtimePrice"}},
    ],
)
def test_broken_my_update_raises_model_error(payload: Any) -> None:
    with pytest.raises(BlinkModelError):
        my_update(payload)


# What Blink pushes in place of `createdAt` (what-blink-sends 1): its Timestamp
# scalar's error object, after its pubsub made the Date a string; or nothing at
# all, since the subscription does not select it.
_PUSHED_CREATED_AT: list[object] = [
    {"message": "Invalid value for Date", "extensions": {"code": "INVALID_INPUT"}},
    "2026-12-03T11:59:58.123Z",
    None,
    1_700_000_000,
]


@pytest.mark.parametrize("created_at", _PUSHED_CREATED_AT)
async def test_a_pushed_payment_is_dated_by_its_arrival(created_at: object) -> None:
    pushed = transaction()
    pushed["createdAt"] = created_at
    if created_at is None:
        del pushed["createdAt"]
    frame = {
        "id": "1",
        "type": "next",
        "payload": {
            "data": {
                "myUpdates": {
                    "errors": [],
                    "me": me(btc=6000),
                    "update": {
                        "__typename": "LnUpdate",
                        "status": "PAID",
                        "transaction": pushed,
                    },
                }
            }
        },
    }
    got: list[MyUpdate] = []
    async with aiohttp.ClientSession() as session:
        socket = BlinkWebSocket(
            session, "key", "ws://127.0.0.1:9", client=BlinkClient(session, "key")
        )
    subscription = socket.subscribe_my_updates(got.append)
    decoded = FrameDecoder(SubscriptionData, secret="key").decode(json.dumps(frame))
    assert isinstance(decoded, Frame)
    assert isinstance(decoded.payload, ExecutionResult)
    assert decoded.payload.data is not None
    before = time.time()

    # What the socket does with a `next` frame it read.
    subscription.deliver(decoded.payload.data)

    (update,) = got
    assert isinstance(update.update, PaymentUpdate)
    assert isinstance(update.update.transaction, PushedTransaction)
    arrived = update.update.transaction.created_at
    assert before <= arrived.timestamp() <= time.time()
    assert arrived.tzinfo is UTC
    assert update.update.transaction.id == transaction()["id"]


def test_a_pushed_payment_decodes_straight_from_the_frame_blink_sends() -> None:
    """The bytes real Blink pushes (what-blink-sends 1), through msgspec's decoder."""
    pushed = transaction()
    pushed["createdAt"] = _PUSHED_CREATED_AT[0]
    frame = msgspec.json.encode(
        {"update": {"__typename": "LnUpdate", "status": "PAID", "transaction": pushed}}
    )

    update = msgspec.json.decode(frame, type=MyUpdate)

    assert isinstance(update.update, LnUpdate)
    assert update.update.transaction.settlement_amount == 1000


def test_over_http_an_unusable_created_at_is_still_an_error() -> None:
    broken = transaction()
    broken["createdAt"] = _PUSHED_CREATED_AT[0]

    with pytest.raises(BlinkModelError, match=r"createdAt"):
        parsed(Transaction, broken)


def test_models_are_frozen() -> None:
    tx = parsed(Transaction, transaction())

    with pytest.raises(AttributeError):
        tx.id = "other"  # type: ignore[misc]
