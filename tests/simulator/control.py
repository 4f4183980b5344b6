"""The knobs tests turn (faults, delays) and the counters they read."""

import asyncio
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .protocol import WsSession

# Gets every text frame a session is about to send; returns the frames to send
# instead: [] drops it, [frame, frame] duplicates it, a held frame can be sent
# later with `session.send_raw`, which bypasses the hook (reordering).
type FrameHook = Callable[[WsSession, str], Sequence[str]]
# What the next payment leaving Blink does: fail with (message, code), or stay
# in flight (PENDING). Payments without a script succeed.
type ScriptedPayment = tuple[str, str] | Literal["PENDING"]


@dataclass(frozen=True, slots=True)
class HttpFault:
    """A canned HTTP answer served instead of GraphQL."""

    status: int
    body: str
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class Behaviour:
    """How the server behaves; sessions read it live, so changes apply at once."""

    # graphql-ws closes 4408 when connection_init does not come in time (3 s).
    init_timeout: float = 3.0
    ack_delay: float = 0.0
    withhold_ack: bool = False
    # Blink's key service (core/api-keys) is failing: it answers 500, which its
    # gateway turns into 401 over HTTP, and socket connects fail their key check.
    key_service_down: bool = False
    # The next socket connects whose key check fails on its own (Blink's
    # Oathkeeper call at connect gives up after 1 s), HTTP unaffected.
    failing_key_checks: int = 0
    # Blink's check of an invoice at its expiry fails: the status streams
    # announce no EXPIRED (the invoice still expires, as HTTP says).
    expiry_check_fails: bool = False
    # Apply to sockets opened from now on (see BlinkSimulator.freeze_sockets).
    freeze_new: bool = False
    silence_new: bool = False
    frame_hook: FrameHook | None = None
    http_delay: float = 0.0
    # Seconds between computing an HTTP answer and sending it.
    answer_delay: float = 0.0
    # HTTP operations (by name) that wait for their event before running: Blink
    # slow on one query while others answer.
    held_operations: dict[str, asyncio.Event] = field(default_factory=dict)
    http_faults: deque[HttpFault] = field(default_factory=deque)
    handshake_faults: deque[int] = field(default_factory=deque)
    payment_script: deque[ScriptedPayment] = field(default_factory=deque)
    # Book the unused part of a Lightning payment's fee reserve back to the payer
    # (over HTTP). Blink does so only with skipFeeReimbursement off, and its
    # default is on (blinkbitcoin/blink core/api/src/config/schema.ts,
    # core/api/src/app/payments/reimburse-fee.ts).
    reimburse_fees: bool = False
    # Accounts refused new invoices with RECEIVE_DISABLED, like Blink's wind-down
    # `receiveBlockedAccountIds` (core/api/src/app/wind-down/check-receive-allowed.ts).
    receive_disabled: set[str] = field(default_factory=set)
    # Blink's `invoice_create` limiter, per account: points, duration and block
    # (s) (core/api/src/config/schema.ts), and each account's key in it: until
    # when it lives (clock time) and how many points it has consumed.
    invoice_create_limit: tuple[int, int, int] = (60, 60, 300)
    invoice_create_usage: dict[str, tuple[float, int]] = field(default_factory=dict)


@dataclass(slots=True)
class Stats:
    """What the server saw, for tests to assert on."""

    http_requests: int = 0
    http_unauthorized: int = 0
    # by operationName, or by the root fields ("me", "currencyList,me") without one
    http_operations: Counter[str] = field(default_factory=Counter)
    http_fields: Counter[str] = field(default_factory=Counter)
    ws_connections: int = 0
    connection_inits: int = 0
    acks_sent: int = 0
    # valid subscribe messages by root field ("myUpdates", ...), refused ones too;
    # BlinkSimulator.live_subscriptions counts the running ones
    subscriptions: Counter[str] = field(default_factory=Counter)
    pings_received: int = 0
    pongs_sent: int = 0
    pings_sent: int = 0
    pongs_received: int = 0
    # WebSocket-level keep-alive pings (graphql-ws's, every 12 s by default)
    keepalive_pings: int = 0
    # socket connects whose key check failed because the key service was down
    key_checks_failed: int = 0
    # payments that left a wallet through lnInvoicePaymentSend/lnAddressPaymentSend
    # (ALREADY_PAID and refusals send nothing); BlinkSimulator.sent_payments lists them
    payments_sent: int = 0

    def reset(self) -> None:
        """Start counting from zero."""
        fresh = Stats()
        for counter in fields(self):
            setattr(self, counter.name, getattr(fresh, counter.name))
