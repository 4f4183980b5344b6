"""The pay actions: every guard before anything reaches Blink, then real payments."""

import asyncio
import hashlib
from typing import Any

from homeassistant.auth.models import User
from homeassistant.const import CONF_API_KEY
from homeassistant.core import Context, Event, HomeAssistant
from homeassistant.exceptions import (
    HomeAssistantError,
    ServiceValidationError,
    Unauthorized,
)
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.blink_wallet.const import (
    CONF_ALLOW_PAYMENTS,
    CONF_MAX_DAILY_SATS,
    CONF_MAX_PAYMENT_SATS,
    DOMAIN,
    EVENT_PAYMENT_RECEIVED,
)
from tests.conftest import state_of, wait_until
from tests.simulator import BlinkSimulator, bolt11, lightning

REMOTE_KEY = 0xBEEF
START_BALANCE = 250_000


def remote_invoice(
    simulator: BlinkSimulator, sats: int | None, *, seed: bytes = b"pay"
) -> str:
    """An invoice of a node outside Blink (None: amountless)."""
    return bolt11.encode(
        prefix=lightning.PREFIX,
        amount_msat=None if sats is None else sats * 1000,
        timestamp=int(simulator.state.clock()),
        fields=bolt11.invoice_fields(
            payment_hash=hashlib.sha256(seed).hexdigest(),
            payment_secret="33" * 32,
            memo="elsewhere",
            expiry=3600,
        ),
        private_key=REMOTE_KEY,
    )


async def allow(hass: HomeAssistant, entry: MockConfigEntry, **options: Any) -> None:
    """Set options (payments allowed unless told) and wait for the reload."""
    hass.config_entries.async_update_entry(
        entry, options={CONF_ALLOW_PAYMENTS: True, **options}
    )
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()


async def pay(
    hass: HomeAssistant, entry: MockConfigEntry, service: str, **fields: Any
) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN,
        service,
        {"config_entry_id": entry.entry_id, **fields},
        blocking=True,
        return_response=True,
    )
    assert isinstance(response, dict)
    return response


async def refused(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    simulator: BlinkSimulator,
    service: str,
    key: str,
    *,
    error: type[HomeAssistantError] = ServiceValidationError,
    **fields: Any,
) -> None:
    """The action is refused with `key`, and nothing was sent to Blink."""
    sent = simulator.stats.payments_sent
    with pytest.raises(error) as caught:
        await pay(hass, entry, service, **fields)
    assert caught.value.translation_key == key
    assert caught.value.translation_domain == DOMAIN
    assert simulator.stats.payments_sent == sent


@pytest.fixture
def received(hass: HomeAssistant) -> list[Event]:
    events: list[Event] = async_capture_events(hass, EVENT_PAYMENT_RECEIVED)
    return events


async def test_payments_are_disabled_by_default(
    hass: HomeAssistant, simulator: BlinkSimulator, init_integration: MockConfigEntry
) -> None:
    request = remote_invoice(simulator, 100)
    await refused(
        hass,
        init_integration,
        simulator,
        "pay_invoice",
        "payments_disabled",
        payment_request=request,
    )
    await refused(
        hass,
        init_integration,
        simulator,
        "pay_lightning_address",
        "payments_disabled",
        lightning_address="alice@example.com",
        amount=100,
    )


async def test_an_allowed_invoice_payment_moves_the_balance_and_fires_nothing(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    received: list[Event],
) -> None:
    await allow(hass, init_integration)
    response = await pay(
        hass,
        init_integration,
        "pay_invoice",
        payment_request=remote_invoice(simulator, 1_000),
        memo="lunch",
    )
    assert response["status"] == "success"
    assert isinstance(response["transaction_id"], str)
    assert isinstance(response["fee"], int)
    assert simulator.stats.payments_sent == 1
    assert simulator.sent_payments[-1].transaction.memo == "lunch"
    expected = START_BALANCE - 1_000 - response["fee"]
    assert simulator.account.btc_wallet.balance == expected
    await wait_until(
        lambda: state_of(hass, "sensor.satoshi_btc_balance") == str(expected)
    )
    await asyncio.sleep(0.2)
    assert not received


