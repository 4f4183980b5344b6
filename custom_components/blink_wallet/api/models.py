"""Frozen models of Blink's payloads.

Each model is built by `from_payload` from the dict GraphQL returned. A missing or
mistyped required field raises `BlinkModelError`; fields the models do not know
and members of unions they do not know are tolerated (logged at debug), because
Blink adds to its schema without asking us.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Final, Self, cast

from .bolt11 import decode_bolt11
from .const import LOGGER
from .exceptions import BlinkInvoiceError, BlinkModelError

# Blink uses offsets 12 and 6; anything far beyond is not a price but garbage.
_MAX_OFFSET: Final = 64
_SATS_PER_BTC_EXPONENT: Final = 8

_logged_extras: set[tuple[str, frozenset[str]]] = set()
# Each enum's members by value: a dict lookup instead of EnumType.__call__.
_MEMBERS: dict[type[StrEnum], dict[str, StrEnum]] = {}


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

_SETTLEMENTS: Final = {
    "SettlementViaLn": SETTLEMENT_LIGHTNING,
    "SettlementViaOnChain": SETTLEMENT_ONCHAIN,
    "SettlementViaIntraLedger": SETTLEMENT_INTRALEDGER,
}
_INITIATIONS: Final = {
    "InitiationViaLn": SETTLEMENT_LIGHTNING,
    "InitiationViaOnChain": SETTLEMENT_ONCHAIN,
    "InitiationViaIntraLedger": SETTLEMENT_INTRALEDGER,
}


# --- reading fields -------------------------------------------------------------


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if type(value) is dict:  # what JSON gives; the ABC check below is slow
        return cast("dict[str, Any]", value)
    if not isinstance(value, Mapping):
        msg = f"{where} is not an object"
        raise BlinkModelError(msg)
    return value


def _note_extras(where: str, payload: Mapping[str, Any], known: frozenset[str]) -> None:
    """Log, once per shape, fields we did not ask for (a sign of schema drift)."""
    if payload.keys() <= known:
        return
    extra = frozenset(key for key in payload if key not in known)
    if extra and (where, extra) not in _logged_extras:
        _logged_extras.add((where, extra))
        LOGGER.debug("Ignoring unknown fields of %s: %s", where, sorted(extra))


def _present(payload: Mapping[str, Any], key: str, where: str) -> object:
    value = payload.get(key)
    if value is None:
        msg = f"{where}.{key} is missing"
        raise BlinkModelError(msg)
    return value


def _str(payload: Mapping[str, Any], key: str, where: str) -> str:
    value = payload.get(key)
    if type(value) is str:
        return value
    value = _present(payload, key, where)
    if not isinstance(value, str):
        msg = f"{where}.{key} is not a string"
        raise BlinkModelError(msg)
    return value


def _opt_str(payload: Mapping[str, Any], key: str, where: str) -> str | None:
    if payload.get(key) is None:
        return None
    return _str(payload, key, where)


def _int(payload: Mapping[str, Any], key: str, where: str) -> int:
    value = payload.get(key)
    if type(value) is int:
        return value
    value = _present(payload, key, where)
    # bool is an int to Python, never to GraphQL
    if not isinstance(value, int) or isinstance(value, bool):
        msg = f"{where}.{key} is not an integer"
        raise BlinkModelError(msg)
    return value


def _opt_int(payload: Mapping[str, Any], key: str, where: str) -> int | None:
    if payload.get(key) is None:
        return None
    return _int(payload, key, where)


def _bool(payload: Mapping[str, Any], key: str, where: str) -> bool:
    value = _present(payload, key, where)
    if not isinstance(value, bool):
        msg = f"{where}.{key} is not a boolean"
        raise BlinkModelError(msg)
    return value


def _enum[E: StrEnum](
    payload: Mapping[str, Any], key: str, where: str, enum: type[E]
) -> E:
    value = _str(payload, key, where)
    members = _MEMBERS.get(enum)
    if members is None:
        members = _MEMBERS[enum] = {member.value: member for member in enum}
    member = members.get(value)
    if member is None:
        msg = f"{where}.{key} has an unknown value"
        raise BlinkModelError(msg)
    return cast("E", member)


def _timestamp(payload: Mapping[str, Any], key: str, where: str) -> datetime:
    """Blink's `Timestamp` scalar: Unix seconds."""
    seconds = _int(payload, key, where)
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except OverflowError, OSError, ValueError:
        msg = f"{where}.{key} is out of range"
        raise BlinkModelError(msg) from None


