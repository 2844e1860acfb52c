"""The package's shape: import order is chapter order; no book tooling.

STYLE.md: a module imports only modules of earlier chapters (or the
infrastructure), so the import graph is the course order. DESIGN.md
section 6: no context is named outside device.py.
"""

import ast
import subprocess
import sys

import lstm_tutorial

from notebook_checks import ROOT

PACKAGE = ROOT / "lstm_tutorial"
CHAPTERS = lstm_tutorial.CHAPTER_MODULES
INFRA = lstm_tutorial.INFRASTRUCTURE_MODULES


def _modules():
    return sorted(p.stem for p in PACKAGE.glob("*.py")
                  if p.stem != "__init__")


def _chapter_of(name):
    """Index of a chapter module, or of the chapter a companion helps
    (``*_tasks``: its data and tasks; ``*_fast``: its fast path)."""
    base = name.removesuffix("_tasks").removesuffix("_fast")
    return CHAPTERS.index(base) if base in CHAPTERS else None


def _imports(name):
    tree = ast.parse((PACKAGE / f"{name}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found |= ({node.module} if node.module
                      else {a.name for a in node.names})
        elif isinstance(node, ast.ImportFrom) and (
                node.module or "").startswith("lstm_tutorial"):
            found |= {a.name for a in node.names}
    return found & set(_modules())


def test_every_module_has_a_place():
    for name in _modules():
        assert name in INFRA or _chapter_of(name) is not None, name


def test_imports_follow_chapter_order():
    for name in _modules():
        for imported in _imports(name):
            if imported in INFRA:
                continue
            assert _chapter_of(name) is not None, (
                f"infrastructure module {name} imports chapter {imported}")
            assert _chapter_of(imported) <= _chapter_of(name), (
                f"{name} imports {imported}, a later chapter")


def test_infrastructure_imports_no_chapter():
    for name in INFRA:
        if name != "experiments":  # imports chapters by name, lazily
            assert not (_imports(name) - set(INFRA)), name


def test_package_imports_no_book_tooling():
    code = ("import sys, importlib, lstm_tutorial\n"
            f"for m in {_modules()!r}:\n"
            "    importlib.import_module('lstm_tutorial.' + m)\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('jupyter', 'jupyter_book', 'sphinx', 'pytest', 'nbval', "
            "'IPython', 'ipykernel', 'nbformat', 'd2l'))\n"
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"


def test_contexts_are_named_only_in_device():
    for path in PACKAGE.glob("*.py"):
        if path.stem != "device":
            text = path.read_text()
            for bad in ("mx.cpu(", "mx.gpu(", "npx.cpu(", "npx.gpu("):
                assert bad not in text, f"{path.name} names {bad}"
