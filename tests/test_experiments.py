"""lstm_tutorial/experiments.py: the multi-seed command and its files.

Besides running and storing: nothing computed is lost (seeds merged,
each written when done, stored seeds skipped, atomic writes that survive
a full disk, workers that stop with the command) and bad arguments are
found before any training.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lstm_tutorial import experiments

import experiment_toys as toys
from notebook_checks import ROOT

TOYS = {name: ("rnn", getattr(toys, name))
        for name in ("toy", "other", "counted", "flaky", "sleepy",
                     "trained")}


@pytest.fixture
def fake_registry(monkeypatch, tmp_path):
    monkeypatch.setattr(experiments, "registry", lambda: dict(TOYS))
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setenv("TOY_MARKS", str(marks))
    return marks


def test_run_writes_and_loads_results(fake_registry, tmp_path, capsys):
    record = experiments.run_experiment("toy", [0, 2], out=tmp_path)
    stored = json.loads((tmp_path / "toy.json").read_text())
    assert stored == record == experiments.load_results("toy", tmp_path)
    assert stored["seeds"]["2"]["accuracy"] == pytest.approx(0.7)
    assert set(stored["versions"]) >= {"mxnet", "numpy", "python"}
    assert "toy seed 2: done" in capsys.readouterr().out


def test_a_results_file_is_as_readable_as_any_other(tmp_path):
    # mkstemp's temporary file is private (0600): renamed into place it
    # made the committed results unreadable to other users.
    old = os.umask(0o022)
    try:
        path = tmp_path / "record.json"
        experiments.write_record(path, {"seeds": {}})
        assert path.stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(old)


def test_seeds_in_worker_processes_give_the_same_results(fake_registry,
                                                        tmp_path):
    serial = experiments.run_experiment("toy", [0, 1, 2], tmp_path / "a",
                                        jobs=1)
    parallel = experiments.run_experiment("toy", [0, 1, 2], tmp_path / "b",
                                          jobs=2)
    pids = {r.pop("pid") for r in parallel["seeds"].values()}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert {r.pop("pid") for r in serial["seeds"].values()} == {os.getpid()}
    for record in (serial, parallel):
        for result in record["seeds"].values():
            result.pop("seconds")
    assert parallel == serial
    assert sorted(parallel["seeds"]) == ["0", "1", "2"]


def _numbers(record):
    """The seeds' results without what differs from run to run."""
    return {seed: {k: v for k, v in result.items()
                   if k not in ("pid", "seconds")}
            for seed, result in record["seeds"].items()}


def test_a_local_dask_cluster_gives_the_process_pools_numbers(
        fake_registry, tmp_path):
    seeds = [0, 1, 2, 3]
    pool = experiments.run_experiment("trained", seeds, tmp_path / "pool",
                                      jobs=2)
    dask = experiments.run_experiment("trained", seeds, tmp_path / "dask",
                                      jobs=2, engine="dask")
    pids = {r["pid"] for r in dask["seeds"].values()}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert _numbers(dask) == _numbers(pool)  # to the last bit
    losses = [r["losses"] for r in _numbers(pool).values()]
    assert all(a != b for a, b in zip(losses, losses[1:]))  # seeds matter
    assert losses[0][-1] < losses[0][0]  # and it trained
    stored = json.loads((tmp_path / "dask" / "trained.json").read_text())
    assert _numbers(stored) == _numbers(dask)


def test_dask_refuses_workers_of_several_threads(fake_registry, tmp_path):
    import distributed
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2,
                                  processes=False, dashboard_address=None
                                  ) as cluster:
        with pytest.raises(ValueError, match="one thread each"):
            experiments.run_experiment("toy", [0, 1], tmp_path, jobs=2,
                                       engine="dask",
                                       scheduler=cluster.scheduler_address)
    assert not (tmp_path / "toy.json").exists()


def test_seeds_are_stored_in_numeric_order(fake_registry, tmp_path):
    experiments.run_experiment("toy", [10, 2, 9], tmp_path, jobs=1)
    text = (tmp_path / "toy.json").read_text()
    assert text.index('"2"') < text.index('"9"') < text.index('"10"')


def _without_pids_and_times(record):
    for result in record["seeds"].values():
        result.pop("pid")
        result.pop("seconds")
    return record


def test_experiments_share_one_pool_and_each_gets_its_file(fake_registry,
                                                           tmp_path):
    names, seeds = ["toy", "other"], [0, 1, 2]
    pooled = experiments.run_experiments(names, seeds, tmp_path / "p",
                                         jobs=2)
    assert [r["experiment"] for r in pooled] == names
    serial = [experiments.run_experiment(n, seeds, tmp_path / "s", jobs=1)
              for n in names]
    for name, record in zip(names, pooled):
        stored = json.loads((tmp_path / "p" / f"{name}.json").read_text())
        assert stored == record
    assert ([_without_pids_and_times(r) for r in pooled]
            == [_without_pids_and_times(r) for r in serial])
    assert pooled[1]["seeds"]["2"]["loss"] == 0.0


