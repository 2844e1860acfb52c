"""Shown code is the math: the package lines each chapter shows, measured.

A chapter shows package code with ``show(...)`` (CONTRIBUTING.md, "One
source"); the listings should hold the equations, not argument checking,
which belongs in the layer protocol and in helpers the listing calls. This
module (not a test file) measures, per chapter, how many lines its
listings show and how many of them check arguments: a ``raise`` (with the
``if`` that guards it), a statement calling a ``check_*`` or ``_check*``
function, an ``if not isinstance``. ``tests/test_shown_code.py`` fails
on a listing that checks, and keeps the table on book/testing.md equal to
the measurement. Re-run:

    .venv/bin/python tests/shown_code.py          # the table, Markdown
    .venv/bin/python tests/shown_code.py --lines  # and every checking line
"""

import ast
import re
import sys

from notebook_checks import chapters, load, shown_sources

CHECK_CALL = re.compile(r"^_?check")


def _name(func):
    return getattr(func, "id", getattr(func, "attr", ""))


def _is_check(statement):
    """A statement that checks arguments (and does nothing else)."""
    if isinstance(statement, ast.Raise):
        return True
    if isinstance(statement, ast.If):
        test = statement.test
        if (isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
                and isinstance(test.operand, ast.Call)
                and _name(test.operand.func) == "isinstance"):
            return True
    if isinstance(statement, (ast.If, ast.For)):  # a loop or if of checks
        return not statement.orelse and all(map(_is_check, statement.body))
    simple = (ast.Expr, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Return)
    return isinstance(statement, simple) and any(
        isinstance(n, ast.Call) and CHECK_CALL.match(_name(n.func))
        for n in ast.walk(statement))


def checking_lines(code):
    """The lines of ``code`` that check arguments: a ``raise`` with the
    ``if`` that guards it, an ``if not isinstance``, a statement calling
    a ``check*`` or ``_check*`` function, a loop of such checks."""
    numbers = set()

    def visit(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt) and _is_check(child):
                numbers.update(range(child.lineno, child.end_lineno + 1))
            else:
                visit(child)

    visit(ast.parse(code))
    lines = code.split("\n")
    return [lines[n - 1] for n in sorted(numbers) if lines[n - 1].strip()]


def shown_lines(code):
    """The non-blank lines of a listing."""
    return [line for line in code.split("\n") if line.strip()]


def measure(nb):
    """``[(qualname, shown lines, checking lines)]`` of a notebook."""
    return [(qualname, len(shown_lines(code)), checking_lines(code))
            for _, qualname, code in shown_sources(nb)]


def table(paths=None):
    """The Markdown table of shown and checking lines per chapter."""
    rows = ["| chapter | listings | lines | checking |",
            "|---|---|---|---|"]
    for path in paths or chapters():
        found = measure(load(path))
        checks = sum(len(lines) for _, _, lines in found)
        rows.append(f"| {int(path.stem[:2])} | {len(found)} | "
                    f"{sum(n for _, n, _ in found)} | {checks} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
    if "--lines" in sys.argv[1:]:
        for path in chapters():
            for qualname, _, lines in measure(load(path)):
                for line in lines:
                    print(f"{path.stem}: {qualname}: {line.strip()}")
