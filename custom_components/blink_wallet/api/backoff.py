"""How long to wait after a failure: exponential backoff with full jitter, capped."""

from __future__ import annotations

from collections.abc import Callable
import math
import random
from typing import Final

DEFAULT_BACKOFF_BASE: Final = 1.0
DEFAULT_BACKOFF_CAP: Final = 300.0


class Backoff:
    """Exponential backoff with full jitter: a uniform wait below a doubling cap."""

    def __init__(
        self,
        base: float = DEFAULT_BACKOFF_BASE,
        cap: float = DEFAULT_BACKOFF_CAP,
        *,
        rng: Callable[[], float] = random.random,
    ) -> None:
        """Start at `base` seconds, double per failure, never above `cap`."""
        self._base = base
        self._cap = cap
        self._rng = rng
        self.failures = 0

    def ceiling(self) -> float:
        """Return the most the next wait can be."""
        return min(self._cap, math.ldexp(self._base, min(self.failures, 64)))

    def next_delay(self, retry_after: float | None = None) -> float:
        """Count a failure and return how long to wait; a server's wish wins."""
        delay = self._rng() * self.ceiling()
        self.failures += 1
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay

    def reset(self) -> None:
        """Start again from `base`: something worked."""
        self.failures = 0
