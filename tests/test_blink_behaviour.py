"""The integration against Blink as Blink's source shows it ("What Blink really sends").

Each test drives the real integration in Home Assistant against the simulator in
its Blink-faithful behaviour, and names the fact of `blink-api.md` it holds the
integration to; docs/blink-fidelity.md maps every fact to its test.
"""

import asyncio
from collections.abc import Sequence
from datetime import timedelta

from homeassistant.core import Event, HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.blink_wallet.const import (
    CONF_SENT_EVENTS,
    DOMAIN,
    EVENT_PAYMENT_RECEIVED,
    EVENT_PAYMENT_SENT,
)
from custom_components.blink_wallet.coordinator import BlinkWalletCoordinator
from custom_components.blink_wallet.key_watch import KEY_RECHECK_SECONDS
from tests.conftest import move_clock_until, state_of, wait_until
from tests.simulator import BlinkSimulator
from tests.simulator.protocol import WsSession


@pytest.fixture
def received(hass: HomeAssistant) -> list[Event]:
    events: list[Event] = async_capture_events(hass, EVENT_PAYMENT_RECEIVED)
    return events


def _reauth_flows(hass: HomeAssistant, entry: MockConfigEntry) -> int:
    return len(
        hass.config_entries.flow.async_progress_by_handler(
            DOMAIN, match_context={"entry_id": entry.entry_id, "source": "reauth"}
        )
    )


def _drop_payments(_session: WsSession, text: str) -> Sequence[str]:
    """A network that loses the payment pushes (and nothing else)."""
    return [] if '"LnUpdate"' in text else [text]


async def test_a_missed_payment_push_is_made_good_by_the_next_price_tick(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    # Fact 2: `me`, balances included, comes with every RealtimePrice.
    simulator.behaviour.frame_hook = _drop_payments
    requests = simulator.stats.http_requests
    await simulator.receive_lightning(3_000)
    await asyncio.sleep(0.1)
    assert state_of(hass, "sensor.satoshi_btc_balance") == "250000"

    await simulator.publish_prices()  # Blink's 30-second tick
    await wait_until(lambda: state_of(hass, "sensor.satoshi_btc_balance") == "253000")

    assert simulator.stats.http_requests == requests  # no polling


async def test_a_key_refused_over_http_is_checked_again_and_resumes_by_itself(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    received: list[Event],
) -> None:
    # Fact 5: Blink's key service down looks exactly like a revoked key.
    coordinator = init_integration.runtime_data
    simulator.key_service(up=False)
    await simulator.drop_sockets()
    # Generous waits: each step is a reconnect or an HTTP call on loopback, which
    # a loaded machine may take seconds over.
    await wait_until(lambda: _reauth_flows(hass, init_integration) == 1, 20)
    # Both have heard the refusal: the socket (its HTTP check) and the catch-up
    # its first frame started; only then are the rechecks counted.
    await wait_until(
        lambda: not coordinator.stream.running and not coordinator.catch_up.running, 20
    )
    await hass.async_block_till_done()
    # Refused at the gateway: counted there, before any operation is read.
    checks = simulator.stats.http_unauthorized
    sockets = simulator.stats.ws_connections

    # Not more than once a minute...
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=50))
    await hass.async_block_till_done()
    await asyncio.sleep(0.2)  # what a check would take on loopback
    assert simulator.stats.http_unauthorized == checks
    # ...and while Blink still refuses, again and again, at least every 5 minutes.
    now = dt_util.utcnow()
    for number, wait in enumerate(KEY_RECHECK_SECONDS, start=1):
        now += timedelta(seconds=wait + 1)
        # The next check is armed once the last refusal is in, which is counted
        # at Blink's gateway a moment earlier: move the clock until it fires.
        await move_clock_until(
            hass,
            now,
            lambda: simulator.stats.http_unauthorized == checks + number,  # noqa: B023
        )
        await hass.async_block_till_done()
    assert max(KEY_RECHECK_SECONDS) <= 300
    assert min(KEY_RECHECK_SECONDS) >= 60
    assert simulator.stats.ws_connections == sockets  # no socket meanwhile
    assert _reauth_flows(hass, init_integration) == 1

    simulator.key_service(up=True)
    async_fire_time_changed(hass, now + timedelta(seconds=301))
    await hass.async_block_till_done()
    await wait_until(lambda: coordinator.connected, 20)

    assert _reauth_flows(hass, init_integration) == 0
    tx = await simulator.receive_lightning(1_234)
    await wait_until(lambda: len(received) == 1)
    assert received[0].data["transaction_id"] == tx.id


