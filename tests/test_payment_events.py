"""Payment events on the bus: which payments fire, with what, and exactly once."""

import asyncio
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
import time
from typing import Any

from homeassistant.components import persistent_notification
from homeassistant.core import CoreState, Event, HomeAssistant
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.json import json_dumps
from homeassistant.setup import async_setup_component
from homeassistant.util.json import json_loads
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.blink_wallet import feed as feed_module
from custom_components.blink_wallet.const import (
    CONF_REPLAY_WINDOW_HOURS,
    CONF_SENT_EVENTS,
    EVENT_PAYMENT_PENDING,
    EVENT_PAYMENT_RECEIVED,
    EVENT_PAYMENT_SENT,
)
from custom_components.blink_wallet.coordinator import BlinkWalletCoordinator
from tests.conftest import state_of, wait_until
from tests.simulator import BlinkSimulator, ledger
from tests.simulator.state import InitiationViaLn

EVENT_KEYS: dict[str, type | tuple[type, ...]] = {
    "config_entry_id": str,
    "account_id": str,
    "wallet_id": str,
    "wallet_currency": str,
    "amount": int,
    "display_amount": str,
    "display_currency": str,
    "memo": (str, type(None)),
    "transaction_id": str,
    "payment_hash": (str, type(None)),
    "tx_hash": (str, type(None)),
    "settlement": str,
    "status": str,
    "created_at": str,
    "replayed": bool,
}


def assert_contract_shape(data: Mapping[str, Any]) -> None:
    """Keys and types as the contract fixes them, and JSON-safe as they are."""
    assert set(data) == set(EVENT_KEYS)
    for key, kind in EVENT_KEYS.items():
        assert isinstance(data[key], kind), key
    assert json_loads(json_dumps(data)) == data


@pytest.fixture
def received(hass: HomeAssistant) -> list[Event]:
    events: list[Event] = async_capture_events(hass, EVENT_PAYMENT_RECEIVED)
    return events


async def test_lightning_payment_fires_one_event_and_moves_the_balance(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    received: list[Event],
) -> None:
    requests = simulator.stats.http_requests
    before = datetime.now(UTC)
    # Pushed as Blink pushes it: its createdAt unusable (what-blink-sends 1).
    tx = await simulator.receive_lightning(2_100, memo="coffee")
    await wait_until(lambda: len(received) == 1)
    after = datetime.now(UTC)
    await hass.async_block_till_done()

    data = received[0].data
    assert_contract_shape(data)
    assert data == {
        **data,
        "config_entry_id": init_integration.entry_id,
        "account_id": simulator.account.id,
        "wallet_id": simulator.account.btc_wallet.id,
        "wallet_currency": "BTC",
        "amount": 2_100,
        "memo": "coffee",
        "transaction_id": tx.id,
        "settlement": "lightning",
        "status": "success",
        "tx_hash": None,
        "replayed": False,
    }
    assert data["payment_hash"] is not None
    assert len(data["payment_hash"]) == 64
    # Dated by its arrival, as the contract says of a live push.
    assert before <= datetime.fromisoformat(data["created_at"]) <= after
    assert state_of(hass, "sensor.satoshi_btc_balance") == "252100"
    # The push carried the new balance: no HTTP request was needed.
    assert simulator.stats.http_requests == requests

    await asyncio.sleep(0.1)
    assert len(received) == 1


async def test_payment_into_stablesats_wallet(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    received: list[Event],
) -> None:
    await simulator.receive_lightning(250, wallet="USD")
    await wait_until(lambda: len(received) == 1)
    await hass.async_block_till_done()

    data = received[0].data
    assert data["wallet_currency"] == "USD"
    assert data["wallet_id"] == simulator.account.usd_wallet.id
    assert data["amount"] == 250
    assert data["display_amount"] == "2.50"
    assert state_of(hass, "sensor.satoshi_stablesats_balance") == "52.50"


