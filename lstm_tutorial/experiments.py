"""Run the chapters' multi-seed experiments and store their results.

    python -m lstm_tutorial.experiments list
    python -m lstm_tutorial.experiments NAME [--seeds 0 1 2] [--out DIR]
                                             [--jobs N]
    python -m lstm_tutorial.experiments all       (what ``make experiments``
                                                   runs)

A chapter module registers its experiments in a module-level dict
``EXPERIMENTS = {name: run}``; ``run(seed)`` returns a JSON-serialisable
dict. The results go to ``book/results/NAME.json`` with the seeds, the
versions and the machine, and the chapter loads and plots that file while
its notebook runs one seed live. Each chapter's test file checks that the
stored results satisfy the chapter's claim on every seed.

The seeds run in ``--jobs`` processes side by side (by default as many as
there are runs and CPUs; with ``all``, every experiment's seeds share one
pool, so no core idles at the end of an experiment). Each process
computes on one thread, so a seed gives the same numbers however many
run at once: on a multi-core machine processes, not threads, are the way
to go faster without changing results (README, "Threads").
"""

import argparse
import importlib
import json
import multiprocessing
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
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
    return json.loads(path.read_text())


def _timed(run, seed):
    """``run(seed)`` with its wall time in seconds (in a worker process)."""
    start = time.perf_counter()
    result = run(seed)
    result["seconds"] = round(time.perf_counter() - start, 1)
    return result


def default_jobs(num_runs):
    """One process per run, at most one per CPU."""
    return max(1, min(num_runs, os.cpu_count() or 1))


def run_experiment(name, seeds, out=None, jobs=None):
    """Run ``name`` on each seed, write its results file, return it.

    ``jobs`` processes run the seeds side by side (default: one per seed,
    at most one per CPU); ``jobs=1`` runs them here, one after another.
    """
    return run_experiments([name], seeds, out, jobs)[0]


def run_experiments(names, seeds, out=None, jobs=None):
    """Run each experiment of ``names`` on each seed; return the records.

    All the (experiment, seed) runs share one pool of ``jobs`` processes,
    so a core that finishes early takes the next experiment's first seed
    rather than waiting for the last seed of this one. Each results file
    is written as soon as its seeds are done.
    """
    experiments = registry()
    for name in names:
        if name not in experiments:
            raise ValueError(f"unknown experiment {name!r}; known: "
                             f"{', '.join(sorted(experiments)) or 'none'}")
    runs = [(name, seed) for name in names for seed in seeds]
    jobs = default_jobs(len(runs)) if jobs is None else jobs
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ValueError(f"jobs must be a positive int, got {jobs!r}")
    if jobs == 1:  # here, one after another, in order
        pool = None
        results = (_timed(experiments[name][1], seed) for name, seed in runs)
    else:  # fresh interpreters: each imports lstm_tutorial (one thread)
        pool = ProcessPoolExecutor(
            min(jobs, len(runs)),
            mp_context=multiprocessing.get_context("spawn"))
        results = pool.map(_timed, [experiments[name][1] for name, _ in runs],
                           [seed for _, seed in runs])
    records = []
    try:
        for name in names:  # map yields in order: this name's seeds next
            record = _record(name, experiments[name][0])
            for seed in seeds:
                result = next(results)
                record["seeds"][str(seed)] = result
                print(f"{name} seed {seed}: done in {result['seconds']} s",
                      flush=True)
            path = results_path(name, out)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(record, indent=1, sort_keys=True)
                            + "\n")
            print(f"wrote {path}", flush=True)
            records.append(record)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return records


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
    args = parser.parse_args(argv)
    experiments = registry()
    if args.name == "list":
        for name, (module_name, _) in sorted(experiments.items()):
            print(f"{name}\t(lstm_tutorial/{module_name}.py)")
        return 0
    names = sorted(experiments) if args.name == "all" else [args.name]
    try:
        run_experiments(names, args.seeds, args.out, args.jobs)
    except ValueError as exc:
        parser.error(str(exc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
