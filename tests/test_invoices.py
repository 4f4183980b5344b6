"""The create_invoice action and the events of the invoices it creates."""

import asyncio
from datetime import timedelta
import hashlib
from typing import Any

from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.json import json_dumps
from homeassistant.util import dt as dt_util
from homeassistant.util.json import json_loads
import probatio as vol
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.blink_wallet import invoices as invoices_module
from custom_components.blink_wallet.api import decode_bolt11
from custom_components.blink_wallet.const import (
    DOMAIN,
    EVENT_INVOICE_EXPIRED,
    EVENT_INVOICE_PAID,
    EVENT_PAYMENT_RECEIVED,
)
from tests.conftest import wait_until
from tests.simulator import BlinkSimulator

INVOICE_STATUS = "lnInvoicePaymentStatusByHash"


@pytest.fixture
def paid(hass: HomeAssistant) -> list[Event]:
    events: list[Event] = async_capture_events(hass, EVENT_INVOICE_PAID)
    return events


@pytest.fixture
def expired(hass: HomeAssistant) -> list[Event]:
    events: list[Event] = async_capture_events(hass, EVENT_INVOICE_EXPIRED)
    return events


@pytest.fixture
def received(hass: HomeAssistant) -> list[Event]:
    events: list[Event] = async_capture_events(hass, EVENT_PAYMENT_RECEIVED)
    return events


async def create_invoice(
    hass: HomeAssistant, entry: MockConfigEntry, **fields: Any
) -> dict[str, Any]:
    """Call the action and return its response."""
    response = await hass.services.async_call(
        DOMAIN,
        "create_invoice",
        {"config_entry_id": entry.entry_id, **fields},
        blocking=True,
        return_response=True,
    )
    assert isinstance(response, dict)
    return response


async def test_created_then_paid_fires_invoice_paid_and_payment_received_once(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    paid: list[Event],
    received: list[Event],
) -> None:
    response = await create_invoice(
        hass, init_integration, amount=2_100, memo="coffee", expires_in=30
    )
    decoded = decode_bolt11(response["payment_request"])
    assert response == {
        "payment_request": response["payment_request"],
        "payment_hash": decoded.payment_hash,
        "amount": 2_100,
        "currency": "BTC",
        "wallet_id": simulator.account.btc_wallet.id,
        "memo": "coffee",
        "expires_at": decoded.expires_at.isoformat(),
    }
    assert decoded.amount_sats == 2_100
    expires_at = dt_util.parse_datetime(response["expires_at"])
    assert expires_at is not None
    assert abs((expires_at - dt_util.utcnow()).total_seconds() - 30 * 60) < 60
    await simulator.wait_for_subscriptions(INVOICE_STATUS, 1)

    await simulator.pay_invoice(response["payment_request"])
    await wait_until(lambda: len(paid) == 1 and len(received) == 1)
    await asyncio.sleep(0.1)

    assert len(paid) == 1
    assert len(received) == 1
    assert paid[0].data == {
        "config_entry_id": init_integration.entry_id,
        "payment_hash": decoded.payment_hash,
        "payment_request": response["payment_request"],
        "amount": 2_100,
        "currency": "BTC",
        "memo": "coffee",
    }
    assert json_loads(json_dumps(paid[0].data)) == paid[0].data
    assert received[0].data["payment_hash"] == decoded.payment_hash
    # Settled: its subscription is completed, the socket's own ones stay.
    await simulator.wait_for(lambda: simulator.live_subscriptions[INVOICE_STATUS] == 0)
    assert simulator.live_subscriptions["myUpdates"] == 1
    assert init_integration.runtime_data.invoices.open_count == 0


# The selector's option is `usd`; automations written before it pass `USD`.
@pytest.mark.parametrize("currency", ["usd", "USD"])
async def test_usd_invoice_goes_to_the_stablesats_wallet(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    paid: list[Event],
    currency: str,
) -> None:
    response = await create_invoice(
        hass, init_integration, amount=250, currency=currency
    )
    assert response["currency"] == "USD"
    assert response["wallet_id"] == simulator.account.usd_wallet.id
    assert response["memo"] is None

    await simulator.pay_invoice(response["payment_hash"])
    await wait_until(lambda: len(paid) == 1)
    assert paid[0].data["currency"] == "USD"
    assert paid[0].data["amount"] == 250


