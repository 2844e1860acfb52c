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


# Claims: every seed, or a rate with a bound fixed by the rule.

RUNS = [{"best": b} for b in (0.99, 0.5, 0.97, 1.0, 0.96, 0.2, 0.98, 1.0,
                              0.4, 0.99)]  # 7 of 10 reach 0.95


def _reach(run):
    return run["best"] >= 0.95


def test_the_rule_rounds_the_interval_outwards():
    r = claims.Rate(7, 10)  # 0.397-0.892
    assert claims.rule_bound(r, "at_least") == 0.3
    assert claims.rule_bound(r, "at_most") == 0.9
    assert claims.rule_bound(claims.Rate(10, 10), "at_least") == 0.7
    assert claims.rule_bound(claims.Rate(0, 10), "at_most") == 0.3
    with pytest.raises(ValueError, match="kind must be"):
        claims.rule_bound(r, "every")


def test_rate_claims_hold_and_fail_by_their_bound():
    ok = claims.at_least("reaches 0.95", RUNS, _reach, 0.3)
    assert ok.holds and not claims.too_tight(ok)
    assert str(ok) == ("reaches 0.95: 7 of 10 seeds (95% interval "
                       "0.40-0.89); claimed at least 30%: holds")
    fitted = claims.at_least("reaches 0.95", RUNS, _reach, 0.7)
    assert fitted.holds and claims.too_tight(fitted)  # true, but fitted
    too_much = claims.at_least("reaches 0.95", RUNS, _reach, 0.8)
    assert not too_much.holds and claims.failed([ok, too_much]) == [
        str(too_much)]
    assert "FAILS" in str(too_much)
    rare = claims.at_most("falls below 0.3", RUNS,  # 1 of 10: 0.02-0.40
                          lambda r: r["best"] < 0.3, 0.5)
    assert rare.holds and not claims.too_tight(rare)
    assert claims.too_tight(claims.at_most("falls below 0.3", RUNS,
                                           lambda r: r["best"] < 0.3, 0.4))
    assert not claims.at_most("reaches 0.95", RUNS, _reach, 0.5).holds


def test_every_means_every_seed():
    assert claims.every("positive", RUNS, lambda r: r["best"] > 0).holds
    one_off = claims.every("reaches 0.3", RUNS, lambda r: r["best"] >= 0.3)
    assert not one_off.holds and one_off.claimed == "every seed"
    assert not claims.too_tight(one_off)


def test_the_table_lists_every_claim_with_the_paper():
    found = [claims.at_least("reaches 0.95", RUNS, _reach, 0.3,
                             "Paper (2000), Table 2: 18%"),
             claims.every("reaches 0.3", RUNS, lambda r: r["best"] >= 0.3)]
    text = claims.table(found, ["toy", "toy"])
    lines = text.splitlines()
    assert lines[0] == ("| experiment | claim | seeds | 95% interval | "
                        "claimed | holds | paper |")
    assert lines[2] == ("| `toy` | reaches 0.95 | 7 of 10 | 0.40-0.89 | "
                        "at least 30% | yes | Paper (2000), Table 2: 18% |")
    assert lines[3].endswith("| every seed | **no** | - |")
    assert claims.table(found).startswith("| claim |")


@pytest.mark.parametrize("kind, bound, message", [
    ("most", 0.5, "kind must be"), ("every", 0.5, "needs no bound"),
    ("at_least", None, "needs a bound in"), ("at_most", 1.5,
                                             "needs a bound in")])
def test_bad_claims_are_refused(kind, bound, message):
    with pytest.raises(ValueError, match=message):
        claims.Claim("x", kind, claims.Rate(1, 2), bound)


def test_a_notebook_shows_the_table_as_markdown():
    found = [claims.at_least("reaches 0.95", RUNS, _reach, 0.3)]
    shown = claims.Table(found)
    assert shown._repr_markdown_() == claims.table(found) == repr(shown)


def test_a_bar_in_a_sentence_does_not_split_the_table():
    found = [claims.at_least("|r| at least 0.12", RUNS, _reach, 0.3)]
    row = claims.table(found).splitlines()[2]
    assert row.startswith("| \\|r\\| at least 0.12 | 7 of 10 |")
