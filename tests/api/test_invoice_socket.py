"""Watching an invoice over the client's socket, against the simulator."""

import asyncio
from collections.abc import Callable
import logging

import pytest

from custom_components.blink_wallet.api import BlinkGraphQLError, InvoiceStatus
from tests.simulator import BlinkSimulator

from .harness import Harness

type Build = Callable[..., Harness]
FIELD = "lnInvoicePaymentStatusByHash"


async def test_the_status_now_then_paid_then_cancelled(
    simulator: BlinkSimulator, harness: Build
) -> None:
    invoice = await simulator.create_invoice(1_000)
    h = harness()
    statuses: list[InvoiceStatus] = []
    h.my_updates()
    watch = h.ws.subscribe_invoice_status(invoice.payment_hash, statuses.append)
    h.start()
    await h.wait_for(lambda: statuses == [InvoiceStatus.PENDING])
    await simulator.wait_for_subscriptions(FIELD)

    await simulator.pay_invoice(invoice.payment_request)
    await h.wait_for(lambda: statuses[-1:] == [InvoiceStatus.PAID])

    assert simulator.open_sockets == 1  # one socket for myUpdates and the invoice
    assert statuses == [InvoiceStatus.PENDING, InvoiceStatus.PAID]
    await h.wait_for(lambda: len(h.payments) == 1)
    assert h.payments[0].transaction.payment_hash == invoice.payment_hash

    watch.cancel()
    await simulator.wait_for(lambda: simulator.live_subscriptions[FIELD] == 0)
    assert simulator.live_subscriptions["myUpdates"] == 1
    assert not watch.active
    assert watch not in h.ws.subscriptions


async def test_an_invoice_that_expires(
    simulator: BlinkSimulator, harness: Build
) -> None:
    invoice = await simulator.create_invoice(1_000, wallet="USD")
    h = harness()
    statuses: list[InvoiceStatus] = []
    h.ws.subscribe_invoice_status(invoice.payment_hash, statuses.append)
    h.start()
    await h.wait_for(lambda: statuses == [InvoiceStatus.PENDING])
    await simulator.wait_for_subscriptions(FIELD)

    await simulator.expire_invoice(invoice.payment_hash)

    await h.wait_for(lambda: statuses[-1:] == [InvoiceStatus.EXPIRED])


async def test_an_invoice_that_expires_by_itself(
    simulator: BlinkSimulator, harness: Build
) -> None:
    simulator.state.expiry_notice_delay = 0.05
    invoice = await simulator.create_invoice(1_000, expires_in_seconds=2)
    h = harness()
    statuses: list[InvoiceStatus] = []
    h.ws.subscribe_invoice_status(invoice.payment_hash, statuses.append)
    h.start()

    await h.wait_for(lambda: statuses[-1:] == [InvoiceStatus.EXPIRED], within=5)

    assert statuses == [InvoiceStatus.PENDING, InvoiceStatus.EXPIRED]


async def test_resubscribed_after_a_drop_with_the_status_now(
    simulator: BlinkSimulator, harness: Build
) -> None:
    invoice = await simulator.create_invoice(1_000)
    h = harness()
    statuses: list[InvoiceStatus] = []
    h.ws.subscribe_invoice_status(invoice.payment_hash, statuses.append)
    h.start()
    await h.wait_for(lambda: statuses == [InvoiceStatus.PENDING])

    await simulator.drop_sockets()
    await h.wait_for(lambda: h.connection == [True, False, True])
    await h.wait_for(lambda: len(statuses) == 2)
    await simulator.wait_for_subscriptions(FIELD)
    await simulator.pay_invoice(invoice.payment_hash)
    await h.wait_for(lambda: len(statuses) == 3)

    assert statuses == [InvoiceStatus.PENDING] * 2 + [InvoiceStatus.PAID]
    assert simulator.stats.subscriptions[FIELD] == 2
    assert h.gaps >= 1


async def test_paid_while_disconnected_is_the_first_status_after_reconnecting(
    simulator: BlinkSimulator, harness: Build
) -> None:
    invoice = await simulator.create_invoice(1_000)
    h = harness()
    statuses: list[InvoiceStatus] = []
    h.ws.subscribe_invoice_status(invoice.payment_hash, statuses.append)
    h.start()
    await h.wait_for(lambda: statuses == [InvoiceStatus.PENDING])

    await simulator.stop(close_code=None)
    assert h.connection[1:] in ([], [False])  # nothing got through while down
    await simulator.pay_invoice(invoice.payment_hash, payer="blink")
    await simulator.start()

    await h.wait_for(lambda: statuses[-1:] == [InvoiceStatus.PAID])
    assert statuses == [InvoiceStatus.PENDING, InvoiceStatus.PAID]
    assert h.connection == [True, False, True]


async def test_an_unknown_hash_goes_to_on_error(
    simulator: BlinkSimulator, harness: Build
) -> None:
    h = harness()
    statuses: list[InvoiceStatus] = []
    errors: list[BlinkGraphQLError] = []
    h.ws.subscribe_invoice_status("ab" * 32, statuses.append, on_error=errors.append)
    h.start()

    await h.wait_for(lambda: len(errors) == 1)

    assert errors[0].codes == ("LIGHTNING_PAYMENT_ERROR",)
    assert statuses == []
    assert h.ws.connected
    assert simulator.live_subscriptions[FIELD] == 1  # the owner decides


async def test_an_unknown_hash_without_on_error_is_logged(
    simulator: BlinkSimulator, harness: Build, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness()
    statuses: list[InvoiceStatus] = []
    h.ws.subscribe_invoice_status("ab" * 32, statuses.append)
    h.start()

    with caplog.at_level(logging.WARNING):
        await h.wait_for(
            lambda: any("does not exist" in r.getMessage() for r in caplog.records)
        )

    assert statuses == []


async def test_an_open_invoice_may_stay_silent(
    simulator: BlinkSimulator, harness: Build
) -> None:
    invoice = await simulator.create_invoice(1_000)
    h = harness(silence_timeout=0.05)
    statuses: list[InvoiceStatus] = []
    h.ws.subscribe_invoice_status(invoice.payment_hash, statuses.append)
    h.start()
    await h.wait_for(lambda: statuses == [InvoiceStatus.PENDING])

    await asyncio.sleep(0.3)

    assert simulator.stats.subscriptions[FIELD] == 1
    assert simulator.stats.ws_connections == 1
    assert statuses == [InvoiceStatus.PENDING]