def _decimal(payload: Mapping[str, Any], key: str, where: str) -> Decimal:
    """Read a decimal string (Blink's display amounts); integers are accepted too."""
    value = _present(payload, key, where)
    if isinstance(value, bool) or not isinstance(value, str | int):
        msg = f"{where}.{key} is not a decimal string"
        raise BlinkModelError(msg)
    try:
        result = Decimal(value)
    except InvalidOperation:
        msg = f"{where}.{key} is not a decimal string"
        raise BlinkModelError(msg) from None
    if not result.is_finite():
        msg = f"{where}.{key} is not finite"
        raise BlinkModelError(msg)
    return result


def _shift(value: Decimal, exponent: int) -> Decimal:
    """Return `value * 10**exponent` exactly, whatever the context's precision."""
    sign, digits, exp = value.as_tuple()
    if not isinstance(exp, int):  # pragma: no cover - callers pass finite values
        msg = "not a finite number"
        raise BlinkModelError(msg)
    return Decimal((sign, digits, exp + exponent))


def _price_of(payload: Mapping[str, Any], key: str, where: str) -> Decimal:
    """Read a `{base, offset}` price as the exact decimal `base / 10^offset`."""
    price = _mapping(_present(payload, key, where), f"{where}.{key}")
    base = _int(price, "base", f"{where}.{key}")
    offset = _int(price, "offset", f"{where}.{key}")
    if not -_MAX_OFFSET <= offset <= _MAX_OFFSET:
        msg = f"{where}.{key}.offset is out of range"
        raise BlinkModelError(msg)
    return _shift(Decimal(base), -offset)


# --- models ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Wallet:
    """One wallet of the account; amounts in its minor unit (sats or cents)."""

    id: str
    currency: WalletCurrency
    balance: int
    pending_incoming_balance: int | None

    @classmethod
    def from_payload(cls, payload: object) -> Self:
        """Build from a `Wallet` object."""
        data = _mapping(payload, "Wallet")
        return cls(
            id=_str(data, "id", "Wallet"),
            currency=_enum(data, "walletCurrency", "Wallet", WalletCurrency),
            balance=_int(data, "balance", "Wallet"),
            pending_incoming_balance=_opt_int(data, "pendingIncomingBalance", "Wallet"),
        )


@dataclass(frozen=True, slots=True)
class Account:
    """The default account of the API key's user."""

    id: str
    username: str | None
    display_currency: str
    wallets: tuple[Wallet, ...]

    @classmethod
    def from_payload(cls, payload: object) -> Self:
        """Build from the `me` object of `ACCOUNT_QUERY`."""
        me = _mapping(payload, "User")
        account = _mapping(_present(me, "defaultAccount", "User"), "Account")
        raw_wallets = _present(account, "wallets", "Account")
        if not isinstance(raw_wallets, list):
            msg = "Account.wallets is not a list"
            raise BlinkModelError(msg)
        wallets: list[Wallet] = []
        for raw in raw_wallets:
            currency = _mapping(raw, "Wallet").get("walletCurrency")
            if currency not in WalletCurrency:
                # A wallet type newer than this client: the others still work.
                LOGGER.debug("Ignoring a wallet of unknown currency %r", currency)
                continue
            wallets.append(Wallet.from_payload(raw))
        return cls(
            id=_str(account, "id", "Account"),
            username=_opt_str(me, "username", "User"),
            display_currency=_str(account, "displayCurrency", "Account"),
            wallets=tuple(wallets),
        )

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


@dataclass(frozen=True, slots=True)
class Currency:
    """A display currency Blink can price bitcoin in."""

    id: str
    symbol: str
    name: str
    flag: str
    fraction_digits: int

    @classmethod
    def from_payload(cls, payload: object) -> Self:
        """Build from a `Currency` object."""
        data = _mapping(payload, "Currency")
        return cls(
            id=_str(data, "id", "Currency"),
            symbol=_str(data, "symbol", "Currency"),
            name=_str(data, "name", "Currency"),
            flag=_str(data, "flag", "Currency"),
            fraction_digits=_int(data, "fractionDigits", "Currency"),
        )


