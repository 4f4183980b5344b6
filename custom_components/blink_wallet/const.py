"""Constants of the Blink Wallet integration."""

import logging
from typing import Final

DOMAIN: Final = "blink_wallet"
LOGGER = logging.getLogger(__package__)
