"""Config flow for Blink Wallet: add an account, reauthenticate, reconfigure, options."""

from collections.abc import Mapping
from typing import Any, override

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_API_KEY
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio as vol

from .api import Account, BlinkAuthError, BlinkClient, BlinkError
from .const import (
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
    DEFAULT_ALLOW_PAYMENTS,
    DEFAULT_MAX_DAILY_SATS,
    DEFAULT_MAX_PAYMENT_SATS,
    DEFAULT_REPLAY_WINDOW_HOURS,
    DEFAULT_SENT_EVENTS,
    DOMAIN,
    LOGGER,
    Environment,
)
from .coordinator import BlinkWalletConfigEntry
from .endpoint import Endpoint

_API_KEY_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_URL_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
_SATS = vol.All(
    NumberSelector(
        NumberSelectorConfig(
            min=0,
            max=21_000_000 * 100_000_000,
            step=1,
            mode=NumberSelectorMode.BOX,
            unit_of_measurement="sat",
        )
    ),
    vol.Coerce(int),
)


def _user_schema(defaults: Mapping[str, Any]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_API_KEY): _API_KEY_SELECTOR,
            vol.Required(
                CONF_ENVIRONMENT,
                default=defaults.get(CONF_ENVIRONMENT, Environment.PRODUCTION),
            ): SelectSelector(
                SelectSelectorConfig(
                    options=[env.value for env in Environment],
                    translation_key=CONF_ENVIRONMENT,
                    mode=SelectSelectorMode.LIST,
                )
            ),
        }
    )


def _endpoint_schema(defaults: Mapping[str, Any]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(
                CONF_API_URL, default=defaults.get(CONF_API_URL, vol.UNDEFINED)
            ): _URL_SELECTOR,
            vol.Required(
                CONF_WS_URL, default=defaults.get(CONF_WS_URL, vol.UNDEFINED)
            ): _URL_SELECTOR,
            vol.Optional(
                CONF_LIGHTNING_ADDRESS_DOMAIN,
                description={
                    "suggested_value": defaults.get(CONF_LIGHTNING_ADDRESS_DOMAIN)
                },
            ): TextSelector(),
        }
    )


def entry_title(account: Account) -> str:
    """Name the entry after the account: its username, or a masked id."""
    if account.username:
        return account.username
    return f"Blink …{account.id[-4:]}"


class BlinkWalletConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a Blink account with an API key from the Blink dashboard."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing entered."""
        self._data: dict[str, Any] = {}
        self._title = ""

    @staticmethod
    @callback
    @override
    def async_get_options_flow(
        config_entry: BlinkWalletConfigEntry,
    ) -> BlinkWalletOptionsFlow:
        """Return the options flow."""
        return BlinkWalletOptionsFlow()

    @override
    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the API key and the environment."""
        return await self._async_step_account("user", user_input)

    async def async_step_endpoint(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask where a custom Galoy instance lives."""
        errors: dict[str, str] = {}
        if user_input is not None:
            self._data.pop(CONF_LIGHTNING_ADDRESS_DOMAIN, None)
            self._data.update(user_input)
            if not (errors := await self._async_validate()):
                return await self._async_finish()
            if errors["base"] == "invalid_auth":
                # The key is on the first step: go back there to fix it (the
                # endpoint is kept and offered again).
                return self.async_show_form(
                    step_id="reconfigure"
                    if self.source == SOURCE_RECONFIGURE
                    else "user",
                    data_schema=_user_schema(self._data),
                    errors=errors,
                )
        return self.async_show_form(
            step_id="endpoint",
            data_schema=_endpoint_schema(self._data),
            errors=errors,
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Blink refused the key: ask for a new one."""
        self._data = dict(entry_data)
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new API key of the same account."""
        errors: dict[str, str] = {}
        if user_input is not None:
            self._data[CONF_API_KEY] = user_input[CONF_API_KEY]
            if not (errors := await self._async_validate()):
                return await self._async_finish()
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Required(CONF_API_KEY): _API_KEY_SELECTOR}),
            description_placeholders={"account": self._get_reauth_entry().title},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Offer the setup steps again, for the same account."""
        if user_input is None:
            self._data = dict(self._get_reconfigure_entry().data)
        return await self._async_step_account("reconfigure", user_input)

    async def _async_step_account(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Key and environment: the first step of setup and of reconfigure."""
        errors: dict[str, str] = {}
        if user_input is not None:
            # Fields of the endpoint step survive a switch back from custom.
            self._data = {**self._data, **user_input}
            if user_input[CONF_ENVIRONMENT] == Environment.CUSTOM:
                return await self.async_step_endpoint()
            for key in (CONF_API_URL, CONF_WS_URL, CONF_LIGHTNING_ADDRESS_DOMAIN):
                self._data.pop(key, None)
            if not (errors := await self._async_validate()):
                return await self._async_finish()
        return self.async_show_form(
            step_id=step_id, data_schema=_user_schema(self._data), errors=errors
        )

    async def _async_validate(self) -> dict[str, str]:
        """Check the key live; on success remember the account as the unique id."""
        endpoint = Endpoint.from_config(self._data)
        client = BlinkClient(
            async_get_clientsession(self.hass),
            self._data[CONF_API_KEY],
            api_url=endpoint.api_url,
        )
        try:
            account = await client.account()
        except BlinkAuthError:
            return {"base": "invalid_auth"}
        except BlinkError as err:
            LOGGER.debug("Could not reach Blink at %s: %s", endpoint.api_url, err)
            return {"base": "cannot_connect"}
        except Exception:  # noqa: BLE001 - the form must show an error, never a traceback
            LOGGER.exception("Unexpected error while checking the Blink API key")
            return {"base": "unknown"}
        await self.async_set_unique_id(account.id, raise_on_progress=False)
        self._title = entry_title(account)
        return {}

    async def _async_finish(self) -> ConfigFlowResult:
        """Create the entry, or update the one being reauthenticated/reconfigured."""
        if self.source in (SOURCE_RECONFIGURE, SOURCE_REAUTH):
            self._abort_if_unique_id_mismatch(reason="wrong_account")
            entry = (
                self._get_reconfigure_entry()
                if self.source == SOURCE_RECONFIGURE
                else self._get_reauth_entry()
            )
            return self.async_update_reload_and_abort(entry, data=self._data)
        self._abort_if_unique_id_configured()
        return self.async_create_entry(title=self._title, data=self._data)


