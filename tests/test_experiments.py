"""lstm_tutorial/experiments.py: the multi-seed command and its files."""

import json

import pytest

from lstm_tutorial import experiments


@pytest.fixture
def fake_registry(monkeypatch):
    def run(seed):
        return {"accuracy": 0.5 + seed / 10}

    monkeypatch.setattr(experiments, "registry",
                        lambda: {"toy": ("rnn", run)})


def test_run_writes_and_loads_results(fake_registry, tmp_path, capsys):
    record = experiments.run_experiment("toy", [0, 2], out=tmp_path)
    stored = json.loads((tmp_path / "toy.json").read_text())
    assert stored == record == experiments.load_results("toy", tmp_path)
    assert stored["seeds"]["2"]["accuracy"] == pytest.approx(0.7)
    assert set(stored["versions"]) >= {"mxnet", "numpy", "python"}
    assert "toy seed 2: done" in capsys.readouterr().out


def test_unknown_experiment(fake_registry, tmp_path):
    with pytest.raises(ValueError, match="unknown experiment 'nope'; "
                                         "known: toy"):
        experiments.run_experiment("nope", [0], out=tmp_path)


def test_cli_lists_and_runs(fake_registry, tmp_path, capsys):
    assert experiments.main(["list"]) == 0
    assert capsys.readouterr().out.startswith("toy\t(lstm_tutorial/rnn.py)")
    assert experiments.main(["all", "--seeds", "1", "--out",
                             str(tmp_path)]) == 0
    assert (tmp_path / "toy.json").is_file()
    with pytest.raises(SystemExit):
        experiments.main(["nope"])


def test_missing_results_say_how_to_make_them(tmp_path):
    with pytest.raises(FileNotFoundError,
                       match="lstm_tutorial.experiments toy"):
        experiments.load_results("toy", tmp_path)


def test_registry_finds_chapter_experiments():
    for module, run in experiments.registry().values():
        assert callable(run) and module in experiments.CHAPTER_MODULES
