"""Blink's public schema made executable over the simulator's plain-Python state.

The SDL is Blink's own, unmodified; resolvers are attached to the built schema so
graphql-core does the parsing, validation, field selection, abstract-type
resolution and variable coercion exactly as a GraphQL server does. Only the
fields a client of this integration needs have resolvers; any other root field
answers with an error that says so. Further fields slot in by adding entries
to `_QUERY`, `_MUTATION` or `_SUBSCRIPTION`.

Mutations check the key's scope like Blink's scope middleware: paying needs
WRITE, creating invoices RECEIVE or WRITE; a missing scope is a top-level error
(the payload type is non-null, so `data` is null).
"""

from collections.abc import Callable, Mapping
import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
import re
from typing import Any, Literal

from graphql import (
    ExecutionResult,
    GraphQLAbstractType,
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    build_schema,
)

from . import bolt11, lightning
from .control import Behaviour, Stats
from .price_history import js_round, point as price_point
from .pubsub import (
    Alarm,
    ErrorEvent,
    Event,
    Hub,
    InvoiceEvent,
    Listener,
    PriceEvent,
    TransactionEvent,
    account_topic,
    invoice_topic,
    price_topic,
    user_price_topic,
)
from .state import (
    CURRENCIES,
    Account,
    InitiationViaIntraLedger,
    InitiationViaLn,
    InitiationViaOnChain,
    IntraLedgerUpdate,
    Invoice,
    LnUpdate,
    OnChainUpdate,
    Price,
    RealtimePrice,
    Scope,
    SettlementViaIntraLedger,
    SettlementViaLn,
    SettlementViaOnChain,
    SimulatorState,
    Transaction,
    Wallet,
)
from .wire import member_of, pushed, serialize_timestamp

SCHEMA_FILE = Path(__file__).with_name("blink-public-schema.graphql")
# Blink's MAX_PAGINATION_PAGE_SIZE; also the page size when none is asked for.
MAX_PAGE_SIZE = 100
# Blink refuses `price` subscriptions for amounts at or above this (SafeInt room).
MAX_PRICE_AMOUNT = 1_000_000

type Resolver = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Context:
    """Who is asking: the account and scopes of a valid key, or nobody."""

    state: SimulatorState
    hub: Hub
    account: Account | None = None
    scopes: tuple[Scope, ...] = ()
    stats: Stats = dataclasses.field(default_factory=Stats)
    behaviour: Behaviour = dataclasses.field(default_factory=Behaviour)


@dataclass(frozen=True, slots=True)
class AppError:
    """An entry of a payload's `errors` (`GraphQLApplicationError`)."""

    message: str
    code: str | None = None
    path: list[str] | None = None


type Info = GraphQLResolveInfo[Context]


def _error(message: str, code: str) -> GraphQLError:
    """A GraphQL error carrying Blink's error code."""
    return GraphQLError(message, extensions={"code": code})


def _account(info: Info, *, read: bool = True) -> Account:
    """The caller's account, refused like Blink's shield and scope middlewares.

    blinkbitcoin/blink core/api/src/servers/graphql-public-api-server.ts: shield
    refuses a caller without an account ("Not authorized"). Then
    core/api/src/servers/middlewares/scope.ts (`readAuthorize`) refuses a key
    whose scopes lack READ on every authed query field (`me`, `authorization`,
    ...) with its domain AuthorizationError, which core/api/src/graphql/error-map.ts
    turns into an unexpected client error.
    """
    context = info.context
    if context.account is None:
        msg = "Not authorized"
        raise _error(msg, "NOT_AUTHORIZED")
    if read and "READ" not in context.scopes:
        raise _error(_NO_READ_SCOPE, "UNEXPECTED_CLIENT_ERROR")
    return context.account


# How Blink's error map words the scope middleware's refusal of a read.
_NO_READ_SCOPE = (
    "Unexpected error occurred, please try again or contact support if it persists"
    " (code: AuthorizationError: not authorized to read data)"
)


# Blink's scope middleware returns its domain AuthorizationError, which its error
# map does not know, so it reaches the client as an unexpected error.
_NO_WRITE_SCOPE = (
    "Unexpected error occurred, please try again or contact support if it persists"
    " (code: AuthorizationError: not authorized to execute mutations)"
)


