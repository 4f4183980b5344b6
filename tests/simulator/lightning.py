"""Invoices and payments: how the simulated Blink issues, settles and pays them.

Shaped after Blink's own rules (core/api/src/app/wallets, app/payments): a BTC
invoice lives 4 hours unless told otherwise (1 minute to 24 hours), a USD one 5
minutes at most, its cents converted to sats when it is created; a payment
leaving Blink pays a routing fee, one inside Blink settles in the ledger (both
sides keeping the Lightning initiation); an invoice paid before answers
ALREADY_PAID. Refusals raise `Refusal`, which the resolvers put into the
payload's `errors` with `status: FAILURE`, as Blink does.
"""

from collections import deque
from dataclasses import dataclass
import math
from typing import Literal

from . import bolt11, ledger
from .control import Behaviour, ScriptedPayment
from .pubsub import Hub, InvoiceEvent, TransactionEvent, account_topic, invoice_topic
from .state import (
    Account,
    InitiationViaLn,
    Invoice,
    SentPayment,
    SimulatorState,
    Transaction,
    Wallet,
    WalletCurrency,
)

MINUTE = 60
# Blink's INVOICE_EXPIRATIONS, in seconds.
# Per currency: the shortest, the longest and the default.
EXPIRY_LIMITS: dict[WalletCurrency, tuple[int, int, int]] = {
    "BTC": (MINUTE, 24 * 60 * MINUTE, 4 * 60 * MINUTE),
    "USD": (MINUTE, 5 * MINUTE, 5 * MINUTE),
}
PREFIX = "lnbc"
# A node outside Blink that Lightning addresses of other domains resolve to.
REMOTE_PRIVATE_KEY = 0x5EED
_MSAT_PER_SAT = 1000
_HEX_HASH_LENGTH = 64

# Blink's fee reserve of a payment leaving it: 0.5 % (50 basis points), at least
# 10 sats (blinkbitcoin/blink core/api/src/domain/bitcoin/index.ts, FEECAP_*).
FEE_RESERVE_BASIS_POINTS = 50
FEE_RESERVE_MIN = 10
# How Blink refuses invoices (core/api/src/graphql/error-map.ts).
RECEIVE_DISABLED = (
    "This account can no longer receive payments. If this is your account, please"
    " update the Blink app to migrate your funds."
)
TOO_MANY_INVOICES = "Too many invoices creation, please wait for a while and try again."

type Payer = Literal["lightning", "blink"]


class Refusal(Exception):  # noqa: N818 - an answer, not a bug
    """Blink refuses the operation; the payload says why."""

    def __init__(
        self, message: str, code: str | None = None, *, status: str | None = "FAILURE"
    ) -> None:
        """Keep what the payload will carry."""
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


@dataclass(frozen=True, slots=True)
class Outcome:
    """A payment Blink accepted: its status and the payer's transaction."""

    status: Literal["SUCCESS", "PENDING", "ALREADY_PAID"]
    transaction: Transaction | None


def not_found(payment_hash: str) -> Refusal:
    """Blink's answer for a hash it issued no invoice for."""
    return Refusal(
        f"User tried to pay invoice with hash {payment_hash}, but it does not exist",
        "LIGHTNING_PAYMENT_ERROR",
    )


def is_payment_hash(value: object) -> bool:
    """Whether `value` has the shape of Blink's PaymentHash scalar."""
    return (
        isinstance(value, str)
        and len(value) == _HEX_HASH_LENGTH
        and all(c in "0123456789abcdef" for c in value.lower())
    )


# --- issuing and settling -----------------------------------------------------------


def expiry_seconds(currency: WalletCurrency, minutes: int | None) -> int:
    """Blink's expiry: `minutes` when within the limits, the default otherwise."""
    shortest, longest, default = EXPIRY_LIMITS[currency]
    if minutes is None or not shortest <= minutes * MINUTE <= longest:
        return default
    return minutes * MINUTE