@pytest.mark.parametrize("jobs", [0, -1, 1.5, True])
def test_jobs_must_be_a_positive_int(fake_registry, tmp_path, jobs):
    with pytest.raises(ValueError, match="jobs must be a positive int"):
        experiments.run_experiment("toy", [0], tmp_path, jobs=jobs)


def test_unknown_experiment(fake_registry, tmp_path):
    with pytest.raises(ValueError, match="unknown experiment 'nope'; known: "
                       "counted, flaky, other, sleepy, toy, trained"):
        experiments.run_experiment("nope", [0], out=tmp_path)


def test_cli_lists_and_runs(fake_registry, tmp_path, capsys, monkeypatch):
    assert experiments.main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == sorted(lines) and "toy\t(lstm_tutorial/rnn.py)" in lines
    two = {"toy": TOYS["toy"], "other": TOYS["other"]}
    monkeypatch.setattr(experiments, "registry", lambda: two)
    assert experiments.main(["all", "--seeds", "1", "--out",
                             str(tmp_path)]) == 0
    assert (tmp_path / "toy.json").is_file()
    assert (tmp_path / "other.json").is_file()
    with pytest.raises(SystemExit):
        experiments.main(["nope"])


def _claims(record):
    """The toy's claim: accuracy at least 0.75 on at least half the seeds
    (and every accuracy in [0, 1])."""
    from lstm_tutorial import claims
    runs = list(record["seeds"].values())
    return [claims.every("accuracy in [0, 1]", runs,
                         lambda r: 0 <= r["accuracy"] <= 1),
            claims.at_least("accuracy at least 0.75", runs,
                            lambda r: r["accuracy"] >= 0.75, 0.5)]