_TRANSACTION_FIELDS: Final = frozenset(
    {
        "id",
        "createdAt",
        "direction",
        "status",
        "memo",
        "settlementAmount",
        "settlementCurrency",
        "settlementFee",
        "settlementDisplayAmount",
        "settlementDisplayCurrency",
        "settlementVia",
        "initiationVia",
        "externalId",
    }
)


@dataclass(frozen=True, slots=True)
class Transaction:
    """A payment in or out of one of the account's wallets.

    Blink gives no wallet id: the wallet is the account's wallet of
    `settlement_currency`.
    """

    id: str
    created_at: datetime
    direction: TxDirection
    status: TxStatus
    memo: str | None
    settlement_amount: int
    settlement_currency: WalletCurrency
    settlement_fee: int
    settlement_display_amount: Decimal
    settlement_display_currency: str
    settlement: str
    payment_hash: str | None
    tx_hash: str | None
    counterparty_wallet_id: str | None
    external_id: str | None
    counterparty_username: str | None = None
    # How it was initiated: `lightning`, `onchain` or `intraledger` (from
    # `initiationVia`), like `settlement`.
    initiation: str | None = None

    @classmethod
    def from_payload(
        cls, payload: object, *, received_at: datetime | None = None
    ) -> Self:
        """Build from a `Transaction` object selected by `TRANSACTION_FRAGMENT`.

        A pushed transaction (`PUSHED_TRANSACTION_FRAGMENT`) has no usable
        `createdAt`: it is dated `received_at`, the moment it arrived, and
        whatever stands in its `createdAt` is not read.
        """
        where = "Transaction"
        data = _mapping(payload, where)
        _note_extras(where, data, _TRANSACTION_FIELDS)
        settlement_via = _mapping(
            _present(data, "settlementVia", where), "Transaction.settlementVia"
        )
        settled_by = _str(settlement_via, "__typename", "Transaction.settlementVia")
        settlement = _SETTLEMENTS.get(settled_by)
        if settlement is None:
            # A settlement method newer than this client; name it after its type.
            LOGGER.debug("Unknown settlement type %s", settled_by)
            settlement = settled_by.removeprefix("SettlementVia").lower()
        initiation_via = _mapping(
            _present(data, "initiationVia", where), "Transaction.initiationVia"
        )
        initiated_by = _str(initiation_via, "__typename", "Transaction.initiationVia")
        initiation = _INITIATIONS.get(initiated_by)
        if initiation is None:
            initiation = initiated_by.removeprefix("InitiationVia").lower()
        # A Blink-to-Blink payment of an invoice settles intra-ledger but was
        # initiated over Lightning: the hash lives on the initiation.
        payment_hash = (
            _str(initiation_via, "paymentHash", "InitiationViaLn")
            if initiated_by == "InitiationViaLn"
            else None
        )
        return cls(
            id=_str(data, "id", where),
            created_at=(
                _timestamp(data, "createdAt", where)
                if received_at is None
                else received_at
            ),
            direction=_enum(data, "direction", where, TxDirection),
            status=_enum(data, "status", where, TxStatus),
            memo=_opt_str(data, "memo", where),
            settlement_amount=_int(data, "settlementAmount", where),
            settlement_currency=_enum(
                data, "settlementCurrency", where, WalletCurrency
            ),
            settlement_fee=_int(data, "settlementFee", where),
            settlement_display_amount=_decimal(data, "settlementDisplayAmount", where),
            settlement_display_currency=_str(data, "settlementDisplayCurrency", where),
            settlement=settlement,
            payment_hash=payment_hash,
            tx_hash=(
                _opt_str(settlement_via, "transactionHash", settled_by)
                if settled_by == "SettlementViaOnChain"
                else None
            ),
            counterparty_wallet_id=(
                _opt_str(settlement_via, "counterPartyWalletId", settled_by)
                if settled_by == "SettlementViaIntraLedger"
                else None
            ),
            external_id=_opt_str(data, "externalId", where),
            counterparty_username=(
                _opt_str(settlement_via, "counterPartyUsername", settled_by)
                if settled_by == "SettlementViaIntraLedger"
                else None
            ),
            initiation=initiation,
        )


