"""Actions: create an invoice, pay an invoice, pay a Lightning address.

Every guard of the pay actions (guard.py) runs before anything is sent to Blink.
"""

from collections.abc import Callable
from typing import Any, Final

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv, issue_registry as ir
from homeassistant.helpers.service import (
    async_get_config_entry,
    async_register_admin_service,
)
import probatio as vol

from .api import (
    BlinkConnectionError,
    BlinkError,
    BlinkGraphQLError,
    BlinkInvoiceAmountError,
    BlinkInvoiceError,
    BlinkPaymentError,
    BlinkPermissionError,
    BlinkProtocolError,
    BlinkRateLimitError,
    PaymentResult,
    PaymentSendResult,
    WalletCurrency,
    decode_bolt11,
)
from .const import (
    CONF_ALLOW_PAYMENTS,
    DEFAULT_ALLOW_PAYMENTS,
    DOMAIN,
    SERVICE_CREATE_INVOICE,
    SERVICE_PAY_INVOICE,
    SERVICE_PAY_LIGHTNING_ADDRESS,
)
from .coordinator import BlinkWalletConfigEntry, BlinkWalletCoordinator
from .guard import failed, refuse
from .invoices import OpenInvoice

ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_AMOUNT: Final = "amount"
ATTR_CURRENCY: Final = "currency"
ATTR_MEMO: Final = "memo"
ATTR_EXPIRES_IN: Final = "expires_in"
ATTR_PAYMENT_REQUEST: Final = "payment_request"
ATTR_LIGHTNING_ADDRESS: Final = "lightning_address"
MAX_EXPIRES_IN_MINUTES: Final = 24 * 60
# Blink's codes in the payload of a refused invoice (core/api/src/graphql/error-map.ts).
INVOICE_RATE_LIMITED: Final = "TOO_MANY_REQUEST"
RECEIVE_DISABLED: Final = "RECEIVE_DISABLED"
DEFAULT_EXPIRES_IN_MINUTES: Final = 60

CREATE_INVOICE_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_AMOUNT): vol.All(vol.Coerce(int), vol.Range(min=1)),
        # The selector offers btc/usd (hassfest wants lower-case option keys);
        # BTC/USD, which automations written before pass, work the same.
        vol.Optional(ATTR_CURRENCY, default=WalletCurrency.BTC.value): vol.All(
            cv.string,
            vol.Upper,
            vol.In([currency.value for currency in WalletCurrency]),
        ),
        vol.Optional(ATTR_MEMO): cv.string,
        vol.Optional(ATTR_EXPIRES_IN, default=DEFAULT_EXPIRES_IN_MINUTES): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=MAX_EXPIRES_IN_MINUTES)
        ),
    }
)
PAY_INVOICE_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_PAYMENT_REQUEST): cv.string,
        vol.Optional(ATTR_MEMO): cv.string,
    }
)
PAY_LIGHTNING_ADDRESS_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_LIGHTNING_ADDRESS): cv.string,
        vol.Required(ATTR_AMOUNT): vol.All(vol.Coerce(int), vol.Range(min=1)),
    }
)


def _coordinator(call: ServiceCall) -> BlinkWalletCoordinator:
    entry: BlinkWalletConfigEntry = async_get_config_entry(
        call.hass, DOMAIN, call.data[ATTR_CONFIG_ENTRY_ID]
    )
    return entry.runtime_data


def _wallet_id(coordinator: BlinkWalletCoordinator, currency: WalletCurrency) -> str:
    for wallet in coordinator.data.account.wallets:
        if wallet.currency is currency:
            return wallet.id
    return refuse("no_wallet", currency=currency.value)


