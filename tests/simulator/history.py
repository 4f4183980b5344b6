"""A seedable, realistic past for an account (for long-term statistics tests).

The history is booked through the same functions as live payments, at the BTC
price of its day, so balances always equal the sum of the history and every
transaction looks like one Blink would serve.
"""

from decimal import Decimal
import math
import random

from . import ledger
from .state import Account, SimulatorState, Transaction

_DAY = 86_400

# (kind, weight): a wallet mostly receiving small Lightning payments, spending some,
# converting now and then.
_KINDS: tuple[tuple[str, int], ...] = (
    ("ln_in_btc", 30),
    ("ln_in_usd", 8),
    ("intra_in", 8),
    ("blink_invoice", 6),
    ("onchain_in", 3),
    ("ln_out", 22),
    ("intra_out", 6),
    ("onchain_out", 2),
    ("to_usd", 8),
    ("to_btc", 5),
)
_MEMOS = ("coffee", "zap", "thanks!", "pizza", "invoice 42", None, None, None)


def _price_path(rng: random.Random, end_price: Decimal, days: int) -> list[Decimal]:
    """Daily BTC/USD closes ending at `end_price`, a gently noisy random walk."""
    path = [end_price]
    for _ in range(days):
        step = Decimal(str(round(math.exp(rng.gauss(0, 0.025)), 6)))
        path.append((path[-1] / step).quantize(Decimal("0.01")))
    path.reverse()
    return path


def _amount(rng: random.Random, mu: float, sigma: float, cap: int) -> int:
    """A log-normal positive amount, at most `cap`."""
    return max(1, min(cap, int(math.exp(rng.gauss(mu, sigma)))))


def seed_history(
    state: SimulatorState,
    account: Account,
    *,
    count: int = 300,
    days: int = 120,
    seed: int = 1,
) -> list[Transaction]:
    """Replace the account's history and balances with `count` past payments.

    Timestamps spread over the last `days` days (before now); the same seed and
    simulator seed give the same history. Returns the new transactions, oldest
    first.
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible test data
    end = state.now()
    start = end - days * _DAY
    for wallet in account.wallets:
        wallet.balance = 0
        wallet.pending_incoming_balance = 0
    account.transactions.clear()
    account.pending_incoming.clear()
    prices = _price_path(rng, state.market.btc_usd, days)
    times = sorted(rng.randrange(start, end - 60) for _ in range(count))
    kinds, weights = zip(*_KINDS, strict=True)
    for created_at in times:
        when = ledger.When(created_at, prices[(created_at - start) // _DAY])
        kind = rng.choices(kinds, weights)[0]
        _book_one(state, account, rng, kind, when)
    return list(account.transactions)


def _book_one(  # noqa: PLR0911 - one branch per kind reads best
    state: SimulatorState,
    account: Account,
    rng: random.Random,
    kind: str,
    when: ledger.When,
) -> None:
    """Book one past payment of `kind`, falling back to a receipt when broke."""
    memo = rng.choice(_MEMOS)
    btc, usd = account.btc_wallet.balance, account.usd_wallet.balance
    match kind:
        case "ln_out" if btc > 1_000:
            amount = _amount(rng, 7.5, 1.0, btc // 2)
            fee = min(btc - amount, max(0, amount // 500))
            ledger.send_lightning(state, account, amount, fee=fee, memo=memo, when=when)
            return
        case "intra_out" if btc > 1_000:
            amount = _amount(rng, 7.5, 1.0, btc // 2)
            ledger.send_intraledger(state, account, amount, memo=memo, when=when)
            return
        case "onchain_out" if btc > 100_000:
            amount = _amount(rng, 11.0, 0.5, btc // 2)
            fee = min(btc - amount, 1_500)
            ledger.send_onchain(state, account, amount, fee=fee, memo=memo, when=when)
            return
        case "to_usd" if btc > 20_000:
            amount = _amount(rng, 9.5, 0.8, btc // 2)
            ledger.transfer(state, account, amount, from_wallet="BTC", when=when)
            return
        case "to_btc" if usd > 200:
            amount = _amount(rng, 6.0, 0.8, usd // 2)
            ledger.transfer(state, account, amount, from_wallet="USD", when=when)
            return
        case "ln_in_usd":
            amount = _amount(rng, 6.0, 1.0, 50_000)
            ledger.receive_lightning(
                state, account, amount, wallet="USD", memo=memo, when=when
            )
            return
        case "intra_in":
            amount = _amount(rng, 8.0, 1.2, 2_000_000)
            ledger.receive_intraledger(state, account, amount, memo=memo, when=when)
            return
        case "blink_invoice":
            amount = _amount(rng, 8.0, 1.0, 2_000_000)
            ledger.receive_blink_invoice_payment(
                state, account, amount, memo=memo, when=when
            )
            return
        case "onchain_in":
            amount = _amount(rng, 12.0, 0.6, 20_000_000)
            pending = ledger.receive_onchain_pending(state, account, amount, when=when)
            ledger.confirm_onchain(state, account, pending.transactions[0], when=when)
            return
    amount = _amount(rng, 8.0, 1.2, 2_000_000)
    ledger.receive_lightning(state, account, amount, memo=memo, when=when)