def check_receive(
    state: SimulatorState, behaviour: Behaviour, account: Account
) -> None:
    """What Blink checks before issuing an invoice for the account itself.

    blinkbitcoin/blink core/api/src/app/wallets/add-invoice-for-wallet.ts
    (`addInvoice`): first whether the account may still receive
    (core/api/src/app/wind-down/check-receive-allowed.ts), then the account's
    `invoice_create` limiter, shared by its BTC, USD and amountless invoices.
    Raises the Refusal the payload's `errors` carry.
    """
    if account.id in behaviour.receive_disabled:
        raise Refusal(RECEIVE_DISABLED, "RECEIVE_DISABLED", status=None)
    if not _consume(state, behaviour, account.id):
        raise Refusal(TOO_MANY_INVOICES, "TOO_MANY_REQUEST", status=None)


def _consume(state: SimulatorState, behaviour: Behaviour, key: str) -> bool:
    """Take one point from the key's limiter; False when it is spent or blocked.

    Like rate-limiter-flexible's Redis limiter behind Blink's `consumeLimiter`
    (core/api/src/services/rate-limit/index.ts): a key lives `duration` seconds
    from its first point; the first point over the limit blocks the key for
    `block` seconds from then; points taken while blocked extend nothing.
    """
    points, duration, block = behaviour.invoice_create_limit
    now = state.clock()
    until, consumed = behaviour.invoice_create_usage.get(key, (now, 0))
    if now >= until:
        until, consumed = now + duration, 0
    consumed += 1
    if consumed == points + 1 and block > 0:
        until = now + block
    behaviour.invoice_create_usage[key] = (until, consumed)
    return consumed <= points


def create_invoice(
    state: SimulatorState,
    account: Account,
    wallet: WalletCurrency,
    amount: int | None,
    *,
    memo: str | None = None,
    expiry: int | None = None,
    private_key: int = bolt11.NODE_PRIVATE_KEY,
) -> Invoice:
    """Issue an invoice for the account's `wallet` (amount in its minor unit)."""
    satoshis = None
    if amount is not None:
        satoshis = ledger.in_sats(amount, wallet, state.market.btc_usd)
        if amount <= 0 or satoshis <= 0:
            msg = "invoice amounts must be positive"
            raise ValueError(msg)
    expiry = EXPIRY_LIMITS[wallet][2] if expiry is None else expiry
    preimage, payment_hash = state.new_payment_secret()
    secret = state.new_hex()
    now = int(state.clock())
    request = bolt11.encode(
        prefix=PREFIX,
        amount_msat=None if satoshis is None else satoshis * _MSAT_PER_SAT,
        timestamp=now,
        fields=bolt11.invoice_fields(
            payment_hash=payment_hash, payment_secret=secret, memo=memo, expiry=expiry
        ),
        private_key=private_key,
    )
    invoice = Invoice(
        payment_hash=payment_hash,
        payment_request=request,
        preimage=preimage,
        payment_secret=secret,
        account_id=account.id,
        wallet_id=account.wallet(wallet).id,
        wallet_currency=wallet,
        amount=amount,
        satoshis=satoshis,
        memo=memo,
        created_at=now,
        expires_at=now + expiry,
        external_id=state.new_uuid(),
    )
    state.invoices[payment_hash] = invoice
    return invoice


def announce(hub: Hub, invoice: Invoice) -> None:
    """Publish the invoice's status to its status subscriptions."""
    hub.publish(
        invoice_topic(invoice.payment_hash),
        InvoiceEvent(invoice.payment_hash, invoice.payment_request, invoice.status),
    )


def post(state: SimulatorState, hub: Hub, posting: ledger.Posting) -> None:
    """Publish a posting's updates to the `myUpdates` of each wallet's account."""
    for update in posting.updates:
        owner = next(
            a for a in state.accounts.values() if a.wallet_by_id(update.wallet_id)
        )
        hub.publish(account_topic(owner.id), TransactionEvent(update))