async def test_created_then_expired_fires_invoice_expired(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    paid: list[Event],
    expired: list[Event],
) -> None:
    response = await create_invoice(hass, init_integration, amount=1_000)
    await simulator.wait_for_subscriptions(INVOICE_STATUS, 1)

    await simulator.expire_invoice(response["payment_hash"])
    await wait_until(lambda: len(expired) == 1)
    await asyncio.sleep(0.1)

    assert len(expired) == 1
    assert not paid
    assert expired[0].data["payment_hash"] == response["payment_hash"]
    await simulator.wait_for(lambda: simulator.live_subscriptions[INVOICE_STATUS] == 0)


async def test_paid_during_a_socket_drop_fires_once_after_recovery(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    paid: list[Event],
    received: list[Event],
) -> None:
    response = await create_invoice(hass, init_integration, amount=3_000)
    await simulator.wait_for_subscriptions(INVOICE_STATUS, 1)
    await simulator.stop(close_code=None)
    await wait_until(lambda: not init_integration.runtime_data.connected)
    await simulator.pay_invoice(response["payment_request"])
    await simulator.start()

    await wait_until(lambda: len(paid) == 1 and len(received) == 1, seconds=15)
    await asyncio.sleep(0.3)

    assert len(paid) == 1
    assert len(received) == 1
    assert received[0].data["payment_hash"] == response["payment_hash"]
    await simulator.wait_for(lambda: simulator.live_subscriptions[INVOICE_STATUS] == 0)


async def test_paid_while_unloaded_fires_once_after_setup(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    paid: list[Event],
    expired: list[Event],
) -> None:
    first = await create_invoice(hass, init_integration, amount=3_000, memo="a")
    second = await create_invoice(hass, init_integration, amount=4_000)
    still_open = await create_invoice(hass, init_integration, amount=5_000)
    await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert simulator.live_subscriptions[INVOICE_STATUS] == 0

    await simulator.pay_invoice(first["payment_request"])
    await simulator.expire_invoice(second["payment_hash"])
    await hass.config_entries.async_setup(init_integration.entry_id)
    await hass.async_block_till_done()

    await wait_until(lambda: len(paid) == 1 and len(expired) == 1)
    await asyncio.sleep(0.2)
    assert [event.data["payment_hash"] for event in paid] == [first["payment_hash"]]
    assert paid[0].data["memo"] == "a"
    assert [e.data["payment_hash"] for e in expired] == [second["payment_hash"]]
    # Only the invoice still open is followed.
    await simulator.wait_for(lambda: simulator.live_subscriptions[INVOICE_STATUS] == 1)
    assert init_integration.runtime_data.invoices.open_count == 1

    await simulator.pay_invoice(still_open["payment_hash"])
    await wait_until(lambda: len(paid) == 2)
    assert paid[1].data["payment_hash"] == still_open["payment_hash"]


async def test_paid_while_unloaded_is_found_by_the_catch_up(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    paid: list[Event],
) -> None:
    """The HTTP re-check alone finds it (the status subscription is not answered)."""
    response = await create_invoice(hass, init_integration, amount=3_000)
    coordinator = init_integration.runtime_data
    await simulator.wait_for_subscriptions(INVOICE_STATUS, 1)
    await simulator.stop(close_code=None)
    await wait_until(lambda: not coordinator.connected)
    await simulator.pay_invoice(response["payment_request"])
    await simulator.start()
    # The HTTP check runs with the catch-up; firing it directly proves it alone
    # is enough, and a second status (from the subscription) fires nothing more.
    await coordinator.invoices.async_check()
    await wait_until(lambda: len(paid) == 1)
    await wait_until(lambda: coordinator.connected, seconds=15)
    await asyncio.sleep(0.3)
    assert len(paid) == 1


