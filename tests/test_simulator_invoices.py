"""The Blink simulator's invoices and payments, driven by hand over HTTP and raw frames.

Never with the integration's client: these tests pin what the simulated Blink
answers, so that the client's tests against it mean something.
"""

from collections.abc import AsyncIterator, Generator
import hashlib
from typing import Any

import aiohttp
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
import pytest

from tests.api import bolt11_vectors as spec
from tests.simulator import TEST_API_KEY, BlinkSimulator, bolt11
from tests.simulator.raw import RawSocket, connect
from tests.simulator.state import (
    InitiationViaLn,
    SettlementViaIntraLedger,
    SettlementViaLn,
)

# Until tests/conftest.py registers it for the whole suite.
pytest_plugins = ["tests.simulator.fixtures"]

INVOICE = "paymentRequest paymentHash paymentSecret satoshis paymentStatus createdAt"
CREATE = f"""mutation Create($w: WalletId!, $a: SatAmount!, $m: Memo, $e: Minutes) {{
  lnInvoiceCreate(input: {{walletId: $w, amount: $a, memo: $m, expiresIn: $e}}) {{
    errors {{ message code }} invoice {{ {INVOICE} externalId }} }} }}"""
CREATE_USD = f"""mutation CreateUsd($w: WalletId!, $a: CentAmount!, $e: Minutes) {{
  lnUsdInvoiceCreate(input: {{walletId: $w, amount: $a, expiresIn: $e}}) {{
    errors {{ message code }} invoice {{ {INVOICE} }} }} }}"""
TX = """id direction status memo settlementAmount settlementCurrency settlementFee
settlementVia { __typename
  ... on SettlementViaLn { preImage }
  ... on SettlementViaIntraLedger { counterPartyUsername preImage } }
initiationVia { __typename ... on InitiationViaLn { paymentHash paymentRequest } }"""
PAY = f"""mutation Pay($w: WalletId!, $r: LnPaymentRequest!, $m: Memo) {{
  lnInvoicePaymentSend(input: {{walletId: $w, paymentRequest: $r, memo: $m}}) {{
    errors {{ message code }} status transaction {{ {TX} }} }} }}"""
PAY_ADDRESS = f"""mutation PayAddress($w: WalletId!, $to: String!, $a: SatAmount!) {{
  lnAddressPaymentSend(input: {{walletId: $w, lnAddress: $to, amount: $a}}) {{
    errors {{ message code }} status transaction {{ {TX} }} }} }}"""
STATUS = """query Status($h: PaymentHash!) {
  lnInvoicePaymentStatusByHash(input: {paymentHash: $h}) {
    paymentHash paymentRequest status } }"""
STATUS_BY_REQUEST = """query StatusByRequest($r: LnPaymentRequest!) {
  lnInvoicePaymentStatusByPaymentRequest(input: {paymentRequest: $r}) { status } }"""
STATUS_DEPRECATED = """query Deprecated($r: LnPaymentRequest!) {
  lnInvoicePaymentStatus(input: {paymentRequest: $r}) { errors { message code } status } }"""
WATCH = """subscription Watch($h: PaymentHash!) {
  lnInvoicePaymentStatusByHash(input: {paymentHash: $h}) {
    errors { message code } paymentHash paymentRequest status } }"""
WATCH_BY_REQUEST = """subscription WatchRequest($r: LnPaymentRequest!) {
  lnInvoicePaymentStatusByPaymentRequest(input: {paymentRequest: $r}) {
    errors { message } status } }"""
WATCH_DEPRECATED = """subscription WatchOld($r: LnPaymentRequest!) {
  lnInvoicePaymentStatus(input: {paymentRequest: $r}) { errors { message } status } }"""
MY_UPDATES = f"""subscription {{ myUpdates {{ update {{ __typename
  ... on LnUpdate {{ paymentHash status transaction {{ {TX} }} }} }} }} }}"""
FIELD = "lnInvoicePaymentStatusByHash"
REMOTE_KEY = 0xC0FFEE


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> Generator[None]:
    """No Home Assistant here: the simulator stands alone."""
    return (yield)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


async def post(
    session: aiohttp.ClientSession,
    sim: BlinkSimulator,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    key: str | None = TEST_API_KEY,
) -> dict[str, Any]:
    headers = {} if key is None else {"X-API-KEY": key}
    body = {"query": query, "variables": variables or {}}
    async with session.post(sim.http_url, json=body, headers=headers) as response:
        assert response.status == 200
        return await response.json()  # type: ignore[no-any-return]


