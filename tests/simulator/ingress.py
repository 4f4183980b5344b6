"""The ingress in front of Blink's WebSocket host: new sockets per minute, open sockets.

blinkbitcoin/charts `charts/galoy/templates/websocket-ingress.yaml` sets
ingress-nginx's `limit-rpm: 10`, `limit-burst-multiplier: 2` and
`limit-connections: 10` per client IP; nginx refuses past either with its default
status, 503. `limit-rpm` is nginx's `limit_req` (a leaky bucket draining 10 a
minute, with a burst of rpm times the multiplier taken without delay); `limit-connections`
its `limit_conn`. Production values are not public; these are the chart's.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

# The chart's values.
REQUESTS_PER_MINUTE = 10
BURST_MULTIPLIER = 2
CONNECTIONS = 10
REFUSED_STATUS = 503


@dataclass(slots=True)
class _Bucket:
    excess: float = 0.0
    at: float = 0.0


@dataclass(slots=True)
class Ingress:
    """Admits WebSocket upgrades per client IP as the chart's ingress does."""

    clock: Callable[[], float]
    requests_per_minute: int | None = REQUESTS_PER_MINUTE
    burst_multiplier: int = BURST_MULTIPLIER
    connections: int | None = CONNECTIONS
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _open: dict[str, int] = field(default_factory=dict)
    refused: int = 0

    def admit(self, ip: str) -> bool:
        """Whether a new socket from `ip` passes; if so it counts as open."""
        if not self._within_rate(ip) or not self._within_connections(ip):
            self.refused += 1
            return False
        self._open[ip] = self._open.get(ip, 0) + 1
        return True

    def closed(self, ip: str) -> None:
        """A socket admitted from `ip` has closed."""
        left = self._open.get(ip, 0) - 1
        if left > 0:
            self._open[ip] = left
        else:
            self._open.pop(ip, None)

    def _within_rate(self, ip: str) -> bool:
        # nginx limit_req: the excess drains at the rate; a request that would
        # leave more than the burst waiting is refused (and not counted).
        if self.requests_per_minute is None:
            return True
        now = self.clock()
        bucket = self._buckets.get(ip)
        if bucket is None:
            self._buckets[ip] = _Bucket(0.0, now)
            return True
        drained = (now - bucket.at) * self.requests_per_minute / 60
        excess = max(bucket.excess - drained, 0.0) + 1
        if excess > self.requests_per_minute * self.burst_multiplier:
            return False
        bucket.excess, bucket.at = excess, now
        return True

    def _within_connections(self, ip: str) -> bool:
        return self.connections is None or self._open.get(ip, 0) < self.connections
