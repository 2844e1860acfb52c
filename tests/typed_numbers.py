"""Numbers typed by hand in a chapter's prose and captions (issue 18).

A result in the prose is glued from the code that computes it (MyST-NB
``{glue:text}``), never typed: a typed number goes stale the day the code
changes (chapter 2 once quoted chapter 1's gradient decay as 0.66 per step
long after chapter 1 measured 0.72). This module finds the digits that are
still typed in a chapter's markdown cells and figure captions, after
setting aside what is not a result:

- math (``$...$``, ``$$...$$``), code spans and the targets of roles
  (``{glue:text}`key```, ``{cite:p}`Gers2000```), links and comments;
- references: "chapter 3", "Table 2", "Fig. 3", "Section 4", "p. 2459",
  "experiment 6a", "equation (3)"; years (1900-2099); list markers;
- single-digit integers ("one of 4 classes" reads the same as "four");
- what the chapter's ledger, ``tests/typed_numbers/<notebook stem>.txt``,
  lists: one entry per line, ``<exact text of one source line> ||
  <category>: <why>``, the category one of ``paper`` (quoted from a cited
  paper, with its table or page), ``fact`` (outside the book's
  computations) or ``definition`` (part of a definition the prose states).

``python tests/typed_numbers.py [notebook ...]`` prints what is left per
chapter and the counts; ``tests/test_typed_numbers.py`` fails on any
number left, on a ledger entry that no longer matches the chapter, and
on a glue name the chapter uses but never glues.
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LEDGERS = ROOT / "tests" / "typed_numbers"
CATEGORIES = ("paper", "fact", "definition")

_SET_ASIDE = [
    r"\$\$.*?\$\$", r"\$[^$\n]*\$",                    # math
    r"```.*?```", r"\{[\w:-]+\}`[^`]*`", r"`[^`]*`",   # code, roles
    r"\]\([^)]*\)", r"<!--.*?-->", r"<[^>]+>",         # links, comments, tags
    r"(?i)\b(?:chapters?|sections?|tables?|figs?\.|figures?|eqs?\.|"
    r"equations?|pp?\.|pages?|experiments?|tasks?|exercises?|steps?)"
    r"\s+\(?\d+[a-z]?\)?(?:\s*(?:,|and|to|-|–)\s*\(?\d+[a-z]?\)?)*",
    r"\b(?:19|20)\d\d[a-z]?\b",                        # years
    r"^\s*\d+\.\s",                                    # list markers
    r"^:[\w-]+:.*$",                                   # directive options
]
NUMBER = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?(?:\s?%)?(?![\w])")
GLUE_USE = re.compile(r"\{glue(?::\w+)?\}`([^`]+)`")


PAGES = ("intro.md",)  # Markdown pages with results quoted in their text


def scanned():
    """What is scanned: the chapters, then the Markdown ``PAGES``."""
    book = ROOT / "book"
    return (sorted(book.glob("[0-9][0-9]_*.ipynb"))
            + [book / page for page in PAGES])


def read(path):
    """A chapter notebook, or a Markdown page as a one-cell notebook."""
    path = Path(path)
    if path.suffix == ".md":
        return {"cells": [{"cell_type": "markdown", "metadata": {},
                           "source": [path.read_text()]}]}
    return json.loads(path.read_text())


def texts(nb):
    """``(cell index, kind, source)`` of every markdown cell and caption."""
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            yield i, "markdown", "".join(cell["source"])
        caption = (cell.get("metadata", {}).get("mystnb", {})
                   .get("figure", {}).get("caption"))
        if caption:
            yield i, "caption", caption


def ledger(stem):
    """``[(snippet, category, why)]`` of a chapter's ledger (may be empty)."""
    path = LEDGERS / f"{stem}.txt"
    if not path.exists():
        return []
    entries = []
    for n, line in enumerate(path.read_text().split("\n"), 1):
        if not line.strip() or line.startswith("#"):
            continue
        snippet, sep, reason = line.partition(" || ")
        category, _, why = reason.partition(":")
        if not sep or category.strip() not in CATEGORIES or not why.strip():
            raise ValueError(
                f"{path.name} line {n}: expected '<text> || <category>: "
                f"<why>' with a category in {CATEGORIES}, got {line!r}")
        entries.append((snippet, category.strip(), why.strip()))
    return entries