@dataclass(frozen=True, slots=True)
class TransactionPage:
    """One page of the account's transactions, newest first."""

    transactions: tuple[Transaction, ...]
    has_next_page: bool
    end_cursor: str | None

    @classmethod
    def from_payload(cls, payload: object) -> Self:
        """Build from a `TransactionConnection` (null means no transactions)."""
        if payload is None:
            return cls(transactions=(), has_next_page=False, end_cursor=None)
        where = "TransactionConnection"
        data = _mapping(payload, where)
        edges = data.get("edges")
        if edges is None:
            edges = []
        if not isinstance(edges, list):
            msg = f"{where}.edges is not a list"
            raise BlinkModelError(msg)
        page_info = _mapping(_present(data, "pageInfo", where), "PageInfo")
        return cls(
            transactions=tuple(
                Transaction.from_payload(
                    _present(
                        _mapping(edge, "TransactionEdge"), "node", "TransactionEdge"
                    )
                )
                for edge in edges
            ),
            has_next_page=_bool(page_info, "hasNextPage", "PageInfo"),
            end_cursor=_opt_str(page_info, "endCursor", "PageInfo"),
        )


@dataclass(frozen=True, slots=True)
class RealtimePrice:
    """The price of one sat and of one US cent, in minor units of a currency.

    The prices are exact: `base / 10^offset`, with the offset read from each
    payload (Blink uses 12 and 6, but the schema does not fix them).
    """

    timestamp: datetime
    denominator_currency: str
    btc_sat_price: Decimal
    usd_cent_price: Decimal

    @classmethod
    def from_payload(cls, payload: object) -> Self:
        """Build from a `RealtimePrice` object."""
        where = "RealtimePrice"
        data = _mapping(payload, where)
        details = data.get("denominatorCurrencyDetails")
        currency = (
            _str(_mapping(details, "Currency"), "id", "Currency")
            if details is not None
            # the deprecated field, should a server only know that one
            else _str(data, "denominatorCurrency", where)
        )
        return cls(
            timestamp=_timestamp(data, "timestamp", where),
            denominator_currency=currency,
            btc_sat_price=_price_of(data, "btcSatPrice", where),
            usd_cent_price=_price_of(data, "usdCentPrice", where),
        )


def btc_price(price: RealtimePrice, fraction_digits: int) -> Decimal:
    """Return the price of one bitcoin in major units of the display currency.

    `btc_sat_price` is in minor units per sat: times 10^8 sats per BTC, divided by
    10^fraction_digits minor units per major unit (2 for USD, 0 for JPY). Exact.
    """
    return _shift(price.btc_sat_price, _SATS_PER_BTC_EXPONENT - fraction_digits)


@dataclass(frozen=True, slots=True)
class PriceUpdate:
    """A new price, pushed into `myUpdates` as it moves."""

    price: RealtimePrice


@dataclass(frozen=True, slots=True)
class PaymentUpdate:
    """A payment announced by `myUpdates`.

    `ln_status` (PAID, PENDING, EXPIRED) comes with Lightning updates,
    `notification_type` (e.g. OnchainReceiptPending) with the other two.
    """

    kind: PaymentKind
    notification_type: str | None
    ln_status: str | None
    transaction: Transaction


_PAYMENT_KINDS: Final = {
    "LnUpdate": PaymentKind.LN,
    "OnChainUpdate": PaymentKind.ONCHAIN,
    "IntraLedgerUpdate": PaymentKind.INTRALEDGER,
}