class BlinkWalletOptionsFlow(OptionsFlowWithReload):
    """Choose the price currency, which events fire, and what may be paid."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the options; the currencies come from Blink's currency list."""
        if user_input is not None:
            return self.async_create_entry(data=user_input)
        if self.config_entry.state is not ConfigEntryState.LOADED:
            # The currencies come from Blink, through the loaded entry.
            return self.async_abort(reason="not_loaded")

        coordinator = self.config_entry.runtime_data
        options = self.config_entry.options
        currency_options = [
            SelectOptionDict(value=c.id, label=f"{c.flag} {c.id} - {c.name}".strip())
            for c in sorted(coordinator.currencies.values(), key=lambda c: c.id)
        ]
        return self.async_show_form(
            step_id="init",
            data_schema=vol.Schema(
                {
                    vol.Required(
                        CONF_DISPLAY_CURRENCY,
                        default=options.get(
                            CONF_DISPLAY_CURRENCY, coordinator.display_currency
                        ),
                    ): SelectSelector(
                        SelectSelectorConfig(
                            options=currency_options,
                            mode=SelectSelectorMode.DROPDOWN,
                        )
                    ),
                    vol.Required(
                        CONF_SENT_EVENTS,
                        default=options.get(CONF_SENT_EVENTS, DEFAULT_SENT_EVENTS),
                    ): BooleanSelector(),
                    vol.Required(
                        CONF_REPLAY_WINDOW_HOURS,
                        default=options.get(
                            CONF_REPLAY_WINDOW_HOURS, DEFAULT_REPLAY_WINDOW_HOURS
                        ),
                    ): vol.All(
                        NumberSelector(
                            NumberSelectorConfig(
                                min=0,
                                max=24 * 30,
                                step=1,
                                mode=NumberSelectorMode.BOX,
                                unit_of_measurement="h",
                            )
                        ),
                        vol.Coerce(int),
                    ),
                    vol.Required(
                        CONF_ALLOW_PAYMENTS,
                        default=options.get(
                            CONF_ALLOW_PAYMENTS, DEFAULT_ALLOW_PAYMENTS
                        ),
                    ): BooleanSelector(),
                    vol.Required(
                        CONF_MAX_PAYMENT_SATS,
                        default=options.get(
                            CONF_MAX_PAYMENT_SATS, DEFAULT_MAX_PAYMENT_SATS
                        ),
                    ): _SATS,
                    vol.Required(
                        CONF_MAX_DAILY_SATS,
                        default=options.get(
                            CONF_MAX_DAILY_SATS, DEFAULT_MAX_DAILY_SATS
                        ),
                    ): _SATS,
                }
            ),
        )
