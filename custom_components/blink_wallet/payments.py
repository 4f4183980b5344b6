"""Which transactions become payment events, and what those events carry.

Pure functions: no Home Assistant state, so the rules of the contract can be read
(and tested) in one place.
"""

from collections.abc import Collection, Iterable
from datetime import timedelta
from enum import StrEnum
from typing import Any

from .api import (
    SETTLEMENT_INTRALEDGER,
    SETTLEMENT_LIGHTNING,
    Transaction,
    TxDirection,
    TxStatus,
    WalletCurrency,
)
from .const import EVENT_PAYMENT_PENDING, EVENT_PAYMENT_RECEIVED, EVENT_PAYMENT_SENT


class PaymentEventType(StrEnum):
    """The event types of the payments event entity."""

    RECEIVED = "received"
    PENDING = "pending"
    SENT = "sent"


BUS_EVENTS: dict[PaymentEventType, str] = {
    PaymentEventType.RECEIVED: EVENT_PAYMENT_RECEIVED,
    PaymentEventType.PENDING: EVENT_PAYMENT_PENDING,
    PaymentEventType.SENT: EVENT_PAYMENT_SENT,
}


def is_own_transfer(
    tx: Transaction,
    own_wallet_ids: Collection[str],
    neighbours: Iterable[Transaction],
) -> bool:
    """Tell a BTC ↔ Stablesats conversion from a payment by another Blink user.

    Both settle intra-ledger. Blink names the counterparty of a payment between two
    users, but of an account's trade between its own wallets it names nobody: that
    trade is a SEND on one wallet and a RECEIVE on the other, booked at the same
    second. A receipt from an anonymous payer has no such twin, and is a payment.
    """
    if tx.settlement != SETTLEMENT_INTRALEDGER:
        return False
    if tx.counterparty_wallet_id is not None:
        return tx.counterparty_wallet_id in own_wallet_ids
    if tx.counterparty_username is not None:
        return False
    neighbours = tuple(neighbours)
    # A pushed transaction is dated by its arrival; Blink's own date of it is on
    # its copy among the neighbours (read over HTTP), if there.
    created_at = next(
        (other.created_at for other in neighbours if other.id == tx.id), tx.created_at
    )
    return any(
        other.id != tx.id
        and other.settlement == SETTLEMENT_INTRALEDGER
        and other.direction is not tx.direction
        and other.settlement_currency is not tx.settlement_currency
        and other.created_at == created_at
        and other.counterparty_username is None
        for other in neighbours
    )


# The memo Blink books on a fee reimbursement (core/api/src/app/payments/
# reimburse-fee.ts), shown from 50 sats or 10 cents: below, Blink hides the memo of
# any receipt (core/api/src/domain/wallets/tx-history.ts, config/schema.ts).
FEE_REIMBURSEMENT_MEMO = "fee reimbursement"
MEMO_SHOWN_FROM: dict[WalletCurrency, int] = {
    WalletCurrency.BTC: 50,
    WalletCurrency.USD: 10,
}
# A reimbursement is booked when its payment completes, moments after it.
REIMBURSED_WITHIN = timedelta(minutes=10)


def is_fee_reimbursement(tx: Transaction, neighbours: Iterable[Transaction]) -> bool:
    """Tell Blink's refund of an unused Lightning fee reserve from a payment.

    Blink books it as a receipt initiated and settled intra-ledger that names
    nobody, and never pushes it. From 50 sats its memo says what it is; a smaller
    one, whose memo Blink hides like any small receipt's, is recognised by the
    Lightning payment out of the same wallet just before it, whose fee it does not
    exceed. Anything else that looks alike stays a payment: better a few sats
    announced too many than a payment lost.
    """
    if not (
        tx.direction is TxDirection.RECEIVE
        and tx.settlement == SETTLEMENT_INTRALEDGER
        and tx.initiation == SETTLEMENT_INTRALEDGER
        and tx.counterparty_username is None
        and tx.counterparty_wallet_id is None
    ):
        return False
    if tx.memo == FEE_REIMBURSEMENT_MEMO:
        return True
    if tx.memo is not None or tx.settlement_amount >= MEMO_SHOWN_FROM.get(
        tx.settlement_currency, 0
    ):
        return False
    return any(
        other.direction is TxDirection.SEND
        and other.initiation == SETTLEMENT_LIGHTNING
        and other.settlement_currency is tx.settlement_currency
        and timedelta(0) <= tx.created_at - other.created_at <= REIMBURSED_WITHIN
        and 0 < tx.settlement_amount <= other.settlement_fee
        for other in neighbours
    )


def may_be_own_transfer(tx: Transaction) -> bool:
    """Whether only the twin can tell (an intra-ledger receipt naming nobody)."""
    return (
        tx.settlement == SETTLEMENT_INTRALEDGER
        and tx.counterparty_wallet_id is None
        and tx.counterparty_username is None
    )


def classify(tx: Transaction, *, not_a_payment: bool) -> PaymentEventType | None:
    """Return the event a transaction stands for, or None when it fires nothing.

    Money that is not a payment (transfers between the account's own wallets,
    fee reimbursements) moves balances and fires nothing; a failed receipt was
    never money received.
    """
    if not_a_payment:
        return None
    if tx.direction is TxDirection.SEND:
        return PaymentEventType.SENT
    if tx.status is TxStatus.SUCCESS:
        return PaymentEventType.RECEIVED
    if tx.status is TxStatus.PENDING:
        return PaymentEventType.PENDING
    return None


def event_data(
    tx: Transaction,
    *,
    config_entry_id: str,
    account_id: str,
    wallet_ids: dict[WalletCurrency, str],
    replayed: bool,
) -> dict[str, Any]:
    """Build the payload of a payment event: JSON-safe values only."""
    return {
        "config_entry_id": config_entry_id,
        "account_id": account_id,
        "wallet_id": wallet_ids.get(tx.settlement_currency),
        "wallet_currency": tx.settlement_currency.value,
        "amount": abs(tx.settlement_amount),
        "display_amount": str(abs(tx.settlement_display_amount)),
        "display_currency": tx.settlement_display_currency,
        "memo": tx.memo,
        "transaction_id": tx.id,
        "payment_hash": tx.payment_hash,
        "tx_hash": tx.tx_hash,
        "settlement": tx.settlement,
        "status": tx.status.value.lower(),
        "created_at": tx.created_at.isoformat(),
        "replayed": replayed,
    }
