"""The socket against the simulator: every message type and the happy paths."""

import asyncio
from collections.abc import Callable
from decimal import Decimal

import pytest

from custom_components.blink_wallet.api import (
    LnUpdate,
    OnChainUpdate,
    PaymentKind,
    RealtimePrice,
    WalletCurrency,
    btc_price,
)
from custom_components.blink_wallet.api.models import Price
from tests.simulator import BlinkSimulator

from .harness import Harness

type Build = Callable[..., Harness]


async def test_connection_init_ack_subscribe_and_first_price(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness()
    h.my_updates()
    h.start()

    await h.connected()
    await h.wait_for(lambda: bool(h.price_updates))

    assert simulator.stats.connection_inits == 1
    assert simulator.stats.acks_sent == 1
    assert simulator.live_subscriptions["myUpdates"] == 1
    assert h.connection == [True]
    assert h.gaps == 0  # the first connection is no gap
    price = h.price_updates[0]
    assert price.denominator_currency == "USD"
    assert btc_price(price, 2) == Decimal(95_000)


async def test_payment_arrives_with_its_transaction_and_balances(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness()
    h.my_updates()
    h.start()
    await h.connected()
    await simulator.wait_for_subscriptions()

    sent = await simulator.receive_lightning(2100, memo="zap")
    await h.wait_for(lambda: bool(h.payments))

    payment = h.payments[0]
    assert payment.kind is PaymentKind.LN
    assert isinstance(payment, LnUpdate)
    assert payment.status == "PAID"
    assert payment.transaction.id == sent.id
    assert payment.transaction.settlement_amount == 2100
    assert payment.transaction.settlement_currency is WalletCurrency.BTC
    assert payment.transaction.memo == "zap"
    assert payment.transaction.payment_hash is not None
    account = next(u.account for u in h.updates if u.update is payment)
    assert account is not None
    assert account.btc_wallet is not None
    assert account.btc_wallet.balance == 250_000 + 2100


async def test_onchain_and_intraledger_payments_arrive(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness()
    h.my_updates()
    h.start()
    await simulator.wait_for_subscriptions()

    pending = await simulator.receive_onchain(50_000)
    await simulator.confirm_onchain(pending)
    await simulator.receive_intraledger(300, wallet="USD")
    await h.wait_for(lambda: len(h.payments) == 3)

    onchain_pending, onchain_confirmed, intraledger = h.payments
    assert onchain_pending.kind is PaymentKind.ONCHAIN
    assert isinstance(onchain_pending, OnChainUpdate)
    assert onchain_pending.tx_notification_type == "OnchainReceiptPending"
    assert onchain_confirmed.transaction.tx_hash == onchain_pending.transaction.tx_hash
    assert onchain_confirmed.transaction.id != onchain_pending.transaction.id
    assert intraledger.kind is PaymentKind.INTRALEDGER
    assert intraledger.transaction.settlement_currency is WalletCurrency.USD


async def test_realtime_price_follows_moves_in_its_currency(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness()
    h.realtime_price("EUR")
    h.start()
    await h.wait_for(lambda: bool(h.prices))

    await simulator.set_price(100_000)
    await h.wait_for(lambda: len(h.prices) == 2)

    assert all(p.denominator_currency == "EUR" for p in h.prices)
    expected = simulator.quote("EUR")
    assert h.prices[-1].btc_sat_price == expected.btc_sat_price.value


async def test_subscriptions_added_while_running_are_subscribed_at_once(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness()
    h.my_updates()
    h.start()
    await h.connected()

    h.realtime_price("USD")
    await h.wait_for(lambda: bool(h.prices))

    assert simulator.live_subscriptions == {"myUpdates": 1, "realtimePrice": 1}
    assert simulator.stats.ws_connections == 1


async def test_cancel_sends_complete_and_forgets_the_subscription(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness()
    h.my_updates()
    price = h.realtime_price()
    h.start()
    await simulator.wait_for_subscriptions("realtimePrice")

    price.cancel()
    price.cancel()  # twice is harmless
    await simulator.wait_for(lambda: simulator.live_subscriptions["realtimePrice"] == 0)
    await simulator.drop_sockets()
    await simulator.wait_for_subscriptions("myUpdates")

    assert not price.active
    assert simulator.live_subscriptions["realtimePrice"] == 0
    assert h.ws.subscriptions == (h.ws.subscriptions[0],)


async def test_cancel_before_run_means_it_is_never_subscribed(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness()
    h.my_updates().cancel()
    h.realtime_price()
    h.start()

    await simulator.wait_for_subscriptions("realtimePrice")

    assert simulator.stats.subscriptions["myUpdates"] == 0


async def test_client_pings_and_server_pongs(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness(ping_interval=0.02)
    h.my_updates()
    h.start()
    await h.connected()

    await simulator.wait_for(lambda: simulator.stats.pings_received >= 5)

    assert simulator.stats.pongs_sent >= 4
    assert simulator.stats.ws_connections == 1


async def test_server_ping_is_answered_with_pong(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness(ping_interval=60)
    h.my_updates()
    h.start()
    await h.connected()

    assert await simulator.ping_sockets() == 1
    await simulator.wait_for(lambda: simulator.stats.pongs_received == 1)


async def test_repeated_ack_and_stray_frames_are_ignored(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness()
    h.my_updates()
    h.start()
    await simulator.wait_for_subscriptions()

    await simulator.send_raw('{"type":"connection_ack"}')
    await simulator.send_raw('{"type":"pong"}')
    await simulator.send_raw('{"id":"999","type":"next","payload":{"data":{}}}')
    await simulator.send_raw('{"id":"999","type":"complete"}')
    await simulator.send_raw('{"id":"999","type":"error","payload":[]}')
    await simulator.receive_lightning(1)
    await h.wait_for(lambda: bool(h.payments))

    assert simulator.stats.ws_connections == 1


async def test_ids_are_unique_on_each_socket_and_across_sockets(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness()
    h.my_updates()
    h.realtime_price()
    h.start()
    seen: list[str] = []
    for _ in range(3):
        await simulator.wait_for(
            lambda: sum(len(s.subscriptions) for s in simulator.sessions) == 2
        )
        seen.extend(sid for s in simulator.sessions for sid in s.subscriptions)
        await simulator.drop_sockets()

    assert len(seen) == 6
    assert len(set(seen)) == 6


async def test_price_sent_only_as_the_deprecated_member_is_skipped(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness()
    h.my_updates()
    h.start()
    await h.wait_for(lambda: bool(h.price_updates))

    # Blink sends USD accounts a `Price` beside each `RealtimePrice`.
    assert any(isinstance(u.update, Price) for u in h.updates)
    assert all(isinstance(p, RealtimePrice) for p in h.price_updates)


async def test_close_with_nothing_running_is_harmless(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness()

    await h.ws.close()
    await h.ws.close()

    # run() after close() returns at once: close() is final.
    async with asyncio.timeout(1):
        await h.ws.run()
    assert simulator.stats.ws_connections == 0


async def test_run_twice_at_once_is_refused(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness()
    h.my_updates()
    h.start()
    await h.connected()

    with pytest.raises(RuntimeError):
        await h.ws.run()
