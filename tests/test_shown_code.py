"""Shown code is the math: no listing a chapter shows checks arguments.

The measure is tests/shown_code.py (``python tests/shown_code.py`` prints
it); book/testing.md shows its table, kept equal to it here.
"""

import copy

import pytest
import shown_code

from notebook_checks import ROOT, chapters, code_cells, load


def violations(nb):
    return [(qualname, lines) for qualname, _, lines
            in shown_code.measure(nb) if lines]


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.stem)
def test_shown_listings_hold_no_argument_checking(path):
    assert violations(load(path)) == []


CHECKS = '''def f(x, n, rng):
    """Docstring: raise ValueError is not code."""
    if x.ndim != 2:
        raise ValueError("x must be 2-D, "
                         f"got {x.shape}")
    if not isinstance(rng, int):
        n = 1
    layers.check_count("n", n)
    for name, v in (("a", 1),
                    ("b", 2)):
        _check_positive(name, v)
    y = x * 2  # check(y) in a comment is not a call
    if y.sum() > 0:
        y = -y
    return y
'''


def test_every_kind_of_check_is_found():
    found = shown_code.checking_lines(CHECKS)
    assert [line.strip() for line in found] == [
        "if x.ndim != 2:", 'raise ValueError("x must be 2-D, "',
        'f"got {x.shape}")', "if not isinstance(rng, int):", "n = 1",
        'layers.check_count("n", n)', 'for name, v in (("a", 1),',
        '("b", 2)):', "_check_positive(name, v)"]


def test_listing_without_checks_counts_none():
    lines = CHECKS.split("\n")
    math = "\n".join(lines[:2] + lines[11:])
    assert shown_code.checking_lines(math) == []
    assert len(shown_code.shown_lines(math)) == 6


def _listing_cells(nb):
    return [c for c in code_cells(nb) for o in c["outputs"]
            if "text/plain" in o.get("data", {})
            and "".join(o["data"]["text/plain"]).startswith(
                "# lstm_tutorial/")]


def test_a_check_in_a_stored_listing_fails():
    # Break a copy: add an argument check to a clean chapter's listing.
    nb = copy.deepcopy(load(chapters()[-1]))
    assert violations(nb) == []
    output = _listing_cells(nb)[0]["outputs"][0]["data"]
    text = "".join(output["text/plain"]).split("\n")
    head = next(i for i, line in enumerate(text) if line.startswith(
        ("def ", "class ")))
    body = next(i for i in range(head, len(text))  # a signature may wrap
                if text[i].rstrip().endswith(":"))
    text.insert(body + 1, "    if x is None:\n"
                "        raise ValueError('x')")
    output["text/plain"] = "\n".join(text)
    assert [lines for _, lines in violations(nb)] == [
        ["    if x is None:", "        raise ValueError('x')"]]


def test_testing_page_shows_the_measurement():
    page = (ROOT / "book" / "testing.md").read_text(encoding="utf-8")
    begin, end = "<!-- shown code: begin", "<!-- shown code: end -->"
    assert page.count(begin) == page.count(end) == 1
    shown = page.split(begin)[1].split("-->", 1)[1].split(end)[0]
    assert shown.strip() == shown_code.table(), (
        "book/testing.md's table of shown lines is stale: paste the "
        "output of python tests/shown_code.py")


def test_checked_by_checks_first_and_shows_the_function():
    from lstm_tutorial import source

    calls = []

    def check(x, n=1):
        calls.append(("check", x, n))
        if x < 0:
            raise ValueError("x must be >= 0")

    @source.checked_by(check)
    def double(x, n=1):
        """Twice x."""
        calls.append(("run", x, n))
        return 2 * x

    assert double(3, n=2) == 6
    assert calls == [("check", 3, 2), ("run", 3, 2)]
    with pytest.raises(ValueError, match="x must be >= 0"):
        double(-1)
    assert calls[-1] == ("check", -1, 1)  # the function never ran
    assert double.__doc__ == "Twice x." and double.__name__ == "double"
    # show() displays the function as written, its check named on top.
    from lstm_tutorial import cnn_lstm

    shown = str(source.show(cnn_lstm.forecaster)).split("\n")
    assert shown[:3] == ["# lstm_tutorial/cnn_lstm.py: forecaster",
                         "@checked_by(_check_kind)",
                         "def forecaster(kind, seed, ctx=None, config=TRAIN,"]
    assert shown_code.checking_lines("\n".join(shown[1:])) == []
    with pytest.raises(ValueError, match="kind must be one of"):
        cnn_lstm.forecaster("gru", seed=0)