def _writer(info: Info, *, receiving: bool = False) -> Account:
    """The caller's account, if its key may pay (WRITE) or receive (RECEIVE)."""
    account = _account(info, read=False)
    scopes = info.context.scopes
    if "WRITE" not in scopes and not (receiving and "RECEIVE" in scopes):
        raise _error(_NO_WRITE_SCOPE, "UNEXPECTED_CLIENT_ERROR")
    return account


# --- generic resolution -------------------------------------------------------


@cache
def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def field_resolver(source: Any, info: Info, **_args: Any) -> Any:
    """Read camelCase fields from mappings as is, from objects as snake_case."""
    if isinstance(source, Mapping):
        return source.get(info.field_name)
    return getattr(source, _snake(info.field_name), None)


_TYPE_NAMES: dict[type, str] = {
    Account: "ConsumerAccount",
    AppError: "GraphQLApplicationError",
    InitiationViaIntraLedger: "InitiationViaIntraLedger",
    InitiationViaLn: "InitiationViaLn",
    InitiationViaOnChain: "InitiationViaOnChain",
    IntraLedgerUpdate: "IntraLedgerUpdate",
    LnUpdate: "LnUpdate",
    OnChainUpdate: "OnChainUpdate",
    Price: "Price",
    RealtimePrice: "RealtimePrice",
    SettlementViaIntraLedger: "SettlementViaIntraLedger",
    SettlementViaLn: "SettlementViaLn",
    SettlementViaOnChain: "SettlementViaOnChain",
}


def type_resolver(
    value: Any, _info: Info, _abstract_type: GraphQLAbstractType
) -> str | None:
    """Name the concrete type of an interface or union value."""
    if isinstance(value, Mapping):
        return member_of(value, _abstract_type.name)
    if isinstance(value, Wallet):
        return "BTCWallet" if value.wallet_currency == "BTC" else "UsdWallet"
    return _TYPE_NAMES.get(type(value))


# --- transactions and pagination -----------------------------------------------


def _newest_first(
    transactions: list[Transaction], wallet_ids: set[str] | None = None
) -> list[Transaction]:
    return [
        tx
        for tx in reversed(transactions)
        if wallet_ids is None or tx.wallet_id in wallet_ids
    ]


def _page_size(size: int | None) -> None:
    if size is None:
        return
    if size > MAX_PAGE_SIZE:
        msg = (
            f"Requested page size ({size}) is greater than max allowed page size "
            f"{MAX_PAGE_SIZE}."
        )
        raise _error(msg, "INVALID_INPUT")
    if size <= 0:
        msg = f"Requested page size ({size}) must be greater than 0."
        raise _error(msg, "INVALID_INPUT")


def _cursor(cursor: str | None) -> str | None:
    """Cursors are transaction ids (ObjectIds): they compare like creation order."""
    if cursor is not None and not re.fullmatch(r"[0-9a-f]{24}", cursor):
        msg = f"Invalid cursor: {cursor[:40]}"
        raise _error(msg, "INVALID_INPUT")
    return cursor


def paginate(
    newest_first: list[Transaction], args: Mapping[str, Any]
) -> dict[str, Any]:
    """A TransactionConnection page the way Blink's ledger pages: by id, newest first."""
    first, last = args.get("first"), args.get("last")
    if first is not None and last is not None:
        msg = 'Cannot use both "first" and "last".'
        raise _error(msg, "INVALID_INPUT")
    _page_size(first)
    _page_size(last)
    after, before = _cursor(args.get("after")), _cursor(args.get("before"))
    items = newest_first
    if after is not None:
        items = [tx for tx in items if tx.id < after]
    if before is not None:
        items = [tx for tx in items if tx.id > before]
    if last is not None:
        page = items[-last:]
        has_next, has_previous = False, len(items) > last
    else:
        size = first or MAX_PAGE_SIZE
        page = items[:size]
        has_next = len(items) > size
        has_previous = bool(page) and page[0] is not newest_first[0]
    return {
        "edges": [{"cursor": tx.id, "node": tx} for tx in page],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": page[0].id if page else None,
            "endCursor": page[-1].id if page else None,
        },
    }