def settle(
    state: SimulatorState,
    hub: Hub,
    invoice: Invoice,
    *,
    payer: Payer = "lightning",
    amount: int | None = None,
    payer_username: str | None = "bob",
) -> ledger.Posting:
    """Someone outside the account pays `invoice`: the receipt, PAID, announced.

    A `blink` payer settles inside the ledger with the Lightning initiation kept,
    like `ledger.receive_blink_invoice_payment`. An amountless invoice needs
    `amount` (in the wallet's minor unit).
    """
    status = invoice.status_at(state.clock())
    if status != "PENDING":
        msg = f"invoice {invoice.payment_hash[:12]} is {status}"
        raise ValueError(msg)
    paid = invoice.amount if invoice.amount is not None else amount
    if paid is None:
        msg = "an amountless invoice needs an amount"
        raise ValueError(msg)
    account = state.accounts[invoice.account_id]
    payment = ledger.LnPayment(
        invoice.preimage, invoice.payment_hash, invoice.payment_request
    )
    if payer == "blink":
        posting = ledger.receive_blink_invoice_payment(
            state,
            account,
            paid,
            wallet=invoice.wallet_currency,
            memo=invoice.memo,
            payer_username=payer_username,
            payment=payment,
        )
    else:
        posting = ledger.receive_lightning(
            state,
            account,
            paid,
            wallet=invoice.wallet_currency,
            memo=invoice.memo,
            payment=payment,
        )
    invoice.status = "PAID"
    post(state, hub, posting)
    announce(hub, invoice)
    return posting


def expire(state: SimulatorState, hub: Hub, invoice: Invoice) -> bool:
    """Expire an unpaid invoice now and announce it; False if it was not pending."""
    if invoice.status != "PENDING":
        return False
    invoice.expires_at = min(invoice.expires_at, int(state.clock()))
    invoice.status = "EXPIRED"
    announce(hub, invoice)
    return True


def expire_due(state: SimulatorState, hub: Hub) -> int:
    """Announce EXPIRED for every unpaid invoice past its expiry by the clock."""
    now = state.clock()
    due = [i for i in state.invoices.values() if i.status_at(now) == "EXPIRED"]
    return sum(expire(state, hub, invoice) for invoice in due)


# --- paying ---------------------------------------------------------------------------


def sending_wallet(account: Account, wallet_id: object) -> Wallet:
    """The account's wallet to pay from, refused like Blink's wallet-id middleware."""
    wallet = account.wallet_by_id(wallet_id) if isinstance(wallet_id, str) else None
    if wallet is None:
        msg = "Invalid walletId for account."
        raise Refusal(msg, status=None)
    if wallet.wallet_currency != "BTC":
        msg = "The Blink simulator pays from BTC wallets only"
        raise Refusal(msg, "NOT_IMPLEMENTED")
    return wallet


def lightning_fee(state: SimulatorState, sats: int) -> int:
    """The routing fee of a payment leaving Blink: the ppm rate, at least 1 sat."""
    return max(1, math.ceil(sats * state.lightning_fee_ppm / 1_000_000))


def fee_reserve(sats: int) -> int:
    """Blink's most a payment of `sats` may pay in fees, charged up front.

    blinkbitcoin/blink core/api/src/domain/payments/ln-fees.ts
    (`maxProtocolAndBankFee`): the basis points rounded to nearest, a remainder
    of exactly one half rounding down (core/api/src/domain/shared/calculator.ts,
    `divRound`), and never under the minimum.
    """
    quotient, remainder = divmod(sats * FEE_RESERVE_BASIS_POINTS, 10_000)
    rounded = quotient + 1 if remainder > 10_000 // 2 else quotient
    return max(rounded, FEE_RESERVE_MIN)


def _check_balance(wallet: Wallet, total: int) -> None:
    if total > wallet.balance:
        msg = f"Payment amount '{total}' sats exceeds balance '{wallet.balance}'"
        raise Refusal(msg, "INSUFFICIENT_BALANCE")


