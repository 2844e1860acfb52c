"""Checks of stored notebooks, shared by the tests (not a test file).

nbval silently passes cells that were never executed, so a notebook with
stripped outputs would pass it: ``hygiene_problems`` is what catches that.
"""

import importlib
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
HEADER = re.compile(r"^# (lstm_tutorial/[\w/]+)\.py: ([\w.]+)$")
EXCERPT = re.compile(
    r"^# (lstm_tutorial/[\w/]+)\.py: ([\w.]+) \(excerpt\)$")


def chapters():
    """Every notebook of the book, in order: the chapters are
    ``book/NN_name.ipynb``, and a notebook named otherwise is checked too
    (``tests/test_notebooks.py`` then fails on its name), so nothing that
    nbval runs or the book renders escapes the hygiene checks."""
    return sorted(BOOK.glob("*.ipynb"))


def load(path):
    return json.loads(Path(path).read_text())


def code_cells(nb):
    return [c for c in nb["cells"]
            if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def hygiene_problems(nb):
    """What is wrong with a stored notebook, as a list of sentences."""
    problems = []
    kernel = nb.get("metadata", {}).get("kernelspec", {}).get("name")
    if kernel != "python3":
        problems.append(f"kernel is {kernel!r}, not 'python3'")
    cells = code_cells(nb)
    if not cells:
        problems.append("no code cell")
    counts = [c.get("execution_count") for c in cells]
    missing = sum(n is None for n in counts)
    if missing:
        problems.append(f"{missing} code cells never executed")
    elif counts != list(range(1, len(counts) + 1)):
        problems.append("execution counts are not 1..n: re-run the "
                        "notebook top to bottom in a fresh kernel")
    for i, cell in enumerate(cells):
        if any(o["output_type"] == "error" for o in cell["outputs"]):
            problems.append(f"code cell {i + 1} stored an error")
    if cells and not any(c["outputs"] for c in cells):
        problems.append("no code cell has an output: outputs stripped?")
    for i, cell in enumerate(cells):
        for output in cell["outputs"]:
            svg = "".join(output.get("data", {}).get("image/svg+xml", ""))
            if svg and DIGEST not in svg:
                problems.append(
                    f"code cell {i + 1} stored an SVG without its data "
                    "digest (nbval masks SVG coordinates): draw figures "
                    "after plotting.setup_notebook()")
    return problems


# What plotting.svg writes into every figure's metadata: nbval compares it.
DIGEST = "<dc:description>figure data: "


def _listings(cell):
    """``(header match, body lines)`` of every block that ``show`` stored
    in a cell's outputs (one output may hold several blocks)."""
    for output in cell["outputs"]:
        text = "".join(output.get("data", {}).get("text/plain", ""))
        lines = text.split("\n")
        if not (HEADER.match(lines[0]) or EXCERPT.match(lines[0])):
            continue
        starts = [i for i, line in enumerate(lines)
                  if HEADER.match(line) or EXCERPT.match(line)]
        for begin, end in zip(starts, starts[1:] + [len(lines)]):
            body = lines[begin + 1:end]
            while body and not body[-1].strip():
                body.pop()
            yield lines[begin], body


def _outputs_headed(nb, header):
    """``(groups, body lines)`` of each stored listing whose header line
    matches ``header``."""
    for cell in code_cells(nb):
        for first, body in _listings(cell):
            match = header.match(first)
            if match:
                yield match.groups(), body


def _shown_names(source):
    """The last name of every object a cell's source passes to ``show``
    (``show(cl.Forecaster.forward)`` gives ``forward``)."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics: no show() in such cells
        return []
    names = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call)
                and getattr(node.func, "id",
                            getattr(node.func, "attr", None)) == "show"
                and node.args and not (
                    isinstance(node.func, ast.Attribute)
                    and getattr(node.func.value, "id", "") == "plt")):
            for arg in node.args:
                if isinstance(arg, ast.Constant):
                    break  # the starts of an excerpt follow its object
                names.append(getattr(arg, "attr", getattr(arg, "id", None)))
    return names


def unshown(nb):
    """``(cell number, name)`` for every object a cell passes to ``show``
    whose listing is not among that cell's stored outputs."""
    missing = []
    for i, cell in enumerate(code_cells(nb), 1):
        headed = [m.group(2).split(".")[-1] for m in (
            HEADER.match(first) or EXCERPT.match(first)
            for first, _ in _listings(cell))]
        for name in _shown_names("".join(cell["source"])):
            if name in headed:
                headed.remove(name)
            else:
                missing.append((i, name))
    return missing


def shown_sources(nb):
    """``(path, qualname, code)`` for every ``show(...)`` output."""
    return [(*groups, "\n".join(body))
            for groups, body in _outputs_headed(nb, HEADER)]


def shown_excerpts(nb):
    """``(path, qualname, lines)`` for every ``show(obj, *starts)``."""
    return [(*groups, body) for groups, body in _outputs_headed(nb, EXCERPT)]


def resolve(path, qualname):
    """The package object a ``show`` header names."""
    obj = importlib.import_module(path.replace("/", "."))
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj
