"""The payments the simulator can book, each shaped the way Blink books it.

Every function books into an account's ledger (balances included) and returns a
`Posting`: the transactions it created and the updates Blink would publish into
that account's `myUpdates` streams. What Blink publishes follows its
`getPubSubNotificationEventType`: receipts and on-chain payments are published;
outgoing Lightning and intra-ledger payments are not.
"""

import dataclasses
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from .state import (
    CURRENCIES,
    MEMO_SHARING_CENTS_THRESHOLD,
    MEMO_SHARING_SATS_THRESHOLD,
    SATS_PER_BTC,
    Account,
    Direction,
    InitiationVia,
    InitiationViaIntraLedger,
    InitiationViaLn,
    InitiationViaOnChain,
    IntraLedgerUpdate,
    LnUpdate,
    OnChainUpdate,
    SettlementPrice,
    SettlementVia,
    SettlementViaIntraLedger,
    SettlementViaLn,
    SettlementViaOnChain,
    SimulatorState,
    Transaction,
    TransactionUpdate,
    TxStatus,
    Wallet,
    WalletCurrency,
    format_major,
    realtime_price,
    round_half_up,
)


@dataclass(frozen=True, slots=True)
class Posting:
    """What one payment produced."""

    transactions: tuple[Transaction, ...]
    updates: tuple[TransactionUpdate, ...]


@dataclass(frozen=True, slots=True)
class When:
    """When a payment happens and at which BTC price (history uses the past)."""

    created_at: int
    btc_usd: Decimal

    @classmethod
    def now(cls, state: SimulatorState) -> When:
        """The present moment at the current market price."""
        return cls(state.now(), state.market.btc_usd)


@dataclass(frozen=True, slots=True)
class LnPayment:
    """The Lightning identity of a payment: preimage, hash and payment request."""

    preimage: str
    payment_hash: str
    payment_request: str

    @classmethod
    def new(cls, state: SimulatorState, sats: int) -> LnPayment:
        """A fresh one, with a BOLT11-looking request for `sats`."""
        preimage, payment_hash = state.new_payment_secret()
        return cls(preimage, payment_hash, state.new_payment_request(sats))


def sats_to_cents(sats: int, btc_usd: Decimal) -> int:
    """Convert sats to USD cents at `btc_usd`, rounding down like a dealer."""
    cents = Decimal(sats) * btc_usd * 100 / SATS_PER_BTC
    return int(cents.to_integral_value(rounding=ROUND_FLOOR))


def cents_to_sats(cents: int, btc_usd: Decimal) -> int:
    """Convert USD cents to sats at `btc_usd`, rounding down."""
    sats = Decimal(cents) * SATS_PER_BTC / (btc_usd * 100)
    return int(sats.to_integral_value(rounding=ROUND_FLOOR))


def in_sats(amount: int, currency: WalletCurrency, btc_usd: Decimal) -> int:
    """An amount of either wallet expressed in sats."""
    return amount if currency == "BTC" else cents_to_sats(amount, btc_usd)


@dataclass(frozen=True, slots=True)
class _Leg:
    """One side of a payment, before it becomes a Transaction."""

    wallet: Wallet
    direction: Direction
    amount: int  # positive, in the wallet's minor unit, fee excluded
    settlement_via: SettlementVia
    initiation_via: InitiationVia
    memo: str | None = None
    fee: int = 0
    status: TxStatus = "SUCCESS"
    # False: show the memo of a tiny receipt all the same
    hide_small_memo: bool = True


def _transaction(
    state: SimulatorState,
    account: Account,
    leg: _Leg,
    when: When,
    *,
    tx_id: str | None = None,
) -> Transaction:
    """Turn a leg into a Transaction with Blink's signs, display amounts and memo."""
    currency = CURRENCIES[account.display_currency]
    quote = realtime_price(when.btc_usd, currency, when.created_at)
    is_btc = leg.wallet.wallet_currency == "BTC"
    unit = quote.btc_sat_price if is_btc else quote.usd_cent_price
    receiving = leg.direction == "RECEIVE"
    # A send's settlement amount includes its fee, negative; a receipt's is positive.
    settlement_amount = leg.amount - leg.fee if receiving else -(leg.amount + leg.fee)
    memo = leg.memo
    threshold = MEMO_SHARING_SATS_THRESHOLD if is_btc else MEMO_SHARING_CENTS_THRESHOLD
    if receiving and leg.hide_small_memo and settlement_amount < threshold:
        memo = None  # Blink hides memos of tiny receipts (spam)
    return Transaction(
        id=tx_id or state.new_object_id(when.created_at),
        wallet_id=leg.wallet.id,
        created_at=when.created_at,
        direction=leg.direction,
        status=leg.status,
        memo=memo,
        settlement_amount=settlement_amount,
        settlement_currency=leg.wallet.wallet_currency,
        settlement_fee=leg.fee,
        settlement_display_amount=format_major(
            round_half_up(settlement_amount * unit.value), currency.fraction_digits
        ),
        settlement_display_fee=format_major(
            round_half_up(leg.fee * unit.value), currency.fraction_digits
        ),
        settlement_display_currency=currency.id,
        settlement_price=SettlementPrice(unit.base, unit.offset),
        settlement_via=leg.settlement_via,
        initiation_via=leg.initiation_via,
    )