def _send_of(account: Account, payment_hash: str) -> Transaction | None:
    """The account's own payment of this hash, if it made one."""
    return next(
        (
            tx
            for tx in reversed(account.transactions)
            if tx.direction == "SEND"
            and tx.status != "FAILURE"
            and isinstance(tx.initiation_via, InitiationViaLn)
            and tx.initiation_via.payment_hash == payment_hash
        ),
        None,
    )


def pay_request(
    state: SimulatorState,
    hub: Hub,
    account: Account,
    *,
    wallet_id: object,
    request: str,
    memo: str | None,
    script: deque[ScriptedPayment],
    reimburse_fees: bool = False,
) -> Outcome:
    """`lnInvoicePaymentSend`: pay a BOLT11 request from a BTC wallet."""
    wallet = sending_wallet(account, wallet_id)
    try:
        decoded = bolt11.decode(request)
    except ValueError:
        msg = "Invalid value for LnPaymentRequest"
        raise Refusal(msg, "INVALID_INPUT") from None
    if decoded.prefix != PREFIX:
        msg = "Invalid value for LnPaymentRequest"
        raise Refusal(msg, "INVALID_INPUT")
    if decoded.amount_msat is None:
        msg = "Invoice does not have a valid amount to pay"
        raise Refusal(msg, "INVALID_INPUT")
    internal = state.invoices.get(decoded.payment_hash)
    if internal is not None:
        return pay_internal(
            state, hub, account, wallet=wallet, invoice=internal, memo=memo
        )
    previous = _send_of(account, decoded.payment_hash)
    if previous is not None:
        return Outcome("ALREADY_PAID", previous)
    if state.clock() >= decoded.timestamp + decoded.expiry:
        msg = "Invoice already expired, or has bad payment hash"
        raise Refusal(msg, "LIGHTNING_PAYMENT_ERROR")
    sats = math.ceil(decoded.amount_msat / _MSAT_PER_SAT)
    payment = ledger.LnPayment(state.new_hex(), decoded.payment_hash, request.lower())
    return _pay_out(
        state,
        account,
        wallet,
        sats=sats,
        payment=payment,
        memo=memo,
        script=script,
        reimburse_fees=reimburse_fees,
        destination=("invoice", request),
    )


def pay_address(
    state: SimulatorState,
    hub: Hub,
    account: Account,
    *,
    wallet_id: object,
    address: str,
    amount: object,
    script: deque[ScriptedPayment],
    reimburse_fees: bool = False,
) -> Outcome:
    """`lnAddressPaymentSend`: pay `amount` sats to user@domain.

    Blink fetches an invoice from the address's LNURL server: for its own users
    that is a Blink invoice, paid inside the ledger; for other domains one from
    a remote node, paid over Lightning (`.invalid` domains never answer).
    """
    wallet = sending_wallet(account, wallet_id)
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        msg = "A valid satoshi amount is required"
        raise Refusal(msg, "INVALID_INPUT")
    user, _, domain = address.strip().rpartition("@")
    domain = domain.lower()
    if not user or "@" in user or "." not in domain:
        msg = "Invalid lightning address"
        raise Refusal(msg, "INVALID_INPUT")
    if domain in state.address_domains:
        payee = next(
            (
                a
                for a in state.accounts.values()
                if a.username and a.username.lower() == user.lower()
            ),
            None,
        )
        if payee is None:
            msg = f"Error fetching invoice from {address}: no such user"
            raise Refusal(msg, "LNURL_REQUEST_INVOICE_ERROR")
        invoice = create_invoice(state, payee, "BTC", amount)
        return pay_internal(
            state, hub, account, wallet=wallet, invoice=invoice, memo=None
        )
    if domain.endswith(".invalid"):
        msg = f"Error fetching invoice from {address}: the server did not answer"
        raise Refusal(msg, "LNURL_REQUEST_INVOICE_ERROR")
    preimage, payment_hash = state.new_payment_secret()
    request = bolt11.encode(
        prefix=PREFIX,
        amount_msat=amount * _MSAT_PER_SAT,
        timestamp=int(state.clock()),
        fields=bolt11.invoice_fields(
            payment_hash=payment_hash,
            payment_secret=state.new_hex(),
            memo=f"Payment to {address}",
            expiry=bolt11.DEFAULT_EXPIRY,
        ),
        private_key=REMOTE_PRIVATE_KEY,
    )
    payment = ledger.LnPayment(preimage, payment_hash, request)
    return _pay_out(
        state,
        account,
        wallet,
        sats=amount,
        payment=payment,
        memo=None,
        script=script,
        reimburse_fees=reimburse_fees,
        destination=("lightning_address", address),
    )


