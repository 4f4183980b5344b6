"""Typed asyncio client of Blink's GraphQL API (HTTP and graphql-transport-ws).

Knows nothing of Home Assistant: the integration builds on this package, and the
package can be tested, or used, on its own.
"""

from .client import BlinkClient
from .const import (
    PRODUCTION_API_URL,
    PRODUCTION_WS_URL,
    STAGING_API_URL,
    STAGING_WS_URL,
)
from .exceptions import (
    BlinkAuthError,
    BlinkConfigurationError,
    BlinkConnectionError,
    BlinkError,
    BlinkGraphQLError,
    BlinkModelError,
    BlinkProtocolError,
    BlinkRateLimitError,
)
from .models import (
    SETTLEMENT_INTRALEDGER,
    SETTLEMENT_LIGHTNING,
    SETTLEMENT_ONCHAIN,
    Account,
    Currency,
    MyUpdate,
    PaymentKind,
    PaymentUpdate,
    PriceUpdate,
    RealtimePrice,
    Transaction,
    TransactionPage,
    TxDirection,
    TxStatus,
    Wallet,
    WalletCurrency,
    btc_price,
)
from .websocket import BlinkWebSocket, Subscription

__all__ = [
    "PRODUCTION_API_URL",
    "PRODUCTION_WS_URL",
    "SETTLEMENT_INTRALEDGER",
    "SETTLEMENT_LIGHTNING",
    "SETTLEMENT_ONCHAIN",
    "STAGING_API_URL",
    "STAGING_WS_URL",
    "Account",
    "BlinkAuthError",
    "BlinkClient",
    "BlinkConfigurationError",
    "BlinkConnectionError",
    "BlinkError",
    "BlinkGraphQLError",
    "BlinkModelError",
    "BlinkProtocolError",
    "BlinkRateLimitError",
    "BlinkWebSocket",
    "Currency",
    "MyUpdate",
    "PaymentKind",
    "PaymentUpdate",
    "PriceUpdate",
    "RealtimePrice",
    "Subscription",
    "Transaction",
    "TransactionPage",
    "TxDirection",
    "TxStatus",
    "Wallet",
    "WalletCurrency",
    "btc_price",
]