def _wallet_ids(
    account: Account, wallet_ids: list[str | None] | None
) -> set[str] | None:
    """The wallet filter of a query, refusing wallets of other accounts."""
    if wallet_ids is None:
        return None
    ids = {wallet_id for wallet_id in wallet_ids if wallet_id is not None}
    for wallet_id in ids:
        if account.wallet_by_id(wallet_id) is None:
            msg = f"Invalid walletId for account: {wallet_id}"
            raise _error(msg, "INVALID_INPUT")
    return ids


# --- Query -----------------------------------------------------------------------


async def _me(_root: Any, info: Info) -> Any:
    return _account(info).user


def _authorization(_root: Any, info: Info) -> Any:
    # An authed query field like `me`: READ-guarded by Blink's scope middleware
    # (blinkbitcoin/blink core/api/src/graphql/public/queries.ts).
    _account(info)
    return {"scopes": list(info.context.scopes)}


def _currency_list(_root: Any, _info: Info) -> Any:
    return list(CURRENCIES.values())


def _quote(info: Info, currency: str) -> RealtimePrice:
    if currency not in CURRENCIES:
        msg = "Invalid currency."
        raise _error(msg, "INVALID_INPUT")
    return info.context.state.market.quote(currency)


def _realtime_price(_root: Any, info: Info, currency: str) -> Any:
    return _quote(info, currency)


def _btc_price_list(_root: Any, info: Info, range: str) -> Any:  # noqa: A002
    """Blink's price history, USD cents per BTC, and the live price appended.

    blinkbitcoin/blink core/api/src/graphql/public/root/query/btc-price-list.ts;
    an empty history is PriceHistoryNotAvailableError, mapped to
    UNEXPECTED_CLIENT_ERROR (core/api/src/graphql/error-map.ts).
    """
    state = info.context.state
    now = state.clock()
    points = state.price_history.points(range, datetime.fromtimestamp(now, UTC))
    if not points:
        msg = (
            "Unexpected error occurred, please try again or contact support if it"
            " persists (code: PriceHistoryNotAvailableError)"
        )
        raise _error(msg, "UNEXPECTED_CLIENT_ERROR")
    live = price_point(js_round(now), float(state.market.btc_usd))
    return [p.as_graphql() for p in (*points, live)]


# --- Account and Wallet ------------------------------------------------------------


def _account_transactions(account: Account, _info: Info, **args: Any) -> Any:
    wallet_ids = _wallet_ids(account, args.get("walletIds"))
    return paginate(_newest_first(account.transactions, wallet_ids), args)


def _account_pending(account: Account, _info: Info, **args: Any) -> Any:
    wallet_ids = _wallet_ids(account, args.get("walletIds"))
    return _newest_first(account.pending_incoming, wallet_ids)


def _wallet_by_id(account: Account, _info: Info, walletId: str) -> Any:  # noqa: N803
    wallet = account.wallet_by_id(walletId)
    if wallet is None:
        msg = f"Invalid walletId for account: {walletId}"
        raise _error(msg, "INVALID_INPUT")
    return wallet


def _account_realtime_price(account: Account, info: Info) -> Any:
    return _quote(info, account.display_currency)


def _default_wallet(account: Account, _info: Info) -> Any:
    wallet = account.btc_wallet
    return {"id": wallet.id, "currency": "BTC", "walletCurrency": "BTC"}


def _owner(wallet: Wallet, info: Info) -> Account:
    return info.context.state.accounts[wallet.account_id]


def _wallet_transactions(wallet: Wallet, info: Info, **args: Any) -> Any:
    transactions = _owner(wallet, info).transactions
    return paginate(_newest_first(transactions, {wallet.id}), args)


def _wallet_pending(wallet: Wallet, info: Info) -> Any:
    return _newest_first(_owner(wallet, info).pending_incoming, {wallet.id})


def _transaction_by_id(
    wallet: Wallet,
    info: Info,
    transactionId: str,  # noqa: N803
) -> Any:
    for tx in _owner(wallet, info).transactions:
        if tx.id == transactionId and tx.wallet_id == wallet.id:
            return tx
    msg = f"Transaction not found: {transactionId}"
    raise _error(msg, "NOT_FOUND")


