"""The config flow: adding an account, reauthentication, reconfiguration, options."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USER, ConfigFlowResult
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.blink_wallet.const import (
    CONF_ALLOW_PAYMENTS,
    CONF_API_URL,
    CONF_DISPLAY_CURRENCY,
    CONF_ENVIRONMENT,
    CONF_LIGHTNING_ADDRESS_DOMAIN,
    CONF_MAX_DAILY_SATS,
    CONF_MAX_PAYMENT_SATS,
    CONF_REPLAY_WINDOW_HOURS,
    CONF_SENT_EVENTS,
    CONF_WS_URL,
    DOMAIN,
)
from tests.conftest import entry_data, state_of
from tests.simulator import TEST_API_KEY, BlinkSimulator


@contextmanager
def _production_is(simulator: BlinkSimulator) -> Iterator[None]:
    """Point Blink's production endpoint at the simulator (no network here)."""
    module = "custom_components.blink_wallet.endpoint"
    with (
        patch(f"{module}.PRODUCTION_API_URL", simulator.http_url),
        patch(f"{module}.PRODUCTION_WS_URL", simulator.ws_url),
    ):
        yield


def _endpoint(simulator: BlinkSimulator) -> dict[str, Any]:
    return {
        CONF_API_URL: simulator.http_url,
        CONF_WS_URL: simulator.ws_url,
        CONF_LIGHTNING_ADDRESS_DOMAIN: "blink.localhost",
    }


async def _start(hass: HomeAssistant, key: str = TEST_API_KEY) -> ConfigFlowResult:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: key, CONF_ENVIRONMENT: "custom"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "endpoint"
    return result


async def test_add_an_account_of_a_custom_instance(
    hass: HomeAssistant, simulator: BlinkSimulator
) -> None:
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _endpoint(simulator)
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "satoshi"
    assert result["data"] == entry_data(simulator)
    assert result["result"].unique_id == simulator.account.id
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_wrong_key_goes_back_to_the_key_and_keeps_the_endpoint(
    hass: HomeAssistant, simulator: BlinkSimulator
) -> None:
    result = await _start(hass, "wrong-key")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _endpoint(simulator)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {"base": "invalid_auth"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: TEST_API_KEY, CONF_ENVIRONMENT: "custom"}
    )
    assert result["step_id"] == "endpoint"
    schema = result["data_schema"]
    assert schema is not None
    assert schema({})[CONF_API_URL] == simulator.http_url  # remembered
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _endpoint(simulator)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_unreachable_blink_shows_in_the_endpoint_form_and_can_be_retried(
    hass: HomeAssistant, simulator: BlinkSimulator
) -> None:
    result = await _start(hass)
    simulator.fail_http(503, body="<html>down</html>", content_type="text/html")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _endpoint(simulator)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "endpoint"
    assert result["errors"] == {"base": "cannot_connect"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _endpoint(simulator)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_unreachable_endpoint_is_cannot_connect(
    hass: HomeAssistant, simulator: BlinkSimulator
) -> None:
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_API_URL: "http://127.0.0.1:9/graphql", CONF_WS_URL: "ws://127.0.0.1:9/"},
    )
    assert result["errors"] == {"base": "cannot_connect"}


async def test_unexpected_error_is_unknown(
    hass: HomeAssistant, simulator: BlinkSimulator
) -> None:
    result = await _start(hass)
    with patch(
        "custom_components.blink_wallet.config_flow.BlinkClient.account",
        side_effect=RuntimeError("boom"),
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], _endpoint(simulator)
        )
    assert result["errors"] == {"base": "unknown"}


