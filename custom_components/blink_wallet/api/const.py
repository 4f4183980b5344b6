"""Endpoints and protocol constants of the Blink API."""

import logging
from typing import Final

LOGGER: Final = logging.getLogger(__package__)

PRODUCTION_API_URL: Final = "https://api.blink.sv/graphql"
PRODUCTION_WS_URL: Final = "wss://ws.blink.sv/graphql"
STAGING_API_URL: Final = "https://api.staging.blink.sv/graphql"
# Not seen in Blink's source, only derived from its naming: keep it configurable.
STAGING_WS_URL: Final = "wss://ws.staging.blink.sv/graphql"

GRAPHQL_TRANSPORT_WS: Final = "graphql-transport-ws"