async def create(
    session: aiohttp.ClientSession,
    sim: BlinkSimulator,
    amount: int = 1_000,
    **variables: Any,
) -> dict[str, Any]:
    answer = await post(
        session, sim, CREATE, {"w": sim.account.btc_wallet.id, "a": amount, **variables}
    )
    payload: dict[str, Any] = answer["data"]["lnInvoiceCreate"]
    assert payload["errors"] == [], payload
    return payload["invoice"]  # type: ignore[no-any-return]


async def pay(
    session: aiohttp.ClientSession,
    sim: BlinkSimulator,
    request: str,
    *,
    key: str = TEST_API_KEY,
    wallet: str | None = None,
) -> dict[str, Any]:
    variables = {"w": wallet or sim.account.btc_wallet.id, "r": request}
    return await post(session, sim, PAY, variables, key=key)


def external_invoice(
    sim: BlinkSimulator,
    sats: int | None = 1_000,
    *,
    prefix: str = "lnbc",
    age: int = 0,
    seed: bytes = b"x",
) -> str:
    """An invoice of a node outside Blink."""
    fields = bolt11.invoice_fields(
        payment_hash=hashlib.sha256(seed).hexdigest(),
        payment_secret="22" * 32,
        memo="outside",
        expiry=3600,
    )
    return bolt11.encode(
        prefix=prefix,
        amount_msat=None if sats is None else sats * 1000,
        timestamp=int(sim.state.clock()) - age,
        fields=fields,
        private_key=REMOTE_KEY,
    )


def status_of(message: dict[str, Any], field: str = FIELD) -> dict[str, Any]:
    assert message["type"] == "next", message
    return message["payload"]["data"][field]  # type: ignore[no-any-return]


# --- BOLT11 ------------------------------------------------------------------------------


def test_the_encoder_reproduces_the_specification_examples() -> None:
    secret = bytes.fromhex(spec.SPEC_SECRET)
    payment_hash = bytes.fromhex(spec.SPEC_HASH)
    features = bolt11.FEATURES
    donation = bolt11.encode(
        prefix="lnbc",
        amount_msat=None,
        timestamp=spec.SPEC_TIMESTAMP,
        fields=[
            ("s", secret),
            ("p", payment_hash),
            ("d", b"Please consider supporting this project"),
            ("9", features),
        ],
        private_key=spec.SPEC_PRIVATE_KEY,
    )
    coffee = bolt11.encode(
        prefix="lnbc",
        amount_msat=250_000_000,
        timestamp=spec.SPEC_TIMESTAMP,
        fields=[
            ("s", secret),
            ("p", payment_hash),
            ("d", b"1 cup coffee"),
            ("x", 60),
            ("9", features),
        ],
        private_key=spec.SPEC_PRIVATE_KEY,
    )

    assert donation == spec.DONATION
    assert coffee == spec.COFFEE
    assert bolt11.decode(spec.DONATION).expiry == bolt11.DEFAULT_EXPIRY
    assert bolt11.decode(spec.COFFEE).expiry == 60
    assert bolt11.public_key(spec.SPEC_PRIVATE_KEY).hex() == spec.SPEC_NODE_ID


@pytest.mark.parametrize(
    ("amount_msat", "text"),
    [
        (None, ""),
        (250_000_000, "2500u"),
        (2_000_000_000, "20m"),
        (10**11, "1"),
        (967_878_534, "9678785340p"),
        (1_000, "10n"),
    ],
)
def test_amounts_are_written_in_their_shortest_form(
    amount_msat: int | None, text: str
) -> None:
    assert bolt11.amount_part(amount_msat) == text