def _by_payment_hash(
    wallet: Wallet,
    info: Info,
    paymentHash: str,  # noqa: N803
) -> Any:
    return [
        tx
        for tx in _newest_first(_owner(wallet, info).transactions, {wallet.id})
        if isinstance(tx.initiation_via, InitiationViaLn)
        and tx.initiation_via.payment_hash == paymentHash
    ]


# --- invoices and payments --------------------------------------------------------


def _refused(refusal: lightning.Refusal, **payload: Any) -> dict[str, Any]:
    """A payload carrying Blink's refusal in `errors`."""
    result = {"errors": [AppError(refusal.message, refusal.code)], **payload}
    if refusal.status is not None:
        result["status"] = refusal.status
    return result


def _create_invoice(
    info: Info,
    input: Mapping[str, Any],  # noqa: A002
    currency: Literal["BTC", "USD"],
) -> Any:
    account = _writer(info, receiving=True)
    wallet = account.wallet_by_id(input["walletId"])
    if wallet is None:
        return {"errors": [AppError("Invalid walletId for account.")]}
    if wallet.wallet_currency != currency:
        message = "Unsupported operation for wallet's currency."
        return {"errors": [AppError(message, "INVALID_INPUT")]}
    amount, minutes = input["amount"], input.get("expiresIn")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        unit = "satoshi" if currency == "BTC" else "usd"
        return {
            "errors": [AppError(f"A valid {unit} amount is required", "INVALID_INPUT")]
        }
    if minutes is not None and (
        not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 0
    ):
        message = f"Invalid value for minutes: {minutes}"
        return {"errors": [AppError(message, "INVALID_INPUT")]}
    try:
        lightning.check_receive(info.context.state, info.context.behaviour, account)
    except lightning.Refusal as refusal:
        return {"errors": [AppError(refusal.message, refusal.code)]}
    # An expiry out of Blink's range becomes the default without a word
    # (blinkbitcoin/blink core/api/src/domain/bitcoin/lightning/invoice-expiration.ts).
    invoice = lightning.create_invoice(
        info.context.state,
        account,
        currency,
        amount,
        memo=input.get("memo") or None,
        expiry=lightning.expiry_seconds(currency, minutes or None),
    )
    return {"errors": [], "invoice": invoice}


def _ln_invoice_create(
    _root: Any,
    info: Info,
    input: Mapping[str, Any],  # noqa: A002
) -> Any:
    return _create_invoice(info, input, "BTC")


def _ln_usd_invoice_create(
    _root: Any,
    info: Info,
    input: Mapping[str, Any],  # noqa: A002
) -> Any:
    return _create_invoice(info, input, "USD")


def _payment_payload(info: Info, outcome: lightning.Outcome) -> Any:
    if outcome.status != "ALREADY_PAID":
        info.context.stats.payments_sent += 1
    return {"errors": [], "status": outcome.status, "transaction": outcome.transaction}


def _ln_invoice_payment_send(
    _root: Any,
    info: Info,
    input: Mapping[str, Any],  # noqa: A002
) -> Any:
    account = _writer(info)
    context = info.context
    try:
        outcome = lightning.pay_request(
            context.state,
            context.hub,
            account,
            wallet_id=input["walletId"],
            request=input["paymentRequest"],
            memo=input.get("memo"),
            script=context.behaviour.payment_script,
            reimburse_fees=context.behaviour.reimburse_fees,
        )
    except lightning.Refusal as refusal:
        return _refused(refusal)
    return _payment_payload(info, outcome)


def _ln_address_payment_send(
    _root: Any,
    info: Info,
    input: Mapping[str, Any],  # noqa: A002
) -> Any:
    account = _writer(info)
    context = info.context
    try:
        outcome = lightning.pay_address(
            context.state,
            context.hub,
            account,
            wallet_id=input["walletId"],
            address=input["lnAddress"],
            amount=input["amount"],
            script=context.behaviour.payment_script,
            reimburse_fees=context.behaviour.reimburse_fees,
        )
    except lightning.Refusal as refusal:
        return _refused(refusal)
    return _payment_payload(info, outcome)


