"""Invoices and payments through the client, against the simulator over loopback."""

from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.blink_wallet.api import (
    BlinkAuthError,
    BlinkClient,
    BlinkGraphQLError,
    BlinkModelError,
    BlinkPaymentError,
    BlinkPermissionError,
    InvoiceStatus,
    PaymentResult,
    PaymentSendResult,
    TxDirection,
    WalletCurrency,
    decode_bolt11,
    queries,
)
from tests.simulator import TEST_API_KEY, BlinkSimulator, bolt11

from .conftest import serve


@pytest.fixture
def client(session: aiohttp.ClientSession, simulator: BlinkSimulator) -> BlinkClient:
    return BlinkClient(session, TEST_API_KEY, api_url=simulator.http_url)


def limited(
    session: aiohttp.ClientSession, simulator: BlinkSimulator, *scopes: Any
) -> BlinkClient:
    simulator.add_key("limited", scopes=scopes)
    return BlinkClient(session, "limited", api_url=simulator.http_url)


def outside_invoice(
    simulator: BlinkSimulator, sats: int | None, seed: str = "ab"
) -> str:
    """An invoice of a node outside Blink."""
    return bolt11.encode(
        prefix="lnbc",
        amount_msat=None if sats is None else sats * 1000,
        timestamp=int(simulator.state.clock()),
        fields=bolt11.invoice_fields(
            payment_hash=seed * 32, payment_secret="cd" * 32, memo=None, expiry=600
        ),
        private_key=0xBEEF,
    )


def test_the_invoice_documents_exist() -> None:
    """The schema test validates every *_QUERY/*_MUTATION/*_SUBSCRIPTION."""
    assert {
        "LN_INVOICE_CREATE_MUTATION",
        "LN_USD_INVOICE_CREATE_MUTATION",
        "LN_INVOICE_PAYMENT_SEND_MUTATION",
        "LN_ADDRESS_PAYMENT_SEND_MUTATION",
        "LN_INVOICE_PAYMENT_STATUS_BY_HASH_QUERY",
        "LN_INVOICE_PAYMENT_STATUS_BY_HASH_SUBSCRIPTION",
    } <= set(vars(queries))


# --- creating ---------------------------------------------------------------------------


async def test_create_invoice(client: BlinkClient, simulator: BlinkSimulator) -> None:
    wallet = simulator.account.btc_wallet.id

    invoice = await client.create_invoice(wallet, 2_100, memo="pizza", expires_in=60)

    decoded = decode_bolt11(invoice.payment_request)
    assert invoice.satoshis == 2_100
    assert invoice.status is InvoiceStatus.PENDING
    assert invoice.payment_hash == decoded.payment_hash
    assert decoded.amount_sats == 2_100
    assert decoded.description == "pizza"
    assert invoice.created_at == decoded.timestamp
    assert invoice.expires_at == decoded.timestamp + timedelta(minutes=60)
    assert simulator.invoice(invoice.payment_hash).wallet_id == wallet


async def test_create_invoice_without_expiry_gets_blinks_default(
    client: BlinkClient, simulator: BlinkSimulator
) -> None:
    invoice = await client.create_invoice(simulator.account.btc_wallet.id, 10)

    assert invoice.created_at is not None
    assert invoice.expires_at - invoice.created_at == timedelta(hours=4)
    assert decode_bolt11(invoice.payment_request).description is None


async def test_create_usd_invoice(
    client: BlinkClient, simulator: BlinkSimulator
) -> None:
    invoice = await client.create_usd_invoice(
        simulator.account.usd_wallet.id, 1_000, memo="ten dollars", expires_in=30
    )

    # $10 at $95,000 per BTC, for five minutes at most
    assert invoice.satoshis == 10_526
    assert invoice.created_at is not None
    assert invoice.expires_at - invoice.created_at == timedelta(minutes=5)
    await simulator.pay_invoice(invoice.payment_hash)
    assert simulator.account.usd_wallet.balance == 6_000


async def test_creating_an_invoice_needs_receive(
    session: aiohttp.ClientSession, simulator: BlinkSimulator
) -> None:
    reader = limited(session, simulator, "READ")

    with pytest.raises(BlinkPermissionError) as caught:
        await reader.create_invoice(simulator.account.btc_wallet.id, 10)

    assert "not authorized" in caught.value.messages[0]
    assert not isinstance(caught.value, BlinkAuthError)
    receiver = limited(session, simulator, "RECEIVE")
    assert await receiver.create_invoice(simulator.account.btc_wallet.id, 10)


async def test_invoice_refusals_in_the_payload_are_graphql_errors(
    client: BlinkClient, simulator: BlinkSimulator
) -> None:
    with pytest.raises(BlinkGraphQLError) as caught:
        await client.create_invoice(simulator.account.usd_wallet.id, 10)

    assert caught.value.codes == ("INVALID_INPUT",)
    assert not isinstance(caught.value, BlinkPaymentError | BlinkPermissionError)


