"""Plain-Python state of a simulated Blink instance: accounts, keys, prices, ledger.

Nothing here knows about GraphQL or sockets. The shapes mirror what Blink's
resolvers read, with snake_case attributes for Blink's camelCase fields, so that
`schema.py` can hand these objects straight to graphql-core.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
import hashlib
import random
import time
from typing import TYPE_CHECKING, Literal
import uuid

from .price_history import PriceHistory

if TYPE_CHECKING:
    from collections.abc import Callable

type Scope = Literal["READ", "RECEIVE", "WRITE"]
type WalletCurrency = Literal["BTC", "USD"]
type Direction = Literal["RECEIVE", "SEND"]
type TxStatus = Literal["SUCCESS", "PENDING", "FAILURE"]
type InvoiceStatus = Literal["PENDING", "PAID", "EXPIRED"]
type TxNotificationType = Literal[
    "IntraLedgerPayment",
    "IntraLedgerReceipt",
    "LigtningReceipt",
    "OnchainPayment",
    "OnchainReceipt",
    "OnchainReceiptPending",
]

ALL_SCOPES: tuple[Scope, ...] = ("READ", "RECEIVE", "WRITE")
SATS_PER_BTC = 100_000_000
# Blink's precision offsets (core/api/src/domain/fiat/display-currency.ts).
SAT_PRICE_OFFSET = 12
USD_CENT_PRICE_OFFSET = 6
# Blink hides the memo of receipts below these amounts (anti-spam; its defaults).
MEMO_SHARING_SATS_THRESHOLD = 50
MEMO_SHARING_CENTS_THRESHOLD = 10


@dataclass(frozen=True, slots=True)
class Currency:
    """An entry of `currencyList`, plus the exchange rate the simulator uses."""

    id: str
    symbol: str
    name: str
    flag: str
    fraction_digits: int
    per_usd: Decimal  # units of this currency per US dollar; not part of the API


# A handful of Blink's real display currencies. Fraction digits follow ISO 4217 /
# CLDR, which is what Blink's `Intl.NumberFormat` lookup yields.
CURRENCIES: dict[str, Currency] = {
    c.id: c
    for c in (
        Currency("USD", "$", "US Dollar", "🇺🇸", 2, Decimal(1)),
        Currency("EUR", "€", "Euro", "🇪🇺", 2, Decimal("0.92")),
        Currency("GBP", "£", "British Pound", "🇬🇧", 2, Decimal("0.79")),
        Currency("CHF", "CHF", "Swiss Franc", "🇨🇭", 2, Decimal("0.88")),
        Currency("CAD", "$", "Canadian Dollar", "🇨🇦", 2, Decimal("1.37")),
        Currency("JPY", "¥", "Japanese Yen", "🇯🇵", 0, Decimal(150)),
        Currency("CRC", "₡", "Costa Rican Colón", "🇨🇷", 2, Decimal(510)),
        Currency("BRL", "R$", "Brazilian Real", "🇧🇷", 2, Decimal("5.1")),
        Currency("KES", "KSh", "Kenyan Shilling", "🇰🇪", 2, Decimal(129)),
        Currency("NGN", "₦", "Nigerian Naira", "🇳🇬", 2, Decimal(1500)),
    )
}


def round_half_up(value: Decimal) -> int:
    """Round like JavaScript's Math.round on the magnitude, keeping the sign."""
    magnitude = int(abs(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return -magnitude if value < 0 else magnitude


def format_major(minor: int, fraction_digits: int) -> str:
    """Format minor units as Blink's signed decimal string in major units."""
    return f"{Decimal(minor).scaleb(-fraction_digits):.{fraction_digits}f}"


# --- prices -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PriceOfOne:
    """`PriceOfOneSatInMinorUnit` / `PriceOfOneUsdCentInMinorUnit` and friends."""

    base: int
    offset: int
    currency_unit: str = "MINOR"

    @property
    def value(self) -> Decimal:
        """The exact price, base / 10^offset."""
        return Decimal(self.base).scaleb(-self.offset)

    @property
    def formatted_amount(self) -> str:
        """What Blink's deprecated `formattedAmount` shows: the plain number."""
        return format(self.value.normalize(), "f")


@dataclass(frozen=True, slots=True)
class RealtimePrice:
    """The `RealtimePrice` object: 1 sat and 1 USD cent in a display currency."""

    timestamp: int
    denominator_currency_details: Currency
    btc_sat_price: PriceOfOne
    usd_cent_price: PriceOfOne

    @property
    def id(self) -> str:
        """Blink derives the id from the timestamp and the currency."""
        name = f"{self.timestamp}-{self.denominator_currency}"
        return str(uuid.uuid5(uuid.NAMESPACE_URL, name))

    @property
    def denominator_currency(self) -> str:
        """The deprecated plain currency code."""
        return self.denominator_currency_details.id


@dataclass(frozen=True, slots=True)
class Price:
    """The deprecated `Price` object (USD cents per sat, or per an amount)."""

    base: int
    offset: int
    currency_unit: str
    formatted_amount: str


def realtime_price(
    btc_usd: Decimal, currency: Currency, timestamp: int
) -> RealtimePrice:
    """Price 1 sat and 1 USD cent in `currency` the way Blink rounds them."""
    scale = Decimal(10) ** (currency.fraction_digits + 4)
    return RealtimePrice(
        timestamp=timestamp,
        denominator_currency_details=currency,
        # minor units per sat = btc_usd * per_usd * 10^fd / 10^8, times 10^12
        btc_sat_price=PriceOfOne(
            round_half_up(btc_usd * currency.per_usd * scale), SAT_PRICE_OFFSET
        ),
        # minor units per cent = per_usd * 10^fd / 10^2, times 10^6
        usd_cent_price=PriceOfOne(
            round_half_up(currency.per_usd * scale), USD_CENT_PRICE_OFFSET
        ),
    )


@dataclass(slots=True)
class Market:
    """The BTC price every quote derives from, in US dollars per bitcoin."""

    btc_usd: Decimal
    timestamp: int

    def quote(self, currency_id: str) -> RealtimePrice:
        """The current `RealtimePrice` in one display currency."""
        return realtime_price(self.btc_usd, CURRENCIES[currency_id], self.timestamp)


# --- accounts and ledger ----------------------------------------------------


@dataclass(slots=True)
class Wallet:
    """A BTC (sats) or USD "Stablesats" (cents) wallet."""

    id: str
    account_id: str
    wallet_currency: WalletCurrency
    balance: int = 0
    pending_incoming_balance: int = 0


@dataclass(frozen=True, slots=True)
class SettlementViaLn:
    """Settled over Lightning."""

    pre_image: str | None

    @property
    def payment_secret(self) -> str | None:
        """Deprecated alias Blink still serves."""
        return self.pre_image


@dataclass(frozen=True, slots=True)
class SettlementViaIntraLedger:
    """Settled inside Blink's ledger (also for Blink-to-Blink invoice payments)."""

    counter_party_username: str | None
    counter_party_wallet_id: str | None
    pre_image: str | None = None


@dataclass(frozen=True, slots=True)
class SettlementViaOnChain:
    """Settled on chain."""

    transaction_hash: str | None
    vout: int | None
    arrival_in_mempool_estimated_at: int | None = None


@dataclass(frozen=True, slots=True)
class InitiationViaLn:
    """Initiated by a Lightning invoice."""

    payment_hash: str
    payment_request: str


@dataclass(frozen=True, slots=True)
class InitiationViaIntraLedger:
    """Initiated as a payment to a Blink wallet."""

    counter_party_username: str | None
    counter_party_wallet_id: str | None


@dataclass(frozen=True, slots=True)
class InitiationViaOnChain:
    """Initiated as an on-chain payment to an address."""

    address: str


type SettlementVia = SettlementViaLn | SettlementViaIntraLedger | SettlementViaOnChain
type InitiationVia = InitiationViaLn | InitiationViaIntraLedger | InitiationViaOnChain


@dataclass(frozen=True, slots=True)
class Transaction:
    """A wallet transaction, as Blink's `Transaction` type shows it."""

    id: str
    wallet_id: str  # not in the schema; Blink's clients infer it
    created_at: int
    direction: Direction
    status: TxStatus
    memo: str | None
    settlement_amount: int
    settlement_currency: WalletCurrency
    settlement_fee: int
    settlement_display_amount: str
    settlement_display_fee: str
    settlement_display_currency: str
    settlement_price: SettlementPrice
    settlement_via: SettlementVia
    initiation_via: InitiationVia
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class SettlementPrice:
    """`PriceOfOneSettlementMinorUnitInDisplayMinorUnit`."""

    base: int
    offset: int
    currency_unit: str = "MINOR"

    @property
    def formatted_amount(self) -> str:
        """The deprecated plain-number form."""
        return PriceOfOne(self.base, self.offset).formatted_amount


@dataclass(slots=True)
class User:
    """The `User` behind `me`."""

    id: str
    username: str | None
    created_at: int
    default_account: Account
    language: str = ""
    phone: str | None = None
    email: None = None
    totp_enabled: bool = False
    contacts: list[object] = field(default_factory=list)
    support_chat: list[object] = field(default_factory=list)


@dataclass(slots=True)
class Account:
    """A consumer account with one BTC and one USD wallet."""

    id: str
    username: str | None
    display_currency: str
    btc_wallet: Wallet
    usd_wallet: Wallet
    user: User = field(init=False)
    level: str = "ONE"
    # Oldest first; GraphQL serves them newest first.
    transactions: list[Transaction] = field(default_factory=list)
    pending_incoming: list[Transaction] = field(default_factory=list)

    @property
    def wallets(self) -> list[Wallet]:
        """Both wallets, BTC first like Blink."""
        return [self.btc_wallet, self.usd_wallet]

    @property
    def default_wallet_id(self) -> str:
        """The BTC wallet is the default one."""
        return self.btc_wallet.id

    def wallet(self, currency: WalletCurrency) -> Wallet:
        """The account's wallet of `currency`."""
        return self.btc_wallet if currency == "BTC" else self.usd_wallet

    def wallet_by_id(self, wallet_id: str) -> Wallet | None:
        """The account's wallet with that id, if any."""
        return next((w for w in self.wallets if w.id == wallet_id), None)


@dataclass(slots=True)
class ApiKey:
    """An API key: its account, its scopes, and whether it was revoked."""

    account_id: str
    scopes: tuple[Scope, ...]
    revoked: bool = False


# --- invoices -------------------------------------------------------------------


@dataclass(slots=True)
class Invoice:
    """An invoice the simulated Blink issued for one of its wallets.

    `amount` is in the wallet's minor unit (None: amountless); `satoshis` is
    what the payment request asks for (a USD invoice converted at creation).
    `status` is what was announced; `status_at` adds expiry by the clock.
    """

    payment_hash: str
    payment_request: str
    preimage: str
    payment_secret: str
    account_id: str
    wallet_id: str
    wallet_currency: WalletCurrency
    amount: int | None
    satoshis: int | None
    memo: str | None
    created_at: int
    expires_at: int
    external_id: str
    status: InvoiceStatus = "PENDING"

    @property
    def payment_status(self) -> InvoiceStatus:
        """`LnInvoice.paymentStatus`: the status last announced."""
        return self.status

    def status_at(self, now: float) -> InvoiceStatus:
        """The status at `now`: an unpaid invoice past its expiry is EXPIRED."""
        if self.status == "PENDING" and now >= self.expires_at:
            return "EXPIRED"
        return self.status


@dataclass(frozen=True, slots=True)
class SentPayment:
    """A payment that left one of the simulator's wallets through the API."""

    kind: Literal["invoice", "lightning_address"]
    destination: str  # the payment request, or the Lightning address
    amount: int  # sats, fee excluded
    fee: int
    payment_hash: str
    intraledger: bool
    transaction: Transaction


# --- updates pushed into myUpdates -----------------------------------------


@dataclass(frozen=True, slots=True)
class LnUpdate:
    """A Lightning receipt (also a Blink-to-Blink payment of an invoice)."""

    payment_hash: str
    status: Literal["PAID", "PENDING", "EXPIRED"]
    wallet_id: str
    transaction: Transaction


@dataclass(frozen=True, slots=True)
class OnChainUpdate:
    """An on-chain receipt (pending or confirmed) or on-chain payment."""

    tx_notification_type: TxNotificationType
    tx_hash: str | None  # None only for a send to a Blink user's address
    amount: int
    display_currency_per_sat: float
    usd_per_sat: float
    wallet_id: str
    transaction: Transaction


@dataclass(frozen=True, slots=True)
class IntraLedgerUpdate:
    """An intra-ledger receipt (also the receiving leg of a conversion)."""

    tx_notification_type: TxNotificationType
    amount: int
    display_currency_per_sat: float
    usd_per_sat: float
    wallet_id: str
    transaction: Transaction


type TransactionUpdate = LnUpdate | OnChainUpdate | IntraLedgerUpdate


# --- the whole world ----------------------------------------------------------


class SimulatorState:
    """Everything the simulated Blink knows; deterministic for a given seed."""

    def __init__(
        self,
        *,
        seed: int = 0,
        btc_usd: Decimal | int | str = 95_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Create the world with no accounts yet."""
        self.rng = random.Random(seed)  # noqa: S311 - reproducible test data
        self.clock = clock
        self.market = Market(Decimal(btc_usd), int(clock()))
        # The price-history service's hourly closes (empty until seeded or moved).
        self.price_history = PriceHistory()
        self.accounts: dict[str, Account] = {}
        self.keys: dict[str, ApiKey] = {}
        # invoices by payment hash, and the payments sent through the API
        self.invoices: dict[str, Invoice] = {}
        self.sent_payments: list[SentPayment] = []
        # Routing fee of payments that leave Blink, in parts per million (at
        # least one sat); payments inside Blink are free.
        self.lightning_fee_ppm = 2_000
        # Blink announces EXPIRED a second after an invoice's expiry. A status
        # subscription looks at the clock at least this often (a test's clock
        # may jump), and announces then.
        self.expiry_notice_delay = 1.0
        self.expiry_check_interval = 1.0
        # Lightning addresses on these domains belong to Blink's own users.
        self.address_domains: tuple[str, ...] = ("blink.sv", "blink.localhost")
        # Blink fills counterPartyWalletId nowhere any more (the ledger no longer
        # records it); set this to fill it in anyway.
        self.report_counterparty_wallet_id = False
        # Transaction ids are Mongo ObjectIds: time, a fixed random part, a counter.
        # They sort like creation order, which pagination relies on.
        self._object_id_middle = f"{self.rng.getrandbits(40):010x}"
        self._object_id_counter = self.rng.getrandbits(24)
        self._last_created_at = 0

    # ids and time -----------------------------------------------------------

    def now(self) -> int:
        """A `createdAt` for a new transaction: never earlier than the last one."""
        self._last_created_at = max(self._last_created_at, int(self.clock()))
        return self._last_created_at

    def new_uuid(self) -> str:
        """A random (seeded) UUID, the form of Blink's account and wallet ids."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def new_object_id(self, timestamp: int) -> str:
        """A Mongo ObjectId-shaped ledger transaction id."""
        self._object_id_counter = (self._object_id_counter + 1) % (1 << 24)
        self._last_created_at = max(self._last_created_at, timestamp)
        return f"{timestamp:08x}{self._object_id_middle}{self._object_id_counter:06x}"

    def new_hex(self, n_bytes: int = 32) -> str:
        """Random (seeded) hex, for hashes, preimages and the like."""
        return f"{self.rng.getrandbits(8 * n_bytes):0{2 * n_bytes}x}"

    def new_payment_secret(self) -> tuple[str, str]:
        """A (preimage, payment hash) pair where hash = sha256(preimage)."""
        preimage = self.new_hex()
        return preimage, hashlib.sha256(bytes.fromhex(preimage)).hexdigest()

    def new_payment_request(self, sats: int) -> str:
        """A BOLT11-looking string: `lnbc`, the amount, then bech32 noise."""
        alphabet = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
        noise = "".join(self.rng.choice(alphabet) for _ in range(200))
        # 1 sat = 10 "n" (nano-bitcoin) units in a BOLT11 human-readable part.
        return f"lnbc{sats * 10}n1p{noise}" if sats else f"lnbc1p{noise}"

    def new_onchain_address(self) -> str:
        """A bech32-looking mainnet address."""
        alphabet = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
        return "bc1q" + "".join(self.rng.choice(alphabet) for _ in range(38))

    def invoice(self, reference: str) -> Invoice | None:
        """The invoice with this payment hash or payment request, if any."""
        found = self.invoices.get(reference.lower())
        if found is not None:
            return found
        return next(
            (
                i
                for i in self.invoices.values()
                if i.payment_request == reference.lower()
            ),
            None,
        )

    def pending_id(self, tx_hash: str, vout: int) -> str:
        """Blink ids a pending on-chain receipt by a UUID of `txHash:vout`."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tx_hash}:{vout}"))

    # accounts and keys ------------------------------------------------------

    def add_account(
        self, *, username: str | None, display_currency: str = "USD"
    ) -> Account:
        """Create an account with an empty BTC and USD wallet."""
        if display_currency not in CURRENCIES:
            msg = f"unknown display currency {display_currency}"
            raise ValueError(msg)
        account_id = self.new_uuid()
        account = Account(
            id=account_id,
            username=username,
            display_currency=display_currency,
            btc_wallet=Wallet(self.new_uuid(), account_id, "BTC"),
            usd_wallet=Wallet(self.new_uuid(), account_id, "USD"),
        )
        account.user = User(
            id=self.new_uuid(),
            username=username,
            created_at=int(self.clock()) - 400 * 86_400,
            default_account=account,
        )
        self.accounts[account_id] = account
        return account

    def add_key(
        self, key: str, account: Account, scopes: tuple[Scope, ...] = ALL_SCOPES
    ) -> None:
        """Make `key` valid for `account` with `scopes` (replacing any earlier one).

        Like Blink, a key without scopes may do everything.
        """
        self.keys[key] = ApiKey(account.id, tuple(scopes) or ALL_SCOPES)

    def revoke_key(self, key: str) -> None:
        """Make `key` invalid from now on (open sockets keep their session)."""
        if key in self.keys:
            self.keys[key].revoked = True

    def key(self, key: str | None) -> ApiKey | None:
        """The valid key record for `key`, or None when missing/unknown/revoked."""
        record = self.keys.get(key) if key is not None else None
        return record if record is not None and not record.revoked else None
