"""Payloads shaped as Blink sends them, for model and socket tests."""

from typing import Any

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
