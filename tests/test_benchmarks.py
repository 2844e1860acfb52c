"""benchmarks/lstm_throughput.py: what it runs and how it divides (not
its timings, which are measurements, never tests)."""

import importlib.util
import sys

import pytest

from notebook_checks import ROOT

BENCHMARKS = ROOT / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCHMARKS))  # it imports machine.py beside it
    try:
        spec = importlib.util.spec_from_file_location(
            "lstm_throughput", BENCHMARKS / "lstm_throughput.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCHMARKS))


def _fake_worker(speeds):
    """A worker whose tokens/s are ``speeds[model]`` times (1 + H / 1000),
    and whose CPU time is half its wall time."""
    def worker(model, h, env):
        rate = speeds[model] * (1 + h / 1000)
        return {"tokens_per_s": rate, "tokens_per_cpu_s": 2 * rate,
                "peak_mib": 1.0}
    return worker


def test_the_book_setting_runs_every_model_side_by_side(bench):
    keys = bench.plan()
    book = {(m, h) for s, m, h in keys if s == "book"}
    assert book == {(m, h) for m in bench.MODELS for h in bench.HIDDENS}
    assert {"manual_backward", "pytorch", "gluon", "fast"} <= set(
        bench.MODELS)
    others = {m for s, m, _ in keys if s != "book"}
    assert others == set(bench.SETTINGS_MODELS)


def test_ratios_divide_by_gluon_and_pytorch_at_the_same_size(bench):
    speeds = {m: 10.0 * (k + 1) for k, m in enumerate(bench.MODELS)}
    rows = bench.run_all(2, worker=_fake_worker(speeds))
    by_key = {(r["setting"], r["model"], r["num_hiddens"]): r for r in rows}
    for (setting, model, _), row in by_key.items():
        assert row["ratio_to_gluon"] == round(
            speeds[model] / speeds["gluon"], 3)
        assert row["ratio_to_gluon_cpu"] == row["ratio_to_gluon"]
        if setting == "book":
            assert row["ratio_to_pytorch"] == round(
                speeds[model] / speeds["pytorch"], 3)
        else:  # pytorch runs in the book's setting only
            assert row["ratio_to_pytorch"] is None
        assert len(row["rounds"]) == 2


def test_without_pytorch_the_others_are_measured(bench):
    models = tuple(m for m in bench.MODELS if m != "pytorch")
    speeds = dict.fromkeys(models, 5.0)
    rows = bench.run_all(1, models, worker=_fake_worker(speeds))
    assert {r["model"] for r in rows} == set(models)
    assert all(r["ratio_to_pytorch"] is None for r in rows)
    assert all(r["ratio_to_gluon"] == 1.0 for r in rows)


def test_readme_table_is_the_results_file(bench):
    """README's throughput table is ``--readme``'s output: its numbers come
    from benchmarks/results/lstm_throughput.json, never typed."""
    import json

    table = bench.readme_table(json.loads(bench.RESULTS.read_text()))
    readme = (ROOT / "README.md").read_text()
    assert table in readme, (
        "README.md's throughput table is not the results file's: paste "
        "the output of `python benchmarks/lstm_throughput.py --readme`")
    assert "manual_backward" in bench.LABELS and "pytorch" in bench.LABELS


def test_readme_table_reads_every_ratio(bench):
    record = {"results": [
        {"setting": "book", "model": m, "num_hiddens": h,
         "ratio_to_gluon": 0.5 * (k + 1), "ratio_to_pytorch": None}
        for k, m in enumerate(("gluon", "manual_backward")) for h in (64, 8)]}
    lines = bench.readme_table(record).splitlines()
    assert lines[0] == ("| layer | x gluon, H = 8 | x gluon, H = 64 | "
                        "x PyTorch, H = 8 | x PyTorch, H = 64 |")
    assert lines[2:] == [
        "| hand-derived backward (`LSTMManual`) | 1.00 | 1.00 | - | - |",
        "| `gluon.rnn.LSTM` | 0.50 | 0.50 | - | - |"]
