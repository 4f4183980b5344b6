"""Diagnostics: what a maintainer needs to see, with the key and ids redacted."""

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from msgspec.structs import asdict

from .coordinator import BlinkWalletConfigEntry

# The key, who the account is, and how much money it holds or sent: people paste
# diagnostics into public issues.
TO_REDACT = {
    CONF_API_KEY,
    "id",
    "username",
    "account_id",
    "wallet_id",
    "unique_id",
    "balance",
    "pending_incoming_balance",
    "sent_last_24h_sats",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: BlinkWalletConfigEntry
) -> dict[str, Any]:
    """Return diagnostics of a config entry."""
    coordinator = entry.runtime_data
    state = coordinator.data
    return async_redact_data(
        {
            "entry": {
                "data": dict(entry.data),
                "options": dict(entry.options),
                "unique_id": entry.unique_id,
            },
            "account": {
                "id": state.account.id,
                "username": state.account.username,
                "display_currency": state.account.display_currency,
                "wallets": [asdict(wallet) for wallet in state.account.wallets],
            },
            "price": {
                "timestamp": state.price.timestamp.isoformat(),
                "currency": state.price.denominator_currency,
                "btc_sat_price": str(state.price.btc_sat_price),
            },
            "display_currency": coordinator.display_currency,
            "connected": coordinator.connected,
            "stale": coordinator.stale,
            "delivery": coordinator.feed.diagnostics(),
            "open_invoices": coordinator.invoices.open_count,
            "sent_last_24h_sats": coordinator.guard.spending.total(),
            "catch_ups": coordinator.catch_ups,
            "statistics": coordinator.history.diagnostics(),
        },
        TO_REDACT,
    )