# --- status -------------------------------------------------------------------------------


async def test_invoice_status_follows_the_invoice(
    client: BlinkClient, simulator: BlinkSimulator
) -> None:
    paid = await simulator.create_invoice(500)
    expired = await simulator.create_invoice(500)

    assert await client.invoice_status(paid.payment_hash) is InvoiceStatus.PENDING
    await simulator.pay_invoice(paid.payment_hash)
    await simulator.expire_invoice(expired.payment_hash)

    assert await client.invoice_status(paid.payment_hash) is InvoiceStatus.PAID
    assert await client.invoice_status(expired.payment_hash) is InvoiceStatus.EXPIRED


async def test_invoice_status_of_an_unknown_hash(client: BlinkClient) -> None:
    with pytest.raises(BlinkGraphQLError) as caught:
        await client.invoice_status("ee" * 32)

    assert caught.value.codes == ("LIGHTNING_PAYMENT_ERROR",)


# --- paying invoices -------------------------------------------------------------------------


async def test_pay_invoice(client: BlinkClient, simulator: BlinkSimulator) -> None:
    request = outside_invoice(simulator, 10_000)

    result = await client.pay_invoice(
        simulator.account.btc_wallet.id, request, memo="rent"
    )

    assert result.status is PaymentSendResult.SUCCESS
    assert result.fee_sats == 20
    tx = result.transaction
    assert tx is not None
    assert tx.direction is TxDirection.SEND
    assert tx.settlement_amount == -10_020
    assert tx.memo == "rent"
    assert tx.payment_hash == decode_bolt11(request).payment_hash
    assert simulator.account.btc_wallet.balance == 250_000 - 10_020
    assert [p.amount for p in simulator.sent_payments] == [10_000]


async def test_paying_twice_is_already_paid_and_sends_nothing_more(
    client: BlinkClient, simulator: BlinkSimulator
) -> None:
    wallet, request = simulator.account.btc_wallet.id, outside_invoice(simulator, 1)
    first = await client.pay_invoice(wallet, request)

    again = await client.pay_invoice(wallet, request)

    assert again.status is PaymentSendResult.ALREADY_PAID
    assert again.transaction == first.transaction
    assert simulator.stats.payments_sent == 1


async def test_insufficient_balance_is_a_payment_error_that_says_so(
    client: BlinkClient, simulator: BlinkSimulator
) -> None:
    request = outside_invoice(simulator, 300_000)

    with pytest.raises(BlinkPaymentError) as caught:
        await client.pay_invoice(simulator.account.btc_wallet.id, request)

    assert caught.value.insufficient_balance
    assert caught.value.status == "FAILURE"
    assert "exceeds balance '250000'" in caught.value.messages[0]
    assert simulator.stats.payments_sent == 0


async def test_a_failed_route_is_a_payment_error_but_not_about_balance(
    client: BlinkClient, simulator: BlinkSimulator
) -> None:
    simulator.fail_next_payment()

    with pytest.raises(BlinkPaymentError) as caught:
        await client.pay_invoice(
            simulator.account.btc_wallet.id, outside_invoice(simulator, 10)
        )

    assert not caught.value.insufficient_balance
    assert caught.value.codes == ("ROUTE_FINDING_ERROR",)


async def test_a_payment_in_flight_is_pending(
    client: BlinkClient, simulator: BlinkSimulator
) -> None:
    simulator.hold_next_payment()

    result = await client.pay_invoice(
        simulator.account.btc_wallet.id, outside_invoice(simulator, 10)
    )

    assert result.status is PaymentSendResult.PENDING
    assert result.fee_sats == 1


async def test_paying_without_the_write_scope_sends_nothing(
    session: aiohttp.ClientSession, simulator: BlinkSimulator
) -> None:
    receiver = limited(session, simulator, "READ", "RECEIVE")
    wallet = simulator.account.btc_wallet.id

    with pytest.raises(BlinkPermissionError):
        await receiver.pay_invoice(wallet, outside_invoice(simulator, 10))
    with pytest.raises(BlinkPermissionError):
        await receiver.pay_lightning_address(wallet, "alice@example.com", 10)

    assert simulator.stats.payments_sent == 0
    assert simulator.account.btc_wallet.balance == 250_000


async def test_an_amountless_invoice_decodes_but_blink_will_not_pay_it(
    client: BlinkClient, simulator: BlinkSimulator
) -> None:
    request = outside_invoice(simulator, None)

    assert decode_bolt11(request).amount_sats is None
    with pytest.raises(BlinkPaymentError) as caught:
        await client.pay_invoice(simulator.account.btc_wallet.id, request)
    assert caught.value.codes == ("INVALID_INPUT",)


async def test_a_wallet_of_another_account_is_refused_without_a_status(
    client: BlinkClient, simulator: BlinkSimulator
) -> None:
    with pytest.raises(BlinkPaymentError) as caught:
        await client.pay_invoice("someone-elses", outside_invoice(simulator, 10))

    assert caught.value.status is None
    assert caught.value.messages == ("Invalid walletId for account.",)