async def test_invoices_are_real_signed_bolt11(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    invoice = await create(session, simulator, 2_500, m="coffee")
    request = invoice["paymentRequest"]

    hrp, words = bolt11.bech32_decode(request)
    data, signature = words[:-104], bolt11.from_words(words[-104:])
    digest = hashlib.sha256(hrp.encode() + bolt11.from_words(data, pad=True)).digest()
    node = ec.EllipticCurvePublicKey.from_encoded_point(
        ec.SECP256K1(), bolt11.public_key(bolt11.NODE_PRIVATE_KEY)
    )
    der = utils.encode_dss_signature(
        int.from_bytes(signature[:32]), int.from_bytes(signature[32:64])
    )
    node.verify(der, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    assert hrp == "lnbc25u"
    decoded = bolt11.decode(request)
    assert decoded.payment_hash == invoice["paymentHash"]
    assert decoded.description == "coffee"
    preimage = simulator.invoice(invoice["paymentHash"]).preimage
    assert hashlib.sha256(bytes.fromhex(preimage)).hexdigest() == decoded.payment_hash


@pytest.mark.parametrize(
    "request_",
    [
        "lnbc1qqqqqqqqMQQQ",
        "qqqqqqqqqq",
        "lnbc1qqqqqqb",
        spec.BAD_CHECKSUM,
        spec.SUB_MSAT,
        spec.TOO_SHORT,
        bolt11.bech32_encode("bc", [0] * 120),
        bolt11.bech32_encode("lnbc", [0] * 7 + [1, 0] + [0] * 104),
        bolt11.bech32_encode("lnbc", [0] * 120),
    ],
)
def test_the_simulator_reader_refuses_what_is_no_invoice(request_: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        bolt11.decode(request_)


# --- creating invoices ---------------------------------------------------------------


async def test_an_invoice_is_created_pending_with_blinks_default_expiry(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    invoice = await create(session, simulator, 1_234)
    decoded = bolt11.decode(invoice["paymentRequest"])

    assert invoice["paymentStatus"] == "PENDING"
    assert invoice["satoshis"] == 1_234
    assert decoded.amount_msat == 1_234_000
    assert decoded.expiry == 4 * 3600
    assert decoded.timestamp == invoice["createdAt"]
    assert decoded.description is None
    assert len(invoice["paymentSecret"]) == 64
    assert invoice["externalId"]
    assert simulator.invoice(invoice["paymentRequest"]).status == "PENDING"


@pytest.mark.parametrize(
    ("minutes", "seconds"),
    [(60, 3600), (1, 60), (1440, 86_400), (0, 4 * 3600), (1441, 4 * 3600)],
)
async def test_the_btc_expiry_follows_blinks_limits(
    simulator: BlinkSimulator,
    session: aiohttp.ClientSession,
    minutes: int,
    seconds: int,
) -> None:
    invoice = await create(session, simulator, e=minutes)

    assert bolt11.decode(invoice["paymentRequest"]).expiry == seconds


@pytest.mark.parametrize(
    ("minutes", "seconds"), [(None, 300), (3, 180), (30, 300), (0, 300)]
)
async def test_a_usd_invoice_locks_its_rate_for_five_minutes_at_most(
    simulator: BlinkSimulator,
    session: aiohttp.ClientSession,
    minutes: int | None,
    seconds: int,
) -> None:
    answer = await post(
        session,
        simulator,
        CREATE_USD,
        {"w": simulator.account.usd_wallet.id, "a": 500, "e": minutes},
    )
    invoice = answer["data"]["lnUsdInvoiceCreate"]["invoice"]

    # $5 at $95,000 per BTC
    assert invoice["satoshis"] == 5_263
    assert bolt11.decode(invoice["paymentRequest"]).expiry == seconds


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"w": "not-our-wallet"}, "Invalid walletId for account."),
        ({"a": 0}, "A valid satoshi amount is required"),
        ({"e": -5}, "Invalid value for minutes: -5"),
        ({"wallet": "USD"}, "Unsupported operation for wallet's currency."),
    ],
)
async def test_invoice_creation_refusals_come_in_the_payload(
    simulator: BlinkSimulator,
    session: aiohttp.ClientSession,
    variables: dict[str, Any],
    message: str,
) -> None:
    wallet = simulator.account.wallet(variables.pop("wallet", "BTC"))
    answer = await post(
        session, simulator, CREATE, {"w": wallet.id, "a": 100, **variables}
    )

    payload = answer["data"]["lnInvoiceCreate"]
    assert payload["invoice"] is None
    assert payload["errors"][0]["message"] == message
    assert simulator.state.invoices == {}


