"""Payments the Blink simulator produces: updates in myUpdates and transactions.

Each kind is checked as a client sees it: the `next` frame on a raw socket and
the transaction over HTTP.
"""

from collections.abc import AsyncIterator, Generator
from datetime import UTC, datetime
import hashlib
from typing import Any

import aiohttp
import pytest

from tests.simulator import TEST_API_KEY, BlinkSimulator
from tests.simulator.raw import RawSocket, connect
from tests.simulator.state import SettlementViaLn
from tests.simulator.wire import serialize_timestamp

# Until tests/conftest.py registers it for the whole suite.
pytest_plugins = ["tests.simulator.fixtures"]

TX = """
id createdAt direction status memo settlementAmount settlementCurrency settlementFee
settlementDisplayAmount settlementDisplayFee settlementDisplayCurrency
settlementVia {
  __typename
  ... on SettlementViaLn { preImage }
  ... on SettlementViaIntraLedger { counterPartyUsername counterPartyWalletId preImage }
  ... on SettlementViaOnChain { transactionHash vout }
}
initiationVia {
  __typename
  ... on InitiationViaLn { paymentHash paymentRequest }
  ... on InitiationViaIntraLedger { counterPartyUsername counterPartyWalletId }
  ... on InitiationViaOnChain { address }
}
"""
MY_UPDATES = f"""subscription {{ myUpdates {{ errors {{ message }} update {{
  __typename
  ... on LnUpdate {{ paymentHash status walletId transaction {{ {TX} }} }}
  ... on IntraLedgerUpdate {{ txNotificationType amount walletId displayCurrencyPerSat
                              usdPerSat transaction {{ {TX} }} }}
  ... on OnChainUpdate {{ txNotificationType txHash amount walletId
                          transaction {{ {TX} }} }}
}} }} }}"""
ACCOUNT = f"""{{ me {{ defaultAccount {{
  wallets {{ walletCurrency balance pendingIncomingBalance }}
  pendingIncomingTransactions {{ {TX} }}
  transactions(first: 5) {{ edges {{ node {{ {TX} }} }} }} }} }} }}"""


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> Generator[None]:
    """No Home Assistant here: the simulator stands alone."""
    return (yield)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
async def updates(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> AsyncIterator[RawSocket]:
    """A socket subscribed to myUpdates, past its initial price updates."""
    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as socket:
        await socket.subscribe("1", MY_UPDATES)
        await socket.receive()
        await socket.receive()
        yield socket


def as_pushed(node: dict[str, Any]) -> dict[str, Any]:
    """A transaction read over HTTP as myUpdates pushes it: `createdAt` unusable.

    Blink's pubsub turns the Date into a string, which its Timestamp scalar
    serialises as an error object (tests/simulator/wire.py).
    """
    return {
        **node,
        "createdAt": {
            "message": "Invalid value for Date",
            "extensions": {"code": "INVALID_INPUT"},
        },
    }


def test_blinks_timestamp_scalar_serialises_only_dates_and_numbers() -> None:
    when = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)

    assert serialize_timestamp(when) == int(when.timestamp())
    assert serialize_timestamp(1_764_763_200) == 1_764_763_200
    # what pubsub made of a Date: an ISO string, which comes out as the error object
    assert serialize_timestamp(when.isoformat()) == as_pushed({})["createdAt"]
    assert serialize_timestamp(True) == as_pushed({})["createdAt"]


async def next_update(socket: RawSocket) -> dict[str, Any]:
    message = await socket.receive()
    assert message["type"] == "next"
    payload = message["payload"]["data"]["myUpdates"]
    assert payload["errors"] == []
    return payload["update"]  # type: ignore[no-any-return]


