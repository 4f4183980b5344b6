"""Blink's payloads, described once as frozen typed structs (msgspec).

The structs mirror what `queries.py` selects (snake_case here, camelCase on the
wire), with the few values derived from them. msgspec decodes JSON straight into
them and validates as it goes (`framing.py` for frames, `decoding.py` for HTTP
answers). Fields not described here are ignored, because Blink adds to its schema
without asking; `decoding.tolerate` lists the union members and wallets newer
than this client that are left out rather than refused.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Final, Self

import msgspec

from .bolt11 import decode_bolt11
from .exceptions import BlinkInvoiceError, BlinkModelError

# Blink uses offsets 12 and 6; anything far beyond is not a price but garbage.
_MAX_OFFSET: Final = 64
_SATS_PER_BTC_EXPONENT: Final = 8
# Blink's `Timestamp` scalar is Unix seconds; the last second of the year 9999.
_LAST_SECOND: Final = 253_402_300_799

type Seconds = Annotated[float, msgspec.Meta(ge=0, le=_LAST_SECOND)]


class WalletCurrency(StrEnum):
    """Currency of a Blink wallet; balances are in its minor unit."""

    BTC = "BTC"  # sats
    USD = "USD"  # cents (Stablesats)


class TxDirection(StrEnum):
    """Whether money came in or went out."""

    RECEIVE = "RECEIVE"
    SEND = "SEND"


class TxStatus(StrEnum):
    """Settlement state of a transaction."""

    SUCCESS = "SUCCESS"
    PENDING = "PENDING"
    FAILURE = "FAILURE"


class InvoiceStatus(StrEnum):
    """Where an invoice stands: waiting, paid, or past its expiry unpaid."""

    PENDING = "PENDING"
    PAID = "PAID"
    EXPIRED = "EXPIRED"


class PaymentSendResult(StrEnum):
    """Blink's answer to a payment: sent, failed, in flight, or paid before."""

    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    PENDING = "PENDING"
    ALREADY_PAID = "ALREADY_PAID"


class PaymentKind(StrEnum):
    """Which `myUpdates` member announced a payment."""

    LN = "ln"
    ONCHAIN = "onchain"
    INTRALEDGER = "intraledger"


SETTLEMENT_LIGHTNING: Final = "lightning"
SETTLEMENT_ONCHAIN: Final = "onchain"
SETTLEMENT_INTRALEDGER: Final = "intraledger"

_VIA_KINDS: Final = {
    "SettlementViaLn": SETTLEMENT_LIGHTNING,
    "SettlementViaOnChain": SETTLEMENT_ONCHAIN,
    "SettlementViaIntraLedger": SETTLEMENT_INTRALEDGER,
    "InitiationViaLn": SETTLEMENT_LIGHTNING,
    "InitiationViaOnChain": SETTLEMENT_ONCHAIN,
    "InitiationViaIntraLedger": SETTLEMENT_INTRALEDGER,
}


def _shift(value: Decimal, exponent: int) -> Decimal:
    """Return `value * 10**exponent` exactly, whatever the context's precision."""
    sign, digits, exp = value.as_tuple()
    if not isinstance(exp, int):  # pragma: no cover - callers pass finite values
        msg = "not a finite number"
        raise BlinkModelError(msg)
    return Decimal((sign, digits, exp + exponent))


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class _Model(msgspec.Struct, frozen=True, kw_only=True, rename="camel", gc=False):
    """Frozen, camelCase on the wire, untracked by the garbage collector (no cycles)."""


# --- the account ---------------------------------------------------------------------


class Wallet(_Model, frozen=True, kw_only=True):
    """One wallet of the account; amounts in its minor unit (sats or cents)."""

    id: str
    currency: WalletCurrency = msgspec.field(name="walletCurrency")
    balance: int
    pending_incoming_balance: int | None = None


class _DefaultAccount(_Model, frozen=True, kw_only=True):
    id: str
    display_currency: str
    wallets: tuple[Wallet, ...]


