"""Where each environment's API lives, and the Lightning address it gives."""

import pytest

from custom_components.blink_wallet.api import (
    PRODUCTION_API_URL,
    PRODUCTION_WS_URL,
    STAGING_API_URL,
    STAGING_WS_URL,
)
from custom_components.blink_wallet.endpoint import Endpoint


def test_production_is_blink_with_addresses_on_blink_sv() -> None:
    endpoint = Endpoint.from_config({"environment": "production"})
    assert (endpoint.api_url, endpoint.ws_url) == (
        PRODUCTION_API_URL,
        PRODUCTION_WS_URL,
    )
    assert endpoint.lightning_address("satoshi") == "satoshi@blink.sv"
    assert endpoint.lightning_address(None) is None


def test_staging_has_no_lightning_address() -> None:
    endpoint = Endpoint.from_config(
        {"environment": "staging", "api_url": "ignored", "ws_url": "ignored"}
    )
    assert (endpoint.api_url, endpoint.ws_url) == (STAGING_API_URL, STAGING_WS_URL)
    assert endpoint.lightning_address("satoshi") is None


@pytest.mark.parametrize(
    ("domain", "address"),
    [("pay.example", "satoshi@pay.example"), ("", None), (None, None)],
)
def test_custom_uses_its_urls_and_optional_domain(
    domain: str | None, address: str | None
) -> None:
    endpoint = Endpoint.from_config(
        {
            "environment": "custom",
            "api_url": "https://api.example/graphql",
            "ws_url": "wss://ws.example/graphql",
            "lightning_address_domain": domain,
        }
    )
    assert endpoint.api_url == "https://api.example/graphql"
    assert endpoint.ws_url == "wss://ws.example/graphql"
    assert endpoint.lightning_address("satoshi") == address
