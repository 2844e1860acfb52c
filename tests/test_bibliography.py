"""book/references.bib and its author-year labels (_ext/author_year.py).

The text cites "Gers et al., 2000"; the bibliography must list that same
text, once per work, and journal articles carry their DOI.
"""

import re
import sys

import pytest
from pybtex.database import parse_file, parse_string

from notebook_checks import ROOT

sys.path.insert(0, str(ROOT / "_ext"))
import author_year  # noqa: E402

BIB = ROOT / "book" / "references.bib"
LABEL = re.compile(r"^[^\W\d][^,]*(?: and [^,]+| et al\.)?, \d{4}[a-z]?$")


def _labels(data):
    entries = list(data.entries.values())
    return list(author_year.AuthorYearLabels().format_labels(entries))


def test_every_label_reads_as_its_citation():
    labels = _labels(parse_file(str(BIB)))
    assert len(labels) == len(set(labels))
    assert [x for x in labels if not LABEL.match(x)] == []
    assert "Gers et al., 2000" in labels
    assert "Gers and Schmidhuber, 2000" in labels
    assert "van Merriënboer" not in " ".join(labels)  # first authors only
    assert {"Cho et al., 2014a", "Cho et al., 2014b"} <= set(labels)


def test_two_works_with_one_label_are_refused():
    twice = """
    @article{A, author = {Cho, K. and B, B. and C, C.}, title = {One},
             journal = {J}, year = {2014}}
    @article{B, author = {Cho, K. and D, D. and E, E.}, title = {Two},
             journal = {J}, year = {2014}}
    """
    with pytest.raises(ValueError, match=r"share the label.*Cho et al., "
                                         r"2014.*year fields a and b"):
        _labels(parse_string(twice, "bibtex"))


def test_every_journal_article_has_its_doi():
    data = parse_file(str(BIB))
    missing = [key for key, entry in data.entries.items()
               if entry.type == "article" and "doi" not in entry.fields]
    assert missing == []