def pay_internal(
    state: SimulatorState,
    hub: Hub,
    account: Account,
    *,
    wallet: Wallet,
    invoice: Invoice,
    memo: str | None,
) -> Outcome:
    """Pay an invoice of this Blink: settled in the ledger, no fee."""
    status = invoice.status_at(state.clock())
    if status == "PAID":
        return Outcome("ALREADY_PAID", _send_of(account, invoice.payment_hash))
    if status == "EXPIRED":
        msg = "Invoice already expired, or has bad payment hash"
        raise Refusal(msg, "LIGHTNING_PAYMENT_ERROR")
    if invoice.wallet_id == wallet.id:
        msg = "User tried to pay themselves"
        raise Refusal(msg, "CANT_PAY_SELF")
    assert invoice.satoshis is not None  # amountless ones are refused before
    assert invoice.amount is not None
    _check_balance(wallet, invoice.satoshis)
    payee = state.accounts[invoice.account_id]
    posting = ledger.pay_blink_invoice(
        state,
        account,
        payee,
        payer_wallet="BTC",
        sats=invoice.satoshis,
        payee_wallet=invoice.wallet_currency,
        amount=invoice.amount,
        payment=ledger.LnPayment(
            invoice.preimage, invoice.payment_hash, invoice.payment_request
        ),
        memo=memo,
        payee_memo=invoice.memo,
    )
    invoice.status = "PAID"
    sent = posting.transactions[0]
    state.sent_payments.append(
        SentPayment(
            kind="invoice",
            destination=invoice.payment_request,
            amount=invoice.satoshis,
            fee=0,
            payment_hash=invoice.payment_hash,
            intraledger=True,
            transaction=sent,
        )
    )
    post(state, hub, posting)
    announce(hub, invoice)
    return Outcome("SUCCESS", sent)


def _pay_out(
    state: SimulatorState,
    account: Account,
    wallet: Wallet,
    *,
    sats: int,
    payment: ledger.LnPayment,
    memo: str | None,
    script: deque[ScriptedPayment],
    reimburse_fees: bool = False,
    destination: tuple[Literal["invoice", "lightning_address"], str],
) -> Outcome:
    """A payment leaving Blink over Lightning: fee, balance, the script's say.

    With fee reimbursement on, the payment pays Blink's fee reserve and gets
    back what routing did not use, right after it settles.
    """
    routing_fee = lightning_fee(state, sats)
    fee = fee_reserve(sats) if reimburse_fees else routing_fee
    _check_balance(wallet, sats + fee)
    scripted = script.popleft() if script else None
    if isinstance(scripted, tuple):
        raise Refusal(*scripted)
    status: Literal["SUCCESS", "PENDING"] = (
        "PENDING" if scripted == "PENDING" else "SUCCESS"
    )
    posting = ledger.send_lightning(
        state,
        account,
        sats,
        fee=fee,
        memo=memo,
        status=status,
        payment=payment,
        actual_fee=min(routing_fee, fee) if reimburse_fees else None,
    )
    sent = posting.transactions[0]
    kind, where = destination
    state.sent_payments.append(
        SentPayment(
            kind=kind,
            destination=where,
            amount=sats,
            fee=fee,
            payment_hash=payment.payment_hash,
            intraledger=False,
            transaction=sent,
        )
    )
    return Outcome(status, sent)
