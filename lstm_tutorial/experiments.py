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
there are seeds and CPUs). Each process computes on one thread, so a seed
gives the same numbers however many run at once: on a multi-core machine
processes, not threads, are the way to go faster without changing results
(README, "Threads").
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


def default_jobs(seeds):
    return max(1, min(len(seeds), os.cpu_count() or 1))


def run_experiment(name, seeds, out=None, jobs=None):
    """Run ``name`` on each seed, write its results file, return it.

    ``jobs`` processes run the seeds side by side (default: one per seed,
    at most one per CPU); ``jobs=1`` runs them here, one after another.
    """
    experiments = registry()
    if name not in experiments:
        raise ValueError(f"unknown experiment {name!r}; known: "
                         f"{', '.join(sorted(experiments)) or 'none'}")
    jobs = default_jobs(seeds) if jobs is None else jobs
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ValueError(f"jobs must be a positive int, got {jobs!r}")
    import mxnet
    import numpy

    module_name, run = experiments[name]
    record = {
        "experiment": name, "chapter_module": module_name,
        "versions": {"lstm_tutorial": __version__,
                     "mxnet": mxnet.__version__, "numpy": numpy.__version__,
                     "python": platform.python_version()},
        "machine": {"platform": platform.platform(),
                    "processor": platform.machine()},
        "seeds": {},
    }
    if jobs == 1:
        results = (_timed(run, seed) for seed in seeds)
    else:  # fresh interpreters: each imports lstm_tutorial (one thread)
        pool = ProcessPoolExecutor(
            min(jobs, len(seeds)),
            mp_context=multiprocessing.get_context("spawn"))
        results = pool.map(_timed, [run] * len(seeds), seeds)
    for seed, result in zip(seeds, results):
        record["seeds"][str(seed)] = result
        print(f"{name} seed {seed}: done in {result['seconds']} s",
              flush=True)
    if jobs > 1:
        pool.shutdown()
    path = results_path(name, out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path}")
    return record


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
                        "(default: one per seed, at most one per CPU)")
    args = parser.parse_args(argv)
    experiments = registry()
    if args.name == "list":
        for name, (module_name, _) in sorted(experiments.items()):
            print(f"{name}\t(lstm_tutorial/{module_name}.py)")
        return 0
    names = sorted(experiments) if args.name == "all" else [args.name]
    try:
        for name in names:
            run_experiment(name, args.seeds, args.out, args.jobs)
    except ValueError as exc:
        parser.error(str(exc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
