"""Run the chapters' multi-seed experiments and store their results.

    python -m lstm_tutorial.experiments list
    python -m lstm_tutorial.experiments NAME [--seeds 0 1 2] [--out DIR]
                                             [--jobs N] [--rerun] [--replace]
    python -m lstm_tutorial.experiments all       (what ``make experiments``
                                                   runs)

A chapter module registers its experiments in a module-level dict
``EXPERIMENTS = {name: run}``; ``run(seed)`` returns a JSON-serialisable
dict. The results go to ``book/results/NAME.json`` with the seeds, the
versions and the machine, and the chapter loads and plots that file while
its notebook runs one seed live. Each chapter's test file checks that the
stored results satisfy the chapter's claim on every seed.

Nothing computed is lost:

- every argument is checked before any training (the experiment names,
  the seeds, the jobs, and that ``--out`` is a folder that can be
  written);
- each seed's result is merged into the stored record and written as
  soon as that seed is done, so a run stopped half way keeps what it
  finished, and a run started again skips the seeds already stored
  (``--rerun`` computes them again; ``--replace`` starts a new record,
  dropping the seeds not asked for);
- a record is written to a temporary file in the same folder and renamed
  over the old one, so a full disk or a crash leaves the old file whole;
- the workers stop with the command (Ctrl-C, SIGTERM, or the command
  killed outright).

The seeds run in ``--jobs`` processes side by side (by default as many as
there are runs and CPUs; with ``all``, every experiment's seeds share one
pool, so no core idles at the end of an experiment). Each process
computes on one thread, so a seed gives the same numbers however many
run at once: on a multi-core machine processes, not threads, are the way
to go faster without changing results (README, "Threads").
"""

import argparse
import ctypes
import importlib
import json
import multiprocessing
import os
import platform
import signal
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from . import CHAPTER_MODULES, __version__

RESULTS_DIR = Path(__file__).resolve().parent.parent / "book" / "results"


def registry():
    """``{name: (module_name, run)}`` over the chapter modules present."""
    found = {}
    for module_name in CHAPTER_MODULES:
        try:
            module = importlib.import_module(f"lstm_tutorial.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"lstm_tutorial.{module_name}":
                raise
            continue
        for name, run in getattr(module, "EXPERIMENTS", {}).items():
            found[name] = (module_name, run)
    return found


def results_path(name, out=None):
    return Path(out or RESULTS_DIR) / f"{name}.json"


def load_results(name, out=None):
    """The stored results of experiment ``name``."""
    path = results_path(name, out)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist: run `python -m lstm_tutorial."
            f"experiments {name}` (or `make experiments`)")
    return _read(path)


def _read(path):
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} is not a readable results file ({exc}): "
                         "restore it (git checkout) or run with --replace"
                         ) from exc
    if not isinstance(record, dict) or not isinstance(
            record.get("seeds"), dict):
        raise ValueError(f"{path} holds no 'seeds': not a results file; "
                         "restore it or run with --replace")
    return record


def write_record(path, record):
    """Write ``record`` to ``path`` atomically: a temporary file in the
    same folder, flushed to disk, then renamed over the old one."""
    text = json.dumps(record, indent=1, sort_keys=True) + "\n"
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                     suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _timed(run, seed):
    """``run(seed)`` with its wall time in seconds (in a worker process)."""
    start = time.perf_counter()
    result = run(seed)
    result["seconds"] = round(time.perf_counter() - start, 1)
    return result


