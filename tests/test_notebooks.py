"""Notebook hygiene: executed in order, no errors, listed in _toc.yml.

nbval passes unexecuted cells silently; these checks make a notebook with
stripped outputs (or one cell left unexecuted) fail the suite, and the
mutation tests below prove that they do.
"""

import copy
import json
import re

import pytest
import yaml

from notebook_checks import ROOT, chapters, code_cells, hygiene_problems, load

CHAPTERS = chapters()


def _toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [entry["file"] for part in toc["parts"]
            for entry in part["chapters"]]


def test_there_are_chapters():
    assert CHAPTERS, "no book/NN_*.ipynb found"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_notebook_is_a_numbered_chapter(path):
    # make test-notebooks runs book/*.ipynb; the book numbers NN_name.
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name), (
        f"book/{path.name}: a chapter notebook is named NN_name.ipynb")


def test_a_stray_notebook_is_checked(tmp_path, monkeypatch):
    import notebook_checks

    stray = tmp_path / "8_extra.ipynb"
    nb = copy.deepcopy(load(CHAPTERS[0]))
    for cell in code_cells(nb):
        cell["outputs"], cell["execution_count"] = [], None
    stray.write_text(json.dumps(nb))
    monkeypatch.setattr(notebook_checks, "BOOK", tmp_path)
    assert notebook_checks.chapters() == [stray]
    assert hygiene_problems(load(stray)) != []
    assert not re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", stray.name)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_notebook_is_clean(path):
    assert hygiene_problems(load(path)) == []


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_notebook_is_in_toc(path):
    assert f"book/{path.stem}" in _toc_files()


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_notebook_sets_seed_and_device(path):
    first = "".join(code_cells(load(path))[0]["source"])
    assert "device.seed(" in first and "device.device()" in first


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_notebook_imports_the_package_first(path):
    # lstm_tutorial fixes MXNet's CPU threads, which works only before
    # mxnet (or d2l, which imports it) is loaded.
    first = "".join(code_cells(load(path))[0]["source"])
    imports = [line for line in first.splitlines()
               if line.startswith(("import ", "from "))]
    assert imports[0].startswith("import lstm_tutorial"), imports[0]


def _listing_problems(nb):
    """A page shows only a cell's last value, and prints the call above
    the listing unless the cell is tagged ``remove-input``."""
    problems = []
    for cell in code_cells(nb):
        source = "".join(cell["source"])
        if source.count("show(") > 1:
            problems.append(f"more than one listing in one cell: {source}")
        elif source.startswith("show(") and "remove-input" not in (
                cell["metadata"].get("tags", [])):
            problems.append(f"the call is shown: {source}")
    return problems


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_one_listing_per_cell_and_no_call_shown(path):
    assert _listing_problems(load(path)) == []


def test_listing_problems_are_found():
    nb = copy.deepcopy(load(CHAPTERS[0]))
    first, second = [c for c in code_cells(nb)
                     if "".join(c["source"]).startswith("show(")][:2]
    first["source"] = ["show(a)\n", "show(b)"]
    second["metadata"]["tags"].remove("remove-input")
    assert _listing_problems(nb) == [
        "more than one listing in one cell: show(a)\nshow(b)",
        f"the call is shown: {''.join(second['source'])}"]


def test_toc_entries_exist():
    for entry in _toc_files():
        assert any((ROOT / f"{entry}{ext}").is_file()
                   for ext in (".ipynb", ".md")), entry


def _mutated(mutate):
    nb = copy.deepcopy(load(CHAPTERS[0]))
    mutate(nb)
    return hygiene_problems(nb)


def test_stripped_outputs_fail():
    def strip(nb):
        for cell in code_cells(nb):
            cell["outputs"], cell["execution_count"] = [], None

    assert any("never executed" in p for p in _mutated(strip))


def test_one_unexecuted_cell_fails():
    def skip_one(nb):
        cell = code_cells(nb)[-1]
        cell["outputs"], cell["execution_count"] = [], None

    assert _mutated(skip_one) == ["1 code cells never executed"]


def test_outputs_stripped_but_counts_kept_fails():
    def strip(nb):
        for cell in code_cells(nb):
            cell["outputs"] = []

    assert any("outputs stripped" in p for p in _mutated(strip))


def test_out_of_order_execution_fails():
    def swap(nb):
        a, b = code_cells(nb)[:2]
        a["execution_count"], b["execution_count"] = 2, 1

    assert any("not 1..n" in p for p in _mutated(swap))


def test_error_output_fails():
    def fail(nb):
        code_cells(nb)[1]["outputs"].append(
            {"output_type": "error", "ename": "ValueError", "evalue": "x",
             "traceback": []})

    assert "code cell 2 stored an error" in _mutated(fail)


def test_a_figure_without_its_digest_fails():
    def drop_digest(nb):
        for cell in code_cells(nb):
            for output in cell["outputs"]:
                data = output.get("data", {})
                if "image/svg+xml" in data:
                    svg = "".join(data["image/svg+xml"])
                    data["image/svg+xml"] = re.sub(
                        r"<dc:description>[^<]*</dc:description>", "", svg)
                    return
        raise AssertionError("no stored SVG to break")

    assert any("without its data digest" in p for p in _mutated(drop_digest))


def test_other_kernel_fails():
    def rekernel(nb):
        nb["metadata"]["kernelspec"]["name"] = "julia-1.9"

    assert "kernel is 'julia-1.9', not 'python3'" in _mutated(rekernel)


def test_nbval_gets_the_longest_chapters_first(tmp_path):
    import notebook_order

    def stored(name, seconds):  # a notebook whose one cell took `seconds`
        start = "2026-12-01T10:00:00.000000Z"
        end = f"2026-12-01T10:{seconds // 60:02d}:{seconds % 60:02d}.000000Z"
        cell = {"cell_type": "code", "metadata": {"execution": {
            "iopub.execute_input": start, "shell.execute_reply": end}},
            "source": [], "outputs": []}
        path = tmp_path / name
        path.write_text(json.dumps({"cells": [cell]}))
        return path

    quick, slow, middle = (stored("01_a.ipynb", 5), stored("02_b.ipynb", 200),
                           stored("03_c.ipynb", 65))
    assert notebook_order.longest_first([quick, slow, middle]) == [
        slow, middle, quick]
    assert notebook_order.seconds(slow) == 200
    order = notebook_order.longest_first(CHAPTERS)
    assert sorted(order) == sorted(CHAPTERS)  # every chapter, once
    assert notebook_order.seconds(order[0]) >= notebook_order.seconds(
        order[-1])
