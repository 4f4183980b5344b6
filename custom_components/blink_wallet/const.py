"""Constants of the Blink Wallet integration."""

from datetime import timedelta
from enum import StrEnum
import logging
from typing import Final

DOMAIN: Final = "blink_wallet"
LOGGER = logging.getLogger(__package__)

CONF_ENVIRONMENT: Final = "environment"
CONF_API_URL: Final = "api_url"
CONF_WS_URL: Final = "ws_url"
CONF_LIGHTNING_ADDRESS_DOMAIN: Final = "lightning_address_domain"


class Environment(StrEnum):
    """Where the account lives."""

    PRODUCTION = "production"
    STAGING = "staging"
    CUSTOM = "custom"


# Production accounts get a Lightning address on this domain.
PRODUCTION_LIGHTNING_ADDRESS_DOMAIN: Final = "blink.sv"

# Options (entry.options) and their defaults, as the contract fixes them.
CONF_DISPLAY_CURRENCY: Final = "display_currency"
CONF_SENT_EVENTS: Final = "sent_events"
CONF_REPLAY_WINDOW_HOURS: Final = "replay_window_hours"
DEFAULT_SENT_EVENTS: Final = False
DEFAULT_REPLAY_WINDOW_HOURS: Final = 24
CONF_ALLOW_PAYMENTS: Final = "allow_payments"
CONF_MAX_PAYMENT_SATS: Final = "max_payment_sats"
CONF_MAX_DAILY_SATS: Final = "max_daily_sats"
DEFAULT_ALLOW_PAYMENTS: Final = False
DEFAULT_MAX_PAYMENT_SATS: Final = 10_000
DEFAULT_MAX_DAILY_SATS: Final = 50_000

EVENT_PAYMENT_RECEIVED: Final = f"{DOMAIN}_payment_received"
EVENT_PAYMENT_PENDING: Final = f"{DOMAIN}_payment_pending"
EVENT_PAYMENT_SENT: Final = f"{DOMAIN}_payment_sent"
EVENT_INVOICE_PAID: Final = f"{DOMAIN}_invoice_paid"
EVENT_INVOICE_EXPIRED: Final = f"{DOMAIN}_invoice_expired"

SERVICE_CREATE_INVOICE: Final = "create_invoice"
SERVICE_PAY_INVOICE: Final = "pay_invoice"
SERVICE_PAY_LIGHTNING_ADDRESS: Final = "pay_lightning_address"

# Entities stay available through short socket outages; past this the data is stale.
STALE_AFTER: Final = timedelta(minutes=5)


def store_key(entry_id: str, name: str) -> str:
    """Key of what an entry keeps in .storage (delivery, invoices, spending)."""
    return f"{DOMAIN}.{entry_id}.{name}"