def _hash_of(payment_hash: object) -> str:
    """A valid PaymentHash, or the input error Blink's scalar throws."""
    if not lightning.is_payment_hash(payment_hash):
        msg = "Invalid value for PaymentHash"
        raise _error(msg, "INVALID_INPUT")
    assert isinstance(payment_hash, str)
    return payment_hash.lower()


def _hash_of_request(request: object) -> str:
    """The hash of a payment request, or the input error Blink throws."""
    try:
        return bolt11.decode(str(request)).payment_hash
    except ValueError:
        msg = "Invalid value for LnPaymentRequest"
        raise _error(msg, "INVALID_INPUT") from None


def _invoice_of(info: Info, payment_hash: str) -> Invoice:
    """The invoice of a hash, or the error Blink throws for one it never issued."""
    invoice = info.context.state.invoices.get(payment_hash)
    if invoice is None:
        refusal = lightning.not_found(payment_hash)
        raise _error(refusal.message, refusal.code or "")
    return invoice


def _status_of(info: Info, invoice: Invoice) -> dict[str, Any]:
    return {
        "paymentHash": invoice.payment_hash,
        "paymentRequest": invoice.payment_request,
        "status": invoice.status_at(info.context.state.clock()),
    }


def _status_by_hash(
    _root: Any,
    info: Info,
    input: Mapping[str, Any],  # noqa: A002
) -> Any:
    return _status_of(info, _invoice_of(info, _hash_of(input["paymentHash"])))


def _status_by_request(
    _root: Any,
    info: Info,
    input: Mapping[str, Any],  # noqa: A002
) -> Any:
    return _status_of(
        info, _invoice_of(info, _hash_of_request(input["paymentRequest"]))
    )


def _status_payload_by_request(
    _root: Any,
    info: Info,
    input: Mapping[str, Any],  # noqa: A002
) -> Any:
    """The deprecated query: a payload, so refusals come in its `errors`."""
    try:
        invoice = _invoice_of(info, _hash_of_request(input["paymentRequest"]))
    except GraphQLError as err:
        code = (err.extensions or {}).get("code")
        return {"errors": [AppError(err.message, code)]}
    return {"errors": [], **_status_of(info, invoice)}


# --- Subscription ---------------------------------------------------------------------


def _listen_with(context: Context, topics: tuple[str, ...], *first: Event) -> Listener:
    """A listener that first gets `first` (Blink's immediate, private trigger)."""
    listener = context.hub.listen(topics)
    for event in first:
        listener.put(event)
    return listener


async def _subscribe_my_updates(_root: Any, info: Info) -> Listener:
    """Listen to the account and its display currency, then publish the price.

    Blink publishes the current price to the account's trigger, so every open
    `myUpdates` of the account receives it, not only the new one.
    """
    context = info.context
    account = context.account
    if account is None:
        msg = "Not Authenticated for subscription"
        raise _error(msg, "NOT_AUTHENTICATED")
    currency = account.display_currency
    topic = account_topic(account.id)
    listener = context.hub.listen((topic, user_price_topic(currency)))
    quote = context.state.market.quote(currency)
    if currency == "USD":
        context.hub.publish(topic, PriceEvent(quote, deprecated=True))
    context.hub.publish(topic, PriceEvent(quote))
    return listener


def _listen_to_invoice(info: Info, payment_hash: str) -> Listener:
    """Blink's invoice status subscription: the status now, then its changes.

    Like Blink, it arms a timer for the expiry (plus a second) and never ends
    the stream itself; an unknown invoice gets a payload with `errors`.
    """
    context = info.context
    state, hub = context.state, context.hub
    invoice = state.invoices.get(payment_hash)
    if invoice is None:
        refusal = lightning.not_found(payment_hash)
        event = ErrorEvent(refusal.message, refusal.code)
        return _listen_with(context, (invoice_topic(payment_hash),), event)

    def delay() -> float | None:
        if invoice.status != "PENDING":
            return None
        left = max(invoice.expires_at - state.clock(), 0)
        return min(left, state.expiry_check_interval) + state.expiry_notice_delay

    def ring() -> None:
        # ln-invoice-payment-status-by-hash.ts: at expiry + 1 s it checks whether
        # the invoice was paid; when that check errors, no EXPIRED is published.
        if context.behaviour.expiry_check_fails:
            return
        if invoice.status_at(state.clock()) == "EXPIRED":
            lightning.expire(state, hub, invoice)

    listener = hub.listen((invoice_topic(invoice.payment_hash),), Alarm(delay, ring))
    now = invoice.status_at(state.clock())
    listener.put(InvoiceEvent(invoice.payment_hash, invoice.payment_request, now))
    return listener