def _book(
    state: SimulatorState, account: Account, leg: _Leg, when: When
) -> Transaction:
    """Create the transaction of `leg`, add it to the history, move the balance."""
    if leg.amount <= 0 or leg.fee < 0:
        msg = "amounts must be positive and fees not negative"
        raise ValueError(msg)
    if leg.direction == "SEND" and leg.amount + leg.fee > leg.wallet.balance:
        msg = (
            f"insufficient balance in the {leg.wallet.wallet_currency} wallet: "
            f"{leg.wallet.balance} < {leg.amount + leg.fee}"
        )
        raise ValueError(msg)
    tx = _transaction(state, account, leg, when)
    account.transactions.append(tx)
    leg.wallet.balance += tx.settlement_amount
    return tx


def _per_sat(tx: Transaction, btc_usd: Decimal) -> tuple[float, float]:
    """The deprecated Float fields: display minor units and USD per sat."""
    display = Decimal(tx.settlement_price.base).scaleb(-tx.settlement_price.offset)
    if tx.settlement_currency == "USD":
        display = display * btc_usd / SATS_PER_BTC * 100
    return float(display), float(btc_usd / SATS_PER_BTC)


def _counterparty_wallet_id(state: SimulatorState, wallet_id: str | None) -> str | None:
    """Blink leaves counterPartyWalletId empty unless told to report it."""
    if not state.report_counterparty_wallet_id:
        return None
    return wallet_id or state.new_uuid()


# --- receipts ----------------------------------------------------------------


def receive_lightning(
    state: SimulatorState,
    account: Account,
    amount: int,
    *,
    wallet: WalletCurrency = "BTC",
    memo: str | None = None,
    when: When | None = None,
    payment: LnPayment | None = None,
) -> Posting:
    """A Lightning invoice paid from outside Blink: `LnUpdate`, `SettlementViaLn`.

    `payment` names the invoice paid (default: a new one).
    """
    when = when or When.now(state)
    target = account.wallet(wallet)
    payment = payment or LnPayment.new(state, in_sats(amount, wallet, when.btc_usd))
    leg = _Leg(
        wallet=target,
        direction="RECEIVE",
        amount=amount,
        memo=memo,
        settlement_via=SettlementViaLn(payment.preimage),
        initiation_via=InitiationViaLn(payment.payment_hash, payment.payment_request),
    )
    tx = _book(state, account, leg, when)
    return Posting((tx,), (LnUpdate(payment.payment_hash, "PAID", target.id, tx),))


def receive_blink_invoice_payment(
    state: SimulatorState,
    account: Account,
    amount: int,
    *,
    wallet: WalletCurrency = "BTC",
    memo: str | None = None,
    payer_username: str | None = "bob",
    when: When | None = None,
    payment: LnPayment | None = None,
) -> Posting:
    """An invoice paid by another Blink user.

    Blink settles it inside its ledger but keeps the Lightning initiation, so the
    transaction has `SettlementViaIntraLedger` with `InitiationViaLn` (and the
    payment hash), and it is published as an `LnUpdate`. Blink's resolver returns
    no preImage to the receiving side. `payment` names the invoice paid.
    """
    when = when or When.now(state)
    target = account.wallet(wallet)
    payment = payment or LnPayment.new(state, in_sats(amount, wallet, when.btc_usd))
    payment_hash, request = payment.payment_hash, payment.payment_request
    leg = _Leg(
        wallet=target,
        direction="RECEIVE",
        amount=amount,
        memo=memo,
        settlement_via=SettlementViaIntraLedger(
            payer_username, _counterparty_wallet_id(state, None), pre_image=None
        ),
        initiation_via=InitiationViaLn(payment_hash, request),
    )
    tx = _book(state, account, leg, when)
    return Posting((tx,), (LnUpdate(payment_hash, "PAID", target.id, tx),))