async def test_blink_to_blink_invoice_payment_carries_its_payment_hash(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    received: list[Event],
) -> None:
    tx = await simulator.receive_blink_invoice_payment(500)
    await wait_until(lambda: len(received) == 1)

    data = received[0].data
    assert data["settlement"] == "intraledger"
    assert isinstance(tx.initiation_via, InitiationViaLn)
    assert data["payment_hash"] == tx.initiation_via.payment_hash


async def test_a_payment_is_one_state_write_per_entity_it_concerns(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    coordinator: BlinkWalletCoordinator,
    received: list[Event],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await hass.async_block_till_done()
    writes: Counter[str] = Counter()
    write = Entity.async_write_ha_state

    def counted(entity: Entity) -> None:
        writes[entity.entity_id] += 1
        write(entity)

    monkeypatch.setattr(Entity, "async_write_ha_state", counted)

    await simulator.receive_lightning(1_000)
    await wait_until(lambda: state_of(hass, "sensor.satoshi_btc_balance") == "251000")
    await wait_until(lambda: len(received) == 1)
    await hass.async_block_till_done()

    assert writes == {
        "event.satoshi_payments": 1,
        "sensor.satoshi_last_payment": 1,
        "sensor.satoshi_btc_balance": 1,
    }


async def test_payment_from_another_blink_user_fires(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    received: list[Event],
) -> None:
    await simulator.receive_intraledger(700, sender_username="alice", memo="rent")
    # A payer without a username looks like a conversion until its twin is missing.
    await simulator.receive_intraledger(300, sender_username=None)
    await wait_until(lambda: len(received) == 2)

    assert [e.data["amount"] for e in received] == [700, 300]
    assert {e.data["settlement"] for e in received} == {"intraledger"}


async def test_a_twin_check_blink_cannot_answer_is_made_again(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    coordinator: BlinkWalletCoordinator,
    received: list[Event],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Half a minute in production; moving the clock that far would also time out
    # the socket's ping, and the catch-up after it would decide instead.
    monkeypatch.setattr(feed_module, "TWIN_CHECK_RETRY_SECONDS", 0.3)
    asked = simulator.stats.http_operations["Transactions"]
    simulator.fail_http(503)
    await simulator.receive_intraledger(300, sender_username=None)
    await simulator.wait_for(lambda: not simulator.behaviour.http_faults)
    await hass.async_block_till_done()
    assert received == []  # undecided: a conversion or a payment?

    await wait_until(lambda: bool(received))
    assert simulator.stats.http_operations["Transactions"] == asked + 1
    assert received[0].data["amount"] == 300
    assert received[0].data["replayed"] is False


async def test_a_conversion_is_not_decided_by_a_page_read_before_it(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    coordinator: BlinkWalletCoordinator,
    received: list[Event],
) -> None:
    simulator.behaviour.answer_delay = 0.3
    reads = simulator.stats.http_operations["Transactions"]
    # An anonymous payment: its twin check reads the newest page now...
    tx = await simulator.receive_intraledger(300, sender_username=None)
    await simulator.wait_for(
        lambda: simulator.stats.http_operations["Transactions"] > reads
    )
    # ...and a conversion comes before that answer is in.
    await simulator.transfer(10_000, from_wallet="BTC")
    await wait_until(
        lambda: simulator.stats.http_operations["Transactions"] > reads + 1
    )
    await asyncio.sleep(0.8)  # both answers in

    assert [e.data["transaction_id"] for e in received] == [tx.id]


async def test_transfer_between_own_wallets_fires_nothing(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    received: list[Event],
) -> None:
    sent = async_capture_events(hass, EVENT_PAYMENT_SENT)
    await simulator.transfer(10_000, from_wallet="BTC")
    await wait_until(lambda: state_of(hass, "sensor.satoshi_btc_balance") == "240000")
    # A later payment proves the transfer was looked at and passed over.
    await simulator.receive_lightning(1)
    await wait_until(lambda: len(received) == 1)

    assert [e.data["amount"] for e in received] == [1]
    assert sent == []


async def test_pending_onchain_receipt_then_its_confirmation(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    received: list[Event],
) -> None:
    pending = async_capture_events(hass, EVENT_PAYMENT_PENDING)
    tx = await simulator.receive_onchain(50_000)
    await wait_until(lambda: len(pending) == 1)
    await hass.async_block_till_done()
    assert state_of(hass, "sensor.satoshi_btc_pending_incoming") == "50000"

    confirmed = await simulator.confirm_onchain(tx)
    await wait_until(lambda: len(received) == 1)
    await asyncio.sleep(0.1)

    assert len(pending) == 1
    assert len(received) == 1
    assert_contract_shape(pending[0].data)
    assert pending[0].data["status"] == "pending"
    assert received[0].data["transaction_id"] == confirmed.id != tx.id
    assert received[0].data["tx_hash"] == pending[0].data["tx_hash"] is not None
    assert received[0].data["settlement"] == "onchain"


async def test_outgoing_payments_fire_only_with_the_option(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    received: list[Event],
) -> None:
    sent = async_capture_events(hass, EVENT_PAYMENT_SENT)
    await simulator.send_onchain(1_000)
    await simulator.receive_lightning(5)
    await wait_until(lambda: len(received) == 1)
    assert sent == []

    hass.config_entries.async_update_entry(
        init_integration, options={CONF_SENT_EVENTS: True}
    )
    tx = await simulator.send_onchain(2_000, memo="rent")
    await wait_until(lambda: len(sent) == 1)

    assert_contract_shape(sent[0].data)
    assert sent[0].data["transaction_id"] == tx.id
    assert sent[0].data["amount"] == 2_000 + tx.settlement_fee
    assert sent[0].data["settlement"] == "onchain"
    assert sent[0].data["status"] == "success"
    assert sent[0].data["replayed"] is False
    assert len(received) == 1


async def test_lightning_payment_sent_elsewhere_fires_at_the_next_catch_up(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    """Blink pushes nothing to the payer of a Lightning payment."""
    hass.config_entries.async_update_entry(
        init_integration, options={CONF_SENT_EVENTS: True}
    )
    sent = async_capture_events(hass, EVENT_PAYMENT_SENT)
    tx = await simulator.send_lightning(1_000)
    await asyncio.sleep(0.1)
    assert sent == []

    await simulator.drop_sockets()
    await wait_until(lambda: len(sent) == 1, seconds=15)

    assert sent[0].data["transaction_id"] == tx.id
    assert sent[0].data["replayed"] is True


async def test_existing_history_is_not_announced_at_first_setup(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    mock_config_entry: MockConfigEntry,
    received: list[Event],
) -> None:
    simulator.seed_history(count=120, days=30)
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    await wait_until(lambda: mock_config_entry.runtime_data.connected)
    # Let the start-up catch-up run to its end.
    await asyncio.sleep(0.2)
    await hass.async_block_till_done()

    assert received == []
    await hass.config_entries.async_unload(mock_config_entry.entry_id)


async def test_payment_during_a_socket_drop_is_replayed_once(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    received: list[Event],
) -> None:
    await simulator.stop(close_code=None)
    await wait_until(lambda: not init_integration.runtime_data.connected)
    tx = await simulator.receive_lightning(4_200)
    await simulator.start()

    await wait_until(lambda: len(received) == 1, seconds=15)
    await asyncio.sleep(0.2)

    assert len(received) == 1
    assert received[0].data["transaction_id"] == tx.id
    assert received[0].data["replayed"] is True
    assert state_of(hass, "sensor.satoshi_btc_balance") == "254200"


async def test_a_gap_during_a_catch_up_gets_a_catch_up_of_its_own(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    coordinator: BlinkWalletCoordinator,
    received: list[Event],
) -> None:
    # Gap 1: its catch-up reads the history, then Blink is slow with the rest.
    slow = simulator.hold_http("PendingIncomingTransactions")
    asked = simulator.stats.http_operations["PendingIncomingTransactions"]
    await simulator.drop_sockets()
    await simulator.wait_for(
        lambda: simulator.stats.http_operations["PendingIncomingTransactions"] > asked,
        seconds=10,
    )
    # Gap 2, with a payment nobody pushes: only a catch-up can find it.
    simulator.silence_sockets()
    tx = await simulator.receive_lightning(3_100)
    await simulator.drop_sockets()
    # The new stream's first frame is in (its balances include the payment).
    await wait_until(lambda: state_of(hass, "sensor.satoshi_btc_balance") == "253100")
    assert received == []

    slow.set()
    await wait_until(lambda: len(received) == 1)
    assert received[0].data["transaction_id"] == tx.id
    assert received[0].data["replayed"] is True
    # Exactly one more: the run under way, then the one the gap asked for.
    await wait_until(lambda: coordinator.catch_ups == 3)
    await asyncio.sleep(0.2)
    assert coordinator.catch_ups == 3


async def test_payment_while_unloaded_is_replayed_after_setup(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    received: list[Event],
) -> None:
    await hass.config_entries.async_unload(init_integration.entry_id)
    tx = await simulator.receive_lightning(900)
    await hass.config_entries.async_setup(init_integration.entry_id)
    await hass.async_block_till_done()

    await wait_until(lambda: len(received) == 1)
    assert received[0].data["transaction_id"] == tx.id
    assert received[0].data["replayed"] is True


async def test_events_before_start_reach_an_automation_armed_at_start(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    hass.set_state(CoreState.not_running)
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "mode": "queued",
                "triggers": {
                    "trigger": "event",
                    "event_type": EVENT_PAYMENT_RECEIVED,
                },
                "actions": {
                    "event": "gate_opened",
                    "event_data": {"amount": "{{ trigger.event.data.amount }}"},
                },
            }
        },
    )
    opened = async_capture_events(hass, "gate_opened")
    received = async_capture_events(hass, EVENT_PAYMENT_RECEIVED)
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await wait_until(lambda: mock_config_entry.runtime_data.connected)
    await simulator.receive_lightning(1_000)
    await simulator.receive_lightning(2_000)
    await asyncio.sleep(0.1)
    assert opened == []
    assert received == []

    await hass.async_start()
    await hass.async_block_till_done()

    await wait_until(lambda: len(opened) == 2)
    assert [e.data["amount"] for e in opened] == [1_000, 2_000]
    await hass.config_entries.async_unload(mock_config_entry.entry_id)


async def test_payments_older_than_the_replay_window_are_counted_not_fired(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    mock_config_entry: MockConfigEntry,
    received: list[Event],
) -> None:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, options={CONF_REPLAY_WINDOW_HOURS: 1}
    )
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    await wait_until(lambda: mock_config_entry.runtime_data.catch_ups > 0)
    await hass.config_entries.async_unload(mock_config_entry.entry_id)

    # While Home Assistant is away: one payment two hours ago, one just now.
    two_hours_ago = ledger.When(int(time.time()) - 7_200, simulator.price)
    old = ledger.receive_lightning(
        simulator.state, simulator.account, 3_000, when=two_hours_ago
    ).transactions[0]
    recent = await simulator.receive_lightning(4_000)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await wait_until(lambda: len(received) == 1)
    await asyncio.sleep(0.1)

    assert [e.data["transaction_id"] for e in received] == [recent.id]
    assert received[0].data["replayed"] is True
    notifications = persistent_notification._async_get_or_create_notifications(hass)
    await wait_until(lambda: any("not_replayed" in key for key in notifications))
    [notice] = [n for key, n in notifications.items() if "not_replayed" in key]
    # Translated (strings.json, here in English), with its placeholders filled.
    assert notice["message"].startswith("1 payment(s) to satoshi arrived more than 1 ")
    assert notice["title"] == "Blink Wallet: payments not replayed"
    assert old.id not in {e.data["transaction_id"] for e in received}
    await hass.config_entries.async_unload(mock_config_entry.entry_id)


async def test_a_conversion_in_the_history_is_not_the_last_payment(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    opening = datetime.fromtimestamp(simulator.account.transactions[0].created_at, UTC)
    await simulator.transfer(10_000)  # newest in the history, but no payment
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    assert state_of(hass, "sensor.satoshi_last_payment") == opening.isoformat()
    await hass.config_entries.async_unload(mock_config_entry.entry_id)