async def test_fee_reimbursements_fire_nothing(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    received: list[Event],
) -> None:
    # Fact 7: the unused fee reserve booked back (never pushed, seen at the
    # catch-up after a gap) is no payment received; big ones say so in the memo,
    # small ones follow the Lightning payment whose fee they return.
    coordinator = init_integration.runtime_data
    catch_ups = coordinator.catch_ups
    await simulator.send_lightning(20_000, fee=100, actual_fee=40)  # 60 back
    await simulator.send_lightning(5_000, fee=10, actual_fee=3)  # 7 back
    paid = await simulator.receive_intraledger(500, memo="thanks")
    await simulator.drop_sockets()
    await wait_until(lambda: coordinator.catch_ups > catch_ups)
    await hass.async_block_till_done()

    assert [event.data["transaction_id"] for event in received] == [paid.id]
    assert state_of(hass, "sensor.satoshi_btc_balance") == str(
        simulator.account.btc_wallet.balance
    )


async def test_a_display_currency_changed_in_the_blink_app_is_followed(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    # Fact 9: the socket keeps the currency of its connect; HTTP tells. Here the
    # change shows in a payment booked in the new currency.
    assert (
        hass.states.get("sensor.satoshi_btc_price").attributes[  # type: ignore[union-attr]
            "unit_of_measurement"
        ]
        == "USD"
    )
    await simulator.set_display_currency("EUR")
    await simulator.receive_lightning(1_000)

    def price_in_euro() -> bool:
        return any(
            state.attributes.get("unit_of_measurement") == "EUR"
            for state in hass.states.async_all("sensor")
            if state.entity_id.startswith("sensor.satoshi_btc_price")
        )

    await wait_until(price_in_euro)
    await hass.async_block_till_done()
    assert init_integration.runtime_data.display_currency == "EUR"


async def test_the_account_is_read_hourly_for_its_display_currency(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    accounts = simulator.stats.http_operations["Account"]
    await simulator.set_display_currency("EUR")

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(hours=1, seconds=1))
    await wait_until(
        lambda: init_integration.runtime_data.display_currency == "EUR", 10
    )
    await hass.async_block_till_done()

    assert simulator.stats.http_operations["Account"] > accounts


async def test_sends_blink_pushes_fire_as_blink_pushes_them(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    # Fact 10: an external on-chain send only once settled; one to a Blink
    # user's address at once; Lightning and intra-ledger sends never.
    hass.config_entries.async_update_entry(
        init_integration, options={CONF_SENT_EVENTS: True}
    )
    sent = async_capture_events(hass, EVENT_PAYMENT_SENT)
    requests = simulator.stats.http_requests
    pending = await simulator.send_onchain(30_000, fee=200, status="PENDING")
    to_blink = await simulator.send_onchain_to_blink(4_000)
    await wait_until(lambda: len(sent) == 1)
    assert sent[0].data["transaction_id"] == to_blink.id
    assert sent[0].data["settlement"] == "intraledger"

    await simulator.settle_onchain_send(pending)
    await wait_until(lambda: len(sent) == 2)

    assert sent[1].data["transaction_id"] == pending.id
    assert sent[1].data["status"] == "success"
    assert sent[1].data["tx_hash"] is not None
    assert simulator.stats.http_requests == requests


async def test_a_key_refused_at_a_catch_up_while_the_socket_works_is_checked_again(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    received: list[Event],
) -> None:
    # Fact 4 and 5 together: the open socket keeps the key it checked at
    # connect, while HTTP refuses it (Blink's key service down).
    coordinator = init_integration.runtime_data
    catch_ups = coordinator.catch_ups
    simulator.key_service(up=False)
    coordinator.catch_up.async_request()  # the next gap's catch-up
    await wait_until(lambda: _reauth_flows(hass, init_integration) == 1)
    # Refused again while it is being checked: still one flow, one recheck.
    unauthorized = simulator.stats.http_unauthorized
    coordinator.catch_up.async_request()
    await simulator.wait_for(lambda: simulator.stats.http_unauthorized > unauthorized)
    await hass.async_block_till_done()
    assert _reauth_flows(hass, init_integration) == 1
    assert coordinator.connected  # live updates still flow
    tx = await simulator.receive_lightning(777)
    await wait_until(lambda: len(received) == 1)

    simulator.key_service(up=True)
    async_fire_time_changed(
        hass, dt_util.utcnow() + timedelta(seconds=KEY_RECHECK_SECONDS[0] + 1)
    )
    await wait_until(lambda: coordinator.catch_ups > catch_ups)
    await hass.async_block_till_done()

    assert _reauth_flows(hass, init_integration) == 0
    assert [event.data["transaction_id"] for event in received] == [tx.id]


async def test_an_account_check_that_fails_changes_nothing(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    accounts = simulator.stats.http_requests
    simulator.fail_http(502, body="<html>Bad Gateway</html>", content_type="text/html")

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(hours=1, seconds=1))
    await wait_until(lambda: simulator.stats.http_requests > accounts)
    await wait_until(lambda: "not read" in caplog.text)
    await hass.async_block_till_done()

    assert init_integration.runtime_data.display_currency == "USD"
    assert state_of(hass, "sensor.satoshi_btc_balance") == "250000"


async def test_the_account_is_read_once_at_a_time(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    coordinator: BlinkWalletCoordinator,
) -> None:
    reads = simulator.stats.http_operations["Account"]
    simulator.behaviour.http_delay = 0.2

    # The hour, and a payment booked in another display currency, together.
    coordinator.account_watch.async_check()
    coordinator.account_watch.async_check()
    await simulator.wait_for(lambda: simulator.stats.http_operations["Account"] > reads)
    await asyncio.sleep(0.3)

    assert simulator.stats.http_operations["Account"] == reads + 1


async def test_a_catch_up_blink_answers_with_an_error_is_retried(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    received: list[Event],
) -> None:
    coordinator = init_integration.runtime_data
    catch_ups = coordinator.catch_ups
    simulator.behaviour.frame_hook = _drop_payments  # only the catch-up can tell
    tx = await simulator.receive_lightning(4_321)
    simulator.fail_http(
        200,
        body='{"errors": [{"message": "boom", "code": "INTERNAL_SERVER_ERROR"}]}',
        content_type="application/json",
    )
    coordinator.catch_up.async_request()
    await simulator.wait_for(lambda: not simulator.behaviour.http_faults)
    await hass.async_block_till_done()
    assert coordinator.catch_ups == catch_ups
    assert received == []

    await move_clock_until(
        hass,
        dt_util.utcnow() + timedelta(seconds=31),
        lambda: coordinator.catch_ups > catch_ups,
    )
    await hass.async_block_till_done()

    assert [event.data["transaction_id"] for event in received] == [tx.id]
    assert received[0].data["replayed"] is True


async def test_a_catch_up_retry_due_at_unload_is_dropped(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    coordinator: BlinkWalletCoordinator,
) -> None:
    simulator.fail_http(503)
    coordinator.catch_up.async_request()
    await wait_until(lambda: coordinator.catch_up.retrying)
    requests = simulator.stats.http_requests
    # Asked for meanwhile: the retry due reads everything this one would.
    coordinator.catch_up.async_request()
    await hass.async_block_till_done()
    assert simulator.stats.http_requests == requests
    await hass.config_entries.async_unload(init_integration.entry_id)
    assert not coordinator.catch_up.retrying

    for _ in range(20):
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
        await asyncio.sleep(0.01)

    assert simulator.stats.http_requests == requests
