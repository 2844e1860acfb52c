"""The package's shape: import order is chapter order; no book tooling.

CONTRIBUTING.md, "Layout": a module imports only modules of earlier
chapters (or the infrastructure), so the import graph is the course
order; a ``*_tasks`` module holds its task only (no model, no training
run); a NumPy-only module imports NumPy and the standard library only;
"Devices": no context is named outside device.py.
"""

import ast
import inspect
import subprocess
import sys

import lstm_tutorial

from notebook_checks import ROOT

PACKAGE = ROOT / "lstm_tutorial"
CHAPTERS = lstm_tutorial.CHAPTER_MODULES
INFRA = lstm_tutorial.INFRASTRUCTURE_MODULES
NUMPY_ONLY = lstm_tutorial.NUMPY_ONLY_MODULES


def _modules():
    return sorted(p.stem for p in PACKAGE.glob("*.py")
                  if p.stem != "__init__")


def _chapter_of(name):
    """Index of a chapter module, or of the chapter a companion helps
    (``*_tasks``: its data and tasks)."""
    base = name.removesuffix("_tasks")
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
        assert (name in INFRA or name in NUMPY_ONLY
                or _chapter_of(name) is not None), name
    for name in NUMPY_ONLY:
        assert name in _modules() and name not in INFRA, name
        assert _chapter_of(name) is None, name


def test_imports_follow_chapter_order():
    for name in _modules():
        for imported in _imports(name):
            if imported in INFRA or imported in NUMPY_ONLY:
                continue
            assert _chapter_of(name) is not None, (
                f"infrastructure module {name} imports chapter {imported}")
            assert _chapter_of(imported) <= _chapter_of(name), (
                f"{name} imports {imported}, a later chapter")


def test_infrastructure_imports_no_chapter():
    for name in INFRA:
        if name != "experiments":  # imports chapters by name, lazily
            assert not (_imports(name) - set(INFRA)), name


def _numpy_only_offences(tree):
    """The imports of a module beyond NumPy and the standard library."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            what = node.module or ", ".join(a.name for a in node.names)
            found.append(f"imports .{what} at line {node.lineno}")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = ([a.name for a in node.names]
                     if isinstance(node, ast.Import) else [node.module])
            for name in names:
                top = name.split(".")[0]
                if top != "numpy" and top not in sys.stdlib_module_names:
                    found.append(f"imports {name} at line {node.lineno}")
    return found


def test_numpy_only_modules_import_numpy_and_the_standard_library():
    for name in NUMPY_ONLY:
        tree = ast.parse((PACKAGE / f"{name}.py").read_text())
        assert _numpy_only_offences(tree) == [], name
    # and, run: importing one loads no MXNet (nor another of our modules)
    code = ("import sys, importlib\n"
            f"for m in {list(NUMPY_ONLY)!r}:\n"
            "    importlib.import_module('lstm_tutorial.' + m)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == "
            "'mxnet' or (m.startswith('lstm_tutorial.') and m.split('.')[1]"
            f" not in {list(NUMPY_ONLY)!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"


def test_an_import_beyond_numpy_in_a_numpy_only_module_is_found():
    code = ("import functools\nimport numpy as np\n"
            "from numpy.linalg import norm\nfrom mxnet import np as mnp\n"
            "from . import device\nimport scipy.special\n")
    assert _numpy_only_offences(ast.parse(code)) == [
        "imports mxnet at line 4", "imports .device at line 5",
        "imports scipy.special at line 6"]


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


# What a task module may not hold: a model (a Block) or a training run.
MODEL_BASES = ("Block", "HybridBlock", "Recurrent", "Gated", "Readable",
               "Fused", "SequenceClassifier")
TRAINING_CALLS = ("Trainer", "train", "fit", "backward", "record",
                  "train_language_model")


def _task_module_offences(tree):
    """Classes built on a model base and training calls, as sentences."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            bases = {getattr(b, "attr", getattr(b, "id", "")) for b in
                     node.bases}
            if bases & set(MODEL_BASES):
                found.append(f"class {node.name} is a model")
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in TRAINING_CALLS:
                found.append(f"calls {name}() at line {node.lineno}")
    return found


def test_task_modules_hold_the_task_only():
    tasks = [n for n in _modules() if n.endswith("_tasks")]
    assert len(tasks) == 7, tasks
    for name in tasks:
        tree = ast.parse((PACKAGE / f"{name}.py").read_text())
        assert _task_module_offences(tree) == [], name


def test_a_model_or_a_training_run_in_a_task_module_is_found():
    model = "class Net(gluon.Block):\n    pass\n"
    run = "def go(net):\n    return training.fit(net, [], None, 0.1)\n"
    trainer = "t = gluon.Trainer(net.collect_params(), 'adam')\n"
    assert _task_module_offences(ast.parse(model)) == ["class Net is a model"]
    assert _task_module_offences(ast.parse(run)) == ["calls fit() at line 2"]
    assert _task_module_offences(ast.parse(trainer)) == [
        "calls Trainer() at line 1"]


def _reads_inputs_and_state(cls):
    """A layer's signature: ``forward(inputs, state=None)``."""
    forward = getattr(cls, "forward", None)
    if forward is None:
        return False
    return list(inspect.signature(forward).parameters)[1:3] == [
        "inputs", "state"]


def test_every_recurrent_layer_is_built_on_the_protocol():
    from lstm_tutorial import layers

    found = []
    for name in _modules():
        module = __import__(f"lstm_tutorial.{name}", fromlist=["_"])
        for obj in vars(module).values():
            if (isinstance(obj, type) and obj.__module__ == module.__name__
                    and _reads_inputs_and_state(obj)):
                found.append(obj.__name__)
                assert issubclass(obj, layers.Recurrent), obj
    assert {"RNNScratch", "LSTM1997Scratch", "LSTMFused", "VariantFast",
            "GRUScratch", "Bidirectional", "WindowMLP",
            "LSTMManual"} <= set(found)


def test_every_module_with_experiments_registers_their_claims():
    import importlib

    from lstm_tutorial import CHAPTER_MODULES

    for name in CHAPTER_MODULES:
        module = importlib.import_module(f"lstm_tutorial.{name}")
        experiments = getattr(module, "EXPERIMENTS", {})
        assert set(getattr(module, "CLAIMS", {})) == set(experiments), name
