"""The bibliography labelled the way the text cites: "Gers et al., 2000".

The chapters cite author and year (``bibtex_reference_style:
author_year``), but pybtex's default labels are "alpha" codes such as
``[CvMerrienboerBB14]``, so a reader could not find "Cho et al., 2014" in
the list. This extension registers a pybtex style, ``author_year``
(``bibtex_default_style`` in _config.yml), whose labels are the citation's
own text and whose list is sorted by author, year and title. Two works
with the same label (Cho et al.'s two papers of 2014) are told apart in
``book/references.bib`` by their year field, "2014a" and "2014b", which
the citations then print too. tests/test_bibliography.py checks the labels.
"""

import codecs

import latexcodec  # noqa: F401  (registers the "ulatex" codec)
from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as Unsrt
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting.author_year_title import (
    SortingStyle as AuthorYearTitle,
)


def _text(latex):
    return codecs.decode(latex, "ulatex").replace("{", "").replace("}", "")


def label(entry):
    """'Surname, year', 'A and B, year' or 'A et al., year'."""
    persons = entry.persons.get("author") or entry.persons.get("editor")
    if not persons:
        raise ValueError(f"references.bib entry {entry.key!r} has no author "
                         "or editor: an author-year label needs one")
    names = [_text(" ".join(p.prelast_names + p.last_names))
             for p in persons]
    if len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who}, {entry.fields['year']}"


class AuthorYearLabels(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        labels = [label(entry) for entry in sorted_entries]
        repeated = {x for x in labels if labels.count(x) > 1}
        if repeated:
            raise ValueError(
                f"two references.bib entries share the label(s) "
                f"{sorted(repeated)}: give their year fields a and b")
        yield from labels


class AuthorYearStyle(Unsrt):
    default_label_style = AuthorYearLabels
    default_sorting_style = AuthorYearTitle


def setup(app):
    register_plugin("pybtex.style.formatting", "author_year",
                    AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