def _subscribe_status_by_hash(
    _root: Any,
    info: Info,
    input: Mapping[str, Any],  # noqa: A002
) -> Listener:
    return _listen_to_invoice(info, _hash_of(input["paymentHash"]))


def _subscribe_status_by_request(
    _root: Any,
    info: Info,
    input: Mapping[str, Any],  # noqa: A002
) -> Listener:
    return _listen_to_invoice(info, _hash_of_request(input["paymentRequest"]))


def _invoice_status_payload(event: Event, _info: Info, **_args: Any) -> Any:
    if isinstance(event, ErrorEvent):
        return {"errors": [AppError(event.message, event.code)]}
    assert isinstance(event, InvoiceEvent)
    return {
        "errors": [],
        "paymentHash": event.payment_hash,
        "paymentRequest": event.payment_request,
        "status": event.status,
    }


def _deprecated_price(quote: RealtimePrice, amount: int = 1) -> Price:
    """Blink's `Price`: USD cents for `amount` sats, offset 12."""
    per_sat = quote.btc_sat_price
    value = per_sat.value * amount
    return Price(
        base=per_sat.base * amount,
        offset=per_sat.offset,
        currency_unit=f"{quote.denominator_currency}CENT",
        formatted_amount=format(value.normalize(), "f"),
    )


def _my_updates(event: Event, info: Info) -> Any:
    account = info.context.account
    assert account is not None
    match event:
        case PriceEvent(quote=quote, deprecated=True):
            return {"errors": [], "me": None, "update": _deprecated_price(quote)}
        case PriceEvent(quote=quote):
            return {"errors": [], "me": account.user, "update": quote}
        case TransactionEvent(update=update):
            # Through Blink's pubsub: plain JSON, the Date a string (wire.py).
            return {"errors": [], "me": account.user, "update": pushed(update)}


def _subscribe_realtime_price(
    _root: Any,
    info: Info,
    input: Mapping[str, Any],  # noqa: A002
) -> Listener:
    context = info.context
    currency = input.get("currency") or "USD"
    if currency not in CURRENCIES:
        return _listen_with(
            context, (), ErrorEvent("Invalid currency.", "INVALID_INPUT")
        )
    quote = context.state.market.quote(currency)
    return _listen_with(context, (price_topic(currency),), PriceEvent(quote))


def _realtime_price_payload(event: Event, _info: Info, **_args: Any) -> Any:
    if isinstance(event, ErrorEvent):
        return {"errors": [AppError(event.message, event.code)]}
    assert isinstance(event, PriceEvent)
    return {"errors": [], "realtimePrice": event.quote}


def _subscribe_price(
    _root: Any,
    info: Info,
    input: Mapping[str, Any],  # noqa: A002
) -> Listener:
    """Blink only prices sats in USD cents here, and only below a million sats."""
    context = info.context
    amount = input["amount"]
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        return _listen_with(context, (), ErrorEvent("Invalid value for SatAmount"))
    units = (input["amountCurrencyUnit"], input["priceCurrencyUnit"])
    if units != ("BTCSAT", "USDCENT"):
        return _listen_with(context, (), ErrorEvent("Unsupported exchange unit"))
    if amount >= MAX_PRICE_AMOUNT:
        return _listen_with(context, (), ErrorEvent("Unsupported exchange amount"))
    quote = context.state.market.quote("USD")
    return _listen_with(context, (price_topic("USD"),), PriceEvent(quote))


def _price_payload(
    event: Event,
    _info: Info,
    input: Mapping[str, Any],  # noqa: A002
) -> Any:
    if isinstance(event, ErrorEvent):
        return {"errors": [AppError(event.message, event.code)]}
    assert isinstance(event, PriceEvent)
    return {"errors": [], "price": _deprecated_price(event.quote, input["amount"])}


