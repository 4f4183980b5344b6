"""BlinkSimulator: a local Blink to test against, scripted from the test.

Everything runs on the caller's event loop; every method is safe to call from a
test. Payments and price moves are booked into the state and published the way
Blink publishes them, so open subscriptions see them within the same loop turn.
"""

import asyncio
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from decimal import Decimal
import random
import time
from types import TracebackType
from typing import Self

from aiohttp import web

from . import history, ledger, lightning
from .app import Core, build_app
from .control import Behaviour, HttpFault, Stats
from .ingress import Ingress
from .price_history import HOUR
from .protocol import WsSession
from .pubsub import (
    Hub,
    InvoiceEvent,
    PriceEvent,
    TransactionEvent,
    account_topic,
    invoice_topic,
    price_topic,
    user_price_topic,
)
from .state import (
    ALL_SCOPES,
    CURRENCIES,
    Account,
    Invoice,
    RealtimePrice,
    Scope,
    SentPayment,
    SimulatorState,
    Transaction,
    TxStatus,
    WalletCurrency,
)

TEST_API_KEY = "test-key"
_DAY = 86_400
# graphql-ws 5's default keep-alive, which Blink keeps (core/api/src/servers/
# ws-server.ts calls `useServer` without one): a ping every 12 s.
KEEPALIVE_SECONDS = 12.0
# core/api/src/servers/trigger.ts publishes every currency's price every 30 s.
PRICE_EVERY_SECONDS = 30.0


