"""Where an entry's Blink API lives, derived from its configuration."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .api import PRODUCTION_API_URL, PRODUCTION_WS_URL, STAGING_API_URL, STAGING_WS_URL
from .const import (
    CONF_API_URL,
    CONF_ENVIRONMENT,
    CONF_LIGHTNING_ADDRESS_DOMAIN,
    CONF_WS_URL,
    PRODUCTION_LIGHTNING_ADDRESS_DOMAIN,
    Environment,
)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """The URLs of one Blink (or Galoy) instance."""

    api_url: str
    ws_url: str
    lightning_address_domain: str | None

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> Endpoint:
        """Resolve the endpoint of an entry's data (or a flow's input)."""
        match Environment(data[CONF_ENVIRONMENT]):
            case Environment.PRODUCTION:
                return cls(
                    PRODUCTION_API_URL,
                    PRODUCTION_WS_URL,
                    PRODUCTION_LIGHTNING_ADDRESS_DOMAIN,
                )
            case Environment.STAGING:
                # Staging (signet) accounts have no Lightning address.
                return cls(STAGING_API_URL, STAGING_WS_URL, None)
            case Environment.CUSTOM:
                return cls(
                    data[CONF_API_URL],
                    data[CONF_WS_URL],
                    data.get(CONF_LIGHTNING_ADDRESS_DOMAIN) or None,
                )

    def lightning_address(self, username: str | None) -> str | None:
        """Return the account's Lightning address, where it has one."""
        if username and self.lightning_address_domain:
            return f"{username}@{self.lightning_address_domain}"
        return None