class Account(_Model, frozen=True, kw_only=True):
    """The API key's user and its default account (Blink's `me`).

    Over the socket `me` comes with every price tick and payment, balances included.
    """

    username: str | None = None
    default_account: _DefaultAccount

    @property
    def id(self) -> str:
        """The default account's id."""
        return self.default_account.id

    @property
    def display_currency(self) -> str:
        """The currency Blink prices things in for this account."""
        return self.default_account.display_currency

    @property
    def wallets(self) -> tuple[Wallet, ...]:
        """The wallets this client knows the currency of."""
        return self.default_account.wallets

    def with_display_currency(self, currency: str) -> Self:
        """Return the same account, priced in `currency`."""
        account = msgspec.structs.replace(
            self.default_account, display_currency=currency
        )
        return msgspec.structs.replace(self, default_account=account)

    def wallet(self, currency: WalletCurrency) -> Wallet | None:
        """Return the account's wallet of that currency, if it has one."""
        return next((w for w in self.wallets if w.currency is currency), None)

    @property
    def btc_wallet(self) -> Wallet | None:
        """The BTC wallet (sats)."""
        return self.wallet(WalletCurrency.BTC)

    @property
    def usd_wallet(self) -> Wallet | None:
        """The Stablesats wallet (USD cents)."""
        return self.wallet(WalletCurrency.USD)


class Currency(_Model, frozen=True, kw_only=True):
    """A display currency Blink can price bitcoin in."""

    id: str
    symbol: str
    name: str
    flag: str
    fraction_digits: int


# --- transactions --------------------------------------------------------------------


class Via(_Model, frozen=True, kw_only=True):
    """How a transaction was initiated or settled: one struct for each union.

    Blink's `SettlementVia` and `InitiationVia` members differ by a field or two, so
    one struct reads them all, and a member newer than this client is still read.
    """

    typename: str = msgspec.field(name="__typename")
    payment_hash: str | None = None  # InitiationViaLn
    transaction_hash: str | None = None  # SettlementViaOnChain
    counter_party_wallet_id: str | None = None  # SettlementViaIntraLedger
    counter_party_username: str | None = None  # SettlementViaIntraLedger

    @property
    def kind(self) -> str:
        """`lightning`, `onchain`, `intraledger`, or the name of a newer member."""
        kind = _VIA_KINDS.get(self.typename)
        if kind is None:
            return (
                self.typename.removeprefix("SettlementVia")
                .removeprefix("InitiationVia")
                .lower()
            )
        return kind


class Transaction(_Model, frozen=True, kw_only=True):
    """A payment in or out of one of the account's wallets, read over HTTP.

    Blink gives no wallet id: the wallet is the account's wallet of
    `settlement_currency`.
    """

    id: str
    created: Seconds = msgspec.field(name="createdAt")
    direction: TxDirection
    status: TxStatus
    memo: str | None = None
    settlement_amount: int
    settlement_currency: WalletCurrency
    settlement_fee: int
    # A decimal string of major units (Blink's `SignedDisplayMajorAmount`); a JSON
    # number is read exactly, from its digits.
    settlement_display_amount: Decimal
    settlement_display_currency: str
    external_id: str | None = None
    settlement_via: Via
    initiation_via: Via

    @property
    def created_at(self) -> datetime:
        """When Blink booked it (a pushed one: when it arrived)."""
        return _utc(self.created)

    @property
    def settlement(self) -> str:
        """`lightning`, `onchain` or `intraledger`: how it settled."""
        return self.settlement_via.kind

    @property
    def initiation(self) -> str:
        """How it was initiated, named like `settlement`.

        A Blink-to-Blink payment of an invoice settles intra-ledger but was
        initiated over Lightning.
        """
        return self.initiation_via.kind

    @property
    def payment_hash(self) -> str | None:
        """The invoice's hash, when initiated over Lightning."""
        return self.initiation_via.payment_hash

    @property
    def tx_hash(self) -> str | None:
        """The on-chain transaction, when settled on-chain."""
        return self.settlement_via.transaction_hash

    @property
    def counterparty_wallet_id(self) -> str | None:
        """The other Blink wallet, when settled intra-ledger."""
        return self.settlement_via.counter_party_wallet_id

    @property
    def counterparty_username(self) -> str | None:
        """The other Blink user, when settled intra-ledger and Blink names them."""
        return self.settlement_via.counter_party_username


class PushedTransaction(Transaction, frozen=True, kw_only=True):
    """A transaction pushed by `myUpdates`: dated by its arrival.

    Blink's pushed `createdAt` is unusable (see `PUSHED_TRANSACTION_FRAGMENT`):
    whatever stands there is not read. The socket dates it as its frame is read.
    """

    # A key with a space is no GraphQL name, so no server can send it.
    created: Seconds = msgspec.field(default=0.0, name="arrived at")

    def arrived(self, seconds: float) -> None:
        """Date it by its arrival: once, as its frame is read, before anyone sees it."""
        msgspec.structs.force_setattr(self, "created", seconds)