async def test_an_allowed_lightning_address_payment(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    received: list[Event],
) -> None:
    await allow(hass, init_integration)
    response = await pay(
        hass,
        init_integration,
        "pay_lightning_address",
        lightning_address=" alice@example.com ",
        amount=500,
    )
    assert response["status"] == "success"
    assert simulator.stats.payments_sent == 1
    assert simulator.account.btc_wallet.balance == START_BALANCE - 500 - response["fee"]
    await asyncio.sleep(0.2)
    assert not received


async def test_invoice_guards(
    hass: HomeAssistant, simulator: BlinkSimulator, init_integration: MockConfigEntry
) -> None:
    await allow(hass, init_integration, **{CONF_MAX_DAILY_SATS: 1_000_000})
    entry = init_integration
    for request, key in (
        (remote_invoice(simulator, None), "amountless_invoice"),
        ("lnbc1notaninvoice", "invalid_invoice"),
        (remote_invoice(simulator, 10_001), "over_payment_limit"),
    ):
        await refused(
            hass, entry, simulator, "pay_invoice", key, payment_request=request
        )
    # Over the known balance (with limits that would allow it).
    await allow(
        hass,
        entry,
        **{CONF_MAX_PAYMENT_SATS: 1_000_000, CONF_MAX_DAILY_SATS: 1_000_000},
    )
    await refused(
        hass,
        entry,
        simulator,
        "pay_invoice",
        "over_balance",
        payment_request=remote_invoice(simulator, START_BALANCE + 1),
    )
    await refused(
        hass,
        entry,
        simulator,
        "pay_lightning_address",
        "over_balance",
        lightning_address="alice@example.com",
        amount=START_BALANCE + 1,
    )
    assert simulator.account.btc_wallet.balance == START_BALANCE


async def test_fractional_and_expired_invoices_are_refused(
    hass: HomeAssistant, simulator: BlinkSimulator, init_integration: MockConfigEntry
) -> None:
    await allow(hass, init_integration)
    fractional = bolt11.encode(
        prefix=lightning.PREFIX,
        amount_msat=1_500,
        timestamp=int(simulator.state.clock()),
        fields=bolt11.invoice_fields(
            payment_hash="44" * 32, payment_secret="33" * 32, memo="x", expiry=3600
        ),
        private_key=REMOTE_KEY,
    )
    await refused(
        hass,
        init_integration,
        simulator,
        "pay_invoice",
        "fractional_amount",
        payment_request=fractional,
    )
    old = bolt11.encode(
        prefix=lightning.PREFIX,
        amount_msat=1_000_000,
        timestamp=int(simulator.state.clock()) - 7200,
        fields=bolt11.invoice_fields(
            payment_hash="55" * 32, payment_secret="33" * 32, memo="x", expiry=3600
        ),
        private_key=REMOTE_KEY,
    )
    await refused(
        hass,
        init_integration,
        simulator,
        "pay_invoice",
        "expired_invoice",
        payment_request=old,
    )


async def test_daily_limit_counts_amount_and_fee_and_survives_a_reload(
    hass: HomeAssistant, simulator: BlinkSimulator, init_integration: MockConfigEntry
) -> None:
    entry = init_integration
    await allow(hass, entry, **{CONF_MAX_DAILY_SATS: 15_000})
    first = await pay(
        hass,
        entry,
        "pay_invoice",
        payment_request=remote_invoice(simulator, 8_000, seed=b"1"),
    )
    assert first["fee"] >= 1
    await refused(
        hass,
        entry,
        simulator,
        "pay_lightning_address",
        "over_daily_limit",
        lightning_address="alice@example.com",
        amount=15_000 - 8_000,
    )
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await refused(
        hass,
        entry,
        simulator,
        "pay_invoice",
        "over_daily_limit",
        payment_request=remote_invoice(simulator, 7_000, seed=b"2"),
    )
    # What is left after amount and fee still goes.
    left = 15_000 - 8_000 - first["fee"]
    await pay(
        hass,
        entry,
        "pay_lightning_address",
        lightning_address="alice@example.com",
        amount=left - 10,
    )
    assert simulator.stats.payments_sent == 2


