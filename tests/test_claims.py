"""lstm_tutorial/claims.py: rates over seeds and their Wilson intervals."""

import pytest

from lstm_tutorial import claims

# Wilson 95% intervals, from the closed form by hand (z = 1.96)
KNOWN = {(0, 10): (0.0, 0.2775), (10, 10): (0.7225, 1.0),
         (5, 10): (0.2366, 0.7634), (7, 10): (0.3968, 0.8922),
         (1, 3): (0.0615, 0.7923), (19, 20): (0.7639, 0.9911)}


@pytest.mark.parametrize("k, n", sorted(KNOWN))
def test_wilson_matches_known_intervals(k, n):
    low, high = claims.wilson(k, n)
    assert low == pytest.approx(KNOWN[k, n][0], abs=1e-4)
    assert high == pytest.approx(KNOWN[k, n][1], abs=1e-4)
    assert 0 <= low <= k / n <= high <= 1


def test_more_seeds_narrow_the_interval():
    widths = [claims.wilson(n // 2, n)[1] - claims.wilson(n // 2, n)[0]
              for n in (4, 10, 40, 100)]
    assert widths == sorted(widths, reverse=True)


def test_a_rate_reads_as_k_of_n_with_its_interval():
    runs = [{"best": b} for b in (0.99, 0.5, 0.97, 1.0)]
    r = claims.rate(runs, lambda run: run["best"] >= 0.95)
    assert (r.k, r.n, r.every) == (3, 4, False)
    assert str(r) == "3 of 4 (95% interval 0.30-0.95)"
    assert claims.rate(runs, lambda run: run["best"] > 0).every


@pytest.mark.parametrize("k, n, message", [
    (3, 2, "0 <= k <= n"), (-1, 4, "0 <= k <= n"), (0, 0, "n >= 1"),
    (1.0, 4, "k must be an int"), (True, 4, "k must be an int")])
def test_bad_counts_are_refused(k, n, message):
    with pytest.raises(ValueError, match=message):
        claims.wilson(k, n)
