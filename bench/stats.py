"""Small statistics: nearest-rank percentiles, medians of repetitions, ratios."""

from __future__ import annotations

from collections.abc import Sequence
import math
import statistics


def percentile(values: Sequence[float], q: float) -> float:
    """Return the nearest-rank `q`-th percentile (0 < q <= 100) of `values`."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(values: Sequence[float]) -> dict[str, float]:
    """p50, p99 and max of `values`."""
    return {
        "p50": percentile(values, 50),
        "p99": percentile(values, 99),
        "max": max(values) if values else math.nan,
    }


def median(values: Sequence[float]) -> float:
    """Return the median of repetitions (NaN when there are none)."""
    clean = [v for v in values if not math.isnan(v)]
    return statistics.median(clean) if clean else math.nan


def ratio(numerators: Sequence[float], denominators: Sequence[float]) -> float:
    """Return the median of per-repetition ratios (each pair ran side by side)."""
    pairs = [
        n / d
        for n, d in zip(numerators, denominators, strict=True)
        if d and not (math.isnan(n) or math.isnan(d))
    ]
    return statistics.median(pairs) if pairs else math.nan