async def account_view(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> dict[str, Any]:
    async with session.post(
        simulator.http_url, json={"query": ACCOUNT}, headers={"X-API-KEY": TEST_API_KEY}
    ) as response:
        body = await response.json()
    assert "errors" not in body
    account = body["data"]["me"]["defaultAccount"]
    account["balances"] = {
        w["walletCurrency"]: w["balance"] for w in account["wallets"]
    }
    account["pending"] = {
        w["walletCurrency"]: w["pendingIncomingBalance"] for w in account["wallets"]
    }
    account["newest"] = [edge["node"] for edge in account["transactions"]["edges"]]
    return account  # type: ignore[no-any-return]


async def test_lightning_receipt(
    simulator: BlinkSimulator, session: aiohttp.ClientSession, updates: RawSocket
) -> None:
    tx = await simulator.receive_lightning(21_000, memo="zap")

    update = await next_update(updates)
    account = await account_view(simulator, session)

    assert update["__typename"] == "LnUpdate"
    assert update["status"] == "PAID"
    assert update["walletId"] == simulator.account.btc_wallet.id
    node = update["transaction"]
    assert node == as_pushed(account["newest"][0])
    assert isinstance(account["newest"][0]["createdAt"], int)  # Unix seconds
    assert node["id"] == tx.id
    assert node["direction"] == "RECEIVE"
    assert node["status"] == "SUCCESS"
    assert node["memo"] == "zap"
    assert (node["settlementAmount"], node["settlementCurrency"]) == (21_000, "BTC")
    assert node["settlementFee"] == 0
    assert node["settlementDisplayAmount"] == "19.95"
    assert node["settlementDisplayFee"] == "0.00"
    assert node["settlementDisplayCurrency"] == "USD"
    assert node["settlementVia"]["__typename"] == "SettlementViaLn"
    assert node["initiationVia"]["__typename"] == "InitiationViaLn"
    payment_hash = node["initiationVia"]["paymentHash"]
    assert update["paymentHash"] == payment_hash
    assert len(payment_hash) == 64
    preimage = bytes.fromhex(node["settlementVia"]["preImage"])
    assert hashlib.sha256(preimage).hexdigest() == payment_hash
    assert node["initiationVia"]["paymentRequest"].startswith("lnbc210000n1p")
    assert account["balances"] == {"BTC": 271_000, "USD": 5_000}


async def test_lightning_receipt_into_the_usd_wallet(
    simulator: BlinkSimulator, session: aiohttp.ClientSession, updates: RawSocket
) -> None:
    await simulator.receive_lightning(1_234, wallet="USD")

    update = await next_update(updates)
    account = await account_view(simulator, session)

    assert update["walletId"] == simulator.account.usd_wallet.id
    node = update["transaction"]
    assert (node["settlementAmount"], node["settlementCurrency"]) == (1_234, "USD")
    assert node["settlementDisplayAmount"] == "12.34"
    # the invoice was for the sats worth $12.34
    assert node["initiationVia"]["paymentRequest"].startswith("lnbc129890n1p")
    assert account["balances"]["USD"] == 6_234


async def test_intraledger_receipt(
    simulator: BlinkSimulator, updates: RawSocket
) -> None:
    await simulator.receive_intraledger(3_000, memo="lunch", sender_username="alice")

    update = await next_update(updates)

    assert update["__typename"] == "IntraLedgerUpdate"
    assert update["txNotificationType"] == "IntraLedgerReceipt"
    assert update["amount"] == 3_000
    assert update["displayCurrencyPerSat"] == pytest.approx(0.095)
    assert update["usdPerSat"] == pytest.approx(0.00095)
    node = update["transaction"]
    assert node["memo"] == "lunch"
    assert node["settlementVia"] == {
        "__typename": "SettlementViaIntraLedger",
        "counterPartyUsername": "alice",
        "counterPartyWalletId": None,
        "preImage": None,
    }
    assert node["initiationVia"] == {
        "__typename": "InitiationViaIntraLedger",
        "counterPartyUsername": "alice",
        "counterPartyWalletId": None,
    }


async def test_blink_to_blink_invoice_payment_is_an_ln_update_settled_intraledger(
    simulator: BlinkSimulator, updates: RawSocket
) -> None:
    tx = await simulator.receive_blink_invoice_payment(5_000, payer_username="bob")

    update = await next_update(updates)

    assert update["__typename"] == "LnUpdate"
    assert update["status"] == "PAID"
    node = update["transaction"]
    assert node["id"] == tx.id
    assert node["settlementVia"] == {
        "__typename": "SettlementViaIntraLedger",
        "counterPartyUsername": "bob",
        "counterPartyWalletId": None,
        "preImage": None,
    }
    assert node["initiationVia"]["__typename"] == "InitiationViaLn"
    assert node["initiationVia"]["paymentHash"] == update["paymentHash"]


async def test_onchain_receipt_is_pending_then_confirmed_under_a_new_id(
    simulator: BlinkSimulator, session: aiohttp.ClientSession, updates: RawSocket
) -> None:
    pending = await simulator.receive_onchain(150_000, memo="from cold storage")
    seen = await next_update(updates)
    while_pending = await account_view(simulator, session)

    confirmed = await simulator.confirm_onchain(pending)
    settled = await next_update(updates)
    after = await account_view(simulator, session)

    assert seen["__typename"] == "OnChainUpdate"
    assert seen["txNotificationType"] == "OnchainReceiptPending"
    assert seen["amount"] == 150_000
    assert seen["transaction"]["status"] == "PENDING"
    assert seen["transaction"]["id"] == pending.id
    tx_hash = seen["txHash"]
    assert seen["transaction"]["settlementVia"] == {
        "__typename": "SettlementViaOnChain",
        "transactionHash": tx_hash,
        "vout": 0,
    }
    assert [as_pushed(tx) for tx in while_pending["pendingIncomingTransactions"]] == [
        seen["transaction"]
    ]
    assert while_pending["pending"]["BTC"] == 150_000
    assert while_pending["balances"]["BTC"] == 250_000
    assert pending.id not in {tx["id"] for tx in while_pending["newest"]}

    assert settled["txNotificationType"] == "OnchainReceipt"
    assert settled["txHash"] == tx_hash
    node = settled["transaction"]
    assert node["id"] == confirmed.id != pending.id
    assert node["status"] == "SUCCESS"
    assert node["settlementVia"]["transactionHash"] == tx_hash
    assert node["initiationVia"] == seen["transaction"]["initiationVia"]
    assert after["pendingIncomingTransactions"] == []
    assert after["pending"]["BTC"] == 0
    assert after["balances"]["BTC"] == 400_000
    assert as_pushed(after["newest"][0]) == node
    with pytest.raises(ValueError, match="is not a pending incoming transaction"):
        await simulator.confirm_onchain(pending)


async def test_outgoing_lightning_payment_has_a_fee_and_no_update(
    simulator: BlinkSimulator, session: aiohttp.ClientSession, updates: RawSocket
) -> None:
    tx = await simulator.send_lightning(10_000, fee=12, memo="pizza")

    account = await account_view(simulator, session)
    await updates.silent_for(0.05)  # Blink publishes nothing for it

    node = account["newest"][0]
    assert node["id"] == tx.id
    assert node["direction"] == "SEND"
    assert node["settlementAmount"] == -10_012
    assert node["settlementFee"] == 12
    assert node["settlementDisplayAmount"] == "-9.51"
    assert node["settlementDisplayFee"] == "0.01"
    assert node["memo"] == "pizza"
    assert node["settlementVia"]["preImage"] is not None
    assert account["balances"]["BTC"] == 239_988


async def test_a_pending_outgoing_payment_is_debited_without_a_preimage(
    simulator: BlinkSimulator,
) -> None:
    tx = await simulator.send_lightning(1_000, status="PENDING")

    assert tx.status == "PENDING"
    assert tx.settlement_via == SettlementViaLn(None)
    assert simulator.account.btc_wallet.balance == 249_000


async def test_outgoing_intraledger_payment_has_no_update(
    simulator: BlinkSimulator, session: aiohttp.ClientSession, updates: RawSocket
) -> None:
    tx = await simulator.send_intraledger(
        2_000, wallet="USD", recipient_username="carol"
    )

    account = await account_view(simulator, session)
    await updates.silent_for(0.05)

    node = account["newest"][0]
    assert node["id"] == tx.id
    assert (node["settlementAmount"], node["settlementCurrency"]) == (-2_000, "USD")
    assert node["settlementDisplayAmount"] == "-20.00"
    assert node["settlementVia"]["counterPartyUsername"] == "carol"
    assert account["balances"]["USD"] == 3_000


async def test_outgoing_onchain_payment_is_published(
    simulator: BlinkSimulator, session: aiohttp.ClientSession, updates: RawSocket
) -> None:
    tx = await simulator.send_onchain(100_000, fee=2_500, address="bc1qexample")

    update = await next_update(updates)
    account = await account_view(simulator, session)

    assert update["__typename"] == "OnChainUpdate"
    assert update["txNotificationType"] == "OnchainPayment"
    assert update["amount"] == 102_500
    node = update["transaction"]
    assert node["id"] == tx.id
    assert node["settlementAmount"] == -102_500
    assert node["initiationVia"] == {
        "__typename": "InitiationViaOnChain",
        "address": "bc1qexample",
    }
    assert node["settlementVia"]["transactionHash"] == update["txHash"]
    assert account["balances"]["BTC"] == 147_500


async def test_transfer_between_own_wallets_books_two_legs_and_publishes_the_receipt(
    simulator: BlinkSimulator, session: aiohttp.ClientSession, updates: RawSocket
) -> None:
    sent, received = await simulator.transfer(100_000, memo="to stablesats")

    update = await next_update(updates)
    account = await account_view(simulator, session)
    await updates.silent_for(0.05)  # nothing for the sending leg

    assert update["__typename"] == "IntraLedgerUpdate"
    assert update["txNotificationType"] == "IntraLedgerReceipt"
    assert update["walletId"] == simulator.account.usd_wallet.id
    assert update["transaction"]["id"] == received.id
    by_id = {node["id"]: node for node in account["newest"]}
    send_node, receive_node = by_id[sent.id], by_id[received.id]
    assert (send_node["direction"], send_node["settlementCurrency"]) == ("SEND", "BTC")
    assert send_node["settlementAmount"] == -100_000
    assert (receive_node["direction"], receive_node["settlementCurrency"]) == (
        "RECEIVE",
        "USD",
    )
    assert receive_node["settlementAmount"] == 9_500  # $95.00 at $95,000
    assert send_node["createdAt"] == receive_node["createdAt"]
    for node in (send_node, receive_node):
        assert node["settlementVia"] == {
            "__typename": "SettlementViaIntraLedger",
            "counterPartyUsername": None,
            "counterPartyWalletId": None,
            "preImage": None,
        }
        assert node["initiationVia"]["__typename"] == "InitiationViaIntraLedger"
    assert account["balances"] == {"BTC": 150_000, "USD": 14_500}


async def test_transfer_back_from_usd(simulator: BlinkSimulator) -> None:
    sent, received = await simulator.transfer(950, from_wallet="USD")

    assert (sent.settlement_currency, sent.settlement_amount) == ("USD", -950)
    assert (received.settlement_currency, received.settlement_amount) == ("BTC", 10_000)


async def test_counterparty_wallet_ids_can_be_reported(
    simulator: BlinkSimulator,
) -> None:
    simulator.state.report_counterparty_wallet_id = True

    sent, received = await simulator.transfer(50_000)
    receipt = await simulator.receive_intraledger(1_000)

    btc, usd = simulator.account.btc_wallet.id, simulator.account.usd_wallet.id
    assert sent.settlement_via.counter_party_wallet_id == usd  # type: ignore[union-attr]
    assert received.settlement_via.counter_party_wallet_id == btc  # type: ignore[union-attr]
    assert receipt.settlement_via.counter_party_wallet_id not in {None, btc, usd}  # type: ignore[union-attr]


async def test_payments_reach_only_the_streams_of_their_account(
    simulator: BlinkSimulator, session: aiohttp.ClientSession, updates: RawSocket
) -> None:
    other = simulator.add_account("hal")
    simulator.add_key("hal-key", account=other)

    async with connect(session, simulator.ws_url, key="hal-key") as hal:
        await hal.subscribe("1", MY_UPDATES)
        await hal.receive()
        await hal.receive()
        await simulator.receive_lightning(777, account=other)
        theirs = await next_update(hal)
        await updates.silent_for(0.05)

    assert theirs["walletId"] == other.btc_wallet.id
    assert other.btc_wallet.balance == 777


async def test_a_payment_reaches_every_stream_of_the_account(
    simulator: BlinkSimulator, session: aiohttp.ClientSession, updates: RawSocket
) -> None:
    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as second:
        await second.subscribe("1", MY_UPDATES)
        # the new stream's price is republished to the first one too
        for socket in (updates, second, updates, second):
            await socket.receive()
        tx = await simulator.receive_lightning(500)
        for socket in (updates, second):
            assert (await next_update(socket))["transaction"]["id"] == tx.id


async def test_tiny_receipts_hide_their_memo_like_blink(
    simulator: BlinkSimulator,
) -> None:
    tiny = await simulator.receive_lightning(49, memo="spam")
    enough = await simulator.receive_lightning(50, memo="hello")
    cents = await simulator.receive_intraledger(9, wallet="USD", memo="spam")

    assert tiny.memo is None
    assert enough.memo == "hello"
    assert cents.memo is None


async def test_created_at_never_goes_back(socket_enabled: None) -> None:
    now = [1_800_000_000.0]
    sim = BlinkSimulator(clock=lambda: now[0])

    first = await sim.receive_lightning(100)
    now[0] -= 3_600  # the clock jumps back
    second = await sim.receive_lightning(100)

    assert second.created_at == first.created_at == 1_800_000_000
    assert second.id > first.id


async def test_impossible_payments_are_refused(simulator: BlinkSimulator) -> None:
    with pytest.raises(ValueError, match="insufficient balance in the BTC wallet"):
        await simulator.send_lightning(250_000, fee=1)
    with pytest.raises(ValueError, match="amounts must be positive"):
        await simulator.receive_lightning(0)
    with pytest.raises(ValueError, match="amounts must be positive"):
        await simulator.receive_onchain(-1)
    with pytest.raises(ValueError, match="converts to nothing"):
        await simulator.transfer(1)
    assert simulator.account.btc_wallet.balance == 250_000
    assert len(simulator.account.transactions) == 2


def test_an_empty_simulator_has_no_history() -> None:
    sim = BlinkSimulator(opening_balances=(0, 0), api_key=None)

    assert sim.account.transactions == []
    assert sim.state.keys == {}


async def test_an_external_onchain_send_is_pushed_once_at_settlement(
    simulator: BlinkSimulator, session: aiohttp.ClientSession, updates: RawSocket
) -> None:
    # What-blink-sends 10: settle-payout-txn.ts pushes the payout when it
    # settles, SUCCESS; nothing while it is broadcast and unconfirmed.
    pending = await simulator.send_onchain(40_000, fee=300, status="PENDING")
    await updates.silent_for(0.1)

    settled = await simulator.settle_onchain_send(pending)
    update = await next_update(updates)

    assert update["txNotificationType"] == "OnchainPayment"
    assert update["transaction"]["id"] == pending.id == settled.id
    assert update["transaction"]["status"] == "SUCCESS"
    assert update["transaction"]["direction"] == "SEND"
    account = await account_view(simulator, session)
    assert as_pushed(account["newest"][0]) == update["transaction"]


async def test_an_onchain_send_to_a_blink_user_is_pushed_at_once_without_a_hash(
    simulator: BlinkSimulator, session: aiohttp.ClientSession
) -> None:
    # send-on-chain.ts settles it intra-ledger and tells the payer at once, with
    # no transaction hash: selecting the non-null `txHash` loses the update.
    selection = """subscription { myUpdates { errors { message } update {
      __typename ... on OnChainUpdate { txNotificationType %s
        transaction { id status settlementVia { __typename } } } } } }"""
    async with connect(session, simulator.ws_url, key=TEST_API_KEY) as plain:
        await plain.subscribe("1", selection % "")
        await plain.receive()
        await plain.receive()
        async with connect(session, simulator.ws_url, key=TEST_API_KEY) as hashed:
            await hashed.subscribe("1", selection % "txHash")
            await hashed.receive()
            await hashed.receive()
            await plain.receive()  # the price pushed for the second subscriber
            await plain.receive()
            tx = await simulator.send_onchain_to_blink(12_000)
            seen = await next_update(plain)
            lost = await hashed.receive()

    assert seen["txNotificationType"] == "OnchainPayment"
    assert seen["transaction"] == {
        "id": tx.id,
        "status": "SUCCESS",
        "settlementVia": {"__typename": "SettlementViaIntraLedger"},
    }
    assert lost["payload"]["data"]["myUpdates"]["update"] is None
    assert "txHash" in lost["payload"]["errors"][0]["message"]