async def test_a_usd_invoice_refuses_the_btc_wallet_and_a_zero_amount(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    btc = await post(
        session, simulator, CREATE_USD, {"w": simulator.account.btc_wallet.id, "a": 5}
    )
    zero = await post(
        session, simulator, CREATE_USD, {"w": simulator.account.usd_wallet.id, "a": 0}
    )

    assert btc["data"]["lnUsdInvoiceCreate"]["errors"][0]["code"] == "INVALID_INPUT"
    assert zero["data"]["lnUsdInvoiceCreate"]["errors"][0]["message"] == (
        "A valid usd amount is required"
    )


@pytest.mark.parametrize(
    ("scopes", "allowed"),
    [(("READ",), False), (("RECEIVE",), True), (("WRITE",), True)],
)
async def test_creating_invoices_needs_receive_or_write(
    simulator: BlinkSimulator,
    session: aiohttp.ClientSession,
    scopes: tuple[Any, ...],
    allowed: bool,
) -> None:
    simulator.add_key("limited", scopes=scopes)
    answer = await post(
        session,
        simulator,
        CREATE,
        {"w": simulator.account.btc_wallet.id, "a": 10},
        key="limited",
    )

    if allowed:
        assert answer["data"]["lnInvoiceCreate"]["errors"] == []
    else:
        assert answer["data"] is None
        (error,) = answer["errors"]
        assert error["code"] == "UNEXPECTED_CLIENT_ERROR"
        assert "not authorized to execute mutations" in error["message"]


async def test_an_anonymous_caller_cannot_create_invoices(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    answer = await post(
        session,
        simulator,
        CREATE,
        {"w": simulator.account.btc_wallet.id, "a": 10},
        key=None,
    )

    assert answer["data"] is None
    assert answer["errors"][0]["code"] == "NOT_AUTHORIZED"


# --- status over HTTP -----------------------------------------------------------------


async def test_the_status_query_follows_the_invoice(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    invoice = await create(session, simulator)
    request, payment_hash = invoice["paymentRequest"], invoice["paymentHash"]

    before = await post(session, simulator, STATUS, {"h": payment_hash}, key=None)
    await simulator.pay_invoice(request)
    after = await post(session, simulator, STATUS, {"h": payment_hash.upper()})
    by_request = await post(session, simulator, STATUS_BY_REQUEST, {"r": request})
    deprecated = await post(session, simulator, STATUS_DEPRECATED, {"r": request})

    assert before["data"][FIELD] == {
        "paymentHash": payment_hash,
        "paymentRequest": request,
        "status": "PENDING",
    }
    assert after["data"][FIELD]["status"] == "PAID"
    assert by_request["data"]["lnInvoicePaymentStatusByPaymentRequest"] == {
        "status": "PAID"
    }
    assert deprecated["data"]["lnInvoicePaymentStatus"] == {
        "errors": [],
        "status": "PAID",
    }


async def test_an_unknown_invoice_is_a_top_level_error_over_http(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    unknown = "ab" * 32
    answer = await post(session, simulator, STATUS, {"h": unknown})
    malformed = await post(session, simulator, STATUS, {"h": "00"})
    garbage = await post(session, simulator, STATUS_BY_REQUEST, {"r": "lnbc1nope"})
    deprecated = await post(
        session, simulator, STATUS_DEPRECATED, {"r": external_invoice(simulator)}
    )

    assert answer["data"] is None
    assert answer["errors"][0]["code"] == "LIGHTNING_PAYMENT_ERROR"
    assert unknown in answer["errors"][0]["message"]
    assert malformed["errors"][0]["code"] == "INVALID_INPUT"
    assert garbage["errors"][0]["message"] == "Invalid value for LnPaymentRequest"
    payload = deprecated["data"]["lnInvoicePaymentStatus"]
    assert payload["status"] is None
    assert payload["errors"][0]["code"] == "LIGHTNING_PAYMENT_ERROR"


async def test_past_its_expiry_an_invoice_reads_expired_before_anyone_says_so(
    socket_enabled: None, session: aiohttp.ClientSession
) -> None:
    now = [1_800_000_000.0]
    async with BlinkSimulator(clock=lambda: now[0]) as simulator:
        invoice = await create(session, simulator, e=1)
        now[0] += 61

        answer = await post(session, simulator, STATUS, {"h": invoice["paymentHash"]})

        assert answer["data"][FIELD]["status"] == "EXPIRED"
        assert simulator.invoice(invoice["paymentHash"]).status == "PENDING"
        assert await simulator.expire_due_invoices() == 1
        assert simulator.invoice(invoice["paymentHash"]).status == "EXPIRED"
        assert await simulator.expire_due_invoices() == 0


# --- status subscriptions --------------------------------------------------------------


@pytest.fixture
async def socket(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> AsyncIterator[RawSocket]:
    async with connect(session, simulator.ws_url) as raw:
        yield raw


async def test_a_subscription_gets_the_status_now_then_paid(
    simulator: BlinkSimulator, session: aiohttp.ClientSession, socket: RawSocket
) -> None:
    invoice = await create(session, simulator)
    await socket.subscribe("1", WATCH, {"h": invoice["paymentHash"]})

    first = status_of(await socket.receive())
    await simulator.wait_for_subscriptions(FIELD)
    await simulator.pay_invoice(invoice["paymentHash"])
    paid = status_of(await socket.receive())

    assert first == {
        "errors": [],
        "paymentHash": invoice["paymentHash"],
        "paymentRequest": invoice["paymentRequest"],
        "status": "PENDING",
    }
    assert paid["status"] == "PAID"
    assert simulator.live_subscriptions[FIELD] == 1
    await socket.silent_for(0.1)  # Blink leaves ending the stream to the client

    await socket.send({"id": "1", "type": "complete"})
    await simulator.wait_for(lambda: simulator.live_subscriptions[FIELD] == 0)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (WATCH_BY_REQUEST, "lnInvoicePaymentStatusByPaymentRequest"),
        (WATCH_DEPRECATED, "lnInvoicePaymentStatus"),
    ],
)
async def test_the_subscriptions_by_payment_request_behave_alike(
    simulator: BlinkSimulator,
    session: aiohttp.ClientSession,
    socket: RawSocket,
    query: str,
    field: str,
) -> None:
    invoice = await create(session, simulator)
    await socket.subscribe("1", query, {"r": invoice["paymentRequest"]})

    first = status_of(await socket.receive(), field)
    await simulator.wait_for_subscriptions(field)
    await simulator.expire_invoice(invoice["paymentRequest"])
    expired = status_of(await socket.receive(), field)

    assert (first["status"], expired["status"]) == ("PENDING", "EXPIRED")


async def test_a_settled_invoice_answers_with_its_final_status(
    simulator: BlinkSimulator, session: aiohttp.ClientSession, socket: RawSocket
) -> None:
    invoice = await create(session, simulator)
    await simulator.pay_invoice(invoice["paymentHash"], payer="blink")

    await socket.subscribe("1", WATCH, {"h": invoice["paymentHash"]})

    assert status_of(await socket.receive())["status"] == "PAID"


async def test_an_unknown_hash_gets_errors_in_the_payload_and_stays_open(
    simulator: BlinkSimulator, socket: RawSocket
) -> None:
    await socket.subscribe("1", WATCH, {"h": "cd" * 32})

    payload = status_of(await socket.receive())

    assert payload["status"] is None
    assert payload["errors"][0]["code"] == "LIGHTNING_PAYMENT_ERROR"
    await socket.silent_for(0.1)
    assert simulator.live_subscriptions[FIELD] == 1


async def test_a_malformed_hash_is_refused_and_completed(socket: RawSocket) -> None:
    await socket.subscribe("1", WATCH, {"h": "00"})

    refusal = await socket.receive()
    complete = await socket.receive()

    assert refusal["payload"]["errors"][0]["message"] == "Invalid value for PaymentHash"
    assert "data" not in refusal["payload"]
    assert complete == {"id": "1", "type": "complete"}


async def test_expiry_is_announced_a_moment_after_it_passes(
    simulator: BlinkSimulator, socket: RawSocket
) -> None:
    simulator.state.expiry_notice_delay = 0.05
    invoice = await simulator.create_invoice(100, expires_in_seconds=2)
    await socket.subscribe("1", WATCH, {"h": invoice.payment_hash})
    assert status_of(await socket.receive())["status"] == "PENDING"

    expired = status_of(await socket.receive(seconds=4))

    assert expired["status"] == "EXPIRED"
    assert invoice.status == "EXPIRED"


async def test_a_clock_that_jumps_is_noticed_within_the_check_interval(
    socket_enabled: None, session: aiohttp.ClientSession
) -> None:
    now = [1_800_000_000.0]
    async with (
        BlinkSimulator(clock=lambda: now[0]) as simulator,
        connect(session, simulator.ws_url) as raw,
    ):
        simulator.state.expiry_notice_delay = 0.02
        simulator.state.expiry_check_interval = 0.03
        invoice = await simulator.create_invoice(100, expires_in_seconds=60)
        await raw.subscribe("1", WATCH, {"h": invoice.payment_hash})
        assert status_of(await raw.receive())["status"] == "PENDING"
        await raw.silent_for(0.15)  # the alarm rings, but the clock says not yet

        now[0] += 60
        expired = status_of(await raw.receive(seconds=2))

        assert expired["status"] == "EXPIRED"


# --- paying the simulator's invoices from outside -------------------------------------------


@pytest.fixture
async def updates(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> AsyncIterator[RawSocket]:
    """A socket subscribed to myUpdates, past its initial price updates."""
    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as raw:
        await raw.subscribe("9", MY_UPDATES)
        await raw.receive()
        await raw.receive()
        yield raw


async def next_ln_update(socket: RawSocket) -> dict[str, Any]:
    message = await socket.receive()
    update: dict[str, Any] = message["payload"]["data"]["myUpdates"]["update"]
    assert update["__typename"] == "LnUpdate"
    return update


async def test_a_payment_over_lightning_settles_the_invoice(
    simulator: BlinkSimulator, updates: RawSocket
) -> None:
    invoice = await simulator.create_invoice(2_000, memo="lunch")

    tx = await simulator.pay_invoice(invoice.payment_request)
    update = await next_ln_update(updates)

    assert update["paymentHash"] == invoice.payment_hash
    assert update["status"] == "PAID"
    assert update["transaction"]["memo"] == "lunch"
    assert update["transaction"]["settlementAmount"] == 2_000
    assert isinstance(tx.settlement_via, SettlementViaLn)
    assert tx.settlement_via.pre_image == invoice.preimage
    assert isinstance(tx.initiation_via, InitiationViaLn)
    assert tx.initiation_via.payment_request == invoice.payment_request
    assert invoice.status == "PAID"


async def test_a_blink_payer_settles_inside_the_ledger(
    simulator: BlinkSimulator, updates: RawSocket
) -> None:
    invoice = await simulator.create_invoice(300, wallet="USD")

    tx = await simulator.pay_invoice(invoice.payment_hash, payer="blink")
    update = await next_ln_update(updates)

    assert update["transaction"]["settlementVia"] == {
        "__typename": "SettlementViaIntraLedger",
        "counterPartyUsername": "bob",
        "preImage": None,
    }
    assert update["transaction"]["settlementCurrency"] == "USD"
    assert isinstance(tx.settlement_via, SettlementViaIntraLedger)
    assert simulator.account.usd_wallet.balance == 5_300


async def test_settling_checks_the_invoice(simulator: BlinkSimulator) -> None:
    paid = await simulator.create_invoice(100)
    await simulator.pay_invoice(paid.payment_hash)
    expired = await simulator.create_invoice(100)
    await simulator.expire_invoice(expired.payment_hash)
    open_amount = await simulator.create_invoice(None)

    with pytest.raises(ValueError, match="PAID"):
        await simulator.pay_invoice(paid.payment_hash)
    with pytest.raises(ValueError, match="EXPIRED"):
        await simulator.pay_invoice(expired.payment_hash)
    with pytest.raises(ValueError, match="not pending"):
        await simulator.expire_invoice(paid.payment_hash)
    with pytest.raises(ValueError, match="needs an amount"):
        await simulator.pay_invoice(open_amount.payment_hash)
    with pytest.raises(KeyError):
        simulator.invoice("ef" * 32)
    with pytest.raises(ValueError, match="positive"):
        await simulator.create_invoice(0)
    tx = await simulator.pay_invoice(open_amount.payment_request, amount=777)
    assert tx.settlement_amount == 777


# --- paying invoices -------------------------------------------------------------------


async def test_an_outside_invoice_is_paid_with_a_fee(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    request = external_invoice(simulator, 10_000)

    answer = await pay(session, simulator, request)

    payload = answer["data"]["lnInvoicePaymentSend"]
    assert payload["errors"] == []
    assert payload["status"] == "SUCCESS"
    tx = payload["transaction"]
    assert (tx["direction"], tx["status"]) == ("SEND", "SUCCESS")
    assert tx["settlementFee"] == 20  # 2,000 ppm
    assert tx["settlementAmount"] == -10_020
    assert tx["settlementVia"]["__typename"] == "SettlementViaLn"
    assert tx["initiationVia"]["paymentRequest"] == request
    assert simulator.account.btc_wallet.balance == 250_000 - 10_020
    assert simulator.stats.payments_sent == 1
    (sent,) = simulator.sent_payments
    assert (sent.kind, sent.amount, sent.fee, sent.intraledger) == (
        "invoice",
        10_000,
        20,
        False,
    )
    assert sent.transaction.id == tx["id"]


async def test_an_invoice_paid_before_answers_already_paid(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    request = external_invoice(simulator)
    first = await pay(session, simulator, request)

    again = await pay(session, simulator, request)

    payload = again["data"]["lnInvoicePaymentSend"]
    assert payload["status"] == "ALREADY_PAID"
    assert payload["errors"] == []
    assert (
        payload["transaction"]["id"]
        == (first["data"]["lnInvoicePaymentSend"]["transaction"]["id"])
    )
    assert simulator.stats.payments_sent == 1


async def test_insufficient_balance_fails_in_the_payload_and_sends_nothing(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    answer = await pay(session, simulator, external_invoice(simulator, 250_000))

    payload = answer["data"]["lnInvoicePaymentSend"]
    assert payload["status"] == "FAILURE"
    assert payload["transaction"] is None
    assert payload["errors"] == [
        {
            "message": "Payment amount '250500' sats exceeds balance '250000'",
            "code": "INSUFFICIENT_BALANCE",
        }
    ]
    assert simulator.stats.payments_sent == 0
    assert simulator.sent_payments == []
    assert simulator.account.btc_wallet.balance == 250_000


async def test_paying_needs_the_write_scope(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.add_key("read-receive", scopes=("READ", "RECEIVE"))

    answer = await pay(
        session, simulator, external_invoice(simulator), key="read-receive"
    )
    address = await post(
        session,
        simulator,
        PAY_ADDRESS,
        {"w": simulator.account.btc_wallet.id, "to": "alice@example.com", "a": 5},
        key="read-receive",
    )

    for refused in (answer, address):
        assert refused["data"] is None
        assert "not authorized to execute mutations" in refused["errors"][0]["message"]
    assert simulator.stats.payments_sent == 0


@pytest.mark.parametrize(
    ("request_", "message", "code"),
    [
        ("amountless", "Invoice does not have a valid amount to pay", "INVALID_INPUT"),
        ("lnbc1garbage", "Invalid value for LnPaymentRequest", "INVALID_INPUT"),
        ("testnet", "Invalid value for LnPaymentRequest", "INVALID_INPUT"),
        (
            "expired",
            "Invoice already expired, or has bad payment hash",
            "LIGHTNING_PAYMENT_ERROR",
        ),
    ],
)
async def test_invoices_that_cannot_be_paid_are_refused(
    simulator: BlinkSimulator,
    session: aiohttp.ClientSession,
    request_: str,
    message: str,
    code: str,
) -> None:
    requests = {
        "amountless": external_invoice(simulator, None),
        "testnet": external_invoice(simulator, prefix="lntb"),
        "expired": external_invoice(simulator, age=3600),
    }

    answer = await pay(session, simulator, requests.get(request_, request_))

    payload = answer["data"]["lnInvoicePaymentSend"]
    assert payload["errors"] == [{"message": message, "code": code}]
    assert payload["status"] == "FAILURE"


async def test_the_wallet_must_be_the_accounts_and_btc(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    request = external_invoice(simulator)

    foreign = await pay(session, simulator, request, wallet="someone-elses")
    usd = await pay(session, simulator, request, wallet=simulator.account.usd_wallet.id)

    assert foreign["data"]["lnInvoicePaymentSend"] == {
        "errors": [{"message": "Invalid walletId for account.", "code": None}],
        "status": None,
        "transaction": None,
    }
    assert usd["data"]["lnInvoicePaymentSend"]["errors"][0]["code"] == (
        "NOT_IMPLEMENTED"
    )


async def test_scripted_payments_fail_or_stay_in_flight(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.fail_next_payment()
    simulator.hold_next_payment()

    failed = await pay(session, simulator, external_invoice(simulator, seed=b"1"))
    held = await pay(session, simulator, external_invoice(simulator, seed=b"2"))
    normal = await pay(session, simulator, external_invoice(simulator, seed=b"3"))

    assert failed["data"]["lnInvoicePaymentSend"]["errors"] == [
        {
            "message": "Unable to find a route for payment.",
            "code": "ROUTE_FINDING_ERROR",
        }
    ]
    pending = held["data"]["lnInvoicePaymentSend"]
    assert pending["status"] == "PENDING"
    assert pending["transaction"]["status"] == "PENDING"
    assert pending["transaction"]["settlementVia"]["preImage"] is None
    assert normal["data"]["lnInvoicePaymentSend"]["status"] == "SUCCESS"
    assert simulator.stats.payments_sent == 2


async def test_an_invoice_of_another_blink_user_settles_inside_the_ledger(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    alice = simulator.add_account("alice")
    invoice = await simulator.create_invoice(5_000, memo="for alice", account=alice)
    simulator.add_key("alice-key", account=alice)
    async with connect(session, simulator.ws_url, key="alice-key") as alices:
        await alices.subscribe("1", MY_UPDATES)
        await alices.receive()
        await alices.receive()

        answer = await pay(session, simulator, invoice.payment_request)
        update = await next_ln_update(alices)

    payload = answer["data"]["lnInvoicePaymentSend"]
    assert payload["status"] == "SUCCESS"
    tx = payload["transaction"]
    assert tx["settlementFee"] == 0
    assert tx["settlementVia"]["__typename"] == "SettlementViaIntraLedger"
    assert tx["settlementVia"]["counterPartyUsername"] == "alice"
    assert tx["settlementVia"]["preImage"] == invoice.preimage
    assert tx["initiationVia"]["paymentHash"] == invoice.payment_hash
    assert update["paymentHash"] == invoice.payment_hash
    assert update["transaction"]["memo"] == "for alice"
    assert update["transaction"]["settlementVia"]["counterPartyUsername"] == "satoshi"
    assert alice.btc_wallet.balance == 5_000
    assert invoice.status == "PAID"
    assert simulator.sent_payments[0].intraledger


async def test_a_blink_invoice_paid_before_answers_already_paid(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    alice = simulator.add_account("alice")
    ours = await simulator.create_invoice(100, account=alice)
    theirs = await simulator.create_invoice(100, account=alice)
    first = await pay(session, simulator, ours.payment_request)
    await simulator.pay_invoice(theirs.payment_hash)

    again = await pay(session, simulator, ours.payment_request)
    by_someone_else = await pay(session, simulator, theirs.payment_request)

    assert again["data"]["lnInvoicePaymentSend"]["status"] == "ALREADY_PAID"
    assert (
        again["data"]["lnInvoicePaymentSend"]["transaction"]["id"]
        == (first["data"]["lnInvoicePaymentSend"]["transaction"]["id"])
    )
    assert by_someone_else["data"]["lnInvoicePaymentSend"] == {
        "errors": [],
        "status": "ALREADY_PAID",
        "transaction": None,
    }


async def test_own_invoices_pay_across_wallets_but_not_into_the_same(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    same = await simulator.create_invoice(100)
    usd = await simulator.create_invoice(100, wallet="USD")
    expired = await simulator.create_invoice(100, account=simulator.add_account("a"))
    await simulator.expire_invoice(expired.payment_hash)
    poor = simulator.add_account("poor")
    costly = await simulator.create_invoice(10**6, account=poor)

    refused = await pay(session, simulator, same.payment_request)
    converted = await pay(session, simulator, usd.payment_request)
    late = await pay(session, simulator, expired.payment_request)
    too_much = await pay(session, simulator, costly.payment_request)

    assert refused["data"]["lnInvoicePaymentSend"]["errors"][0]["code"] == (
        "CANT_PAY_SELF"
    )
    assert converted["data"]["lnInvoicePaymentSend"]["status"] == "SUCCESS"
    assert simulator.account.usd_wallet.balance == 5_100
    assert late["data"]["lnInvoicePaymentSend"]["errors"][0]["code"] == (
        "LIGHTNING_PAYMENT_ERROR"
    )
    assert too_much["data"]["lnInvoicePaymentSend"]["errors"][0]["code"] == (
        "INSUFFICIENT_BALANCE"
    )


# --- Lightning addresses ---------------------------------------------------------------------


async def pay_address(
    session: aiohttp.ClientSession,
    sim: BlinkSimulator,
    address: str,
    amount: Any = 1_000,
) -> dict[str, Any]:
    answer = await post(
        session,
        sim,
        PAY_ADDRESS,
        {"w": sim.account.btc_wallet.id, "to": address, "a": amount},
    )
    return answer["data"]["lnAddressPaymentSend"]  # type: ignore[no-any-return]


async def test_an_address_elsewhere_is_paid_over_lightning(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    payload = await pay_address(session, simulator, "alice@example.com", 1_000)

    assert payload["status"] == "SUCCESS"
    assert payload["transaction"]["settlementFee"] == 2
    assert payload["transaction"]["settlementVia"]["__typename"] == "SettlementViaLn"
    request = payload["transaction"]["initiationVia"]["paymentRequest"]
    assert bolt11.decode(request).amount_msat == 1_000_000
    (sent,) = simulator.sent_payments
    assert (sent.kind, sent.destination, sent.amount) == (
        "lightning_address",
        "alice@example.com",
        1_000,
    )
    assert simulator.stats.payments_sent == 1


async def test_an_address_of_a_blink_user_is_paid_inside_the_ledger(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    alice = simulator.add_account("Alice")

    payload = await pay_address(session, simulator, "alice@blink.sv", 1_500)

    assert payload["status"] == "SUCCESS"
    assert payload["transaction"]["settlementFee"] == 0
    assert payload["transaction"]["initiationVia"]["__typename"] == "InitiationViaLn"
    assert alice.btc_wallet.balance == 1_500


@pytest.mark.parametrize(
    ("address", "amount", "code"),
    [
        ("nobody@blink.sv", 1_000, "LNURL_REQUEST_INVOICE_ERROR"),
        ("alice@offline.invalid", 1_000, "LNURL_REQUEST_INVOICE_ERROR"),
        ("not an address", 1_000, "INVALID_INPUT"),
        ("a@b@c.com", 1_000, "INVALID_INPUT"),
        ("alice@example.com", 0, "INVALID_INPUT"),
        ("alice@example.com", 10**9, "INSUFFICIENT_BALANCE"),
        ("satoshi@blink.localhost", 1_000, "CANT_PAY_SELF"),
    ],
)
async def test_addresses_that_cannot_be_paid_are_refused(
    simulator: BlinkSimulator,
    session: aiohttp.ClientSession,
    address: str,
    amount: int,
    code: str,
) -> None:
    payload = await pay_address(session, simulator, address, amount)

    assert payload["status"] == "FAILURE"
    assert payload["errors"][0]["code"] == code
    assert simulator.sent_payments == []