class _PageInfo(_Model, frozen=True, kw_only=True):
    has_next_page: bool
    end_cursor: str | None = None


class _Edge(_Model, frozen=True, kw_only=True):
    node: Transaction


class TransactionPage(_Model, frozen=True, kw_only=True):
    """One page of the account's transactions, newest first."""

    edges: tuple[_Edge, ...] = ()
    page_info: _PageInfo

    @property
    def transactions(self) -> tuple[Transaction, ...]:
        """The page's transactions."""
        return tuple(edge.node for edge in self.edges)

    @property
    def has_next_page(self) -> bool:
        """Whether older transactions follow."""
        return self.page_info.has_next_page

    @property
    def end_cursor(self) -> str | None:
        """Where the next page starts."""
        return self.page_info.end_cursor


NO_TRANSACTIONS: Final = TransactionPage(page_info=_PageInfo(has_next_page=False))


# --- prices --------------------------------------------------------------------------


class _Ratio(_Model, frozen=True, kw_only=True):
    """A price as the exact decimal `base / 10^offset`."""

    base: int
    offset: Annotated[int, msgspec.Meta(ge=-_MAX_OFFSET, le=_MAX_OFFSET)]

    @property
    def value(self) -> Decimal:
        """The exact price."""
        return _shift(Decimal(self.base), -self.offset)


class _CurrencyId(_Model, frozen=True, kw_only=True):
    id: str


class RealtimePrice(
    _Model, frozen=True, kw_only=True, tag_field="__typename", tag=True
):
    """The price of one sat and of one US cent, in minor units of a currency.

    The prices are exact: `base / 10^offset`, with the offset read from each
    payload (Blink uses 12 and 6, but the schema does not fix them).
    """

    seconds: Seconds = msgspec.field(name="timestamp")
    denominator_currency_details: _CurrencyId | None = None
    # the deprecated field, should a server only know that one
    denominator_currency_code: str | None = msgspec.field(
        default=None, name="denominatorCurrency"
    )
    btc_sat: _Ratio = msgspec.field(name="btcSatPrice")
    usd_cent: _Ratio = msgspec.field(name="usdCentPrice")

    def __post_init__(self) -> None:
        """Refuse a price in no currency."""
        if self.denominator_currency_details is None and (
            self.denominator_currency_code is None
        ):
            msg = "RealtimePrice.denominatorCurrencyDetails is missing"
            raise ValueError(msg)

    @property
    def timestamp(self) -> datetime:
        """When Blink priced it."""
        return _utc(self.seconds)

    @property
    def denominator_currency(self) -> str:
        """The currency the prices are in."""
        details = self.denominator_currency_details
        if details is not None:
            return details.id
        assert self.denominator_currency_code is not None  # noqa: S101 - post-init
        return self.denominator_currency_code

    @property
    def btc_sat_price(self) -> Decimal:
        """Minor units of the currency per sat."""
        return self.btc_sat.value

    @property
    def usd_cent_price(self) -> Decimal:
        """Minor units of the currency per US cent."""
        return self.usd_cent.value


class _UnitPrice(_Ratio, frozen=True, kw_only=True):
    currency_unit: str


class PricePoint(_Model, frozen=True, kw_only=True):
    """One point of Blink's price history: the price of a bitcoin at `timestamp`.

    Blink serves it in US cents per BTC (`USDCENT`) whatever the display currency.
    """

    seconds: Seconds = msgspec.field(name="timestamp")
    price: _UnitPrice

    @property
    def timestamp(self) -> datetime:
        """The start of the bucket (the live price: the moment it was asked for)."""
        return _utc(self.seconds)

    @property
    def usd_per_btc(self) -> Decimal:
        """US dollars per bitcoin, exactly as Blink sent it."""
        return _shift(self.price.value, -2)


def btc_price(price: RealtimePrice, fraction_digits: int) -> Decimal:
    """Return the price of one bitcoin in major units of the display currency.

    `btc_sat_price` is in minor units per sat: times 10^8 sats per BTC, divided by
    10^fraction_digits minor units per major unit (2 for USD, 0 for JPY). Exact.
    """
    return _shift(price.btc_sat_price, _SATS_PER_BTC_EXPONENT - fraction_digits)


