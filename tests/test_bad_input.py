"""Every careless input of tests/bad_input.py gets a clear error, and
README's table "What bad input gets" shows what it says."""

import bad_input

from notebook_checks import ROOT


def test_every_case_gets_a_clear_error_naming_its_argument():
    rows = bad_input.answers()
    assert len(rows) >= 20
    assert bad_input.problems(rows) == []


def test_unclear_answers_are_found():
    rows = [("layers", "a list", "inputs", None, ""),
            ("layers", "nd", "inputs", AttributeError, "'NDArray' has no"),
            ("training", "lr", "lr", ValueError, "must be positive, got 0")]
    assert len(bad_input.problems(rows)) == 3


def test_the_readme_table_is_current():
    readme = (ROOT / "README.md").read_text()
    begin, end = readme.index(bad_input.BEGIN), readme.index(bad_input.END)
    stored = readme[begin + len(bad_input.BEGIN):end].strip()
    assert stored == bad_input.table(), (
        "README's 'What bad input gets' table is stale: paste the output of "
        "python tests/bad_input.py")