class BlinkSimulator:
    """A Blink API (HTTP GraphQL + graphql-transport-ws) on 127.0.0.1."""

    def __init__(
        self,
        *,
        api_key: str | None = TEST_API_KEY,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        btc_usd: Decimal | int | str = 95_000,
        opening_balances: tuple[int, int] = (250_000, 5_000),
        keepalive: float | None = KEEPALIVE_SECONDS,
        price_every: float | None = PRICE_EVERY_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Create the world: account "satoshi" (USD), its wallets and `api_key`.

        `opening_balances` (sats, cents) are booked as two receipts a day old,
        so balances always equal the sum of the history. `keepalive` is the
        interval of WebSocket-level pings (Blink's graphql-ws pings every 12 s and
        drops a socket that does not answer); `price_every` republishes the price
        like Blink's trigger server (every 30 s); None turns either off.
        """
        self.state = SimulatorState(seed=seed, btc_usd=btc_usd, clock=clock)
        self.hub = Hub()
        self.stats = Stats()
        self.behaviour = Behaviour()
        self.ingress = Ingress(self.state.clock)
        self._core = Core(
            self.state,
            self.hub,
            self.behaviour,
            self.stats,
            keepalive,
            ingress=self.ingress,
        )
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._walk: asyncio.Task[None] | None = None
        self._price_every = price_every
        self._ticker: asyncio.Task[None] | None = None
        self.account = self.state.add_account(username="satoshi")
        if api_key is not None:
            self.state.add_key(api_key, self.account)
        sats, cents = opening_balances
        opened = ledger.When(self.state.now() - _DAY, self.state.market.btc_usd)
        if sats:
            ledger.receive_lightning(
                self.state, self.account, sats, memo="Opening balance", when=opened
            )
        if cents:
            ledger.receive_intraledger(
                self.state, self.account, cents, wallet="USD", when=opened
            )

    # --- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Listen (again) on the host and port; a restart reuses the first port."""
        if self._runner is not None:
            return
        runner = web.AppRunner(
            build_app(self._core), handle_signals=False, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._port = runner.addresses[0][1]
        self._runner = runner
        self._site = site
        # A new server process knows no key yet (ws-server.ts keeps them in memory).
        self._core.auth_cache.clear()
        if self._price_every is not None:
            self._ticker = asyncio.get_running_loop().create_task(
                self._tick_prices(self._price_every)
            )

    async def stop(self, *, close_code: int | None = 1001) -> None:
        """Stop serving; open sockets get `close_code` (None: dropped abruptly).

        The state survives, so `start()` brings the same Blink back.
        """
        await self.stop_walk()
        ticker, self._ticker = self._ticker, None
        if ticker is not None:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
        if self._runner is None:
            return
        runner, self._runner = self._runner, None
        site, self._site = self._site, None
        # No new socket from here on, as a server going down accepts none;
        # those open end next. (It keeps listening until cleanup: closing the
        # listener first races asyncio's accounting of the connections left.)
        self._core.stopping = True
        if close_code is None:
            await self.drop_sockets()
        else:
            await self.close_sockets(close_code, "Server shutting down")
        with suppress(TimeoutError):
            await self.wait_for(lambda: not self._core.sessions, 2.0)
        # Close what is still connected (keep-alive HTTP) while its server is up. A
        # connection left to the garbage collector after its server closed makes
        # asyncio wake the server's waiters twice (its clients are a WeakSet), and
        # the TypeError surfaces in whichever test runs then.
        server = None if site is None else site._server  # aiohttp keeps it private
        if isinstance(server, asyncio.Server):
            server.close_clients()
        await runner.cleanup()
        self._core.stopping = False

    async def restart(self, *, close_code: int | None = 1001) -> None:
        """Stop and start again on the same port, keeping all state."""
        await self.stop(close_code=close_code)
        await self.start()

    async def __aenter__(self) -> Self:
        """Start serving."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop serving."""
        await self.stop()

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._runner is not None

    @property
    def port(self) -> int:
        """The TCP port (known once started)."""
        return self._port

    @property
    def http_url(self) -> str:
        """The HTTP GraphQL endpoint."""
        return f"http://{self._host}:{self._port}/graphql"

    @property
    def ws_url(self) -> str:
        """The graphql-transport-ws endpoint."""
        return f"ws://{self._host}:{self._port}/graphql"

    # --- accounts and keys -------------------------------------------------------

    def add_account(
        self, username: str | None, *, display_currency: str = "USD"
    ) -> Account:
        """Another account (e.g. for "key of another account" tests); no history."""
        return self.state.add_account(
            username=username, display_currency=display_currency
        )

    def add_key(
        self,
        key: str,
        *,
        scopes: tuple[Scope, ...] = ALL_SCOPES,
        account: Account | None = None,
    ) -> None:
        """Make `key` valid for `account` (default: the main one) with `scopes`."""
        self.state.add_key(key, account or self.account, scopes)

    def revoke_key(self, key: str) -> None:
        """Refuse `key` from now on: HTTP 401, `myUpdates` refused on new sockets."""
        self.state.revoke_key(key)

    def key_service(self, *, up: bool) -> None:
        """Take Blink's key service down, or bring it back.

        While it is down every key looks revoked: HTTP answers 401 and a socket
        connecting meanwhile is refused `myUpdates` (with every other socket of
        its key) until a later connect with the key succeeds.
        """
        self.behaviour.key_service_down = not up

    def fail_key_checks(self, times: int = 1) -> None:
        """Fail the key check of the next `times` socket connects only.

        Blink's check at connect gives up after 1 s (core/api/src/services/
        oathkeeper/index.ts) and keeps the failure for the key: those sockets are
        refused `myUpdates` while HTTP accepts the key.
        """
        self.behaviour.failing_key_checks += times

    async def set_display_currency(
        self, currency: str, *, account: Account | None = None
    ) -> None:
        """Change an account's display currency, as `accountUpdateDisplayCurrency`.

        HTTP answers with it at once; on the socket it shows only after a new
        connect with the key (the socket's context keeps the account of its
        connect), as in Blink.
        """
        if currency not in CURRENCIES:
            msg = f"unknown display currency {currency}"
            raise ValueError(msg)
        (account or self.account).display_currency = currency

    # --- prices --------------------------------------------------------------------

    @property
    def price(self) -> Decimal:
        """The BTC price in US dollars."""
        return self.state.market.btc_usd

    def quote(self, currency: str = "USD") -> RealtimePrice:
        """The current `RealtimePrice` in `currency`."""
        return self.state.market.quote(currency)

    async def set_price(self, usd_per_btc: Decimal | int | str) -> None:
        """Move the BTC price and publish it everywhere Blink would.

        Every `realtimePrice`/`price` subscription of each currency and every
        `myUpdates` of that display currency get it (USD ones also a `Price`).
        """
        market = self.state.market
        market.btc_usd = Decimal(usd_per_btc)
        # The history service stores the candle of this hour once, as it first sees
        # it (blinkbitcoin/price history/src/services/database/price.ts: ON CONFLICT
        # DO NOTHING).
        hour = int(self.state.clock()) // HOUR * HOUR
        self.state.price_history.record(hour, market.btc_usd)
        await self.publish_prices()

    async def publish_prices(self) -> None:
        """Publish the current price in every currency, as Blink does every 30 s.

        blinkbitcoin/blink core/api/src/servers/trigger.ts (`publishCurrentPrices`,
        every 30 s whether the price moved or not) through
        core/api/src/services/notifications/index.ts (`priceUpdate`): each
        currency's `realtimePrice` subscriptions, and every `myUpdates` of that
        display currency (a `Price` first for USD).
        """
        market = self.state.market
        market.timestamp = int(self.state.clock())
        for currency in CURRENCIES:
            quote = market.quote(currency)
            self.hub.publish(price_topic(currency), PriceEvent(quote))
            if currency == "USD":
                self.hub.publish(
                    user_price_topic(currency), PriceEvent(quote, deprecated=True)
                )
            self.hub.publish(user_price_topic(currency), PriceEvent(quote))
        await asyncio.sleep(0)

    async def _tick_prices(self, every: float) -> None:
        # core/api/src/servers/trigger.ts: `setInterval(publishCurrentPrices, 30 s)`
        while True:
            await asyncio.sleep(every)
            await self.publish_prices()

    async def move_price(self, percent: Decimal | float | str) -> Decimal:
        """Move the price by `percent` (e.g. -2.5); return the new price."""
        factor = 1 + Decimal(str(percent)) / 100
        await self.set_price((self.price * factor).quantize(Decimal("0.01")))
        return self.price

    # --- payments --------------------------------------------------------------------

    async def _post(self, account: Account, posting: ledger.Posting) -> None:
        for update in posting.updates:
            self.hub.publish(account_topic(account.id), TransactionEvent(update))
        await asyncio.sleep(0)

    async def receive_lightning(
        self,
        amount: int,
        *,
        wallet: WalletCurrency = "BTC",
        memo: str | None = None,
        account: Account | None = None,
    ) -> Transaction:
        """A Lightning payment in (sats, or cents for the USD wallet): `LnUpdate`."""
        account = account or self.account
        posting = ledger.receive_lightning(
            self.state, account, amount, wallet=wallet, memo=memo
        )
        await self._post(account, posting)
        return posting.transactions[0]

    async def receive_intraledger(
        self,
        amount: int,
        *,
        wallet: WalletCurrency = "BTC",
        memo: str | None = None,
        sender_username: str | None = "alice",
        account: Account | None = None,
    ) -> Transaction:
        """A payment from another Blink user: `IntraLedgerUpdate` (IntraLedgerReceipt)."""
        account = account or self.account
        posting = ledger.receive_intraledger(
            self.state,
            account,
            amount,
            wallet=wallet,
            memo=memo,
            sender_username=sender_username,
        )
        await self._post(account, posting)
        return posting.transactions[0]

    async def receive_blink_invoice_payment(
        self,
        amount: int,
        *,
        wallet: WalletCurrency = "BTC",
        memo: str | None = None,
        payer_username: str | None = "bob",
        account: Account | None = None,
    ) -> Transaction:
        """Another Blink user pays our invoice: intra-ledger settlement, `LnUpdate`."""
        account = account or self.account
        posting = ledger.receive_blink_invoice_payment(
            self.state,
            account,
            amount,
            wallet=wallet,
            memo=memo,
            payer_username=payer_username,
        )
        await self._post(account, posting)
        return posting.transactions[0]

    async def receive_onchain(
        self,
        amount: int,
        *,
        wallet: WalletCurrency = "BTC",
        memo: str | None = None,
        address: str | None = None,
        account: Account | None = None,
    ) -> Transaction:
        """An on-chain receipt in the mempool (PENDING; confirm it with confirm_onchain)."""
        account = account or self.account
        posting = ledger.receive_onchain_pending(
            self.state, account, amount, wallet=wallet, memo=memo, address=address
        )
        await self._post(account, posting)
        return posting.transactions[0]

    async def confirm_onchain(
        self, pending: Transaction, *, account: Account | None = None
    ) -> Transaction:
        """Confirm a pending on-chain receipt: a new transaction id, same txHash."""
        account = account or self.account
        posting = ledger.confirm_onchain(self.state, account, pending)
        await self._post(account, posting)
        return posting.transactions[0]

    async def send_lightning(
        self,
        amount: int,
        *,
        fee: int = 0,
        wallet: WalletCurrency = "BTC",
        memo: str | None = None,
        status: TxStatus = "SUCCESS",
        account: Account | None = None,
        actual_fee: int | None = None,
    ) -> Transaction:
        """Pay a Lightning invoice (Blink publishes nothing for it).

        With `actual_fee`, `fee` is the reserve Blink charged and the unused part
        comes back as a fee reimbursement (core/api/src/app/payments/
        reimburse-fee.ts), booked right after and published to nobody.
        """
        account = account or self.account
        posting = ledger.send_lightning(
            self.state,
            account,
            amount,
            fee=fee,
            wallet=wallet,
            memo=memo,
            status=status,
            actual_fee=actual_fee,
        )
        await self._post(account, posting)
        return posting.transactions[0]

    async def send_intraledger(
        self,
        amount: int,
        *,
        wallet: WalletCurrency = "BTC",
        memo: str | None = None,
        recipient_username: str | None = "alice",
        account: Account | None = None,
    ) -> Transaction:
        """Pay another Blink user (Blink publishes nothing to the payer)."""
        account = account or self.account
        posting = ledger.send_intraledger(
            self.state,
            account,
            amount,
            wallet=wallet,
            memo=memo,
            recipient_username=recipient_username,
        )
        await self._post(account, posting)
        return posting.transactions[0]

    async def send_onchain(
        self,
        amount: int,
        *,
        fee: int = 0,
        wallet: WalletCurrency = "BTC",
        memo: str | None = None,
        address: str | None = None,
        status: TxStatus = "SUCCESS",
        account: Account | None = None,
    ) -> Transaction:
        """Pay an on-chain address outside Blink; pushed only once settled.

        Booked PENDING (the default SUCCESS means settled at once), nothing is
        pushed until `settle_onchain_send` (core/api/src/app/wallets/
        settle-payout-txn.ts).
        """
        account = account or self.account
        posting = ledger.send_onchain(
            self.state,
            account,
            amount,
            fee=fee,
            wallet=wallet,
            memo=memo,
            address=address,
            status=status,
        )
        await self._post(account, posting)
        return posting.transactions[0]

    async def settle_onchain_send(
        self, pending: Transaction, *, account: Account | None = None
    ) -> Transaction:
        """The payout of a pending on-chain send settles; Blink pushes it now."""
        account = account or self.account
        posting = ledger.settle_onchain_send(self.state, account, pending)
        await self._post(account, posting)
        return posting.transactions[0]

    async def send_onchain_to_blink(
        self, amount: int, *, memo: str | None = None, account: Account | None = None
    ) -> Transaction:
        """Pay a Blink user's on-chain address: settled intra-ledger, pushed at once."""
        account = account or self.account
        posting = ledger.send_onchain_to_blink(self.state, account, amount, memo=memo)
        await self._post(account, posting)
        return posting.transactions[0]

    async def transfer(
        self,
        amount: int,
        *,
        from_wallet: WalletCurrency = "BTC",
        memo: str | None = None,
        account: Account | None = None,
    ) -> tuple[Transaction, Transaction]:
        """Convert between the account's own wallets; returns (sent, received)."""
        account = account or self.account
        posting = ledger.transfer(
            self.state, account, amount, from_wallet=from_wallet, memo=memo
        )
        await self._post(account, posting)
        sent, received = posting.transactions
        return sent, received

    async def reimburse_fee(
        self,
        amount: int,
        *,
        wallet: WalletCurrency = "BTC",
        hide_small_memo: bool = True,
        account: Account | None = None,
    ) -> Transaction:
        """Hand back the unused part of a Lightning fee reserve (sats, or cents).

        Like Blink with fee reimbursement on (blinkbitcoin/blink
        core/api/src/app/payments/reimburse-fee.ts): a RECEIVE, intra-ledger both
        ways with no counterparty, memo "fee reimbursement" (hidden below 50 sats
        or 10 cents unless `hide_small_memo` is False), published to nobody.
        `behaviour.reimburse_fees` books one after each payment leaving Blink
        through the API.
        """
        account = account or self.account
        posting = ledger.fee_reimbursement(
            self.state, account, amount, wallet=wallet, hide_small_memo=hide_small_memo
        )
        await self._post(account, posting)
        return posting.transactions[0]

    # --- invoices and payments sent -------------------------------------------------

    def invoice(self, reference: str) -> Invoice:
        """The invoice with this payment hash or payment request (KeyError if none)."""
        invoice = self.state.invoice(reference)
        if invoice is None:
            raise KeyError(reference)
        return invoice

    async def create_invoice(
        self,
        amount: int | None,
        *,
        wallet: WalletCurrency = "BTC",
        memo: str | None = None,
        expires_in_seconds: int | None = None,
        account: Account | None = None,
    ) -> Invoice:
        """Issue an invoice as `lnInvoiceCreate` would (None: amountless).

        `amount` is in the wallet's minor unit; the expiry is in seconds here, so
        that a test can watch one expire (Blink's default when not given).
        """
        return lightning.create_invoice(
            self.state,
            account or self.account,
            wallet,
            amount,
            memo=memo,
            expiry=expires_in_seconds,
        )

    async def pay_invoice(
        self,
        invoice: str,
        *,
        payer: lightning.Payer = "lightning",
        amount: int | None = None,
        payer_username: str | None = "bob",
    ) -> Transaction:
        """Someone pays an invoice the simulator issued (payment request or hash).

        Books the receipt (an `LnUpdate` with the invoice's hash: settled over
        Lightning, or intra-ledger for a `blink` payer), marks the invoice PAID
        and tells its status subscriptions and `myUpdates`. ValueError if the
        invoice is paid or expired; an amountless one needs `amount`.
        """
        posting = lightning.settle(
            self.state,
            self.hub,
            self.invoice(invoice),
            payer=payer,
            amount=amount,
            payer_username=payer_username,
        )
        await asyncio.sleep(0)
        return posting.transactions[0]

    async def expire_invoice(self, invoice: str) -> None:
        """Expire an unpaid invoice now and announce EXPIRED (ValueError if settled)."""
        if not lightning.expire(self.state, self.hub, self.invoice(invoice)):
            msg = f"invoice {invoice[:12]} is not pending"
            raise ValueError(msg)
        await asyncio.sleep(0)

    async def announce_paid_unchecked(self, invoice: str) -> None:
        """Announce PAID to the invoice's status streams, though it is not paid.

        What Blink's status subscription did when its own check of the payment
        failed (core/api/src/graphql/public/root/subscription/
        ln-invoice-payment-status-by-hash.ts, before the fix); HTTP still says
        PENDING.
        """
        found = self.invoice(invoice)
        self.hub.publish(
            invoice_topic(found.payment_hash),
            InvoiceEvent(found.payment_hash, found.payment_request, "PAID"),
        )
        await asyncio.sleep(0)

    async def expire_due_invoices(self) -> int:
        """Announce EXPIRED for unpaid invoices past their expiry by the clock.

        Open status subscriptions do this by themselves a second after the
        expiry (`state.expiry_notice_delay`); with a test clock, call this.
        """
        count = lightning.expire_due(self.state, self.hub)
        await asyncio.sleep(0)
        return count

    @property
    def sent_payments(self) -> list[SentPayment]:
        """Payments sent through the API, oldest first (also `stats.payments_sent`)."""
        return self.state.sent_payments

    def fail_next_payment(
        self,
        message: str = "Unable to find a route for payment.",
        code: str = "ROUTE_FINDING_ERROR",
        *,
        times: int = 1,
    ) -> None:
        """The next `times` payments leaving Blink fail with this error (FAILURE)."""
        self.behaviour.payment_script.extend([(message, code)] * times)

    def hold_next_payment(self, *, times: int = 1) -> None:
        """The next `times` payments leaving Blink stay in flight (PENDING)."""
        self.behaviour.payment_script.extend(["PENDING"] * times)

    def seed_history(
        self,
        count: int = 300,
        days: int = 120,
        seed: int = 1,
        *,
        account: Account | None = None,
    ) -> list[Transaction]:
        """Replace the account's history with `count` realistic past payments."""
        account = account or self.account
        return history.seed_history(
            self.state, account, count=count, days=days, seed=seed
        )

    def seed_price_history(self, days: int = 30, seed: int = 1) -> None:
        """Give the history service `days` of hourly closes, a walk ending at the price.

        The current hour is left out: its candle is stored once the price moves.
        """
        rng = random.Random(seed)  # noqa: S311 - reproducible test data
        hour = int(self.state.clock()) // HOUR * HOUR
        price = float(self.state.market.btc_usd)
        for back in range(1, days * 24 + 1):
            self.state.price_history.record(hour - back * HOUR, price)
            price *= 1 + rng.uniform(-0.004, 0.004)

    def disable_receive(self, account: Account | None = None) -> None:
        """Refuse the account new invoices: RECEIVE_DISABLED, as in Blink's wind-down.

        blinkbitcoin/blink core/api/src/app/wind-down/check-receive-allowed.ts;
        checked before the invoice rate limit, so a refusal costs no point.
        Undo with `behaviour.receive_disabled.discard(account.id)`.
        """
        self.behaviour.receive_disabled.add((account or self.account).id)

    # --- sockets and faults ---------------------------------------------------------

    @property
    def sessions(self) -> list[WsSession]:
        """The open WebSocket sessions."""
        return list(self._core.sessions)

    @property
    def open_sockets(self) -> int:
        """How many WebSockets are open."""
        return len(self._core.sessions)

    @property
    def live_subscriptions(self) -> Counter[str]:
        """Running subscriptions by root field, across all sockets.

        A subscription counts once it listens, so a payment pushed after waiting
        for the count is sure to reach it.
        """
        return Counter(
            live.field
            for session in self._core.sessions
            for live in session.subscriptions.values()
            if live.listening
        )

    async def drop_sockets(self) -> int:
        """Cut every socket without a close frame (client sees 1006)."""
        sessions = self.sessions
        for session in sessions:
            session.drop()
        await asyncio.sleep(0)
        return len(sessions)

    async def close_sockets(self, code: int = 1000, reason: str = "") -> int:
        """Close every socket with `code` and `reason`."""
        sessions = self.sessions
        await asyncio.gather(*(session.close(code, reason) for session in sessions))
        return len(sessions)

    async def send_raw(self, text: str) -> int:
        """Send a raw (possibly malformed) text frame to every socket."""
        sent = await asyncio.gather(
            *(session.send_raw(text) for session in self.sessions)
        )
        return sum(sent)

    async def ping_sockets(self) -> int:
        """Send a graphql-transport-ws `ping` on every socket."""
        sent = await asyncio.gather(*(session.ping() for session in self.sessions))
        return sum(sent)

    def freeze_sockets(self, *, new_too: bool = False) -> None:
        """Open sockets go dead: no pong, no data, nothing (the TCP stays up).

        With `new_too`, sockets opened later are dead from the start as well.
        """
        for session in self._core.sessions:
            session.frozen = True
        self.behaviour.freeze_new = new_too

    def silence_sockets(self, *, new_too: bool = False) -> None:
        """Open sockets keep answering pings but send no subscription data."""
        for session in self._core.sessions:
            session.silent = True
        self.behaviour.silence_new = new_too

    def heal_sockets(self) -> None:
        """Undo freeze_sockets and silence_sockets (events missed stay missed)."""
        for session in self._core.sessions:
            session.frozen = session.silent = False
        self.behaviour.freeze_new = self.behaviour.silence_new = False

    def fail_http(
        self,
        status: int = 503,
        *,
        body: str = "Service Unavailable",
        content_type: str = "text/plain",
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` HTTP GraphQL requests with this instead."""
        fault = HttpFault(status, body, content_type, tuple((headers or {}).items()))
        self.behaviour.http_faults.extend([fault] * times)

    def hold_http(self, operation: str) -> asyncio.Event:
        """Make `operation` wait until the returned event is set (it is counted first)."""
        hold = self.behaviour.held_operations[operation] = asyncio.Event()
        return hold

    def fail_handshake(self, status: int = 503, *, times: int = 1) -> None:
        """Refuse the next `times` WebSocket upgrades with HTTP `status`."""
        self.behaviour.handshake_faults.extend([status] * times)

    async def wait_for(
        self, predicate: Callable[[], bool], seconds: float = 5.0
    ) -> None:
        """Wait until `predicate()` holds; TimeoutError after `seconds`."""
        async with asyncio.timeout(seconds):
            # polling: the predicates are about anything at all
            while not predicate():  # noqa: ASYNC110
                await asyncio.sleep(0.005)

    async def wait_for_subscriptions(
        self, field: str = "myUpdates", count: int = 1, seconds: float = 5.0
    ) -> None:
        """Wait until at least `count` `field` subscriptions are running."""
        await self.wait_for(lambda: self.live_subscriptions[field] >= count, seconds)

    # --- demo ---------------------------------------------------------------------------

    def start_walk(
        self,
        *,
        price_every: float = 5.0,
        payment_every: float = 30.0,
        seed: int | None = None,
    ) -> None:
        """Random-walk the price and receive a small payment now and then (demo)."""
        if self._walk is None:
            self._walk = asyncio.get_running_loop().create_task(
                self._walk_loop(price_every, payment_every, random.Random(seed))  # noqa: S311 - demo noise
            )

    async def stop_walk(self) -> None:
        """Stop the random walk."""
        walk, self._walk = self._walk, None
        if walk is not None:
            walk.cancel()
            await asyncio.gather(walk, return_exceptions=True)

    async def _walk_loop(
        self, price_every: float, payment_every: float, rng: random.Random
    ) -> None:
        since_payment = 0.0
        payments = 0
        while True:
            await asyncio.sleep(price_every)
            await self.move_price(Decimal(str(round(rng.gauss(0, 0.3), 3))))
            since_payment += price_every
            if since_payment >= payment_every:
                since_payment = 0.0
                payments += 1
                amount = rng.randint(100, 5_000)
                # mostly zaps, every fourth one from another Blink user
                if payments % 4:
                    await self.receive_lightning(amount, memo=rng.choice(("zap", None)))
                else:
                    await self.receive_intraledger(amount, memo="thanks")
