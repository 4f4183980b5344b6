"""How soon another socket may open: Blink's ingress limit, and slowly after a refusal.

Blink's WebSocket ingress (blinkbitcoin/charts `websocket-ingress.yaml`) admits 10
new connections a minute per client IP and answers 503 past that; a socket that
dies right after its first data resets the backoff, so the backoff alone cannot
keep us under it. And a refused key must not be presented over and over: at most
`after_refusal` sockets open in the `refusal_window` after any refusal.
"""

from collections import deque
from typing import Final

DEFAULT_SOCKETS_PER_WINDOW: Final = 10
DEFAULT_WINDOW: Final = 60.0
DEFAULT_SOCKETS_AFTER_REFUSAL: Final = 3
DEFAULT_REFUSAL_WINDOW: Final = 20.0


class SocketBudget:
    """Sliding windows over the sockets opened and the refusals heard (loop time)."""

    def __init__(
        self,
        *,
        per_window: int = DEFAULT_SOCKETS_PER_WINDOW,
        window: float = DEFAULT_WINDOW,
        after_refusal: int = DEFAULT_SOCKETS_AFTER_REFUSAL,
        refusal_window: float = DEFAULT_REFUSAL_WINDOW,
    ) -> None:
        """At most `per_window` opens per `window`, `after_refusal` per refusal."""
        self._per_window = per_window
        self._window = window
        self._after_refusal = after_refusal
        self._refusal_window = refusal_window
        self._opened: deque[float] = deque()
        self._refusals: deque[float] = deque()

    def delay(self, now: float) -> float:
        """Return how long to wait before the next socket may open."""
        self._forget(now)
        until = now
        if len(self._opened) >= self._per_window:
            until = max(until, self._opened[-self._per_window] + self._window)
        for refused_at in self._refusals:
            since = sum(1 for at in self._opened if at >= refused_at)
            if since >= self._after_refusal:
                until = max(until, refused_at + self._refusal_window)
        return until - now

    def opened(self, now: float) -> None:
        """Count a socket opened (an upgrade attempted) at `now`."""
        self._opened.append(now)

    def refused(self, now: float) -> None:
        """Note that Blink refused the key at `now`."""
        self._refusals.append(now)

    def _forget(self, now: float) -> None:
        horizon = now - max(self._window, self._refusal_window)
        while self._opened and self._opened[0] < horizon:
            self._opened.popleft()
        while self._refusals and self._refusals[0] < now - self._refusal_window:
            self._refusals.popleft()
