"""Every experiment's claims, checked on its stored record.

Each chapter module registers, beside each experiment, the function that
states what the experiment shows (``CLAIMS = {name: claims}``, built
from ``lstm_tutorial.claims``). Here every stored record must hold at
least the seeds of ``experiments.SEEDS``, every claim must hold on it,
and no rate claim may be tighter than the rule of ``claims.py`` allows
on those seeds (a bound fitted to them would not hold on others). Each
chapter's test file shows that its claims can fail; the chapter asserts
the same function. ``python -m lstm_tutorial.experiments claims --out
DIR`` runs the same check on seeds of one's own.
"""

import pytest

from lstm_tutorial import claims, experiments

NAMES = sorted(experiments.registry())


def test_every_experiment_registers_its_claims():
    # one stored record per experiment, and no record without one
    stored = sorted(p.stem for p in experiments.RESULTS_DIR.glob("*.json"))
    assert NAMES == stored
    for name in NAMES:
        assert callable(experiments.claims_of(name)), name


@pytest.mark.parametrize("name", NAMES)
def test_stored_record_holds_the_seeds(name):
    record = experiments.load_results(name)
    assert record["experiment"] == name
    stored = set(record["seeds"])
    assert {str(s) for s in experiments.SEEDS} <= stored, sorted(stored)
    assert len(experiments.SEEDS) >= 10


@pytest.mark.parametrize("name", NAMES)
def test_stored_record_bears_out_every_claim(name):
    found = experiments.check_claims(name)
    assert found and all(isinstance(c, claims.Claim) for c in found)
    assert claims.failed(found) == []
    sentences = [c.sentence for c in found]
    assert len(set(sentences)) == len(sentences), "a sentence twice"
    for c in found:
        assert c.rate.n == len(experiments.load_results(name)["seeds"])


@pytest.mark.parametrize("name", NAMES)
def test_no_rate_claim_is_fitted_to_the_stored_seeds(name):
    tight = [f"{c.sentence}: {c.rate}, claimed {c.claimed}, the rule "
             f"allows {claims.rule_bound(c.rate, c.kind):.0%}"
             for c in experiments.check_claims(name) if claims.too_tight(c)]
    assert tight == []


def test_readme_shows_the_claims_of_the_stored_records():
    from notebook_checks import ROOT

    readme = (ROOT / "README.md").read_text()
    begin, end = "<!-- claims table: begin", "<!-- claims table: end -->"
    assert readme.count(begin) == readme.count(end) == 1
    shown = readme.split(begin)[1].split("-->", 1)[1].split(end)[0]
    table, failed = experiments.claims_report()
    assert failed == []
    assert shown.strip() == table, (
        "README.md's claims table is not the stored records': paste the "
        "output of python -m lstm_tutorial.experiments claims")
