"""Blink's HTTP GraphQL API: state, history and catch-up."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Final

import aiohttp
import orjson

from ._errors import (
    cut,
    graphql_error,
    retry_after,
    says_not_authorized,
    says_unauthenticated,
)
from .const import LOGGER, PRODUCTION_API_URL
from .decoding import convert
from .exceptions import (
    BlinkAuthError,
    BlinkConnectionError,
    BlinkModelError,
    BlinkPaymentError,
    BlinkPermissionError,
    BlinkProtocolError,
    BlinkRateLimitError,
)
from .models import (
    NO_TRANSACTIONS,
    Account,
    Currency,
    Invoice,
    InvoiceStatus,
    InvoiceStatusUpdate,
    PaymentResult,
    PaymentSendResult,
    PricePoint,
    RealtimePrice,
    Transaction,
    TransactionPage,
)
from .queries import (
    ACCOUNT_QUERY,
    BTC_PRICE_LIST_QUERY,
    CURRENCY_LIST_QUERY,
    LN_ADDRESS_PAYMENT_SEND_MUTATION,
    LN_INVOICE_CREATE_MUTATION,
    LN_INVOICE_PAYMENT_SEND_MUTATION,
    LN_INVOICE_PAYMENT_STATUS_BY_HASH_QUERY,
    LN_USD_INVOICE_CREATE_MUTATION,
    PENDING_INCOMING_TRANSACTIONS_QUERY,
    REALTIME_PRICE_QUERY,
    SCOPES_QUERY,
    TRANSACTIONS_QUERY,
)

DEFAULT_REQUEST_TIMEOUT: Final = 30.0


class BlinkClient:
    """Ask Blink's HTTP GraphQL endpoint, with the session it is given."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_key: str,
        *,
        api_url: str = PRODUCTION_API_URL,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    ) -> None:
        """Keep the session, key and endpoint; nothing is sent yet."""
        self._session = session
        self._api_key = api_key
        self._api_url = api_url
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)

    @property
    def api_url(self) -> str:
        """The HTTP GraphQL endpoint in use."""
        return self._api_url

    async def execute(
        self,
        document: str,
        variables: Mapping[str, Any] | None = None,
        *,
        operation_name: str | None = None,
    ) -> dict[str, Any]:
        """Send one GraphQL document and return its `data`.

        Raises BlinkAuthError when the key is refused, BlinkConnectionError (or its
        BlinkRateLimitError) for anything worth retrying, BlinkGraphQLError for
        top-level GraphQL errors and BlinkProtocolError for an unreadable answer.
        """
        body: dict[str, Any] = {"query": document, "variables": dict(variables or {})}
        if operation_name is not None:
            body["operationName"] = operation_name
        try:
            async with self._session.post(
                self._api_url,
                data=orjson.dumps(body),
                headers={
                    "X-API-KEY": self._api_key,
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                },
                timeout=self._timeout,
            ) as response:
                status = response.status
                wait = retry_after(response.headers)
                raw = await response.read()
        except TimeoutError as err:
            msg = "Blink did not answer in time"
            raise BlinkConnectionError(msg) from err
        except aiohttp.ClientError as err:
            msg = f"Cannot reach Blink: {type(err).__name__}"
            raise BlinkConnectionError(msg) from err
        return self._data(status, wait, raw)

    def _data(self, status: int, wait: float | None, raw: bytes) -> dict[str, Any]:
        """Map an HTTP answer to its `data`, or to the exception it means."""
        if status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
            msg = f"Blink refused the API key (HTTP {status})"
            raise BlinkAuthError(msg)
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            msg = "Blink is rate limiting requests (HTTP 429)"
            raise BlinkRateLimitError(msg, retry_after=wait)
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            msg = f"Blink is unavailable (HTTP {status})"
            raise BlinkConnectionError(msg, retry_after=wait)
        try:
            payload = orjson.loads(raw)
        except orjson.JSONDecodeError:
            # Gateways answer with HTML pages; that is an outage, not a bug.
            LOGGER.debug("Blink answered HTTP %s with: %s", status, cut(raw))
            msg = f"Blink answered HTTP {status} without JSON"
            raise BlinkConnectionError(msg, retry_after=wait) from None
        if not isinstance(payload, dict):
            msg = "Blink answered with JSON that is not an object"
            raise BlinkProtocolError(msg)
        if payload.get("errors"):
            error = graphql_error(payload["errors"])
            if says_unauthenticated(error):
                msg = "Blink refused the API key"
                raise BlinkAuthError(msg) from error
            if says_not_authorized(error):
                raise BlinkPermissionError(error.messages, error.codes) from None
            raise error
        data = payload.get("data")
        if not isinstance(data, dict):
            msg = f"Blink answered HTTP {status} without data"
            raise BlinkProtocolError(msg)
        return data

    async def _me(
        self,
        document: str,
        operation_name: str,
        variables: Mapping[str, Any] | None = None,
    ) -> object:
        """Run a `me { … }` query and return `me`, which is null without a user."""
        data = await self.execute(document, variables, operation_name=operation_name)
        me = data.get("me")
        if me is None:
            msg = "Blink does not know the API key's user"
            raise BlinkAuthError(msg)
        return me

    async def account(self) -> Account:
        """Return the default account with its wallets and balances."""
        return convert(await self._me(ACCOUNT_QUERY, "Account"), Account, "me")

    async def transactions(
        self, *, first: int = 50, after: str | None = None
    ) -> TransactionPage:
        """Return a page of transactions, newest first; `after` is a transaction id."""
        me = await self._me(
            TRANSACTIONS_QUERY, "Transactions", {"first": first, "after": after}
        )
        account = _field(me, "defaultAccount")
        page = _field(account, "transactions", null=True)
        if page is None:
            return NO_TRANSACTIONS
        return convert(page, TransactionPage, "transactions")

    async def pending_incoming_transactions(self) -> tuple[Transaction, ...]:
        """Return on-chain receipts seen but not yet confirmed."""
        me = await self._me(
            PENDING_INCOMING_TRANSACTIONS_QUERY, "PendingIncomingTransactions"
        )
        account = _field(me, "defaultAccount")
        pending = _field(account, "pendingIncomingTransactions")
        return convert(pending, tuple[Transaction, ...], "pendingIncomingTransactions")

    async def currency_list(self) -> tuple[Currency, ...]:
        """Return every display currency Blink prices bitcoin in."""
        data = await self.execute(CURRENCY_LIST_QUERY, operation_name="CurrencyList")
        currencies = _field(data, "currencyList")
        return convert(currencies, tuple[Currency, ...], "currencyList")

    async def realtime_price(self, currency: str) -> RealtimePrice:
        """Return the current price in `currency` (a display currency code)."""
        data = await self.execute(
            REALTIME_PRICE_QUERY, {"currency": currency}, operation_name="RealtimePrice"
        )
        return convert(_field(data, "realtimePrice"), RealtimePrice, "realtimePrice")

    async def btc_price_history(self, price_range: str) -> tuple[PricePoint, ...]:
        """Return Blink's BTC price history over `price_range`, oldest first.

        `price_range` is one of ONE_DAY, ONE_WEEK, ONE_MONTH, ONE_YEAR, FIVE_YEARS.
        The last point is the live price, not a bucket. Needs no scope.
        """
        data = await self.execute(
            BTC_PRICE_LIST_QUERY, {"range": price_range}, operation_name="BtcPriceList"
        )
        points = _field(data, "btcPriceList")
        # The schema lets an item be null; Blink's own app drops such items.
        read = convert(points, tuple[PricePoint | None, ...], "btcPriceList")
        return tuple(point for point in read if point is not None)

    async def scopes(self) -> frozenset[str]:
        """Return the scopes of the API key (READ, RECEIVE, WRITE)."""
        data = await self.execute(SCOPES_QUERY, operation_name="Scopes")
        scopes = _field(_field(data, "authorization"), "scopes")
        return convert(scopes, frozenset[str], "authorization.scopes")

    # --- invoices and payments ------------------------------------------------------

    async def create_invoice(
        self,
        wallet_id: str,
        amount: int,
        *,
        memo: str | None = None,
        expires_in: int | None = None,
    ) -> Invoice:
        """Create an invoice of `amount` sats for the BTC wallet `wallet_id`.

        `expires_in` is in minutes. Blink's default is 4 hours, and Blink puts
        its default in place of any expiry outside 1 minute to 24 hours.
        Needs the RECEIVE (or WRITE) scope: BlinkPermissionError otherwise.
        """
        return await self._create_invoice(
            LN_INVOICE_CREATE_MUTATION,
            "lnInvoiceCreate",
            wallet_id=wallet_id,
            amount=amount,
            memo=memo,
            expires_in=expires_in,
        )

    async def create_usd_invoice(
        self,
        wallet_id: str,
        amount_cents: int,
        *,
        memo: str | None = None,
        expires_in: int | None = None,
    ) -> Invoice:
        """Create an invoice of `amount_cents` for the Stablesats wallet `wallet_id`.

        Blink converts the cents to sats at creation and holds that rate for 5
        minutes at most: an expiry (minutes) outside 1 to 5 becomes 5.
        """
        return await self._create_invoice(
            LN_USD_INVOICE_CREATE_MUTATION,
            "lnUsdInvoiceCreate",
            wallet_id=wallet_id,
            amount=amount_cents,
            memo=memo,
            expires_in=expires_in,
        )

    async def _create_invoice(
        self,
        document: str,
        root: str,
        *,
        wallet_id: str,
        amount: int,
        memo: str | None,
        expires_in: int | None,
    ) -> Invoice:
        variables: dict[str, Any] = {"walletId": wallet_id, "amount": amount}
        if memo is not None:
            variables["memo"] = memo
        if expires_in is not None:
            variables["expiresIn"] = expires_in
        data = await self.execute(
            document, variables, operation_name=root[0].upper() + root[1:]
        )
        payload = _payload(data, root)
        if payload.get("errors"):
            raise graphql_error(payload["errors"])
        return convert(_field(payload, "invoice"), Invoice, "invoice")

    async def invoice_status(self, payment_hash: str) -> InvoiceStatus:
        """Return whether the invoice with `payment_hash` is pending, paid or expired.

        An unknown hash is a BlinkGraphQLError. Needs no scope.
        """
        data = await self.execute(
            LN_INVOICE_PAYMENT_STATUS_BY_HASH_QUERY,
            {"paymentHash": payment_hash},
            operation_name="LnInvoicePaymentStatusByHash",
        )
        root = "lnInvoicePaymentStatusByHash"
        answer = convert(_field(data, root), InvoiceStatusUpdate, root)
        if answer.status is None:
            msg = f"{root}.status is missing"
            raise BlinkModelError(msg)
        return answer.status

    async def pay_invoice(
        self, wallet_id: str, payment_request: str, *, memo: str | None = None
    ) -> PaymentResult:
        """Pay a BOLT11 invoice (it carries the amount) from the wallet `wallet_id`.

        Returns SUCCESS, PENDING (in flight) or ALREADY_PAID. A refusal or a
        failure Blink reports (insufficient balance, no route, an amountless
        invoice) raises BlinkPaymentError; a key without the WRITE scope raises
        BlinkPermissionError. A BlinkConnectionError leaves it unknown whether
        the payment went out: look at the transactions before paying again.
        """
        variables: dict[str, Any] = {
            "walletId": wallet_id,
            "paymentRequest": payment_request,
        }
        if memo is not None:
            variables["memo"] = memo
        return await self._pay(
            LN_INVOICE_PAYMENT_SEND_MUTATION, "lnInvoicePaymentSend", variables
        )

    async def pay_lightning_address(
        self, wallet_id: str, lightning_address: str, amount_sats: int
    ) -> PaymentResult:
        """Pay `amount_sats` to a Lightning address (user@domain); as pay_invoice."""
        return await self._pay(
            LN_ADDRESS_PAYMENT_SEND_MUTATION,
            "lnAddressPaymentSend",
            {
                "walletId": wallet_id,
                "lnAddress": lightning_address,
                "amount": amount_sats,
            },
        )

    async def _pay(
        self, document: str, root: str, variables: dict[str, Any]
    ) -> PaymentResult:
        data = await self.execute(
            document, variables, operation_name=root[0].upper() + root[1:]
        )
        payload = _payload(data, root)
        status = payload.get("status")
        status = status if isinstance(status, str) else None
        if payload.get("errors"):
            error = graphql_error(payload["errors"])
            raise BlinkPaymentError(error.messages, error.codes, status=status)
        result = convert(payload, PaymentResult, root)
        if result.status is PaymentSendResult.FAILURE:
            msg = "Blink reported the payment as failed"
            raise BlinkPaymentError([msg], status=status)
        return result


def _payload(data: Mapping[str, Any], root: str) -> Mapping[str, Any]:
    """Return a mutation's payload object, whose `errors` say why it was refused."""
    payload = _field(data, root)
    if not isinstance(payload, Mapping):
        msg = f"{root} is not an object"
        raise BlinkModelError(msg)
    return payload


def _field(parent: object, key: str, *, null: bool = False) -> object:
    """Step into a response object, turning a missing field into BlinkModelError."""
    if not isinstance(parent, Mapping):
        msg = f"expected an object around {key}"
        raise BlinkModelError(msg)
    value = parent.get(key)
    if value is None and not null:
        msg = f"{key} is missing"
        raise BlinkModelError(msg)
    return value
