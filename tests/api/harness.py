"""A BlinkWebSocket wired to recorders, with millisecond timings, for socket tests."""

import asyncio
from collections.abc import Callable
import contextlib
from typing import Any

import aiohttp

from custom_components.blink_wallet.api import (
    BlinkClient,
    BlinkWebSocket,
    MyUpdate,
    PaymentUpdate,
    RealtimePrice,
    Subscription,
)

# Production is 20 s / 10 s / 10 s / 600 s / 1 s…5 min, 10 sockets a minute and 3
# in 20 s after a refusal; tests run about a thousand times faster.
# Deadlines stay loose enough for a loaded machine; the tests of a deadline set
# their own. Silence watching is off unless a test turns it down.
FAST: dict[str, Any] = {
    "ping_interval": 0.05,
    "pong_timeout": 1.0,
    "ack_timeout": 1.0,
    "connect_timeout": 2.0,
    "silence_timeout": 60.0,
    "resubscribe_timeout": 0.2,
    "backoff_base": 0.01,
    "backoff_cap": 0.05,
    "socket_window": 0.06,
    "refusal_window": 0.02,
}


class Harness:
    """One client and socket against `http_url`/`ws_url`, recording what it tells."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        http_url: str,
        ws_url: str,
        api_key: str,
        *,
        gap: Callable[[], Any] | None = None,
        **timings: float,
    ) -> None:
        self.client = BlinkClient(session, api_key, api_url=http_url)
        self.connection: list[bool] = []
        self.gaps = 0
        self.updates: list[MyUpdate] = []
        self.updates_at_connect = 0
        self.prices: list[RealtimePrice] = []
        self._gap_hook = gap
        self.ws = BlinkWebSocket(
            session,
            api_key,
            ws_url,
            client=self.client,
            on_connection_change=self._on_connection_change,
            on_gap=self._on_gap,
            **{**FAST, **timings},
        )
        self.task: asyncio.Task[None] | None = None

    def _on_connection_change(self, connected: bool) -> None:
        self.connection.append(connected)
        self.updates_at_connect = len(self.updates)

    def _on_gap(self) -> None:
        self.gaps += 1
        if self._gap_hook is not None:
            self._gap_hook()

    def my_updates(self) -> Subscription:
        return self.ws.subscribe_my_updates(self.updates.append)

    def realtime_price(self, currency: str = "USD") -> Subscription:
        return self.ws.subscribe_realtime_price(currency, self.prices.append)

    @property
    def payments(self) -> list[PaymentUpdate]:
        return [u.update for u in self.updates if isinstance(u.update, PaymentUpdate)]

    @property
    def price_updates(self) -> list[RealtimePrice]:
        return [u.update for u in self.updates if isinstance(u.update, RealtimePrice)]

    def start(self) -> asyncio.Task[None]:
        self.task = asyncio.get_running_loop().create_task(self.ws.run())
        return self.task

    async def wait_for(
        self, predicate: Callable[[], bool], within: float = 5.0
    ) -> None:
        async with asyncio.timeout(within):
            while not predicate():
                if self.task is not None and self.task.done():
                    self.task.result()  # raise what ended run()
                    msg = "run() returned while waiting"
                    raise AssertionError(msg)
                await asyncio.sleep(0.002)

    async def connected(self, within: float = 5.0) -> None:
        """Wait until the socket is up and subscribed."""
        await self.wait_for(lambda: self.ws.connected, within)

    async def streaming(self, within: float = 5.0) -> None:
        """Wait until myUpdates data flows on the current socket.

        The simulator counts a subscription as live before its listener exists;
        the price Blink pushes on subscribing proves the listener is there.
        """
        await self.wait_for(
            lambda: self.ws.connected and len(self.updates) > self.updates_at_connect,
            within,
        )

    async def stop(self) -> None:
        """close(), then make sure run() has returned."""
        await self.ws.close()
        if self.task is not None:
            async with asyncio.timeout(5):
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await self.task
