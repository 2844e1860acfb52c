"""Claims over many seeds: a rate, k of N, with its 95% interval.

A reproduction is a claim about training, and training depends on the
seed, so the book states it as a rate over the stored seeds, as the
papers do (Hochreiter & Schmidhuber average 20 trials, Gers et al. give
the fraction of runs that solve a task): "the LSTM reached 0.95 on 9 of
10 seeds (95% interval 0.60-0.98)". The interval is Wilson's score
interval, which unlike the normal approximation stays inside [0, 1] and
is honest at k = 0 and k = N. Checked by ``tests/test_claims.py``.

A chapter module states what its experiments show as ``Claim`` objects,
built once by a function over the whole stored record, ``claims(record)``,
registered beside the experiment (``CLAIMS = {name: claims}``). One test
checks every stored record with it, the chapter asserts the same function
and prints its sentences, and anyone can check it on seeds of their own
(``python -m lstm_tutorial.experiments claims --out DIR``). There are
three kinds:

- ``every``: a statement about each seed, for what does not depend on
  luck (a gradient ratio many orders of magnitude from its bound, a
  bound that holds by construction);
- ``at_least`` and ``at_most``: a rate over the seeds, for what training
  reaches. The claimed bound is fixed from the stored seeds by one rule
  and no other: the 95% Wilson interval's lower end (for ``at_least``),
  rounded down to a tenth, or its upper end rounded up (``at_most``).
  A bound so chosen holds on a fresh set of seeds about as often as the
  interval covers the true rate; ``tests/test_claims_stored.py`` checks
  that no bound is tighter than the rule allows on the stored record.
"""

import math
import numbers

__all__ = ["Z95", "wilson", "Rate", "rate", "Claim", "every", "at_least",
           "at_most", "rule_bound", "too_tight", "failed", "table", "Table"]

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


def rule_bound(r, kind):
    """The bound the rule allows for a rate ``r`` of kind ``"at_least"``
    (the Wilson low end rounded down to a tenth) or ``"at_most"`` (the
    high end rounded up)."""
    if kind == "at_least":
        return math.floor(r.low * 10 + 1e-9) / 10
    if kind == "at_most":
        return math.ceil(r.high * 10 - 1e-9) / 10
    raise ValueError(f"kind must be 'at_least' or 'at_most', got {kind!r}")


def too_tight(claim):
    """Whether a rate claim's bound is tighter than the rule allows on the
    record it was checked on: fitted to those seeds, not to others."""
    if claim.kind == "at_least":
        return claim.bound > rule_bound(claim.rate, "at_least") + 1e-9
    if claim.kind == "at_most":
        return claim.bound < rule_bound(claim.rate, "at_most") - 1e-9
    return False


class Claim:
    """One sentence an experiment's stored record must bear out.

    ``kind`` is ``"every"``, ``"at_least"`` or ``"at_most"``; ``rate`` the
    ``Rate`` over the seeds; ``bound`` the claimed rate (for the two rate
    kinds); ``paper`` the paper's own result beside it, as text.
    """

    def __init__(self, sentence, kind, rate, bound=None, paper=""):
        if kind not in ("every", "at_least", "at_most"):
            raise ValueError(f"kind must be 'every', 'at_least' or "
                             f"'at_most', got {kind!r}")
        if (kind == "every") != (bound is None) or not (
                bound is None or 0 <= bound <= 1):
            need = "no bound" if kind == "every" else "a bound in [0, 1]"
            raise ValueError(f"a {kind!r} claim needs {need}, got "
                             f"{bound!r}")
        self.sentence, self.kind, self.rate = sentence, kind, rate
        self.bound, self.paper = bound, paper

    @property
    def holds(self):
        share = self.rate.k / self.rate.n
        if self.kind == "every":
            return self.rate.every
        if self.kind == "at_least":
            return share >= self.bound - 1e-12
        return share <= self.bound + 1e-12

    @property
    def claimed(self):
        """What is claimed, in words: "every seed", "at least 40%"."""
        if self.kind == "every":
            return "every seed"
        word = "at least" if self.kind == "at_least" else "at most"
        return f"{word} {self.bound:.0%}"

    def __str__(self):
        mark = "holds" if self.holds else "FAILS"
        return (f"{self.sentence}: {self.rate.k} of {self.rate.n} seeds "
                f"(95% interval {self.rate.low:.2f}-{self.rate.high:.2f});"
                f" claimed {self.claimed}: {mark}")

    __repr__ = __str__


def every(sentence, runs, holds, paper=""):
    """The claim that ``holds(run)`` on every seed."""
    return Claim(sentence, "every", rate(runs, holds), paper=paper)


def at_least(sentence, runs, holds, bound, paper=""):
    """The claim that ``holds(run)`` on at least ``bound`` of the seeds."""
    return Claim(sentence, "at_least", rate(runs, holds), bound, paper)


def at_most(sentence, runs, holds, bound, paper=""):
    """The claim that ``holds(run)`` on at most ``bound`` of the seeds."""
    return Claim(sentence, "at_most", rate(runs, holds), bound, paper)


def failed(claims):
    """The sentences of the claims that do not hold."""
    return [str(c) for c in claims if not c.holds]


def table(claims, experiments=None):
    """The claims as a Markdown table: sentence, k of N, interval, what
    is claimed, the paper's result (and each claim's experiment, if
    ``experiments`` names them, one per claim)."""
    claims = list(claims)
    head = ["experiment"] if experiments else []
    rows = ["| " + " | ".join(head + ["claim", "seeds", "95% interval",
                                      "claimed", "holds", "paper"]) + " |",
            "|" + "---|" * (len(head) + 6)]
    for i, c in enumerate(claims):
        cells = [f"`{experiments[i]}`"] if experiments else []
        cells += [c.sentence, f"{c.rate.k} of {c.rate.n}",
                  f"{c.rate.low:.2f}-{c.rate.high:.2f}", c.claimed,
                  "yes" if c.holds else "**no**", c.paper or "-"]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells)
                    + " |")
    return "\n".join(rows)


class Table:
    """The claims as a table in a notebook (Markdown, rendered by the
    book) and as text elsewhere: what a chapter displays after asserting
    its claims."""

    def __init__(self, claims, experiments=None):
        self.text = table(claims, experiments)

    def _repr_markdown_(self):
        return self.text

    def __repr__(self):
        return self.text