# --- the myUpdates stream ------------------------------------------------------------


class PaymentUpdate(_Model, frozen=True, kw_only=True):
    """A payment announced by `myUpdates` (one of the three members below)."""

    kind: ClassVar[PaymentKind]
    transaction: PushedTransaction


class LnUpdate(
    PaymentUpdate, frozen=True, kw_only=True, tag_field="__typename", tag=True
):
    """A Lightning payment, or a Blink-to-Blink payment of an invoice."""

    kind: ClassVar[PaymentKind] = PaymentKind.LN
    status: str  # PAID, PENDING or EXPIRED


class OnChainUpdate(
    PaymentUpdate, frozen=True, kw_only=True, tag_field="__typename", tag=True
):
    """An on-chain payment; `tx_notification_type` says e.g. OnchainReceiptPending."""

    kind: ClassVar[PaymentKind] = PaymentKind.ONCHAIN
    tx_notification_type: str


class IntraLedgerUpdate(
    PaymentUpdate, frozen=True, kw_only=True, tag_field="__typename", tag=True
):
    """A payment between Blink wallets."""

    kind: ClassVar[PaymentKind] = PaymentKind.INTRALEDGER
    tx_notification_type: str


class Price(_Model, frozen=True, kw_only=True, tag_field="__typename", tag=True):
    """The deprecated `Price` member: the same price as `RealtimePrice`, unused."""


type UserUpdate = LnUpdate | OnChainUpdate | IntraLedgerUpdate | RealtimePrice | Price


class MyUpdate(_Model, frozen=True, kw_only=True):
    """One message of the `myUpdates` stream.

    `update` is None for members newer than this client. `account` carries the
    balances as they stood when Blink sent the update; Blink sends it with every
    `RealtimePrice` and every payment, not with `Price`.
    """

    errors: tuple[Any, ...] = ()
    account: Account | None = msgspec.field(default=None, name="me")
    update: UserUpdate | None = None


class RealtimePriceUpdate(_Model, frozen=True, kw_only=True):
    """One message of the `realtimePrice` stream."""

    errors: tuple[Any, ...] = ()
    realtime_price: RealtimePrice | None = None


class InvoiceStatusUpdate(_Model, frozen=True, kw_only=True):
    """One message of an `lnInvoicePaymentStatusByHash` stream (or its HTTP answer)."""

    errors: tuple[Any, ...] = ()
    status: InvoiceStatus | None = None


class SubscriptionData(_Model, frozen=True, kw_only=True):
    """The `data` of a pushed result: the field of the one subscription it is for."""

    my_updates: MyUpdate | None = None
    realtime_price: RealtimePriceUpdate | None = None
    ln_invoice_payment_status_by_hash: InvoiceStatusUpdate | None = None


# --- invoices and payments -----------------------------------------------------------


class Invoice(_Model, frozen=True, kw_only=True):
    """An invoice Blink created for one of the account's wallets.

    `satoshis` is what the payment request asks for (a USD invoice's cents are
    converted at creation); `expires_at` is read from the request itself, the
    only place Blink states it.
    """

    payment_request: str
    payment_hash: str
    satoshis: int | None = None
    status: InvoiceStatus = msgspec.field(name="paymentStatus")
    created: Seconds | None = msgspec.field(default=None, name="createdAt")

    def __post_init__(self) -> None:
        """Refuse a payment request that is no BOLT11 invoice."""
        try:
            decode_bolt11(self.payment_request)
        except BlinkInvoiceError as err:
            msg = f"LnInvoice.paymentRequest is not a BOLT11 invoice: {err}"
            raise ValueError(msg) from None

    @property
    def created_at(self) -> datetime | None:
        """When Blink created it, when it says."""
        return None if self.created is None else _utc(self.created)

    @property
    def expires_at(self) -> datetime:
        """When the payment request expires."""
        return decode_bolt11(self.payment_request).expires_at


class PaymentResult(_Model, frozen=True, kw_only=True):
    """What became of a payment Blink accepted (refusals raise instead).

    `transaction` is the SEND in the paying wallet; Blink may leave it out.
    """

    status: PaymentSendResult
    transaction: Transaction | None = None

    @property
    def fee_sats(self) -> int | None:
        """The fee in sats, when the payment left the BTC wallet and is known."""
        tx = self.transaction
        if tx is None or tx.settlement_currency is not WalletCurrency.BTC:
            return None
        return tx.settlement_fee