async def test_paying_an_invoice_of_another_blink_user(
    client: BlinkClient, simulator: BlinkSimulator
) -> None:
    alice = simulator.add_account("alice")
    invoice = await simulator.create_invoice(700, account=alice)

    result = await client.pay_invoice(
        simulator.account.btc_wallet.id, invoice.payment_request
    )

    assert result.status is PaymentSendResult.SUCCESS
    assert result.fee_sats == 0
    assert result.transaction is not None
    assert result.transaction.settlement == "intraledger"
    assert result.transaction.counterparty_username == "alice"
    assert result.transaction.payment_hash == invoice.payment_hash
    assert alice.btc_wallet.balance == 700


# --- Lightning addresses ---------------------------------------------------------------------


async def test_pay_lightning_address(
    client: BlinkClient, simulator: BlinkSimulator
) -> None:
    result = await client.pay_lightning_address(
        simulator.account.btc_wallet.id, "alice@example.com", 4_000
    )

    assert result.status is PaymentSendResult.SUCCESS
    assert result.fee_sats == 8
    assert simulator.sent_payments[0].destination == "alice@example.com"


async def test_an_unreachable_lightning_address(
    client: BlinkClient, simulator: BlinkSimulator
) -> None:
    with pytest.raises(BlinkPaymentError) as caught:
        await client.pay_lightning_address(
            simulator.account.btc_wallet.id, "nobody@blink.sv", 10
        )

    assert caught.value.codes == ("LNURL_REQUEST_INVOICE_ERROR",)


# --- what Blink might send instead -----------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"errors": [], "status": "FAILURE", "transaction": None}, BlinkPaymentError),
        ({"errors": [], "status": None, "transaction": None}, BlinkModelError),
        ({"errors": [], "status": "SOMETIMES"}, BlinkModelError),
        ({"errors": [], "status": "SUCCESS", "transaction": 3}, BlinkModelError),
        ("not an object", BlinkModelError),
        (None, BlinkModelError),
    ],
    ids=["failure-alone", "no-status", "unknown-status", "bad-tx", "string", "null"],
)
async def test_odd_payment_answers(
    socket_enabled: None,
    session: aiohttp.ClientSession,
    payload: object,
    error: type[Exception],
) -> None:
    async def answer(_request: web.Request) -> web.Response:
        return web.json_response({"data": {"lnInvoicePaymentSend": payload}})

    app = web.Application()
    app.router.add_post("/graphql", answer)
    async with serve(app) as url:
        client = BlinkClient(session, "key", api_url=f"{url}/graphql")
        with pytest.raises(error):
            await client.pay_invoice("wallet", "lnbc1")


async def test_a_success_without_a_transaction_has_no_fee(
    socket_enabled: None, session: aiohttp.ClientSession
) -> None:
    async def answer(_request: web.Request) -> web.Response:
        payload: dict[str, Any] = {
            "errors": [],
            "status": "SUCCESS",
            "transaction": None,
        }
        return web.json_response({"data": {"lnAddressPaymentSend": payload}})

    app = web.Application()
    app.router.add_post("/graphql", answer)
    async with serve(app) as url:
        client = BlinkClient(session, "key", api_url=f"{url}/graphql")
        result = await client.pay_lightning_address("wallet", "a@b.c", 1)

    assert result.status is PaymentSendResult.SUCCESS
    assert result.transaction is None
    assert result.fee_sats is None


async def test_an_invoice_whose_request_is_unreadable_is_a_model_error(
    socket_enabled: None, session: aiohttp.ClientSession
) -> None:
    async def answer(_request: web.Request) -> web.Response:
        invoice = {
            "paymentRequest": "lnbc1garbage",
            "paymentHash": "00" * 32,
            "satoshis": 1,
            "paymentStatus": "PENDING",
            "createdAt": None,
        }
        payload = {"errors": [], "invoice": invoice}
        return web.json_response({"data": {"lnInvoiceCreate": payload}})

    app = web.Application()
    app.router.add_post("/graphql", answer)
    async with serve(app) as url:
        client = BlinkClient(session, "key", api_url=f"{url}/graphql")
        with pytest.raises(BlinkModelError, match="not a BOLT11 invoice"):
            await client.create_invoice("wallet", 1)


async def test_a_fee_in_the_usd_wallet_is_not_in_sats(
    session: aiohttp.ClientSession, simulator: BlinkSimulator
) -> None:
    usd_send = await simulator.send_lightning(100, wallet="USD", fee=1)
    client = BlinkClient(session, TEST_API_KEY, api_url=simulator.http_url)
    (tx,) = [
        t
        for t in (await client.transactions(first=5)).transactions
        if t.id == usd_send.id
    ]

    assert tx.settlement_currency is WalletCurrency.USD
    assert (
        PaymentResult(status=PaymentSendResult.SUCCESS, transaction=tx).fee_sats is None
    )