def _die_with_parent():
    """In a worker: be sent SIGTERM when the parent dies (Linux), however
    it dies, and leave Ctrl-C to the parent, which stops the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: SIGTERM still stops us
        pass
    if os.getppid() == 1:  # the parent died before prctl
        os._exit(1)


def default_jobs(num_runs):
    """One process per run, at most one per CPU."""
    return max(1, min(num_runs, os.cpu_count() or 1))


def run_experiment(name, seeds, out=None, jobs=None, rerun=False,
                   replace=False):
    """Run ``name`` on each seed; write and return its merged record.

    ``jobs`` processes run the seeds side by side (default: one per seed,
    at most one per CPU); ``jobs=1`` runs them here, one after another.
    """
    return run_experiments([name], seeds, out, jobs, rerun, replace)[0]


def _check_arguments(names, seeds, out, jobs, experiments):
    for name in names:
        if name not in experiments:
            raise ValueError(f"unknown experiment {name!r}; known: "
                             f"{', '.join(sorted(experiments)) or 'none'}")
    if not isinstance(seeds, (list, tuple)) or not seeds:
        raise ValueError(f"seeds must be a non-empty list of ints, got "
                         f"{seeds!r}")
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seeds must be non-negative ints, got "
                             f"{seed!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must not repeat, got {list(seeds)}")
    if jobs is not None and (not isinstance(jobs, int)
                             or isinstance(jobs, bool) or jobs < 1):
        raise ValueError(f"jobs must be a positive int, got {jobs!r}")
    folder = Path(out or RESULTS_DIR)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"--out must be a folder, got the file {folder}")
    try:  # found now, not after hours of training
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as exc:
        raise ValueError(f"--out {folder} cannot be written: "
                         f"{exc.strerror or exc}") from exc
    return folder


def run_experiments(names, seeds, out=None, jobs=None, rerun=False,
                    replace=False):
    """Run each experiment of ``names`` on each seed; return the records.

    All the (experiment, seed) runs share one pool of ``jobs`` processes.
    Each seed's result is merged into its experiment's stored record and
    written as soon as it is done. Seeds already stored are skipped
    unless ``rerun``; ``replace`` drops the stored seeds not in ``seeds``.
    """
    experiments = registry()
    folder = _check_arguments(names, seeds, out, jobs, experiments)
    records, runs = {}, []
    for name in names:
        path = results_path(name, folder)
        record = (_read(path) if path.exists() and not replace
                  else _record(name, experiments[name][0]))
        records[name] = record
        stored = set(record["seeds"])
        for seed in seeds:
            if rerun or replace or str(seed) not in stored:
                runs.append((name, seed))
            else:
                print(f"{name} seed {seed}: already in {path}, skipped "
                      "(--rerun computes it again)", flush=True)
        if replace and path.exists():
            print(f"{path} will be replaced by a record of seeds "
                  f"{sorted(seeds)} only, as each is done", flush=True)
    jobs = default_jobs(len(runs)) if jobs is None else jobs
    for name, seed, result in _results(runs, experiments, jobs):
        records[name]["seeds"][str(seed)] = result
        path = results_path(name, folder)
        write_record(path, records[name])
        print(f"{name} seed {seed}: done in {result['seconds']} s, "
              f"{len(records[name]['seeds'])} seeds in {path}", flush=True)
    if runs and folder.resolve() == RESULTS_DIR.resolve():
        print(f"note: the committed results in {RESULTS_DIR} changed; "
              "`git diff book/results` shows how", flush=True)
    return [records[name] for name in names]


def _results(runs, experiments, jobs):
    """``(name, seed, result)`` as each run finishes."""
    if jobs == 1 or len(runs) <= 1:  # here, one after another, in order
        for name, seed in runs:
            yield name, seed, _timed(experiments[name][1], seed)
        return
    # fresh interpreters: each imports lstm_tutorial (one thread)
    pool = ProcessPoolExecutor(
        min(jobs, len(runs)), mp_context=multiprocessing.get_context("spawn"),
        initializer=_die_with_parent)
    try:
        futures = {pool.submit(_timed, experiments[name][1], seed):
                   (name, seed) for name, seed in runs}
        for future in as_completed(futures):
            yield (*futures[future], future.result())
    finally:
        for process in list(getattr(pool, "_processes", {}).values()):
            if process.is_alive():  # stop the runs still going
                process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


def _record(name, module_name):
    """A results file's header: the experiment, versions and machine."""
    import mxnet
    import numpy

    return {
        "experiment": name, "chapter_module": module_name,
        "versions": {"lstm_tutorial": __version__,
                     "mxnet": mxnet.__version__, "numpy": numpy.__version__,
                     "python": platform.python_version()},
        "machine": {"platform": platform.platform(),
                    "processor": platform.machine()},
        "seeds": {},
    }


def _stop(signum, frame):
    raise SystemExit(128 + signum)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m lstm_tutorial."
                                     "experiments", description=__doc__,
                                     formatter_class=argparse.
                                     RawDescriptionHelpFormatter)
    parser.add_argument("name", help="an experiment, 'all' or 'list'")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", default=None,
                        help=f"results folder (default {RESULTS_DIR})")
    parser.add_argument("--jobs", type=int, default=None,
                        help="processes running seeds side by side "
                        "(default: one per run, at most one per CPU)")
    parser.add_argument("--rerun", action="store_true",
                        help="compute seeds already stored again")
    parser.add_argument("--replace", action="store_true",
                        help="start a new record: drop the stored seeds "
                        "not given with --seeds")
    args = parser.parse_args(argv)
    experiments = registry()
    if args.name == "list":
        for name, (module_name, _) in sorted(experiments.items()):
            print(f"{name}\t(lstm_tutorial/{module_name}.py)")
        return 0
    names = sorted(experiments) if args.name == "all" else [args.name]
    # Stop the workers, then exit. SIGINT too: a shell that starts the
    # command in the background has Python ignore Ctrl-C otherwise.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _stop)
    try:
        run_experiments(names, args.seeds, args.out, args.jobs, args.rerun,
                        args.replace)
    except ValueError as exc:
        parser.error(str(exc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