@dataclass(frozen=True, slots=True)
class MyUpdate:
    """One message of the `myUpdates` stream.

    `update` is None for members this client does not use: `Price` (the same price
    as `RealtimePrice`, in a less useful form) and members newer than the client.
    `account` carries the balances as they stood when Blink sent the update; Blink
    sends it with every `RealtimePrice` and every payment, not with `Price`.
    """

    update: PaymentUpdate | PriceUpdate | None
    account: Account | None = None

    @classmethod
    def from_payload(cls, payload: object, *, received_at: datetime) -> Self:
        """Build from a `MyUpdatesPayload` object that arrived at `received_at`.

        A pushed payment is dated by its arrival: Blink's pushed `createdAt` is
        unusable (see `PUSHED_TRANSACTION_FRAGMENT`).
        """
        data = _mapping(payload, "MyUpdatesPayload")
        account = _account_beside(data.get("me"))
        raw = data.get("update")
        if raw is None:
            return cls(update=None, account=account)
        update = _mapping(raw, "UserUpdate")
        typename = _str(update, "__typename", "UserUpdate")
        if typename == "RealtimePrice":
            return cls(
                update=PriceUpdate(RealtimePrice.from_payload(update)), account=account
            )
        kind = _PAYMENT_KINDS.get(typename)
        if kind is None:
            LOGGER.debug("Ignoring a myUpdates member of type %s", typename)
            return cls(update=None, account=account)
        return cls(
            account=account,
            update=PaymentUpdate(
                kind=kind,
                notification_type=(
                    None
                    if kind is PaymentKind.LN
                    else _str(update, "txNotificationType", typename)
                ),
                ln_status=(
                    _str(update, "status", typename) if kind is PaymentKind.LN else None
                ),
                transaction=Transaction.from_payload(
                    _present(update, "transaction", typename), received_at=received_at
                ),
            ),
        )


@dataclass(frozen=True, slots=True)
class Invoice:
    """An invoice Blink created for one of the account's wallets.

    `satoshis` is what the payment request asks for (a USD invoice's cents are
    converted at creation); `expires_at` is read from the request itself, the
    only place Blink states it.
    """

    payment_request: str
    payment_hash: str
    satoshis: int | None
    status: InvoiceStatus
    created_at: datetime | None
    expires_at: datetime

    @classmethod
    def from_payload(cls, payload: object) -> Self:
        """Build from an `LnInvoice` object."""
        where = "LnInvoice"
        data = _mapping(payload, where)
        request = _str(data, "paymentRequest", where)
        try:
            decoded = decode_bolt11(request)
        except BlinkInvoiceError as err:
            msg = f"{where}.paymentRequest is not a BOLT11 invoice: {err}"
            raise BlinkModelError(msg) from None
        return cls(
            payment_request=request,
            payment_hash=_str(data, "paymentHash", where),
            satoshis=_opt_int(data, "satoshis", where),
            status=_enum(data, "paymentStatus", where, InvoiceStatus),
            created_at=(
                _timestamp(data, "createdAt", where)
                if data.get("createdAt") is not None
                else None
            ),
            expires_at=decoded.expires_at,
        )


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """What became of a payment Blink accepted (refusals raise instead).

    `transaction` is the SEND in the paying wallet; Blink may leave it out.
    """

    status: PaymentSendResult
    transaction: Transaction | None

    @classmethod
    def from_payload(cls, payload: object) -> Self:
        """Build from a `PaymentSendPayload` whose `errors` are empty."""
        where = "PaymentSendPayload"
        data = _mapping(payload, where)
        transaction = data.get("transaction")
        return cls(
            status=_enum(data, "status", where, PaymentSendResult),
            transaction=(
                None if transaction is None else Transaction.from_payload(transaction)
            ),
        )

    @property
    def fee_sats(self) -> int | None:
        """The fee in sats, when the payment left the BTC wallet and is known."""
        tx = self.transaction
        if tx is None or tx.settlement_currency is not WalletCurrency.BTC:
            return None
        return tx.settlement_fee


def invoice_status(payload: object, where: str) -> InvoiceStatus:
    """Read the `status` of an `LnInvoicePaymentStatus` or its subscription payload."""
    return _enum(_mapping(payload, where), "status", where, InvoiceStatus)


def _account_beside(me: object) -> Account | None:
    """Read the balances sent along; a payment must not be lost over them."""
    if me is None:
        return None
    try:
        return Account.from_payload(me)
    except BlinkModelError as err:
        LOGGER.debug("Ignoring the account sent with an update: %s", err)
        return None
