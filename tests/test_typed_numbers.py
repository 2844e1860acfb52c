"""Numbers on the page come from code (issue 18; tests/typed_numbers.py).

Every number left in a chapter's prose or captions is either glued from
the code that computes it or listed in the chapter's ledger
(``tests/typed_numbers/<stem>.txt``) as a quotation from a paper, a fact
or a definition; every glue name the prose uses is glued by the notebook.
"""

import copy

import pytest
import typed_numbers

from notebook_checks import chapters, load


@pytest.mark.parametrize("path", typed_numbers.scanned(),
                         ids=lambda p: p.name)
def test_no_number_typed_by_hand(path):
    left, stale = typed_numbers.typed(typed_numbers.read(path),
                                      typed_numbers.ledger(path.stem))
    assert left == [], (
        f"{path.name}: numbers typed in the prose (cell, kind, line, "
        f"numbers): glue them from the code, or list a quotation in "
        f"tests/typed_numbers/{path.stem}.txt")
    assert stale == [], f"{path.stem}.txt lists text the chapter lost"


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.name)
def test_every_glue_name_is_glued(path):
    used, glued = typed_numbers.glue_names(load(path))
    assert used, f"{path.name} glues no number into its prose"
    assert sorted(used - glued) == [], (
        f"{path.name} uses glue names its stored outputs never glue: "
        "re-execute the chapter, or glue them")


def test_the_testing_page_counts_the_numbers():
    page = (typed_numbers.ROOT / "book" / "testing.md").read_text()
    begin, end = page.index(typed_numbers.BEGIN), page.index(
        typed_numbers.END)
    stored = page[begin + len(typed_numbers.BEGIN):end].strip()
    assert stored == typed_numbers.table(), (
        "book/testing.md's table of numbers is stale: paste the output of "
        "python tests/typed_numbers.py --table")


def _markdown(nb, text):
    nb["cells"].append({"cell_type": "markdown", "metadata": {},
                        "source": [text]})


def test_the_checks_fail_on_broken_copies(tmp_path, monkeypatch):
    path = chapters()[1]
    nb, entries = load(path), typed_numbers.ledger(path.stem)
    broken = copy.deepcopy(nb)
    _markdown(broken, "Within 800 steps it reached 0.95 (seed 0, "
                      "chapter 3, Table 2, 1997, $x_1 = 0.5$).")
    left, _ = typed_numbers.typed(broken, entries)
    assert left[-1][3] == ["800", "0.95"]
    fenced = copy.deepcopy(nb)
    _markdown(fenced, "Run it:\n\n```sh\nexperiments --seeds 20 21\n```\n")
    assert typed_numbers.typed(fenced, entries)[0] == []  # code, not prose
    _, stale = typed_numbers.typed(nb, [*entries, ("no such text",
                                                   "fact", "why")])
    assert stale == ["no such text"]
    used, glued = typed_numbers.glue_names(nb)
    _markdown(broken, "after {glue:text}`no_such_name:.2f` steps")
    assert typed_numbers.glue_names(broken)[0] - glued == {"no_such_name"}
    monkeypatch.setattr(typed_numbers, "LEDGERS", tmp_path)
    (tmp_path / "broken.txt").write_text("chance is 0.25 || guess\n")
    with pytest.raises(ValueError, match="broken.txt line 1: expected"):
        typed_numbers.ledger("broken")