def receive_intraledger(
    state: SimulatorState,
    account: Account,
    amount: int,
    *,
    wallet: WalletCurrency = "BTC",
    memo: str | None = None,
    sender_username: str | None = "alice",
    when: When | None = None,
) -> Posting:
    """A payment from another Blink user's wallet: `IntraLedgerUpdate`."""
    when = when or When.now(state)
    target = account.wallet(wallet)
    wallet_id = _counterparty_wallet_id(state, None)
    leg = _Leg(
        wallet=target,
        direction="RECEIVE",
        amount=amount,
        memo=memo,
        settlement_via=SettlementViaIntraLedger(sender_username, wallet_id),
        initiation_via=InitiationViaIntraLedger(sender_username, wallet_id),
    )
    tx = _book(state, account, leg, when)
    per_sat = _per_sat(tx, when.btc_usd)
    update = IntraLedgerUpdate(
        "IntraLedgerReceipt", tx.settlement_amount, *per_sat, target.id, tx
    )
    return Posting((tx,), (update,))


def receive_onchain_pending(
    state: SimulatorState,
    account: Account,
    amount: int,
    *,
    wallet: WalletCurrency = "BTC",
    memo: str | None = None,
    address: str | None = None,
    when: When | None = None,
) -> Posting:
    """An on-chain receipt seen in the mempool.

    It is not in `transactions` yet: it shows in `pendingIncomingTransactions`
    (id = a UUID of `txHash:vout`) and raises `pendingIncomingBalance` only.
    """
    when = when or When.now(state)
    target = account.wallet(wallet)
    tx_hash, vout = state.new_hex(), 0
    leg = _Leg(
        wallet=target,
        direction="RECEIVE",
        amount=amount,
        memo=memo,
        status="PENDING",
        settlement_via=SettlementViaOnChain(tx_hash, vout),
        initiation_via=InitiationViaOnChain(address or state.new_onchain_address()),
    )
    if amount <= 0:
        msg = "amounts must be positive"
        raise ValueError(msg)
    tx = _transaction(state, account, leg, when, tx_id=state.pending_id(tx_hash, vout))
    account.pending_incoming.append(tx)
    target.pending_incoming_balance += amount
    per_sat = _per_sat(tx, when.btc_usd)
    update = OnChainUpdate(
        "OnchainReceiptPending", tx_hash, amount, *per_sat, target.id, tx
    )
    return Posting((tx,), (update,))


def confirm_onchain(
    state: SimulatorState,
    account: Account,
    pending: Transaction,
    *,
    when: When | None = None,
) -> Posting:
    """Confirm a pending on-chain receipt: a new transaction id, same txHash."""
    if pending not in account.pending_incoming:
        msg = f"{pending.id} is not a pending incoming transaction"
        raise ValueError(msg)
    when = when or When.now(state)
    target = account.wallet(pending.settlement_currency)
    account.pending_incoming.remove(pending)
    target.pending_incoming_balance -= pending.settlement_amount
    leg = _Leg(
        wallet=target,
        direction="RECEIVE",
        amount=pending.settlement_amount,
        memo=pending.memo,
        settlement_via=pending.settlement_via,
        initiation_via=pending.initiation_via,
    )
    tx = _book(state, account, leg, when)
    assert isinstance(tx.settlement_via, SettlementViaOnChain)
    tx_hash = tx.settlement_via.transaction_hash or ""
    per_sat = _per_sat(tx, when.btc_usd)
    update = OnChainUpdate(
        "OnchainReceipt", tx_hash, tx.settlement_amount, *per_sat, target.id, tx
    )
    return Posting((tx,), (update,))


# --- payments out ------------------------------------------------------------


def send_lightning(
    state: SimulatorState,
    account: Account,
    amount: int,
    *,
    fee: int = 0,
    wallet: WalletCurrency = "BTC",
    memo: str | None = None,
    status: TxStatus = "SUCCESS",
    when: When | None = None,
    payment: LnPayment | None = None,
    actual_fee: int | None = None,
) -> Posting:
    """Pay a Lightning invoice outside Blink. Blink publishes nothing for it.

    With `actual_fee`, `fee` is the reserve the payment was charged: a
    successful one then gets the unused part back as a fee reimbursement, booked
    right after it (the second transaction of the posting).
    """
    when = when or When.now(state)
    payment = payment or LnPayment.new(state, in_sats(amount, wallet, when.btc_usd))
    leg = _Leg(
        wallet=account.wallet(wallet),
        direction="SEND",
        amount=amount,
        fee=fee,
        memo=memo,
        status=status,
        settlement_via=SettlementViaLn(
            payment.preimage if status == "SUCCESS" else None
        ),
        initiation_via=InitiationViaLn(payment.payment_hash, payment.payment_request),
    )
    sent = _book(state, account, leg, when)
    unused = fee - actual_fee if actual_fee is not None else 0
    if status != "SUCCESS" or unused <= 0:
        return Posting((sent,), ())
    reimbursed = fee_reimbursement(state, account, unused, wallet=wallet, when=when)
    return Posting((sent, *reimbursed.transactions), ())