def _numbers(text):
    for pattern in _SET_ASIDE:
        flags = re.S if pattern.startswith(("\\$\\$", "```", "<!--")) \
            else re.M
        text = re.sub(pattern, " ", text, flags=flags)
    return [n for n in NUMBER.findall(text) if not re.fullmatch(r"\d", n)]


def typed(nb, entries=()):
    """``(cell, kind, line, numbers)`` for every line still holding typed
    numbers once math, references and the ledger ``entries`` are set aside,
    and the ledger snippets that match no line (stale entries)."""
    unused = {snippet for snippet, _, _ in entries}
    left = []
    for i, kind, source in texts(nb):
        # display math and fenced code span lines: set them aside first
        source = re.sub(r"\$\$.*?\$\$", " ", source, flags=re.S)
        source = re.sub(r"^(```|~~~).*?^\1", " ", source, flags=re.S | re.M)
        for line in source.split("\n"):
            rest = line
            for snippet, _, _ in entries:
                if snippet in rest:
                    rest = rest.replace(snippet, " ")
                    unused.discard(snippet)
            numbers = _numbers(rest)
            if numbers:
                left.append((i, kind, line.strip(), numbers))
    return left, sorted(unused)


def glue_names(nb):
    """``(used, glued)``: the glue names the prose uses, and those the
    notebook's stored outputs glue."""
    used = set()
    for _, _, source in texts(nb):
        used.update(name.split(":")[0] for name in GLUE_USE.findall(source))
    glued = set()
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            name = (output.get("metadata", {}).get("scrapbook", {})
                    .get("name"))
            if name:
                glued.add(name)
    return used, glued


def count_numbers(entries):
    """Typed numbers kept by the ledger, per category."""
    counts = dict.fromkeys(CATEGORIES, 0)
    for snippet, category, _ in entries:
        counts[category] += len(_numbers(snippet)) or 1
    return counts


BEGIN = "<!-- numbers: begin (python tests/typed_numbers.py --table) -->"
END = "<!-- numbers: end -->"


def table(paths=None):
    """Per chapter: glued values, numbers the ledger keeps (by category),
    numbers left typed; the Markdown table of ``book/testing.md``."""
    paths = paths or scanned()
    rows = ["| chapter | glued values | quoted from papers | facts | "
            "definitions | typed results |", "|---|---|---|---|---|---|"]
    for path in map(Path, paths):
        nb = read(path)
        entries = ledger(path.stem)
        left, _ = typed(nb, entries)
        kept = count_numbers(entries)
        name = (str(int(path.name[:2])) if path.name[:2].isdigit()
                else path.stem)
        rows.append(f"| {name} | {len(glue_names(nb)[0])} | "
                    f"{kept['paper']} | {kept['fact']} | "
                    f"{kept['definition']} | "
                    f"{sum(len(n) for *_, n in left)} |")
    return "\n".join(rows)


def main(paths):
    paths = paths or scanned()
    total = 0
    for path in map(Path, paths):
        nb = read(path)
        entries = ledger(path.stem)
        left, stale = typed(nb, entries)
        used, glued = glue_names(nb)
        total += sum(len(n) for *_, n in left) + len(stale)
        print(f"== {path.name}: glued values used {len(used)}, ledger "
              f"{count_numbers(entries)}, typed numbers left "
              f"{sum(len(n) for *_, n in left)}")
        for i, kind, line, numbers in left:
            print(f"  cell {i} {kind}: {numbers} | {line[:150]}")
        for snippet in stale:
            print(f"  stale ledger entry (matches no line): {snippet!r}")
        for name in sorted(used - glued):
            print(f"  glue name used but never glued: {name}")
    return total


if __name__ == "__main__":
    if sys.argv[1:2] == ["--table"]:
        print(f"{BEGIN}\n{table(sys.argv[2:])}\n{END}")
        sys.exit(0)
    sys.exit(1 if main(sys.argv[1:]) else 0)
