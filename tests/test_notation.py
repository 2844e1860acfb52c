"""book/notation.md is the reference: chapters 4 and 5 and their figures
write its symbols as the page writes them.

The page's tables list every symbol in their first column. Each symbol of
the "Bidirectional layers" table must appear, exactly so, in chapter 4's
prose, and each of the "Attention" table in chapter 5's; every bold
letter either chapter uses must be one the page defines; no LSTM carries
a subscript (``f`` is the forget gate, never "forward"); and every math
label of the two figures, its step numbers read as the page's indices, is
one of the page's symbols.
"""

import json
import re

import pytest
from matplotlib import pyplot as plt

from lstm_tutorial import diagrams

from notebook_checks import ROOT

NOTATION = ROOT / "book" / "notation.md"
CHAPTERS = {"Bidirectional layers": "04_bidirectional_lstm.ipynb",
            "Attention": "05_attention.ipynb"}
OPERATIONS = {r"$\times$", r"$[\cdot,\cdot]$"}  # pointwise circles


def tables(text):
    """``{section title: [symbol, ...]}`` from the first column of each
    section's table (``$a$, $b$`` gives two symbols)."""
    found = {}
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        title, _, body = section.partition("\n")
        rows = [line for line in body.split("\n") if line.startswith("|")]
        symbols = []
        for row in rows[2:]:  # after the header and the rule
            symbols += re.findall(r"\$[^$]+\$", row.split("|")[1])
        found[title.strip()] = symbols
    return found


def prose(path):
    """A chapter's markdown cells and figure captions, as one text."""
    nb = json.loads(path.read_text())
    parts = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            parts.append("".join(cell["source"]))
        caption = (cell["metadata"].get("mystnb", {}).get("figure", {})
                   .get("caption"))
        if caption:
            parts.append(caption)
    return "\n".join(parts)


def bold(text):
    return set(re.findall(r"\\mathbf\{(\w+)\}", text))


def as_notation(label):
    """A figure label with its step numbers as the page's indices:
    ``$\\mathbf{h}_{3}$`` -> ``$\\mathbf{h}_t$``, ``$\\alpha_{t'2}$`` ->
    ``$\\alpha_{t't}$``, ``$y_{t'-1}$`` -> ``$y_{t'}$``."""
    label = re.sub(r"_\{t'-1\}", "_{t'}", label)
    label = re.sub(r"_\{t'\d+\}", "_{t't}", label)
    label = re.sub(r"_\{\d+\}", "_t", label)
    return label


def math_labels(fig):
    (ax,) = fig.axes
    return {t.get_text() for t in ax.texts
            if t.get_text().startswith("$")} - OPERATIONS


@pytest.fixture(scope="module")
def page():
    return NOTATION.read_text()


def test_the_page_has_a_table_for_each_chapter(page):
    found = tables(page)
    for title in CHAPTERS:
        assert len(found.get(title, [])) >= 3, (title, found.get(title))


@pytest.mark.parametrize("title", sorted(CHAPTERS))
def test_each_symbol_of_the_page_appears_in_its_chapter(page, title):
    text = prose(ROOT / "book" / CHAPTERS[title])
    missing = [s for s in tables(page)[title] if s.strip("$") not in text]
    assert missing == [], (
        f"{CHAPTERS[title]} does not write these symbols of the notation "
        f"page's {title!r} table as the page does: {missing}")


@pytest.mark.parametrize("title", sorted(CHAPTERS))
def test_every_bold_letter_of_a_chapter_is_defined(page, title):
    text = prose(ROOT / "book" / CHAPTERS[title])
    undefined = sorted(bold(text) - bold(page))
    assert undefined == [], (
        f"{CHAPTERS[title]} uses bold symbols the notation page does not "
        f"define: {undefined}")


@pytest.mark.parametrize("path", [NOTATION] + [ROOT / "book" / name
                                               for name in CHAPTERS.values()])
def test_no_lstm_carries_a_subscript(path):
    text = path.read_text() if path.suffix == ".md" else prose(path)
    assert not re.search(r"\\operatorname\{LSTM\}_", text), (
        f"{path.name}: a subscript on LSTM reads as a gate; name the "
        r"direction with \overrightarrow / \overleftarrow")


@pytest.mark.parametrize("draw", [diagrams.bidirectional_chain,
                                  diagrams.attention_decoder])
def test_figure_labels_are_the_pages_symbols(page, draw):
    symbols = {s for found in tables(page).values() for s in found}
    fig = draw(4)
    try:
        labels = math_labels(fig)
    finally:
        plt.close(fig)
    assert labels, "no math labels found"
    unknown = sorted(label for label in labels
                     if as_notation(label) not in symbols)
    assert unknown == [], (
        f"{draw.__name__} labels symbols the notation page does not "
        f"define (after reading step numbers as indices): {unknown}")


def test_as_notation_reads_step_numbers_as_indices():
    assert as_notation(r"$\mathbf{h}_{3}$") == r"$\mathbf{h}_t$"
    assert as_notation(r"$\alpha_{t'2}$") == r"$\alpha_{t't}$"
    assert as_notation(r"$\mathbf{s}_{t'-1}$") == r"$\mathbf{s}_{t'}$"
    assert as_notation(r"$\mathbf{W}_{hq}$") == r"$\mathbf{W}_{hq}$"