# --- wiring --------------------------------------------------------------------------

_QUERY: dict[str, Resolver] = {
    "me": _me,
    "authorization": _authorization,
    "currencyList": _currency_list,
    "realtimePrice": _realtime_price,
    "btcPriceList": _btc_price_list,
    "lnInvoicePaymentStatusByHash": _status_by_hash,
    "lnInvoicePaymentStatusByPaymentRequest": _status_by_request,
    "lnInvoicePaymentStatus": _status_payload_by_request,
}
_MUTATION: dict[str, Resolver] = {
    "lnInvoiceCreate": _ln_invoice_create,
    "lnUsdInvoiceCreate": _ln_usd_invoice_create,
    "lnInvoicePaymentSend": _ln_invoice_payment_send,
    "lnAddressPaymentSend": _ln_address_payment_send,
}
# field -> (subscribe, resolve)
_SUBSCRIPTION: dict[str, tuple[Resolver, Resolver]] = {
    "myUpdates": (_subscribe_my_updates, _my_updates),
    "realtimePrice": (_subscribe_realtime_price, _realtime_price_payload),
    "price": (_subscribe_price, _price_payload),
    "lnInvoicePaymentStatusByHash": (
        _subscribe_status_by_hash,
        _invoice_status_payload,
    ),
    "lnInvoicePaymentStatusByPaymentRequest": (
        _subscribe_status_by_request,
        _invoice_status_payload,
    ),
    "lnInvoicePaymentStatus": (_subscribe_status_by_request, _invoice_status_payload),
}
_ACCOUNT: dict[str, Resolver] = {
    "transactions": _account_transactions,
    "pendingIncomingTransactions": _account_pending,
    "walletById": _wallet_by_id,
    "realtimePrice": _account_realtime_price,
    "defaultWallet": _default_wallet,
}
_WALLET: dict[str, Resolver] = {
    "transactions": _wallet_transactions,
    "pendingIncomingTransactions": _wallet_pending,
    "transactionById": _transaction_by_id,
    "transactionsByPaymentHash": _by_payment_hash,
}


def _not_served(type_name: str, field_name: str) -> Resolver:
    def resolve(*_args: Any, **_kwargs: Any) -> Any:
        msg = f"{type_name}.{field_name} is not served by the Blink simulator"
        raise _error(msg, "NOT_IMPLEMENTED")

    return resolve


def _object_type(schema: GraphQLSchema, name: str) -> GraphQLObjectType:
    graphql_type = schema.get_type(name)
    assert isinstance(graphql_type, GraphQLObjectType)
    return graphql_type


@cache
def blink_schema() -> GraphQLSchema:
    """Blink's schema with the simulator's resolvers (built once per process)."""
    schema = build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))
    timestamp = schema.get_type("Timestamp")
    assert isinstance(timestamp, GraphQLScalarType)
    timestamp.coerce_output_value = serialize_timestamp
    for type_name, resolvers in (("Query", _QUERY), ("Mutation", _MUTATION)):
        for name, field in _object_type(schema, type_name).fields.items():
            field.resolve = resolvers.get(name) or _not_served(type_name, name)
    for name, field in _object_type(schema, "Subscription").fields.items():
        unserved = _not_served("Subscription", name)
        field.subscribe, field.resolve = _SUBSCRIPTION.get(name, (unserved, unserved))
    for name, resolver in _ACCOUNT.items():
        _object_type(schema, "ConsumerAccount").fields[name].resolve = resolver
    for type_name in ("BTCWallet", "UsdWallet"):
        for name, resolver in _WALLET.items():
            _object_type(schema, type_name).fields[name].resolve = resolver
    return schema


def format_result(result: ExecutionResult, *, executed: bool = True) -> dict[str, Any]:
    """An ExecutionResult as graphql-js serialises it.

    When nothing was executed (a refused subscription, bad variables) there is no
    `data` key at all, which is how Blink's refusal of `myUpdates` looks.
    """
    payload: dict[str, Any] = {}
    if executed or result.data is not None:
        payload["data"] = result.data
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    return payload
