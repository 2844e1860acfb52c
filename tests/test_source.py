"""lstm_tutorial/source.py and the one-source rule (CONTRIBUTING.md,
"One source").

The package defines the code; chapters show it with ``show``. The code
blocks stored in the notebooks must equal the package's current code.
"""

import json

import pytest

from lstm_tutorial import rnn
from lstm_tutorial.source import Source, show

from notebook_checks import chapters, load, resolve, shown_sources


def test_show_renders_package_code():
    shown = show(rnn.RNNScratch.step)
    assert str(shown).startswith(
        "# lstm_tutorial/rnn.py: RNNScratch.step\n"
        "def step(self, X_t, state):")
    assert shown._repr_markdown_().startswith("```python\n# lstm_tutorial")


def test_show_refuses_foreign_code():
    with pytest.raises(ValueError, match="displays lstm_tutorial code"):
        show(json.dumps)


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.name)
def test_notebook_code_equals_package_code(path):
    shown = shown_sources(load(path))
    assert shown, f"{path.name} shows no package code"
    for module, qualname, code in shown:
        current = Source(resolve(module, qualname)).code
        assert code == current, (
            f"{path.name} shows {module}.py:{qualname} as it was, not as the"
            " package has it now: re-execute the chapter (make execute)")


def test_drift_is_detected():
    nb = load(chapters()[0])
    module, qualname, code = shown_sources(nb)[0]
    edited = code.replace("def ", "def  ", 1)
    assert edited != Source(resolve(module, qualname)).code
