"""Config flow for Blink Wallet (placeholder until the API client lands)."""

from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult

from .const import DOMAIN


class BlinkWalletConfigFlow(ConfigFlow, domain=DOMAIN):
    """Handle a config flow for Blink Wallet."""

    VERSION = 1

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Tell the user that accounts cannot be added yet."""
        return self.async_abort(reason="not_ready_yet")
