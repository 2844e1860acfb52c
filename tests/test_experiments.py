"""lstm_tutorial/experiments.py: the multi-seed command and its files."""

import json
import os

import pytest

from lstm_tutorial import experiments


def toy(seed):
    """A module-level experiment, so that worker processes can import it."""
    return {"accuracy": 0.5 + seed / 10, "pid": os.getpid()}


def other(seed):
    return {"loss": 2.0 - seed, "pid": os.getpid()}


@pytest.fixture
def fake_registry(monkeypatch):
    monkeypatch.setattr(experiments, "registry",
                        lambda: {"toy": ("rnn", toy), "other": ("rnn", other)})


def test_run_writes_and_loads_results(fake_registry, tmp_path, capsys):
    record = experiments.run_experiment("toy", [0, 2], out=tmp_path)
    stored = json.loads((tmp_path / "toy.json").read_text())
    assert stored == record == experiments.load_results("toy", tmp_path)
    assert stored["seeds"]["2"]["accuracy"] == pytest.approx(0.7)
    assert set(stored["versions"]) >= {"mxnet", "numpy", "python"}
    assert "toy seed 2: done" in capsys.readouterr().out


def test_seeds_in_worker_processes_give_the_same_results(fake_registry,
                                                        tmp_path):
    serial = experiments.run_experiment("toy", [0, 1, 2], tmp_path, jobs=1)
    parallel = experiments.run_experiment("toy", [0, 1, 2], tmp_path, jobs=2)
    pids = {r.pop("pid") for r in parallel["seeds"].values()}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert {r.pop("pid") for r in serial["seeds"].values()} == {os.getpid()}
    for record in (serial, parallel):
        for result in record["seeds"].values():
            result.pop("seconds")
    assert parallel == serial
    assert list(parallel["seeds"]) == ["0", "1", "2"]


def _without_pids_and_times(record):
    for result in record["seeds"].values():
        result.pop("pid")
        result.pop("seconds")
    return record


def test_experiments_share_one_pool_and_each_gets_its_file(fake_registry,
                                                           tmp_path):
    names, seeds = ["toy", "other"], [0, 1, 2]
    pooled = experiments.run_experiments(names, seeds, tmp_path, jobs=2)
    assert [r["experiment"] for r in pooled] == names
    serial = [experiments.run_experiment(n, seeds, tmp_path / "s", jobs=1)
              for n in names]
    for name, record in zip(names, pooled):
        stored = json.loads((tmp_path / f"{name}.json").read_text())
        assert stored == record
    assert ([_without_pids_and_times(r) for r in pooled]
            == [_without_pids_and_times(r) for r in serial])
    assert pooled[1]["seeds"]["2"]["loss"] == 0.0


@pytest.mark.parametrize("jobs", [0, -1, 1.5, True])
def test_jobs_must_be_a_positive_int(fake_registry, tmp_path, jobs):
    with pytest.raises(ValueError, match="jobs must be a positive int"):
        experiments.run_experiment("toy", [0], tmp_path, jobs=jobs)


def test_unknown_experiment(fake_registry, tmp_path):
    with pytest.raises(ValueError, match="unknown experiment 'nope'; "
                                         "known: other, toy"):
        experiments.run_experiment("nope", [0], out=tmp_path)


def test_cli_lists_and_runs(fake_registry, tmp_path, capsys):
    assert experiments.main(["list"]) == 0
    assert capsys.readouterr().out.startswith(
        "other\t(lstm_tutorial/rnn.py)\ntoy\t(lstm_tutorial/rnn.py)")
    assert experiments.main(["all", "--seeds", "1", "--out",
                             str(tmp_path)]) == 0
    assert (tmp_path / "toy.json").is_file()
    assert (tmp_path / "other.json").is_file()
    with pytest.raises(SystemExit):
        experiments.main(["nope"])


def test_missing_results_say_how_to_make_them(tmp_path):
    with pytest.raises(FileNotFoundError,
                       match="lstm_tutorial.experiments toy"):
        experiments.load_results("toy", tmp_path)


def test_registry_finds_chapter_experiments():
    for module, run in experiments.registry().values():
        assert callable(run) and module in experiments.CHAPTER_MODULES
