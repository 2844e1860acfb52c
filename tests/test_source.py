"""lstm_tutorial/source.py and the one-source rule (CONTRIBUTING.md,
"One source").

The package defines the code; chapters show it with ``show``. The code
blocks stored in the notebooks must equal the package's current code.
"""

import json

import pytest

from lstm_tutorial import rnn
from lstm_tutorial.source import Source, show

from notebook_checks import (
    chapters,
    load,
    resolve,
    shown_excerpts,
    shown_sources,
    unshown,
)


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


def test_an_excerpt_shows_the_lines_that_begin_with_the_starts():
    shown = show(rnn.RNNScratch.step, "H = ", "return")
    lines = str(shown).split("\n")
    assert lines[0] == "# lstm_tutorial/rnn.py: RNNScratch.step (excerpt)"
    source = Source(rnn.RNNScratch.step).code.split("\n")
    assert len(lines) == 3
    for line in lines[1:]:
        assert line in [s.strip() for s in source] and line == line.strip()
    assert lines[1].startswith("H = ") and lines[2].startswith("return")


@pytest.mark.parametrize("start", ["no such line", ""])
def test_an_excerpt_needs_exactly_one_line_per_start(start):
    with pytest.raises(ValueError, match="must begin exactly one line"):
        show(rnn.RNNScratch.step, start)


def _excerpt_problems(excerpts):
    problems = []
    for module, qualname, lines in excerpts:
        current = [s.strip() for s in Source(
            resolve(module, qualname)).code.split("\n")]
        problems += [(qualname, line) for line in lines
                     if line not in current]
    return problems


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.name)
def test_notebook_excerpts_are_lines_of_the_package(path):
    assert _excerpt_problems(shown_excerpts(load(path))) == [], (
        f"{path.name} shows lines the package no longer has: re-execute "
        "the chapter (make execute)")


def test_a_stale_excerpt_is_detected():
    found = [(p, e) for p in chapters()
             for e in shown_excerpts(load(p))]
    assert found, "no chapter shows an excerpt"
    _, (module, qualname, lines) = found[0]
    edited = [lines[0].replace(" = ", " =  ", 1)] + lines[1:]
    assert _excerpt_problems([(module, qualname, edited)]) != []


def test_show_of_several_objects_lists_each():
    shown = show(rnn.RNNScratch.step, rnn.RNNLMScratch.forward)
    blocks = str(shown).split("\n\n# ")
    assert blocks[0].startswith("# lstm_tutorial/rnn.py: RNNScratch.step\n")
    assert blocks[1].startswith("lstm_tutorial/rnn.py: RNNLMScratch.forward\n")
    assert shown._repr_markdown_().count("```python\n# lstm_tutorial") == 2
    with pytest.raises(ValueError, match="not both"):
        show(rnn.RNNScratch.step, rnn.RNNLMScratch.forward, "H = ")


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.name)
def test_every_show_call_has_its_listing_stored(path):
    assert unshown(load(path)) == [], (
        f"{path.name}: these show(...) calls have no listing on the page "
        "(code cell, name). A notebook displays only a cell's last value: "
        "pass several objects to one show(...)")


def test_a_lost_listing_is_detected():
    cell = {"cell_type": "code", "source": "show(tasks.persistence)\n"
            "show(tasks.fit_linear)", "outputs": [{"data": {"text/plain":
                    "# lstm_tutorial/cnn_lstm_tasks.py: fit_linear\n"
                    "def fit_linear():"}}]}
    assert unshown({"cells": [cell]}) == [(1, "persistence")]
    cell["source"] = "show(tasks.persistence, tasks.fit_linear)"
    cell["outputs"][0]["data"]["text/plain"] = (
        "# lstm_tutorial/cnn_lstm_tasks.py: persistence\ndef persistence():"
        "\n\n" + cell["outputs"][0]["data"]["text/plain"])
    assert unshown({"cells": [cell]}) == []


def test_a_check_may_pass_replacement_arguments():
    from lstm_tutorial.source import checked_by

    def check(x, scale=1):
        if x < 0:
            raise ValueError("x must be >= 0")
        return {"scale": scale * 10} if scale == 2 else None

    @checked_by(check)
    def f(x, scale=1):
        return x * scale

    assert f(3) == 3 and f(3, scale=2) == 60 and f(3, 2) == 60
    with pytest.raises(ValueError, match="x must be"):
        f(-1)
