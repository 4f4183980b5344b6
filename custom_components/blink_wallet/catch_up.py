"""The catch-up: reads over HTTP what arrived while nobody listened, one run at a time.

After every gap (a reconnect, a start) the entry asks for one; what it reads (the
account, the history down to where the last one ended, the pending on-chain
receipts) goes to `on_read`, which hands it on. A gap while a run is under way
gets one more run after it, however many gaps there were: the run under way may
have read the history before the payment the new gap hid. A failed run is tried
again later, when Blink says (`Retry-After`) or after 30 s; a refused key is
reported instead, as it may be Blink's outage as well as a revoked key.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

from .api import (
    Account,
    BlinkAuthError,
    BlinkClient,
    BlinkConnectionError,
    BlinkError,
    Transaction,
)
from .const import DOMAIN, LOGGER
from .delivery import CATCH_UP_OVERLAP

# At most this many pages of history are read by one catch-up (newest first).
CATCH_UP_MAX_PAGES = 20
CATCH_UP_PAGE_SIZE = 50
CATCH_UP_RETRY_SECONDS = 30


@dataclass(frozen=True, slots=True)
class History:
    """What a first setup reads: the history a catch-up would see, the newest page."""

    transactions: list[Transaction]
    page: Sequence[Transaction]


@dataclass(frozen=True, slots=True)
class Reading:
    """What one catch-up read, and when it started reading (loop time)."""

    started: float
    account: Account
    transactions: list[Transaction]
    newest: datetime | None
    pending: Sequence[Transaction]


class CatchUp:
    """Runs the catch-ups of one entry: one at a time, coalesced, retried."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        client: BlinkClient,
        *,
        since: Callable[[], datetime | None],
        on_read: Callable[[Reading], Awaitable[None]],
        on_key_refused: Callable[[], None],
    ) -> None:
        """Read from `since()` on; hand each reading to `on_read`."""
        self._hass = hass
        self._entry = entry
        self._client = client
        self._since = since
        self._on_read = on_read
        self._on_key_refused = on_key_refused
        # Every start is a gap: what arrived while we were away is read once.
        self._armed = True
        self._running = False
        self._again = False
        self._retry: CALLBACK_TYPE | None = None
        self._closed = False
        self.completed = 0

    @property
    def retrying(self) -> bool:
        """Whether a failed catch-up waits to be run again."""
        return self._retry is not None

    @property
    def running(self) -> bool:
        """Whether a catch-up is under way."""
        return self._running

    @callback
    def async_gap(self) -> None:
        """Catch up once the new stream's first frame is in (a gap)."""
        self._armed = True

    @callback
    def async_streaming(self) -> None:
        """Take note of a frame: the first after a gap starts the catch-up.

        graphql-transport-ws confirms no subscription: the first frame does
        (Blink pushes the price at once). Reading the history only now closes the
        window in which a payment is neither pushed nor read.
        """
        if self._armed:
            self._armed = False
            self.async_request()

    @callback
    def async_request(self) -> None:
        """Catch up now, or once more after the run under way."""
        if self._closed or self._retry is not None:
            return  # the retry due reads everything this one would
        if self._running:
            self._again = True
            return
        self._running = True
        self._entry.async_create_background_task(
            self._hass, self._async_run(), f"{DOMAIN} catch-up {self._entry.title}"
        )

    @callback
    def async_stop(self) -> None:
        """Start nothing more (on unload)."""
        self._closed = True
        if self._retry is not None:
            self._retry()
            self._retry = None

    async def _async_run(self) -> None:
        try:
            while True:
                self._again = False
                if not await self._async_once() or not self._again:
                    return
        finally:
            self._running = False

    async def _async_once(self) -> bool:
        """One catch-up; whether it got through (else a retry or a key check)."""
        started = self._hass.loop.time()
        try:
            account = await self._client.account()
            transactions, newest = await self.async_read_since(self._since())
            pending = await self._client.pending_incoming_transactions()
        except BlinkAuthError:
            # The socket may still be served (Blink keeps the key it checked at
            # connect): ask for a new key, and about this one again.
            self._on_key_refused()
            return False
        except BlinkConnectionError as err:
            # Rate limited or unreachable: Blink may say when to come back.
            self._async_retry_later(err.retry_after, err)
            return False
        except BlinkError as err:
            self._async_retry_later(None, err)
            return False
        if self._closed:
            return False  # unloaded while Blink answered
        await self._on_read(Reading(started, account, transactions, newest, pending))
        self.completed += 1
        return True

    @callback
    def _async_retry_later(self, delay: float | None, err: BlinkError) -> None:
        """Catch up again after `delay` seconds (Blink's), else after 30."""
        if self._closed:
            return
        delay = CATCH_UP_RETRY_SECONDS if delay is None else delay
        LOGGER.debug(
            "Catch-up of %s failed, retrying in %s s: %s", self._entry.title, delay, err
        )

        @callback
        def _due(_: datetime) -> None:
            self._retry = None
            self.async_request()

        self._retry = async_call_later(self._hass, delay, _due)

    async def async_read_history(self, *, whole: bool) -> History:
        """Read the newest page; with `whole`, all a catch-up could read, pending too.

        The history goes down to where the next catch-up will look, so that
        marking it seen leaves that catch-up nothing to announce.
        """
        page = await self._client.transactions(first=CATCH_UP_PAGE_SIZE)
        history: list[Transaction] = []
        if whole:
            if page.transactions:
                newest = max(tx.created_at for tx in page.transactions)
                history, _ = await self.async_read_since(newest - CATCH_UP_OVERLAP)
            history += await self._client.pending_incoming_transactions()
        return History(history, page.transactions)

    async def async_read_since(
        self, since: datetime | None, *, max_pages: int = CATCH_UP_MAX_PAGES
    ) -> tuple[list[Transaction], datetime | None]:
        """Page through the history, newest first, down to `since`."""
        found: list[Transaction] = []
        newest: datetime | None = None
        after: str | None = None
        for page_number in range(max_pages):
            if page_number and page_number % 10 == 0:
                LOGGER.debug(
                    "Read %s transactions of %s so far", len(found), self._entry.title
                )
            page = await self._client.transactions(
                first=CATCH_UP_PAGE_SIZE, after=after
            )
            for tx in page.transactions:
                if newest is None or tx.created_at > newest:
                    newest = tx.created_at
                if since is not None and tx.created_at < since:
                    return found, newest
                found.append(tx)
            if not page.has_next_page or page.end_cursor is None:
                break
            after = page.end_cursor
        return found, newest