async def _async_create_invoice(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(call)
    currency = WalletCurrency(call.data[ATTR_CURRENCY])
    amount: int = call.data[ATTR_AMOUNT]
    memo: str | None = call.data.get(ATTR_MEMO)
    wallet_id = _wallet_id(coordinator, currency)
    create = (
        coordinator.client.create_invoice
        if currency is WalletCurrency.BTC
        else coordinator.client.create_usd_invoice
    )
    try:
        invoice = await create(
            wallet_id, amount, memo=memo, expires_in=call.data[ATTR_EXPIRES_IN]
        )
    except BlinkPermissionError:
        refuse("missing_scope", scope="RECEIVE")
    except BlinkGraphQLError as err:
        raise _invoice_refused(call.hass, coordinator, err) from err
    except BlinkError as err:
        raise failed(key="invoice_failed", err=err) from err
    ir.async_delete_issue(call.hass, DOMAIN, _receive_disabled_issue(coordinator))
    opened: OpenInvoice = {
        "payment_hash": invoice.payment_hash,
        "payment_request": invoice.payment_request,
        "amount": amount,
        "currency": currency.value,
        "memo": memo,
        "expires_at": invoice.expires_at.isoformat(),
    }
    coordinator.invoices.async_add(opened)
    return {
        "payment_request": invoice.payment_request,
        "payment_hash": invoice.payment_hash,
        "amount": amount,
        "currency": currency.value,
        "wallet_id": wallet_id,
        "memo": memo,
        "expires_at": opened["expires_at"],
    }


def _receive_disabled_issue(coordinator: BlinkWalletCoordinator) -> str:
    return f"receive_disabled_{coordinator.config_entry.entry_id}"


def _invoice_refused(
    hass: HomeAssistant, coordinator: BlinkWalletCoordinator, err: BlinkGraphQLError
) -> HomeAssistantError:
    """Blink's refusals of an invoice, each said in the user's words.

    Blink allows 60 invoices a minute per account, then none for 5 minutes
    (TOO_MANY_REQUEST); an account in Blink's custodial wind-down can no longer
    receive (RECEIVE_DISABLED), which lasts: a repair issue says so and quotes
    Blink (core/api/src/app/wallets/add-invoice-for-wallet.ts).
    """
    if INVOICE_RATE_LIMITED in err.codes:
        return HomeAssistantError(
            translation_domain=DOMAIN, translation_key="invoice_rate_limited"
        )
    if RECEIVE_DISABLED in err.codes:
        entry = coordinator.config_entry
        ir.async_create_issue(
            hass,
            DOMAIN,
            _receive_disabled_issue(coordinator),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="receive_disabled",
            translation_placeholders={"title": entry.title, "error": str(err)},
        )
        return failed("receive_disabled", err=err)
    return failed("invoice_failed", err=err)


def _btc_balance(coordinator: BlinkWalletCoordinator) -> Callable[[], int]:
    """Read the BTC wallet's balance when it is asked for (the lock held)."""

    def balance() -> int:
        return next(
            wallet.balance
            for wallet in coordinator.data.account.wallets
            if wallet.currency is WalletCurrency.BTC
        )

    return balance


def _payments_allowed(coordinator: BlinkWalletCoordinator) -> None:
    options = coordinator.config_entry.options
    if not options.get(CONF_ALLOW_PAYMENTS, DEFAULT_ALLOW_PAYMENTS):
        refuse("payments_disabled")


async def _async_record(
    coordinator: BlinkWalletCoordinator, amount: int, result: PaymentResult
) -> dict[str, Any]:
    tx = result.transaction
    fee = result.fee_sats
    # A send that succeeded or is in flight counts; one paid before left nothing.
    if result.status is not PaymentSendResult.ALREADY_PAID:
        await coordinator.guard.async_count(amount + (fee or 0))
    return {
        "status": result.status.value.lower(),
        "transaction_id": None if tx is None else tx.id,
        "fee": fee,
    }


async def _async_payment_error(
    coordinator: BlinkWalletCoordinator, amount: int, err: BlinkError
) -> HomeAssistantError:
    """Translate what Blink said; an unanswered payment may have gone out."""
    if isinstance(err, (BlinkConnectionError, BlinkProtocolError)) and not isinstance(
        err, BlinkRateLimitError
    ):
        # Counted, so that retrying an unconfirmed payment cannot pass the limit.
        await coordinator.guard.async_count(amount)
        return failed("payment_unknown", err)
    if isinstance(err, BlinkPermissionError):
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="missing_scope",
            translation_placeholders={"scope": "WRITE"},
        )
    if isinstance(err, BlinkPaymentError) and err.insufficient_balance:
        return failed("insufficient_balance", err)
    return failed("payment_failed", err)


async def _async_pay_invoice(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(call)
    _payments_allowed(coordinator)
    try:
        decoded = decode_bolt11(call.data[ATTR_PAYMENT_REQUEST])
        amount = decoded.amount_sats
    except BlinkInvoiceAmountError:
        refuse("fractional_amount")
    except BlinkInvoiceError as err:
        refuse("invalid_invoice", error=str(err))
    if amount is None:
        refuse("amountless_invoice")
    if decoded.is_expired():
        refuse("expired_invoice")
    wallet_id = _wallet_id(coordinator, WalletCurrency.BTC)
    async with coordinator.guard.async_payment(amount, _btc_balance(coordinator)):
        try:
            result = await coordinator.client.pay_invoice(
                wallet_id, decoded.payment_request, memo=call.data.get(ATTR_MEMO)
            )
        except BlinkError as err:
            raise await _async_payment_error(coordinator, amount, err) from err
        return await _async_record(coordinator, amount, result)


async def _async_pay_lightning_address(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(call)
    _payments_allowed(coordinator)
    amount: int = call.data[ATTR_AMOUNT]
    wallet_id = _wallet_id(coordinator, WalletCurrency.BTC)
    async with coordinator.guard.async_payment(amount, _btc_balance(coordinator)):
        try:
            result = await coordinator.client.pay_lightning_address(
                wallet_id, call.data[ATTR_LIGHTNING_ADDRESS].strip(), amount
            )
        except BlinkError as err:
            raise await _async_payment_error(coordinator, amount, err) from err
        return await _async_record(coordinator, amount, result)


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions (once, for every entry)."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_CREATE_INVOICE,
        _async_create_invoice,
        schema=CREATE_INVOICE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    async_register_admin_service(
        hass,
        DOMAIN,
        SERVICE_PAY_INVOICE,
        _async_pay_invoice,
        PAY_INVOICE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    async_register_admin_service(
        hass,
        DOMAIN,
        SERVICE_PAY_LIGHTNING_ADDRESS,
        _async_pay_lightning_address,
        PAY_LIGHTNING_ADDRESS_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