def fee_reimbursement(
    state: SimulatorState,
    account: Account,
    amount: int,
    *,
    wallet: WalletCurrency = "BTC",
    hide_small_memo: bool = True,
    when: When | None = None,
) -> Posting:
    """Blink hands back the unused part of a Lightning fee reserve.

    blinkbitcoin/blink core/api/src/app/payments/reimburse-fee.ts books it as an
    off-chain receipt described "fee reimbursement" into the paying wallet and
    tells nobody, so nothing is published. Its ledger type has no case of its own
    in core/api/src/domain/wallets/tx-history.ts, so it reads as intra-ledger both
    ways, with no counterparty; like any receipt, its memo is hidden below the
    memo-sharing threshold (50 sats, 10 cents) unless `hide_small_memo` is False.
    """
    when = when or When.now(state)
    leg = _Leg(
        wallet=account.wallet(wallet),
        direction="RECEIVE",
        amount=amount,
        memo="fee reimbursement",
        hide_small_memo=hide_small_memo,
        settlement_via=SettlementViaIntraLedger(None, None),
        initiation_via=InitiationViaIntraLedger(None, None),
    )
    return Posting((_book(state, account, leg, when),), ())


def pay_blink_invoice(
    state: SimulatorState,
    payer: Account,
    payee: Account,
    *,
    payer_wallet: WalletCurrency,
    sats: int,
    payee_wallet: WalletCurrency,
    amount: int,
    payment: LnPayment,
    memo: str | None = None,
    payee_memo: str | None = None,
    when: When | None = None,
) -> Posting:
    """One Blink wallet pays another's invoice: both sides inside Blink's ledger.

    The payer's SEND and the payee's RECEIVE both settle intra-ledger, both keep
    the Lightning initiation (the invoice's hash); the payer's settlement carries
    the preimage. Blink publishes the receipt as an `LnUpdate` to the payee.
    """
    when = when or When.now(state)
    source, target = payer.wallet(payer_wallet), payee.wallet(payee_wallet)
    initiation = InitiationViaLn(payment.payment_hash, payment.payment_request)
    send = _Leg(
        wallet=source,
        direction="SEND",
        amount=sats,
        memo=memo,
        settlement_via=SettlementViaIntraLedger(
            payee.username,
            _counterparty_wallet_id(state, target.id),
            pre_image=payment.preimage,
        ),
        initiation_via=initiation,
    )
    receive = _Leg(
        wallet=target,
        direction="RECEIVE",
        amount=amount,
        memo=payee_memo,
        settlement_via=SettlementViaIntraLedger(
            payer.username, _counterparty_wallet_id(state, source.id)
        ),
        initiation_via=initiation,
    )
    sent = _book(state, payer, send, when)
    received = _book(state, payee, receive, when)
    update = LnUpdate(payment.payment_hash, "PAID", target.id, received)
    return Posting((sent, received), (update,))


def send_intraledger(
    state: SimulatorState,
    account: Account,
    amount: int,
    *,
    wallet: WalletCurrency = "BTC",
    memo: str | None = None,
    recipient_username: str | None = "alice",
    when: When | None = None,
) -> Posting:
    """Pay another Blink user's wallet. Blink publishes nothing to the payer."""
    when = when or When.now(state)
    wallet_id = _counterparty_wallet_id(state, None)
    leg = _Leg(
        wallet=account.wallet(wallet),
        direction="SEND",
        amount=amount,
        memo=memo,
        settlement_via=SettlementViaIntraLedger(recipient_username, wallet_id),
        initiation_via=InitiationViaIntraLedger(recipient_username, wallet_id),
    )
    return Posting((_book(state, account, leg, when),), ())


def send_onchain(
    state: SimulatorState,
    account: Account,
    amount: int,
    *,
    fee: int = 0,
    wallet: WalletCurrency = "BTC",
    memo: str | None = None,
    address: str | None = None,
    status: TxStatus = "SUCCESS",
    when: When | None = None,
) -> Posting:
    """Pay an on-chain address outside Blink.

    Blink pushes an external on-chain send once, when its payout settles, with
    status SUCCESS (core/api/src/app/wallets/settle-payout-txn.ts): booked
    SUCCESS here it is pushed at once; booked PENDING (broadcast, unconfirmed)
    nothing is pushed until `settle_onchain_send`.
    """
    when = when or When.now(state)
    source = account.wallet(wallet)
    tx_hash = state.new_hex()
    leg = _Leg(
        wallet=source,
        direction="SEND",
        amount=amount,
        fee=fee,
        memo=memo,
        status=status,
        settlement_via=SettlementViaOnChain(tx_hash, 0),
        initiation_via=InitiationViaOnChain(address or state.new_onchain_address()),
    )
    tx = _book(state, account, leg, when)
    if status != "SUCCESS":
        return Posting((tx,), ())
    return Posting((tx,), (_payout_update(tx, tx_hash, source, when),))