def test_cli_checks_the_claims_of_a_folder(fake_registry, tmp_path, capsys,
                                           monkeypatch):
    monkeypatch.setattr(experiments, "claims_of", lambda name: _claims)
    experiments.run_experiment("toy", [4, 5], tmp_path, jobs=1)  # 0.9, 1
    assert experiments.main(["claims", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| `toy` | accuracy at least 0.75 | 2 of 2 |" in out
    assert "all 2 claims hold" in out
    experiments.run_experiment("toy", [0, 1, 2], tmp_path, jobs=1)
    assert experiments.main(["claims", "toy", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "toy: accuracy at least 0.75: 2 of 5 seeds" in out
    assert "claimed at least 50%: FAILS" in out
    with pytest.raises(SystemExit):
        experiments.main(["claims", "--out", str(tmp_path / "empty")])
    assert "no results in" in capsys.readouterr().err


def test_an_experiment_without_claims_is_named(fake_registry):
    with pytest.raises(LookupError, match="registers experiment 'toy' but "
                       "no claims"):
        experiments.claims_of("toy")


def test_missing_results_say_how_to_make_them(tmp_path):
    with pytest.raises(FileNotFoundError,
                       match="lstm_tutorial.experiments toy"):
        experiments.load_results("toy", tmp_path)


def test_registry_finds_chapter_experiments():
    for module, run in experiments.registry().values():
        assert callable(run) and module in experiments.CHAPTER_MODULES


# Nothing lost.

def _marks(marks):
    return sorted(int(p.name.split(".")[0]) for p in marks.iterdir())


def test_new_seeds_are_merged_into_the_stored_record(fake_registry,
                                                     tmp_path):
    experiments.run_experiment("toy", [0, 1, 2], tmp_path, jobs=1)
    record = experiments.run_experiment("toy", [3], tmp_path, jobs=1)
    assert sorted(record["seeds"]) == ["0", "1", "2", "3"]
    assert experiments.load_results("toy", tmp_path) == record


def test_the_command_on_a_subset_of_seeds_keeps_the_others(fake_registry,
                                                          tmp_path, capsys):
    """`toy --seeds 0 1` over a three-seed file: seed 2 stays (it was
    dropped before); `--rerun` computes 0 and 1 again and keeps 2;
    `--replace` is the one way to keep only the seeds named."""
    out = ["--out", str(tmp_path), "--jobs", "1"]
    assert experiments.main(["toy", "--seeds", "0", "1", "2", *out]) == 0
    def accuracies():
        record = experiments.load_results("toy", tmp_path)
        return {k: r["accuracy"] for k, r in record["seeds"].items()}

    stored = accuracies()
    assert sorted(stored) == ["0", "1", "2"]
    for flags in ([], ["--rerun"]):
        assert experiments.main(["toy", "--seeds", "0", "1", *flags,
                                 *out]) == 0
        assert accuracies() == stored
    assert experiments.main(["toy", "--seeds", "0", "1", "--replace",
                             *out]) == 0
    assert list(experiments.load_results("toy", tmp_path)["seeds"]) == [
        "0", "1"]


def test_stored_seeds_are_skipped_unless_rerun(fake_registry, tmp_path,
                                               capsys):
    experiments.run_experiment("counted", [0, 1], tmp_path, jobs=1)
    experiments.run_experiment("counted", [0, 1, 2], tmp_path, jobs=1)
    assert _marks(fake_registry) == [0, 1, 2]  # 0 and 1 ran once
    assert "counted seed 1: already in" in capsys.readouterr().out
    experiments.run_experiment("counted", [1], tmp_path, jobs=1, rerun=True)
    assert _marks(fake_registry) == [0, 1, 1, 2]
    assert sorted(experiments.load_results("counted", tmp_path)["seeds"]) \
        == ["0", "1", "2"]


def test_replace_keeps_only_the_seeds_asked_for(fake_registry, tmp_path):
    experiments.run_experiment("toy", [0, 1, 2], tmp_path, jobs=1)
    record = experiments.run_experiment("toy", [1], tmp_path, jobs=1,
                                        replace=True)
    assert list(record["seeds"]) == ["1"]
    assert list(experiments.load_results("toy", tmp_path)["seeds"]) == ["1"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_each_seed_is_kept_as_soon_as_it_is_done(fake_registry, tmp_path,
                                                 jobs):
    with pytest.raises(RuntimeError, match="seed 2 fails"):
        experiments.run_experiment("flaky", [0, 1, 2, 3], tmp_path, jobs=jobs)
    stored = set(experiments.load_results("flaky", tmp_path)["seeds"])
    # seed 0 was still running when seed 2 failed: it finishes and is kept
    # (seed 3 may have been handed to a worker already, and is kept too)
    assert {"0", "1"} <= stored and "2" not in stored


def test_a_broken_results_file_is_not_overwritten(fake_registry, tmp_path):
    path = tmp_path / "toy.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not a readable results file"):
        experiments.run_experiment("toy", [0], tmp_path, jobs=1)
    assert path.read_text() == "{not json"


@pytest.mark.parametrize("kwargs, message", [
    ({"seeds": [0, -1]}, "seeds must be non-negative ints, got -1"),
    ({"seeds": [0, 1.5]}, "seeds must be non-negative ints, got 1.5"),
    ({"seeds": [1, 1]}, "seeds must not repeat"),
    ({"seeds": []}, "seeds must be a non-empty list"),
    ({"jobs": 0}, "jobs must be a positive int"),
    ({"out": "FILE"}, "--out must be a folder, got the file"),
    ({"out": "/proc/no/such/folder"}, "--out /proc/no/such/folder cannot "
     "be written"),
    ({"engine": "spark"}, "engine must be one of process, dask, got 'spark'"),
    ({"scheduler": "tcp://h:8786"}, "--scheduler is an address for --engine "
     "dask"),
])
def test_bad_arguments_are_found_before_any_training(fake_registry,
                                                     tmp_path, kwargs,
                                                     message):
    args = {"seeds": [0, 1], "out": tmp_path / "out", "jobs": 1, **kwargs}
    if args["out"] == "FILE":
        args["out"] = tmp_path / "a_file"
        args["out"].write_text("")
    with pytest.raises(ValueError, match=message):
        experiments.run_experiments(["toy", "counted"], **args)
    assert _marks(fake_registry) == []  # nothing was trained


def test_cli_reports_bad_arguments_without_a_trace(fake_registry, capsys):
    with pytest.raises(SystemExit):
        experiments.main(["counted", "--seeds", "0", "-1"])
    assert "seeds must be non-negative ints, got -1" in (
        capsys.readouterr().err)
    assert _marks(fake_registry) == []


FULL_DISK = """
import resource, signal, sys
from pathlib import Path
from lstm_tutorial import experiments
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past it fails
resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
record = {"seeds": {str(k): {"values": list(range(1000))} for k in range(9)}}
try:
    experiments.write_record(Path(sys.argv[1]), record)
except OSError as exc:
    print("failed:", exc.strerror)
"""


def test_a_full_disk_leaves_the_stored_record_whole(tmp_path):
    path = tmp_path / "cerg.json"
    experiments.write_record(path, {"seeds": {"0": {"accuracy": 1.0}}})
    before = path.read_text()
    out = subprocess.run([sys.executable, "-c", FULL_DISK, str(path)],
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith("failed: File too large")
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["cerg.json"]  # no temp


FULL_DISK_COMMAND = """
import resource, signal, sys
sys.path.insert(0, sys.argv[2])
import experiment_toys
from lstm_tutorial import experiments
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past it fails
resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
experiments.registry = lambda: {"bulky": ("rnn", experiment_toys.bulky)}
experiments.main(["bulky", "--seeds", "1", "2", "--jobs", "1",
                  "--out", sys.argv[1]])
"""


def test_the_command_on_a_full_disk_says_so_and_keeps_the_record(tmp_path):
    path = tmp_path / "bulky.json"
    experiments.write_record(path, {"seeds": {"0": {"values": [1, 2]}}})
    before = path.read_text()
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK_COMMAND, str(tmp_path),
         str(ROOT / "tests")], capture_output=True, text=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "File too large" in done.stderr
    assert "the stored seeds are as they were" in done.stderr
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["bulky.json"]


KILLED = """
import sys
sys.path.insert(0, sys.argv[2])
import experiment_toys
from lstm_tutorial import experiments
experiments.registry = lambda: {"sleepy": ("rnn", experiment_toys.sleepy)}
experiments.main(["sleepy", "--seeds", "0", "1", "--jobs", "2",
                  "--out", sys.argv[1]])
"""


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT,
                                 signal.SIGKILL],
                         ids=["SIGTERM", "SIGINT", "SIGKILL"])
def test_workers_stop_with_the_command(tmp_path, monkeypatch, how):
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setenv("TOY_MARKS", str(marks))
    command = subprocess.Popen(
        [sys.executable, "-c", KILLED, str(tmp_path / "out"),
         str(ROOT / "tests")], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(list(marks.glob("pid_*"))) < 2:  # both workers computing
            assert time.monotonic() < deadline and command.poll() is None
            time.sleep(0.1)
        workers = [int(p.read_text()) for p in marks.glob("pid_*")]
        command.send_signal(how)
        command.wait(timeout=30)
        deadline = time.monotonic() + 15
        while any(_alive(pid) for pid in workers):
            assert time.monotonic() < deadline, "a worker outlived it"
            time.sleep(0.1)
    finally:
        command.kill()


KILLED_MIDWAY = """
import sys
sys.path.insert(0, sys.argv[2])
import experiment_toys
from lstm_tutorial import experiments
experiments.registry = lambda: {
    "midway": ("rnn", experiment_toys.quick_then_sleepy)}
experiments.main(["midway", "--seeds", *sys.argv[3:], "--jobs", "1",
                  "--out", sys.argv[1]])
"""


def test_a_killed_run_keeps_its_finished_seeds_and_resumes(tmp_path,
                                                           monkeypatch):
    """SIGKILL (no handler runs) while seed 1 computes: seed 0, finished,
    is in a whole results file, and the next run skips it."""
    marks, out = tmp_path / "marks", tmp_path / "out"
    marks.mkdir()
    monkeypatch.setenv("TOY_MARKS", str(marks))
    command = subprocess.Popen(
        [sys.executable, "-c", KILLED_MIDWAY, str(out), str(ROOT / "tests"),
         "0", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (marks / "pid_1").exists():  # seed 1 is computing
            assert time.monotonic() < deadline and command.poll() is None
            time.sleep(0.1)
        worker = int((marks / "pid_1").read_text())
        command.kill()
        command.wait(timeout=30)
        deadline = time.monotonic() + 15
        while _alive(worker):
            assert time.monotonic() < deadline, "the worker outlived it"
            time.sleep(0.1)
    finally:
        command.kill()
    assert list(experiments.load_results("midway", out)["seeds"]) == ["0"]
    assert [p.name for p in out.iterdir()] == ["midway.json"]  # no temp
    again = subprocess.run(
        [sys.executable, "-c", KILLED_MIDWAY, str(out), str(ROOT / "tests"),
         "0"], capture_output=True, text=True, check=True)
    assert "midway seed 0: already in" in again.stdout


def test_an_existing_dask_scheduler_runs_the_seeds(fake_registry, tmp_path):
    """The README's cluster recipe on this machine: `dask scheduler` and a
    `dask worker --nthreads 1`, then the runs sent to the scheduler."""
    import socket

    with socket.socket() as s:  # a free port
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")])}
    dask = str(Path(sys.executable).parent / "dask")
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
         "--no-dashboard"], env=env, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen(
        [dask, "worker", address, "--nthreads", "1", "--nworkers", "2",
         "--no-dashboard"], env=env, stderr=subprocess.DEVNULL)
    try:
        import distributed

        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
        record = experiments.run_experiment(
            "trained", [0, 1], tmp_path / "cluster", engine="dask",
            scheduler=address)
        pool = experiments.run_experiment("trained", [0, 1],
                                          tmp_path / "pool", jobs=1)
        assert _numbers(record) == _numbers(pool)
        assert os.getpid() not in {r["pid"] for r in
                                   record["seeds"].values()}
    finally:
        for process in (worker, scheduler):
            process.terminate()
            process.wait(timeout=60)
