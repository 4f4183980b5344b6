"""The socket's lifecycle: one graphql-transport-ws socket to Blink, kept alive until closed.

`BlinkWebSocket.run()` owns one socket at a time and replaces it whenever it
stops working, following the contract's table of endings:

* authentication (a subscription answered "Not Authenticated", close 4403, HTTP
  401/403 on the upgrade): one HTTP call decides; a refused key ends `run()` with
  BlinkAuthError; a key HTTP accepts gets a new socket (Blink checks the key once
  per connect, so the old socket cannot heal);
* configuration (close 4406, the same subscription refused with validation errors
  three times running): `run()` ends with BlinkConfigurationError;
* protocol bugs (4400, 4401, 4409, 4429, a malformed frame) and everything else,
  503 on the upgrade (Blink's ingress limit) included: reconnect with capped
  exponential backoff and full jitter.

However a socket ends, new ones open within Blink's ingress limit (`SocketBudget`:
10 a minute), and at most 3 in the 20 s after any refusal of the key.

Blink acknowledges every socket, valid key or not, and refuses a bad key only
inside a subscription; so the backoff resets on the first data that arrives
without errors, never on `connection_ack`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping
import contextlib
from dataclasses import dataclass, field
import itertools
import logging
import time
from typing import Any, Final

import aiohttp

from ._errors import cut, graphql_error, retry_after, says_unauthenticated
from .backoff import DEFAULT_BACKOFF_BASE, DEFAULT_BACKOFF_CAP, Backoff
from .budget import DEFAULT_REFUSAL_WINDOW, DEFAULT_WINDOW, SocketBudget
from .client import BlinkClient
from .const import GRAPHQL_TRANSPORT_WS, LOGGER
from .exceptions import (
    BlinkAuthError,
    BlinkConfigurationError,
    BlinkConnectionError,
    BlinkError,
    BlinkGraphQLError,
    BlinkModelError,
    BlinkPermissionError,
    BlinkProtocolError,
    BlinkRateLimitError,
)
from .framing import (
    Drifted,
    Ending,
    ExecutionResult,
    Frame,
    FrameDecoder,
    complete,
    connection_init,
    ending,
    ping,
    pong,
    subscribe,
)
from .models import (
    InvoiceStatus,
    InvoiceStatusUpdate,
    MyUpdate,
    PaymentUpdate,
    RealtimePrice,
    RealtimePriceUpdate,
    SubscriptionData,
)
from .queries import (
    LN_INVOICE_PAYMENT_STATUS_BY_HASH_SUBSCRIPTION,
    MY_UPDATES_SUBSCRIPTION,
    REALTIME_PRICE_SUBSCRIPTION,
)
from .subscription import Due, Handler, Subscription, typed

DEFAULT_PING_INTERVAL: Final = 20.0
DEFAULT_PONG_TIMEOUT: Final = 10.0
DEFAULT_ACK_TIMEOUT: Final = 10.0
DEFAULT_CONNECT_TIMEOUT: Final = 10.0
# Blink republishes the price into every myUpdates stream as it moves, so ten
# minutes without a word means the stream died on the server's side.
DEFAULT_SILENCE_TIMEOUT: Final = 600.0
# Blink pushes the price right after myUpdates is subscribed, but only at best
# (10 ms later, and only if three price lookups succeed), then every 30 s
# (core/api/src/servers/trigger.ts): a resubscribed stream gets two ticks.
DEFAULT_RESUBSCRIBE_TIMEOUT: Final = 75.0
VALIDATION_REFUSAL_LIMIT: Final = 3

_HTTP_REFUSED: Final = (401, 403)
_HTTP_TOO_MANY_REQUESTS: Final = 429
_HTTP_SERVICE_UNAVAILABLE: Final = 503
_READ_SCOPE: Final = "READ"


class _Stop(Exception):  # noqa: N818 - a signal, not an error
    """The socket ends because close() was called."""


class _SuspectedAuthError(BlinkError):
    """Something looked like a refused key; one HTTP call will decide."""


@dataclass(slots=True, eq=False)
class _Connection:
    """One socket and what goes with it; replaced whole on every reconnect."""

    ws: aiohttp.ClientWebSocketResponse
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.get_running_loop)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    outbox: list[str] = field(default_factory=list)
    by_id: dict[str, Subscription] = field(default_factory=dict)
    next_ping: float = 0.0
    pong_deadline: float | None = None
    announced: bool = False
    healthy: bool = False
    catch_up: bool = False
    tasks: asyncio.TaskGroup | None = None

    def send(self, frame: str) -> None:
        """Queue a frame; the keeper task is the only writer of the socket."""
        self.outbox.append(frame)
        self.wake.set()


class BlinkWebSocket:
    """Blink's live updates over one graphql-transport-ws socket, kept alive.

    Subscriptions can be added before or while `run()` runs; every live one is
    subscribed again, with a fresh id, on every new socket.

    `on_connection_change(True)` comes once a socket is acknowledged and its
    subscriptions sent, `(False)` when that socket is lost. `on_gap()` runs after
    every connection but the one made on run()'s first attempt (so also when the
    first attempt failed and a later one succeeded: the owner's state is older
    than the stream then), once the subscriptions are sent; and after a stream
    lost on a live socket (ended or refused by the server, or silent) is
    subscribed again. It only tells: scheduling the catch-up is the owner's job,
    and every gap is told, also while the owner still catches up on the last one.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_key: str,
        ws_url: str,
        *,
        client: BlinkClient,
        on_connection_change: Callable[[bool], None] | None = None,
        on_gap: Callable[[], None] | None = None,
        ping_interval: float = DEFAULT_PING_INTERVAL,
        pong_timeout: float = DEFAULT_PONG_TIMEOUT,
        ack_timeout: float = DEFAULT_ACK_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        silence_timeout: float = DEFAULT_SILENCE_TIMEOUT,
        resubscribe_timeout: float = DEFAULT_RESUBSCRIBE_TIMEOUT,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        backoff_cap: float = DEFAULT_BACKOFF_CAP,
        socket_window: float = DEFAULT_WINDOW,
        refusal_window: float = DEFAULT_REFUSAL_WINDOW,
    ) -> None:
        """Prepare; nothing connects before `run()`."""
        self._session = session
        self._api_key = api_key
        self._frames = FrameDecoder(SubscriptionData, secret=api_key)
        self._ws_url = ws_url
        self._client = client
        self._on_connection_change = on_connection_change
        self._on_gap = on_gap
        self._ping_interval = ping_interval
        self._pong_timeout = pong_timeout
        self._ack_timeout = ack_timeout
        self._connect_timeout = connect_timeout
        self._silence_timeout = silence_timeout
        self._resubscribe_timeout = resubscribe_timeout
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self.backoff = Backoff(backoff_base, backoff_cap)
        # At most 10 new sockets per `socket_window`, 3 per `refusal_window`
        # after a refusal (`SocketBudget`; tests shrink the windows).
        self.budget = SocketBudget(window=socket_window, refusal_window=refusal_window)

        self._subscriptions: list[Subscription] = []
        self._ids = itertools.count(1)
        self._conn: _Connection | None = None
        self._closed = asyncio.Event()
        self._running = False
        self._run_task: asyncio.Task[Any] | None = None
        self._aborting = False
        self._stopped = asyncio.Event()
        self._attempted = False
        self._trouble_since: float | None = None

    # --- public -----------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether a socket is up, acknowledged and subscribed."""
        return self._conn is not None and self._conn.announced

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        """The live subscriptions."""
        return tuple(self._subscriptions)

    def subscribe(
        self,
        document: str,
        variables: Mapping[str, Any] | None,
        handler: Handler,
        *,
        operation_name: str | None = None,
        watch_silence: bool = False,
    ) -> Subscription:
        """Subscribe to `document`; `handler` gets each result's `data`, typed.

        With `watch_silence`, a stream that stays silent longer than the silence
        timeout is subscribed again, and the socket replaced if that brings
        nothing: for streams the server republishes into, like myUpdates.
        """
        subscription = Subscription(
            document,
            variables or {},
            operation_name,
            handler,
            silence_timeout=self._silence_timeout if watch_silence else None,
            resubscribe_timeout=self._resubscribe_timeout,
            backoff=Backoff(self._backoff_base, self._backoff_cap),
            on_cancel=self._cancel,
        )
        self._subscriptions.append(subscription)
        if self._conn is not None:
            self._conn.wake.set()
        return subscription

    def subscribe_my_updates(
        self, callback: Callable[[MyUpdate], None]
    ) -> Subscription:
        """Follow the account: payments as they happen and the moving price."""
        return self.subscribe(
            MY_UPDATES_SUBSCRIPTION,
            {},
            typed("myUpdates", _my_updates, _arrived, callback),
            operation_name="MyUpdates",
            watch_silence=True,
        )

    def subscribe_realtime_price(
        self, currency: str, callback: Callable[[RealtimePrice], None]
    ) -> Subscription:
        """Follow the price of bitcoin in `currency` (a display currency code)."""
        return self.subscribe(
            REALTIME_PRICE_SUBSCRIPTION,
            {"currency": currency},
            typed(
                f"realtimePrice({currency})",
                _realtime_price,
                _price_of,
                callback,
            ),
            operation_name="RealtimePriceUpdates",
            watch_silence=True,
        )

    def subscribe_invoice_status(
        self,
        payment_hash: str,
        callback: Callable[[InvoiceStatus], None],
        *,
        on_error: Callable[[BlinkGraphQLError], None] | None = None,
    ) -> Subscription:
        """Follow one invoice: its status now, then PAID or EXPIRED when it comes.

        On the same socket as everything else, and subscribed again after every
        reconnect, which brings the current status again. An open invoice is
        silent by design, so silence is not watched. Blink never ends the stream:
        cancel the subscription once the invoice is settled or expired. Errors in
        Blink's payload (an unknown hash) go to `on_error`, or to the log.
        """
        name = f"lnInvoicePaymentStatusByHash({payment_hash[:12]})"
        return self.subscribe(
            LN_INVOICE_PAYMENT_STATUS_BY_HASH_SUBSCRIPTION,
            {"paymentHash": payment_hash},
            typed(name, _invoice_status, _status_of, callback, on_error=on_error),
            operation_name="LnInvoicePaymentStatusByHash",
        )

    async def run(self) -> None:
        """Keep a socket alive until close(); return normally after it.

        Raises BlinkAuthError when Blink refuses the key (confirmed over HTTP) and
        BlinkConfigurationError when the endpoint refuses what we send; both are
        final. Every other failure is retried here, forever.
        """
        if self._running:
            msg = "BlinkWebSocket.run() is already running"
            raise RuntimeError(msg)
        self._running = True
        self._run_task = asyncio.current_task()
        self._stopped.clear()
        try:
            await self._serve()
        except asyncio.CancelledError:
            # close() cut a slow step short (a dead peer, a hanging HTTP check):
            # that is still the normal end it promised, unless others cancel too.
            task = asyncio.current_task()
            if not self._aborting or (task is not None and task.uncancel() > 0):
                raise
        finally:
            self._running = False
            self._run_task = None
            self._stopped.set()

    async def _serve(self) -> None:
        """Connect, serve, and reconnect after a wait, until close()."""
        loop = asyncio.get_running_loop()
        while not self._closed.is_set():
            failure: BaseException
            wait: float | None = None
            if not await self._within_budget():
                break
            try:
                self.budget.opened(loop.time())
                await self._connection(catch_up=self._attempted)
                continue  # only close() ends a socket without an error
            except _SuspectedAuthError as err:
                self.budget.refused(loop.time())
                await self._confirm_key()
                failure = err
            except BlinkAuthError, BlinkConfigurationError:
                raise
            except BlinkConnectionError as err:
                failure, wait = err, err.retry_after
            except BlinkError as err:
                failure = err
            except Exception as err:  # noqa: BLE001 - a bug must not end the stream
                failure = err
            finally:
                self._attempted = True
            if self._closed.is_set():
                break
            delay = self.backoff.next_delay(wait)
            self._note_trouble(failure, delay)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._closed.wait()

    async def _within_budget(self) -> bool:
        """Wait until another socket may open; False if close() came meanwhile."""
        delay = self.budget.delay(asyncio.get_running_loop().time())
        if delay > 0:
            LOGGER.debug("Next socket to Blink in %.1f s (Blink's limits)", delay)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._closed.wait()
        return not self._closed.is_set()

    async def close(self) -> None:
        """Close the socket with 1000 and wait until run() has let go of it.

        Bounded: a peer that does not answer the close, or an HTTP check that
        hangs, gets the pong deadline; then run() is cancelled (and still returns
        normally), so unloading never hangs on a dead network.
        """
        self._closed.set()
        conn = self._conn
        if conn is not None:
            conn.wake.set()
        if not self._running:
            return
        try:
            async with asyncio.timeout(self._pong_timeout):
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.ws.close(code=aiohttp.WSCloseCode.OK)
                await self._stopped.wait()
        except TimeoutError:
            if self._run_task is not None and not self._run_task.done():
                self._aborting = True
                self._run_task.cancel()
            await self._stopped.wait()

    # --- one socket -------------------------------------------------------------

    async def _connection(self, *, catch_up: bool) -> None:
        """Open, acknowledge and serve one socket until it fails or close()."""
        ws = await self._open()
        conn = _Connection(ws)
        self._conn = conn
        try:
            if self._closed.is_set() or not await self._handshake(conn):
                return
            for subscription in self._subscriptions:
                subscription.reset()
            try:
                async with asyncio.TaskGroup() as tasks:
                    conn.tasks = tasks
                    tasks.create_task(self._read(conn), name="blink_wallet ws reader")
                    tasks.create_task(
                        self._keep(conn, catch_up=catch_up),
                        name="blink_wallet ws keeper",
                    )
            except BaseExceptionGroup as group:
                failure = next(
                    (e for e in _leaves(group) if not isinstance(e, _Stop)), None
                )
                if failure is not None:
                    raise failure from None
        finally:
            self._conn = None
            for subscription in self._subscriptions:
                subscription.reset()
            with contextlib.suppress(Exception):
                await ws.close(code=aiohttp.WSCloseCode.OK)
            if conn.announced:
                self._announce(connected=False)

    async def _open(self) -> aiohttp.ClientWebSocketResponse:
        """Upgrade to a socket, turning refusals into the errors they mean."""
        try:
            async with asyncio.timeout(self._connect_timeout):
                return await self._session.ws_connect(
                    self._ws_url,
                    protocols=(GRAPHQL_TRANSPORT_WS,),
                    heartbeat=None,
                    # A dead peer never answers our close frame; do not wait long.
                    timeout=aiohttp.ClientWSTimeout(ws_close=self._pong_timeout),
                )
        except aiohttp.WSServerHandshakeError as err:
            wait = retry_after(err.headers)
            if err.status in _HTTP_REFUSED:
                msg = f"Blink refused the socket (HTTP {err.status})"
                raise _SuspectedAuthError(msg) from None
            if err.status == _HTTP_TOO_MANY_REQUESTS:
                msg = "Blink is rate limiting sockets (HTTP 429)"
                raise BlinkRateLimitError(msg, retry_after=wait) from None
            if err.status == _HTTP_SERVICE_UNAVAILABLE:
                # Blink's ingress refuses past its connection limits with 503
                # (blinkbitcoin/charts websocket-ingress.yaml).
                msg = "Blink refused the socket (HTTP 503): too many sockets, or down"
                raise BlinkRateLimitError(msg, retry_after=wait) from None
            msg = f"Blink refused the socket (HTTP {err.status})"
            raise BlinkConnectionError(msg, retry_after=wait) from None
        except TimeoutError:
            msg = "Blink did not open the socket in time"
            raise BlinkConnectionError(msg) from None
        except (aiohttp.ClientError, OSError) as err:
            msg = f"Cannot reach Blink: {type(err).__name__}"
            raise BlinkConnectionError(msg) from None

    async def _handshake(self, conn: _Connection) -> bool:
        """Send `connection_init` and wait for `connection_ack`; False on close()."""
        await self._send_now(conn, connection_init(self._api_key))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._ack_timeout
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    frame = await self._receive(conn.ws)
            except TimeoutError:
                msg = "Blink did not acknowledge the socket in time"
                raise BlinkConnectionError(msg) from None
            if frame is None:
                return False
            kind = frame.type
            if kind == "connection_ack":
                LOGGER.debug("Blink acknowledged the socket")
                return True
            if kind == "ping":
                await self._send_now(conn, pong())
            elif kind != "pong":
                msg = f"Blink sent {self._quote(frame)} before connection_ack"
                raise BlinkProtocolError(msg)

    async def _send_now(self, conn: _Connection, frame: str) -> None:
        try:
            await conn.ws.send_str(frame)
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as err:
            msg = f"The socket failed while sending: {type(err).__name__}"
            raise BlinkConnectionError(msg) from None

    async def _receive(
        self, ws: aiohttp.ClientWebSocketResponse
    ) -> Frame[SubscriptionData] | Drifted | None:
        """Return the next frame, None when close() ended the socket."""
        while True:
            message = await ws.receive()
            if message.type is aiohttp.WSMsgType.TEXT:
                return self._frames.decode(message.data)
            if self._not_text(ws, message):
                return None

    def _not_text(
        self, ws: aiohttp.ClientWebSocketResponse, message: aiohttp.WSMessage
    ) -> bool:
        """Read what is not a frame: True when close() ended the socket.

        Raises for a socket that ended otherwise; housekeeping aiohttp answered
        itself is passed over (False).
        """
        if message.type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSING,
            aiohttp.WSMsgType.CLOSED,
        ):
            if self._closed.is_set():
                return True
            if message.type is aiohttp.WSMsgType.CLOSE:
                raise self._closed_by_server(message.data, message.extra)
            raise self._closed_by_server(ws.close_code, None)
        if message.type is aiohttp.WSMsgType.ERROR:
            msg = f"The socket failed: {type(message.data).__name__}"
            raise BlinkConnectionError(msg)
        if message.type is aiohttp.WSMsgType.BINARY:
            msg = f"Blink sent a binary frame: {cut(message.data)}"
            raise BlinkProtocolError(msg)
        return False

    def _closed_by_server(self, code: object, reason: object) -> BlinkError:
        """Turn a close code into the error it means (`framing.ending`)."""
        kind, msg = ending(code, reason, GRAPHQL_TRANSPORT_WS)
        match kind:
            case Ending.KEY:
                return _SuspectedAuthError(msg)
            case Ending.CONFIGURATION:
                return BlinkConfigurationError(msg)
            case Ending.PROTOCOL:
                return BlinkProtocolError(msg)
        return BlinkConnectionError(msg)

    # --- reading ----------------------------------------------------------------

    async def _read(self, conn: _Connection) -> None:
        # The path of every frame: kept short (see docs/benchmarks.md).
        ws, decode, text = conn.ws, self._frames.decode, aiohttp.WSMsgType.TEXT
        while True:
            message = await ws.receive()
            if message.type is text:
                frame = decode(message.data)
                if frame.type == "next":  # nearly every frame
                    self._on_next(conn, frame)
                else:
                    self._dispatch(conn, frame)
            elif self._not_text(ws, message):
                raise _Stop

    def _dispatch(
        self, conn: _Connection, frame: Frame[SubscriptionData] | Drifted
    ) -> None:
        match frame.type:
            case "next":
                self._on_next(conn, frame)
            case "error":
                self._on_error(conn, frame)
            case "complete":
                self._on_complete(conn, frame)
            case "ping":
                conn.send(pong())
            case "pong":
                conn.pong_deadline = None
                conn.wake.set()  # the next ping's time replaces the pong's deadline
            case "connection_ack":
                LOGGER.debug("Ignoring a repeated connection_ack")
            case _:
                msg = f"Blink sent an unexpected frame: {self._quote(frame)}"
                raise BlinkProtocolError(msg)

    def _subscription_of(
        self, conn: _Connection, frame: Frame[SubscriptionData] | Drifted
    ) -> Subscription | None:
        op_id = frame.id
        if op_id is None:
            msg = f"Blink sent a frame without an id: {self._quote(frame)}"
            raise BlinkProtocolError(msg)
        subscription = conn.by_id.get(op_id)
        if subscription is None:
            # Late frames of a subscription we completed or replaced.
            LOGGER.debug("Ignoring %s for unknown subscription %s", frame.type, op_id)
        return subscription

    def _on_next(
        self, conn: _Connection, frame: Frame[SubscriptionData] | Drifted
    ) -> None:
        op_id = frame.id
        subscription = None if op_id is None else conn.by_id.get(op_id)
        if subscription is None:
            self._subscription_of(conn, frame)  # raises or logs why
            return
        data: SubscriptionData | BlinkModelError | None
        if isinstance(frame, Drifted):
            errors, data = frame.errors, frame.error
        elif isinstance(frame.payload, ExecutionResult):
            errors, data = frame.payload.errors, frame.payload.data
        else:
            msg = f"Blink sent `next` without a result: {self._quote(frame)}"
            raise BlinkProtocolError(msg)
        if errors:
            error = graphql_error(list(errors))
            if says_unauthenticated(error):
                self._suspect_key(conn, subscription, error)
                return
            if data is None:
                # Blink completes a refused stream itself; the `complete` retries.
                subscription.trouble(error)
                return
            LOGGER.debug("%s sent data with errors: %s", subscription.name, error)
        elif data is None:
            LOGGER.debug("%s sent an empty result", subscription.name)
            return
        else:
            self._on_healthy(conn, subscription)
        subscription.deliver(data)

    def _on_error(
        self, conn: _Connection, frame: Frame[SubscriptionData] | Drifted
    ) -> None:
        """Blink refused a subscription before running it: validation, usually."""
        subscription = self._subscription_of(conn, frame)
        if subscription is None:
            return
        error = graphql_error(
            list(frame.errors) if isinstance(frame, Drifted) else frame.payload
        )
        self._drop(conn, subscription)
        if says_unauthenticated(error):
            self._suspect_key(conn, subscription, error)
            return
        if subscription.refused() >= VALIDATION_REFUSAL_LIMIT:
            msg = (
                f"Blink refused the {subscription.name} subscription"
                f" {VALIDATION_REFUSAL_LIMIT} times: {error.messages[0]}"
            )
            raise BlinkConfigurationError(msg)
        self._retry_later(conn, subscription, error)

    def _on_complete(
        self, conn: _Connection, frame: Frame[SubscriptionData] | Drifted
    ) -> None:
        """Blink ended a stream we still want: subscribe again, after a wait."""
        subscription = self._subscription_of(conn, frame)
        if subscription is None:
            return
        self._drop(conn, subscription)
        self._retry_later(conn, subscription, "Blink ended the stream")

    def _on_healthy(self, conn: _Connection, subscription: Subscription) -> None:
        """Mark data without errors: this subscription, and this socket, work."""
        now = conn.loop.time()
        subscription.healthy(now)
        if not conn.healthy:
            conn.healthy = True
            self.backoff.reset()
            if self._trouble_since is not None:
                LOGGER.info(
                    "Blink live updates restored after %.0f s",
                    now - self._trouble_since,
                )
                self._trouble_since = None

    # --- subscriptions on the wire ---------------------------------------------

    def _start(self, conn: _Connection, subscription: Subscription, now: float) -> None:
        op_id = str(next(self._ids))
        conn.by_id[op_id] = subscription
        conn.send(
            subscribe(
                op_id,
                subscription.document,
                subscription.variables,
                subscription.operation_name,
            )
        )
        if subscription.start(op_id, now):
            conn.catch_up = True  # once this subscribe is out

    def _drop(self, conn: _Connection, subscription: Subscription) -> None:
        """Forget a subscription's id on this socket: its stream is lost."""
        op_id = subscription.drop()
        if op_id is not None:
            conn.by_id.pop(op_id, None)

    def _complete(self, conn: _Connection, subscription: Subscription) -> None:
        """End a subscription's stream on this socket ourselves."""
        if subscription.op_id is not None:
            conn.send(complete(subscription.op_id))
        self._drop(conn, subscription)

    def _cancel(self, subscription: Subscription) -> None:
        """Forget a cancelled subscription; complete its stream if live."""
        self._subscriptions.remove(subscription)
        if self._conn is not None:
            self._complete(self._conn, subscription)
        subscription.reset()

    def _retry_later(
        self, conn: _Connection, subscription: Subscription, why: object
    ) -> None:
        subscription.retry_later(asyncio.get_running_loop().time(), why)
        conn.wake.set()

    def _suspect_key(
        self, conn: _Connection, subscription: Subscription, error: BlinkGraphQLError
    ) -> None:
        """Ask HTTP before believing a subscription that said "not authenticated"."""
        self.budget.refused(asyncio.get_running_loop().time())
        self._drop(conn, subscription)
        # Not resubscribed until the check is done (a dropped id cannot refuse twice).
        subscription.confirm_key()
        if conn.tasks is not None:  # always, once frames are read
            conn.tasks.create_task(
                self._confirm_for(conn, subscription, error),
                name="blink_wallet ws key check",
            )

    async def _confirm_for(
        self, conn: _Connection, subscription: Subscription, error: BlinkGraphQLError
    ) -> None:
        """Refused on this socket, accepted over HTTP: this socket is spoilt.

        Blink checks the key once, at connect, and keeps the outcome
        (core/api/src/servers/ws-server.ts): a check that failed then (its key
        service slow or down) refuses every subscription on the socket for good,
        so subscribing again cannot help; a new socket checks the key again.
        """
        await self._confirm_key()
        if not subscription.active:
            # Cancelled meanwhile: what remains on this socket needs no key.
            return
        msg = (
            f"Blink refused the {subscription.name} subscription on this socket"
            f" but accepts the key ({error.messages[0]}); replacing the socket"
        )
        raise BlinkConnectionError(msg)

    async def _confirm_key(self) -> None:
        """One HTTP call: raise BlinkAuthError if Blink really refuses the key."""
        try:
            scopes = await self._client.scopes()
        except BlinkAuthError:
            raise
        except BlinkPermissionError:
            # Blink answers `authorization` only to a key with READ (its scope
            # middleware, core/api/src/servers/middlewares/scope.ts).
            scopes = frozenset()
        except BlinkError as err:
            # Cannot tell now; treat it as an outage and ask again next time.
            LOGGER.debug("Could not confirm the API key over HTTP: %s", err)
            return
        if _READ_SCOPE not in scopes:
            msg = "The API key lacks the READ scope"
            raise BlinkAuthError(msg)

    # --- keeping the socket alive ----------------------------------------------

    async def _keep(self, conn: _Connection, *, catch_up: bool) -> None:
        """Write queued frames, ping, watch deadlines; the socket's only writer."""
        loop = asyncio.get_running_loop()
        conn.next_ping = loop.time() + self._ping_interval
        while True:
            if self._closed.is_set():
                raise _Stop
            self._check_deadlines(conn, loop.time())
            while conn.outbox:
                frame = conn.outbox.pop(0)
                try:
                    await conn.ws.send_str(frame)
                except (aiohttp.ClientError, ConnectionError, RuntimeError) as err:
                    msg = f"The socket failed while sending: {type(err).__name__}"
                    raise BlinkConnectionError(msg) from None
            if not conn.announced:
                conn.announced = True
                self._announce(connected=True)
                conn.catch_up = catch_up
            if conn.catch_up:
                conn.catch_up = False
                self._catch_up()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(self._next_deadline(conn)):
                    await conn.wake.wait()
            conn.wake.clear()

    def _check_deadlines(self, conn: _Connection, now: float) -> None:
        if conn.pong_deadline is not None and now >= conn.pong_deadline:
            msg = "Blink stopped answering pings"
            raise BlinkConnectionError(msg)
        if conn.pong_deadline is None and now >= conn.next_ping:
            conn.send(ping())
            conn.pong_deadline = now + self._pong_timeout
            conn.next_ping = now + self._ping_interval
        for subscription in list(self._subscriptions):
            match subscription.due(now):
                case Due.SUBSCRIBE:
                    self._start(conn, subscription, now)
                case Due.SILENT:
                    self._on_silence(conn, subscription, now)

    def _on_silence(
        self, conn: _Connection, subscription: Subscription, now: float
    ) -> None:
        """Resubscribe a stream that went quiet; replace the socket if that fails.

        The socket may still answer pings while the server has lost the stream;
        only the data tells (home-assistant/core#86462).
        """
        if not subscription.silent():
            msg = f"Blink's {subscription.name} stream stayed silent"
            raise BlinkConnectionError(msg)
        LOGGER.debug("%s is silent; subscribing again", subscription.name)
        self._complete(conn, subscription)
        self._start(conn, subscription, now)

    def _next_deadline(self, conn: _Connection) -> float:
        deadline = (
            conn.pong_deadline if conn.pong_deadline is not None else conn.next_ping
        )
        for subscription in self._subscriptions:
            due = subscription.deadline()
            if due is not None and due < deadline:
                deadline = due
        return deadline

    # --- telling the owner -----------------------------------------------------

    def _announce(self, *, connected: bool) -> None:
        if self._on_connection_change is None:
            return
        try:
            self._on_connection_change(connected)
        except Exception:  # noqa: BLE001 - the owner's bug must not end the stream
            LOGGER.exception("Error in the connection callback")

    def _catch_up(self) -> None:
        """Tell the owner its state is older than the stream: it catches up."""
        if self._on_gap is None:
            return
        try:
            self._on_gap()
        except Exception:  # noqa: BLE001 - the owner's bug must not end the stream
            LOGGER.exception("Error in the gap callback")

    def _note_trouble(self, failure: BaseException, delay: float) -> None:
        """One line when trouble starts; the retries go to debug.

        Info for a lost connection (a deploy, a drop, an outage: the entities
        stay available for minutes, and say so themselves when they do not); a
        warning for what needs a look (Blink speaking a protocol we do not, a bug),
        with the traceback when it is not Blink's doing.
        """
        unexpected = not isinstance(failure, BlinkError)
        if self._trouble_since is None:
            self._trouble_since = asyncio.get_running_loop().time()
            LOGGER.log(
                logging.INFO
                if isinstance(failure, BlinkConnectionError)
                else logging.WARNING,
                "Blink live updates interrupted: %s; reconnecting",
                failure or type(failure).__name__,
                exc_info=failure if unexpected else None,
            )
        else:
            LOGGER.debug(
                "Blink live updates still interrupted: %s; next attempt in %.1f s",
                failure or type(failure).__name__,
                delay,
                exc_info=failure if unexpected else None,
            )

    def _quote(self, frame: object) -> str:
        """Cut a server frame short for a log, without the key should it echo it."""
        return self._frames.quote(frame)


# --- typed helpers ---------------------------------------------------------------


def _my_updates(data: SubscriptionData) -> MyUpdate | None:
    return data.my_updates


def _realtime_price(data: SubscriptionData) -> RealtimePriceUpdate | None:
    return data.realtime_price


def _invoice_status(data: SubscriptionData) -> InvoiceStatusUpdate | None:
    return data.ln_invoice_payment_status_by_hash


def _arrived(payload: MyUpdate) -> MyUpdate:
    """Date a pushed payment now, as its frame is read (its `createdAt` is unusable)."""
    if isinstance(update := payload.update, PaymentUpdate):
        update.transaction.arrived(time.time())
    return payload


def _price_of(payload: RealtimePriceUpdate) -> RealtimePrice | None:
    return payload.realtime_price


def _status_of(payload: InvoiceStatusUpdate) -> InvoiceStatus:
    if payload.status is None:
        msg = "LnInvoicePaymentStatusPayload.status is missing"
        raise BlinkModelError(msg)
    return payload.status


def _leaves(group: BaseExceptionGroup[BaseException]) -> Iterator[BaseException]:
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            yield from _leaves(error)
        else:
            yield error
