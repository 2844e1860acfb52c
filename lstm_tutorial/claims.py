"""Claims over many seeds: a rate, k of N, with its 95% interval.

A reproduction is a claim about training, and training depends on the
seed, so the book states it as a rate over the stored seeds, as the
papers do (Hochreiter & Schmidhuber average 20 trials, Gers et al. give
the fraction of runs that solve a task): "the LSTM reached 0.95 on 9 of
10 seeds (95% interval 0.60-0.98)". The interval is Wilson's score
interval, which unlike the normal approximation stays inside [0, 1] and
is honest at k = 0 and k = N. Checked by ``tests/test_claims.py``.
"""

import math
import numbers

__all__ = ["Z95", "wilson", "Rate", "rate"]

Z95 = 1.959963984540054  # the 97.5% point of the standard normal


def _check_counts(k, n):
    for name, value in (("k", k), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must be an int, got {value!r}")
    if n < 1 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n >= 1, got k={k}, n={n}")


def wilson(k, n, z=Z95):
    """Wilson's score interval ``(low, high)`` for k successes in n."""
    _check_counts(k, n)
    p, z2 = k / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # at k = 0 and k = n the bounds are exactly 0 and 1 (rounding aside)
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


class Rate:
    """``k`` of ``n`` seeds, with the 95% Wilson interval."""

    def __init__(self, k, n):
        self.k, self.n = k, n
        self.low, self.high = wilson(k, n)

    @property
    def every(self):
        return self.k == self.n

    def __str__(self):
        return (f"{self.k} of {self.n} (95% interval "
                f"{self.low:.2f}-{self.high:.2f})")

    __repr__ = __str__


def rate(runs, holds):
    """The ``Rate`` of the runs (one per seed) for which ``holds(run)``."""
    runs = list(runs)
    return Rate(sum(bool(holds(run)) for run in runs), len(runs))
