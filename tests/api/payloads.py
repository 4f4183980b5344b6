"""Payloads shaped as Blink sends them, for model and socket tests."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from custom_components.blink_wallet.api import (
    Transaction,
    TxDirection,
    TxStatus,
    WalletCurrency,
)
from custom_components.blink_wallet.api.decoding import convert
from custom_components.blink_wallet.api.models import Via

PAYMENT_HASH = "a" * 64
TX_HASH = "b" * 64


def transaction(**overrides: Any) -> dict[str, Any]:
    """A settled Lightning receipt of 1,000 sats, as TransactionFields selects it."""
    payload: dict[str, Any] = {
        "id": "tx-1",
        "createdAt": 1_735_689_600,  # 2025-01-01T00:00:00Z
        "direction": "RECEIVE",
        "status": "SUCCESS",
        "memo": "coffee",
        "settlementAmount": 1000,
        "settlementCurrency": "BTC",
        "settlementFee": 0,
        "settlementDisplayAmount": "0.95",
        "settlementDisplayCurrency": "USD",
        "externalId": None,
        "settlementVia": {"__typename": "SettlementViaLn"},
        "initiationVia": {"__typename": "InitiationViaLn", "paymentHash": PAYMENT_HASH},
    }
    payload.update(overrides)
    return payload


def realtime_price(
    *,
    currency: str = "USD",
    btc: tuple[int, int] = (95_000_000_000, 12),
    usd: tuple[int, int] = (1_000_000, 6),
    timestamp: int = 1_735_689_600,
) -> dict[str, Any]:
    """A `RealtimePrice`; the default is 95,000 USD per BTC."""
    return {
        "timestamp": timestamp,
        "denominatorCurrencyDetails": {"id": currency},
        "btcSatPrice": {"base": btc[0], "offset": btc[1]},
        "usdCentPrice": {"base": usd[0], "offset": usd[1]},
    }


def me(
    *, btc: int = 5000, usd: int = 250, username: str | None = "satoshi"
) -> dict[str, Any]:
    """The `me` object of ACCOUNT_QUERY."""
    return {
        "id": "user-1",
        "username": username,
        "defaultAccount": {
            "id": "account-1",
            "displayCurrency": "USD",
            "wallets": [
                {
                    "id": "wallet-btc",
                    "walletCurrency": "BTC",
                    "balance": btc,
                    "pendingIncomingBalance": 0,
                },
                {
                    "id": "wallet-usd",
                    "walletCurrency": "USD",
                    "balance": usd,
                    "pendingIncomingBalance": None,
                },
            ],
        },
    }


def parsed[T](type_: type[T], payload: object) -> T:
    """Build a model from a payload the way the client does."""
    return convert(payload, type_, type_.__name__)


_VIA = {"lightning": "Ln", "onchain": "OnChain", "intraledger": "IntraLedger"}


def make_transaction(
    tx_id: str,
    *,
    created_at: datetime = datetime(2026, 1, 1, tzinfo=UTC),
    direction: TxDirection = TxDirection.RECEIVE,
    status: TxStatus = TxStatus.SUCCESS,
    memo: str | None = None,
    settlement_amount: int = 100,
    settlement_currency: WalletCurrency = WalletCurrency.BTC,
    settlement_fee: int = 0,
    settlement_display_amount: Decimal = Decimal("0.10"),
    settlement: str = "lightning",
    initiation: str | None = None,
    payment_hash: str | None = None,
    tx_hash: str | None = None,
    counterparty_wallet_id: str | None = None,
    counterparty_username: str | None = None,
    external_id: str | None = None,
) -> Transaction:
    """A transaction by what the integration reads of it.

    Initiated over Lightning when it has a payment hash, intra-ledger otherwise,
    unless `initiation` says (over Lightning, with a hash of zeros if none is given).
    """
    initiation = initiation or ("lightning" if payment_hash else "intraledger")
    if initiation == "lightning" and payment_hash is None:
        payment_hash = "0" * 64  # Blink always has one there
    return Transaction(
        id=tx_id,
        created=created_at.timestamp(),
        direction=direction,
        status=status,
        memo=memo,
        settlement_amount=settlement_amount,
        settlement_currency=settlement_currency,
        settlement_fee=settlement_fee,
        settlement_display_amount=settlement_display_amount,
        settlement_display_currency="USD",
        external_id=external_id,
        settlement_via=Via(
            typename="SettlementVia" + _VIA[settlement],
            transaction_hash=tx_hash,
            counter_party_wallet_id=counterparty_wallet_id,
            counter_party_username=counterparty_username,
        ),
        initiation_via=Via(
            typename="InitiationVia" + _VIA[initiation], payment_hash=payment_hash
        ),
    )
