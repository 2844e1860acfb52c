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
    """The chapter notebooks, in order."""
    return sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))


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
    return problems


def _outputs_headed(nb, header):
    """``(groups, body lines)`` of each stored text output whose first
    line matches ``header``."""
    for cell in code_cells(nb):
        for output in cell["outputs"]:
            text = "".join(output.get("data", {}).get("text/plain", ""))
            lines = text.split("\n")
            match = header.match(lines[0])
            if match:
                yield match.groups(), lines[1:]


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
