"""Blink's public schema made executable over the simulator's plain-Python state.

The SDL is Blink's own, unmodified; resolvers are attached to the built schema so
graphql-core does the parsing, validation, field selection, abstract-type
resolution and variable coercion exactly as a GraphQL server does. Only the
fields a client of this integration needs have resolvers; any other root field
answers with an error that says so. Mutations and the invoice-status
subscriptions slot in by adding entries to `_QUERY`, `_MUTATION` or
`_SUBSCRIPTION`.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
import re
from typing import Any

from graphql import (
    ExecutionResult,
    GraphQLAbstractType,
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    build_schema,
)

from .pubsub import (
    ErrorEvent,
    Event,
    Hub,
    Listener,
    PriceEvent,
    TransactionEvent,
    account_topic,
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
    """The caller's account, refused like Blink's shield and scope middlewares."""
    context = info.context
    if context.account is None:
        msg = "Not authorized"
        raise _error(msg, "NOT_AUTHORIZED")
    if read and "READ" not in context.scopes:
        msg = "not authorized to read data"
        raise _error(msg, "NOT_AUTHORIZED")
    return context.account


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
    _account(info, read=False)
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
            return {"errors": [], "me": account.user, "update": update}


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
}
_MUTATION: dict[str, Resolver] = {}
# field -> (subscribe, resolve)
_SUBSCRIPTION: dict[str, tuple[Resolver, Resolver]] = {
    "myUpdates": (_subscribe_my_updates, _my_updates),
    "realtimePrice": (_subscribe_realtime_price, _realtime_price_payload),
    "price": (_subscribe_price, _price_payload),
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