async def test_payments_at_the_same_time_go_one_by_one_within_the_daily_limit(
    hass: HomeAssistant, simulator: BlinkSimulator, init_integration: MockConfigEntry
) -> None:
    entry = init_integration
    await allow(hass, entry, **{CONF_MAX_DAILY_SATS: 1_500})
    simulator.behaviour.http_delay = 0.1  # both calls are in flight together

    outcomes = await asyncio.gather(
        *(
            pay(
                hass,
                entry,
                "pay_lightning_address",
                lightning_address="alice@example.com",
                amount=1_000,
            )
            for _ in range(2)
        ),
        return_exceptions=True,
    )

    refusals = [o for o in outcomes if isinstance(o, ServiceValidationError)]
    assert len(refusals) == 1
    assert refusals[0].translation_key == "over_daily_limit"
    assert simulator.stats.payments_sent == 1


async def test_a_key_without_write_is_refused_before_sending(
    hass: HomeAssistant, simulator: BlinkSimulator, mock_config_entry: MockConfigEntry
) -> None:
    simulator.add_key("rw", scopes=("READ", "RECEIVE"))
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        data={**mock_config_entry.data, CONF_API_KEY: "rw"},
        options={CONF_ALLOW_PAYMENTS: True},
    )
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    await refused(
        hass,
        mock_config_entry,
        simulator,
        "pay_invoice",
        "missing_scope",
        payment_request=remote_invoice(simulator, 100),
    )
    await hass.config_entries.async_unload(mock_config_entry.entry_id)


async def test_blink_refusals_are_translated(
    hass: HomeAssistant, simulator: BlinkSimulator, init_integration: MockConfigEntry
) -> None:
    await allow(
        hass,
        init_integration,
        **{CONF_MAX_PAYMENT_SATS: 1_000_000, CONF_MAX_DAILY_SATS: 1_000_000},
    )
    address = {"lightning_address": "alice@example.com", "amount": 100}
    # Blink unreachable before anything is sent: the key's scopes are unknown.
    simulator.fail_http(status=500)
    await refused(
        hass,
        init_integration,
        simulator,
        "pay_lightning_address",
        "cannot_connect",
        error=HomeAssistantError,
        **address,
    )
    assert init_integration.runtime_data.guard.spending.total() == 0
    # The whole balance passes the guard, but Blink wants the fee on top.
    await refused(
        hass,
        init_integration,
        simulator,
        "pay_invoice",
        "insufficient_balance",
        error=HomeAssistantError,
        payment_request=remote_invoice(simulator, START_BALANCE, seed=b"all"),
    )
    simulator.fail_next_payment()
    with pytest.raises(HomeAssistantError) as failed:
        await pay(hass, init_integration, "pay_lightning_address", **address)
    assert failed.value.translation_key == "payment_failed"
    assert init_integration.runtime_data.guard.spending.total() == 0
    # The payment itself unanswered: it may have gone out, so it counts. (Once
    # what the failed payment set off has settled, so the fault meets the payment.)
    await asyncio.sleep(0.2)
    await hass.async_block_till_done()
    requests = simulator.stats.http_requests
    simulator.fail_http(status=500)
    with pytest.raises(HomeAssistantError) as unknown:
        await pay(hass, init_integration, "pay_lightning_address", **address)
    assert unknown.value.translation_key == "payment_unknown"
    assert simulator.stats.http_requests == requests + 1
    assert init_integration.runtime_data.guard.spending.total() == 100


async def test_pay_actions_are_for_admins_only(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
    hass_read_only_user: User,
) -> None:
    for service, fields in (
        ("pay_invoice", {"payment_request": remote_invoice(simulator, 100)}),
        (
            "pay_lightning_address",
            {"lightning_address": "alice@example.com", "amount": 100},
        ),
    ):
        with pytest.raises(Unauthorized):
            await hass.services.async_call(
                DOMAIN,
                service,
                {"config_entry_id": init_integration.entry_id, **fields},
                blocking=True,
                return_response=True,
                context=Context(user_id=hass_read_only_user.id),
            )