async def test_an_invoice_blink_does_not_know_is_forgotten_after_a_while(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    """Kept while it may still settle, dropped a day after its expiry."""
    invoices = init_integration.runtime_data.invoices
    for name, expired_ago in (
        ("older", timedelta(days=3)),
        ("recent", timedelta(hours=1)),
        ("old", timedelta(days=2)),
    ):
        invoices.async_add(
            {
                "payment_hash": hashlib.sha256(name.encode()).hexdigest(),
                "payment_request": f"lnbc1{name}",
                "amount": 1,
                "currency": "BTC",
                "memo": None,
                "expires_at": (dt_util.utcnow() - expired_ago).isoformat(),
            }
        )
    assert invoices.open_count == 3
    await invoices.async_check()
    assert invoices.open_count == 1
    assert invoices.latest is None  # the latest was forgotten too
    # Blink unreachable: nothing is decided.
    simulator.fail_http(status=500)
    await invoices.async_check()
    assert invoices.open_count == 1


async def test_create_invoice_refusals(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    simulator.add_key("read-only", scopes=("READ",))
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, data={**mock_config_entry.data, "api_key": "read-only"}
    )
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    with pytest.raises(ServiceValidationError) as refused:
        await create_invoice(hass, mock_config_entry, amount=100)
    assert refused.value.translation_key == "missing_scope"

    with pytest.raises(vol.Invalid):
        await create_invoice(hass, mock_config_entry, amount=0)
    with pytest.raises(vol.Invalid):
        await create_invoice(hass, mock_config_entry, amount=10, expires_in=1441)

    simulator.fail_http(status=500, times=10)
    with pytest.raises(HomeAssistantError) as failed:
        await create_invoice(hass, mock_config_entry, amount=100)
    assert failed.value.translation_key == "invoice_failed"
    await hass.config_entries.async_unload(mock_config_entry.entry_id)


# --- Blink's status stream is not the last word (what-blink-sends 8) ---------------


async def test_a_streamed_paid_that_http_denies_fires_nothing(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    paid: list[Event],
) -> None:
    response = await create_invoice(hass, init_integration, amount=1_000)
    await simulator.wait_for_subscriptions(INVOICE_STATUS, 1)
    checks = simulator.stats.http_operations["LnInvoicePaymentStatusByHash"]

    # Older Blink announced PAID when its own check of the payment failed.
    await simulator.announce_paid_unchecked(response["payment_hash"])
    await simulator.wait_for(
        lambda: simulator.stats.http_operations["LnInvoicePaymentStatusByHash"] > checks
    )
    await hass.async_block_till_done()
    assert not paid

    # Paid for real: the stream says so again, and HTTP agrees.
    await simulator.pay_invoice(response["payment_hash"])
    await wait_until(lambda: len(paid) == 1)
    assert paid[0].data["payment_hash"] == response["payment_hash"]


async def test_an_expiry_the_stream_never_announced_is_found_over_http(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    expired: list[Event],
) -> None:
    # Blink's check at expiry failed: its stream announces no EXPIRED.
    simulator.behaviour.expiry_check_fails = True
    response = await create_invoice(hass, init_integration, amount=1_000, expires_in=1)
    await simulator.wait_for_subscriptions(INVOICE_STATUS, 1)
    expires_at = dt_util.parse_datetime(response["expires_at"])
    assert expires_at is not None
    # Blink's own clock passes the expiry...
    simulator.state.clock = lambda: expires_at.timestamp() + 5

    # ...and shortly after it, Home Assistant asks.
    async_fire_time_changed(hass, expires_at + timedelta(seconds=11))
    await wait_until(lambda: len(expired) == 1)

    assert expired[0].data["payment_hash"] == response["payment_hash"]


async def test_blinks_invoice_rate_limit_is_a_translated_error(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    simulator.behaviour.invoice_create_limit = (1, 60, 300)
    await create_invoice(hass, init_integration, amount=100)

    with pytest.raises(HomeAssistantError) as refused:
        await create_invoice(hass, init_integration, amount=100)

    assert refused.value.translation_key == "invoice_rate_limited"


async def test_receive_disabled_raises_a_repair_issue_quoting_blink(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    simulator.disable_receive()

    with pytest.raises(HomeAssistantError) as refused:
        await create_invoice(hass, init_integration, amount=100)

    assert refused.value.translation_key == "receive_disabled"
    issue_id = f"receive_disabled_{init_integration.entry_id}"
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert "can no longer receive payments" in issue.translation_placeholders["error"]

    simulator.behaviour.receive_disabled.clear()
    await create_invoice(hass, init_integration, amount=100)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_a_streamed_paid_is_asked_about_again_when_http_cannot_tell(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    paid: list[Event],
) -> None:
    response = await create_invoice(hass, init_integration, amount=1_000)
    await simulator.wait_for_subscriptions(INVOICE_STATUS, 1)
    simulator.fail_http(503, times=1)

    await simulator.pay_invoice(response["payment_hash"])
    await simulator.wait_for(lambda: not simulator.behaviour.http_faults)
    await asyncio.sleep(0.1)
    assert not paid  # not confirmed yet

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=61))
    await wait_until(lambda: len(paid) == 1)
    assert paid[0].data["payment_hash"] == response["payment_hash"]


async def test_a_streamed_paid_http_cannot_confirm_is_settled_by_the_expiry_check(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    paid: list[Event],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The retries of a streamed PAID stop; the check after the expiry still asks."""
    # A minute apart in production; moving the clock that far would also time out
    # the socket's ping, and the catch-up after it would check the invoice too.
    monkeypatch.setattr(invoices_module, "RECHECKS", 2)
    monkeypatch.setattr(invoices_module, "RECHECK_DELAY", timedelta(seconds=0.1))
    response = await create_invoice(hass, init_integration, amount=1_000, expires_in=30)
    await simulator.wait_for_subscriptions(INVOICE_STATUS, 1)
    simulator.fail_http(503, times=1_000)
    failing = len(simulator.behaviour.http_faults)

    await simulator.pay_invoice(response["payment_hash"])
    # The check of the streamed PAID, then two retries.
    await simulator.wait_for(
        lambda: failing - len(simulator.behaviour.http_faults) == 3
    )
    # No third retry, even once Blink answers again.
    simulator.behaviour.http_faults.clear()
    checks = simulator.stats.http_operations["LnInvoicePaymentStatusByHash"]
    await asyncio.sleep(0.5)
    assert simulator.stats.http_operations["LnInvoicePaymentStatusByHash"] == checks
    assert not paid

    expires_at = dt_util.parse_datetime(response["expires_at"])
    assert expires_at is not None
    async_fire_time_changed(hass, expires_at + timedelta(seconds=11))
    await wait_until(lambda: len(paid) == 1)
    assert paid[0].data["payment_hash"] == response["payment_hash"]


async def test_paid_announced_twice_fires_invoice_paid_once(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    paid: list[Event],
) -> None:
    response = await create_invoice(hass, init_integration, amount=1_000)
    await simulator.wait_for_subscriptions(INVOICE_STATUS, 1)

    await simulator.pay_invoice(response["payment_hash"])
    await simulator.announce_paid_unchecked(response["payment_hash"])
    await wait_until(lambda: len(paid) == 1)
    await asyncio.sleep(0.2)

    assert len(paid) == 1


async def test_unloading_while_a_paid_invoice_is_confirmed_fires_nothing_then(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    paid: list[Event],
) -> None:
    response = await create_invoice(hass, init_integration, amount=1_000)
    await simulator.wait_for_subscriptions(INVOICE_STATUS, 1)
    simulator.behaviour.http_delay = 0.3  # Blink slow to confirm

    await simulator.pay_invoice(response["payment_hash"])
    await asyncio.sleep(0.05)  # the confirmation is under way
    await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    await asyncio.sleep(0.4)
    assert paid == []

    # Still open in storage: the next setup finds it paid, once.
    simulator.behaviour.http_delay = 0
    await hass.config_entries.async_setup(init_integration.entry_id)
    await wait_until(lambda: len(paid) == 1)


async def test_an_open_invoice_stored_without_a_readable_expiry_is_still_followed(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    paid: list[Event],
) -> None:
    invoice = await simulator.create_invoice(1_000)
    hass_storage[f"{DOMAIN}.{mock_config_entry.entry_id}.invoices"] = {
        "version": 1,
        "key": f"{DOMAIN}.{mock_config_entry.entry_id}.invoices",
        "data": {
            "open": {
                invoice.payment_hash: {
                    "payment_hash": invoice.payment_hash,
                    "payment_request": invoice.payment_request,
                    "amount": 1_000,
                    "currency": "BTC",
                    "memo": None,
                    "expires_at": "not a date",
                }
            },
            "latest": invoice.payment_hash,
        },
    }
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await simulator.wait_for_subscriptions(INVOICE_STATUS, 1)

    await simulator.pay_invoice(invoice.payment_hash)
    await wait_until(lambda: len(paid) == 1)
    await hass.config_entries.async_unload(mock_config_entry.entry_id)