def _payout_update(
    tx: Transaction, tx_hash: str | None, source: Wallet, when: When
) -> OnChainUpdate:
    per_sat = _per_sat(tx, when.btc_usd)
    return OnChainUpdate(
        "OnchainPayment", tx_hash, -tx.settlement_amount, *per_sat, source.id, tx
    )


def settle_onchain_send(
    state: SimulatorState, account: Account, pending: Transaction
) -> Posting:
    """The payout of a pending on-chain send settles: SUCCESS, same id, pushed."""
    if pending.status != "PENDING" or pending not in account.transactions:
        msg = "not a pending on-chain send of this account"
        raise ValueError(msg)
    settled = dataclasses.replace(pending, status="SUCCESS")
    account.transactions[account.transactions.index(pending)] = settled
    assert isinstance(settled.settlement_via, SettlementViaOnChain)
    source = account.wallet(settled.settlement_currency)
    return Posting(
        (settled,),
        (
            _payout_update(
                settled,
                settled.settlement_via.transaction_hash,
                source,
                When.now(state),
            ),
        ),
    )


def send_onchain_to_blink(
    state: SimulatorState,
    account: Account,
    amount: int,
    *,
    recipient_username: str | None = "alice",
    memo: str | None = None,
) -> Posting:
    """Pay the on-chain address of another Blink user: settled intra-ledger.

    Blink tells the payer at once, as an `OnChainUpdate` (`OnchainPayment`)
    without a transaction hash (core/api/src/app/payments/send-on-chain.ts), so
    a client that selects the non-null `txHash` gets no update at all.
    """
    when = When.now(state)
    source = account.wallet("BTC")
    leg = _Leg(
        wallet=source,
        direction="SEND",
        amount=amount,
        memo=memo,
        settlement_via=SettlementViaIntraLedger(recipient_username, None),
        initiation_via=InitiationViaOnChain(state.new_onchain_address()),
    )
    tx = _book(state, account, leg, when)
    return Posting((tx,), (_payout_update(tx, None, source, when),))


def transfer(
    state: SimulatorState,
    account: Account,
    amount: int,
    *,
    from_wallet: WalletCurrency = "BTC",
    memo: str | None = None,
    when: When | None = None,
) -> Posting:
    """Convert between the account's own wallets (BTC ↔ Stablesats).

    Like Blink's intra-account trade: a SEND on the source wallet and a RECEIVE on
    the other, both intra-ledger, same `createdAt`, no counterparty username (and
    no counterparty wallet id unless the state is told to report it). Blink
    publishes the receiving leg as an `IntraLedgerReceipt`, nothing for the send.
    """
    when = when or When.now(state)
    source = account.wallet(from_wallet)
    target = account.usd_wallet if from_wallet == "BTC" else account.btc_wallet
    received = (
        sats_to_cents(amount, when.btc_usd)
        if from_wallet == "BTC"
        else cents_to_sats(amount, when.btc_usd)
    )
    to_target = _counterparty_wallet_id(state, target.id)
    to_source = _counterparty_wallet_id(state, source.id)
    send = _Leg(
        wallet=source,
        direction="SEND",
        amount=amount,
        memo=memo,
        settlement_via=SettlementViaIntraLedger(None, to_target),
        initiation_via=InitiationViaIntraLedger(None, to_target),
    )
    receive = _Leg(
        wallet=target,
        direction="RECEIVE",
        amount=received,
        memo=memo,
        settlement_via=SettlementViaIntraLedger(None, to_source),
        initiation_via=InitiationViaIntraLedger(None, to_source),
    )
    if received <= 0:
        msg = f"{amount} converts to nothing at the current price"
        raise ValueError(msg)
    sent_tx = _book(state, account, send, when)
    received_tx = _book(state, account, receive, when)
    per_sat = _per_sat(received_tx, when.btc_usd)
    update = IntraLedgerUpdate(
        "IntraLedgerReceipt", received, *per_sat, target.id, received_tx
    )
    return Posting((sent_tx, received_tx), (update,))