async def test_the_same_account_cannot_be_added_twice(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    mock_config_entry.add_to_hass(hass)
    simulator.add_key("second-key")
    result = await _start(hass, "second-key")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _endpoint(simulator)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reauth_with_a_new_key(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    simulator.add_key("new-key")
    result = await init_integration.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["account"] == "satoshi"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "new-key"}
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert init_integration.data[CONF_API_KEY] == "new-key"


async def test_reauth_with_a_key_of_another_account_is_refused(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    simulator.add_key("other-key", account=simulator.add_account("mallory"))
    result = await init_integration.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "other-key"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert init_integration.data[CONF_API_KEY] == TEST_API_KEY


async def test_reconfigure_key_and_endpoint(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    simulator.add_key("rotated-key")
    result = await init_integration.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "rotated-key", CONF_ENVIRONMENT: "custom"}
    )
    assert result["step_id"] == "endpoint"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_API_URL: simulator.http_url, CONF_WS_URL: simulator.ws_url},
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    # The optional domain was left empty this time, so it is gone.
    assert init_integration.data == {
        CONF_API_KEY: "rotated-key",
        CONF_ENVIRONMENT: "custom",
        CONF_API_URL: simulator.http_url,
        CONF_WS_URL: simulator.ws_url,
    }
    assert init_integration.runtime_data.client is not None


async def test_reconfigure_with_a_key_of_another_account_is_refused(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    simulator.add_key("other-key", account=simulator.add_account(None))
    result = await init_integration.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "other-key", CONF_ENVIRONMENT: "custom"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _endpoint(simulator)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"


async def test_options_choose_the_price_currency_and_events(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert result["type"] is FlowResultType.FORM
    schema = result["data_schema"]
    assert schema is not None
    currencies = schema.schema[CONF_DISPLAY_CURRENCY].config["options"]
    assert {"value": "EUR", "label": "🇪🇺 EUR - Euro"} in currencies

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_DISPLAY_CURRENCY: "EUR",
            CONF_SENT_EVENTS: True,
            CONF_REPLAY_WINDOW_HOURS: 6,
            CONF_ALLOW_PAYMENTS: True,
            CONF_MAX_PAYMENT_SATS: 2_000,
        },
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    # Fields left alone keep their defaults.
    assert init_integration.options == {
        CONF_DISPLAY_CURRENCY: "EUR",
        CONF_SENT_EVENTS: True,
        CONF_REPLAY_WINDOW_HOURS: 6,
        CONF_ALLOW_PAYMENTS: True,
        CONF_MAX_PAYMENT_SATS: 2_000,
        CONF_MAX_DAILY_SATS: 50_000,
    }
    # The entry reloaded: the price now comes in euros, under a unique id of its own.
    assert state_of(hass, "sensor.satoshi_btc_price_eur") != "unavailable"


async def test_add_a_production_account(
    hass: HomeAssistant, simulator: BlinkSimulator
) -> None:
    """Production needs no URLs; here "production" is pointed at the simulator."""
    with _production_is(simulator):
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_USER}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {CONF_API_KEY: "wrong-key", CONF_ENVIRONMENT: "production"},
        )
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "user"
        assert result["errors"] == {"base": "invalid_auth"}
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {CONF_API_KEY: TEST_API_KEY, CONF_ENVIRONMENT: "production"},
        )
        await hass.async_block_till_done()

        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["data"] == {
            CONF_API_KEY: TEST_API_KEY,
            CONF_ENVIRONMENT: "production",
        }
        await hass.config_entries.async_unload(result["result"].entry_id)


async def test_reconfigure_from_custom_to_production_drops_the_urls(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    init_integration: MockConfigEntry,
) -> None:
    with _production_is(simulator):
        result = await init_integration.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {CONF_API_KEY: TEST_API_KEY, CONF_ENVIRONMENT: "production"},
        )
        await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert init_integration.data == {
        CONF_API_KEY: TEST_API_KEY,
        CONF_ENVIRONMENT: "production",
    }


async def test_options_of_an_entry_that_is_not_loaded_abort_with_a_reason(
    hass: HomeAssistant,
    simulator: BlinkSimulator,
    mock_config_entry: MockConfigEntry,
) -> None:
    # Blink unreachable at start: the entry waits to be retried, with no runtime data.
    simulator.fail_http(502, body="<html>Bad Gateway</html>", content_type="text/html")
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_loaded"
