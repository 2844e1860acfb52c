"""Run the chapters' multi-seed experiments and store their results.

    python -m lstm_tutorial.experiments list
    python -m lstm_tutorial.experiments NAME [--seeds 0 1 ... 9] [--out DIR]
                                             [--jobs N] [--rerun] [--replace]
                                             [--engine dask [--scheduler A]]
    python -m lstm_tutorial.experiments all       (what ``make experiments``
                                                   runs)
    python -m lstm_tutorial.experiments claims [NAME] [--out DIR]

A chapter module registers its experiments in a module-level dict
``EXPERIMENTS = {name: run}``; ``run(seed)`` returns a JSON-serialisable
dict. The results go to ``book/results/NAME.json`` with the seeds, the
versions and the machine, and the chapter loads and plots that file while
its notebook runs one seed live. The module also registers what the
experiment shows, ``CLAIMS = {name: claims}``: ``claims(record)`` returns
``claims.Claim`` objects over all the stored seeds (rates, k of N, with
their intervals). ``claims`` prints them for the records in ``--out`` and
exits with status 1 if one fails: run the experiments on seeds of your
own into a folder of your own, and check the book's claims on them.

Nothing computed is lost:

- every argument is checked before any training (the experiment names,
  the seeds, the jobs, and that ``--out`` is a folder that can be
  written);
- each seed's result is merged into the stored record and written as
  soon as that seed is done, so a run stopped half way keeps what it
  finished, and a run started again skips the seeds already stored
  (``--rerun`` computes them again; ``--replace`` starts a new record,
  dropping the seeds not asked for); when one seed fails, no new seed is
  started, the seeds already running finish and are kept, and then the
  error is raised;
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

``--engine dask`` sends the same (experiment, seed) runs to a Dask
cluster instead, through its ``concurrent.futures`` executor (the
optional extra ``pip install -e '.[dask]'``): a local cluster of
``--jobs`` one-thread workers by default, or the scheduler at
``--scheduler ADDRESS``, whose workers must each run one thread (``dask
worker ADDRESS --nthreads 1``; README, "Many seeds on a cluster"). Each
run is the same function on the same seed in a process of its own, so
the numbers are those of the process pool.
"""

import argparse
import ctypes
import importlib
import json
import logging
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
# The seeds every experiment stores: the book's claims are rates over them.
SEEDS = tuple(range(10))
ENGINES = ("process", "dask")


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


def claims_of(name):
    """The function ``claims(record)`` registered for experiment ``name``
    (``CLAIMS`` of its chapter module)."""
    module_name, _ = registry()[name]
    module = importlib.import_module(f"lstm_tutorial.{module_name}")
    found = getattr(module, "CLAIMS", {}).get(name)
    if found is None:
        raise LookupError(f"lstm_tutorial/{module_name}.py registers "
                          f"experiment {name!r} but no claims for it "
                          "(CLAIMS = {name: claims})")
    return found


def check_claims(name, out=None):
    """The claims of experiment ``name`` over its stored record."""
    return claims_of(name)(load_results(name, out))


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
    text = json.dumps(_ordered(record), indent=1) + "\n"
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                     suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); a results file is as
        # readable as any file the user creates (the umask decides)
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _ordered(value):
    """``value`` with every dict's keys sorted, numbers as numbers: seed
    "10" comes after seed "9"."""
    if isinstance(value, dict):
        def key(k):
            return (0, int(k), "") if k.isdigit() else (1, 0, k)
        return {k: _ordered(value[k]) for k in sorted(value, key=key)}
    if isinstance(value, list):
        return [_ordered(v) for v in value]
    return value


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
                   replace=False, engine="process", scheduler=None):
    """Run ``name`` on each seed; write and return its merged record.

    ``jobs`` processes run the seeds side by side (default: one per seed,
    at most one per CPU); ``jobs=1`` runs them here, one after another.
    """
    return run_experiments([name], seeds, out, jobs, rerun, replace,
                           engine, scheduler)[0]


def _check_arguments(names, seeds, out, jobs, experiments, engine="process",
                     scheduler=None):
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
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got "
                         f"{engine!r}")
    if scheduler is not None and engine != "dask":
        raise ValueError(f"--scheduler is an address for --engine dask, got "
                         f"it with --engine {engine}")
    if engine == "dask":
        _dask()  # installed, or say how
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
                    replace=False, engine="process", scheduler=None):
    """Run each experiment of ``names`` on each seed; return the records.

    All the (experiment, seed) runs share one pool of ``jobs`` processes
    (``engine="process"``) or one Dask cluster (``engine="dask"``: a local
    one of ``jobs`` workers, or the scheduler at ``scheduler``). Each
    seed's result is merged into its experiment's stored record and
    written as soon as it is done. Seeds already stored are skipped
    unless ``rerun``; ``replace`` drops the stored seeds not in ``seeds``.
    """
    experiments = registry()
    folder = _check_arguments(names, seeds, out, jobs, experiments, engine,
                              scheduler)
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
    for name, seed, result in _results(runs, experiments, jobs, engine,
                                       scheduler):
        records[name]["seeds"][str(seed)] = result
        path = results_path(name, folder)
        write_record(path, records[name])
        print(f"{name} seed {seed}: done in {result['seconds']} s, "
              f"{len(records[name]['seeds'])} seeds in {path}", flush=True)
    if runs and folder.resolve() == RESULTS_DIR.resolve():
        print(f"note: the committed results in {RESULTS_DIR} changed; "
              "`git diff book/results` shows how", flush=True)
    return [records[name] for name in names]


def _dask():
    """Dask's ``distributed`` module, or an error saying how to get it."""
    try:
        import distributed
    except ModuleNotFoundError as exc:
        raise ValueError("--engine dask needs Dask's distributed package: "
                         "pip install -e '.[dask]' (README, \"Many seeds on "
                         "a cluster\")") from exc
    return distributed


def _dask_executor(jobs, scheduler):
    """A ``concurrent.futures`` executor on a Dask cluster, and a function
    that closes what was opened for it."""
    distributed = _dask()
    cluster = None
    if scheduler is None:  # a cluster on this machine, one thread a worker
        cluster = distributed.LocalCluster(
            n_workers=jobs, threads_per_worker=1, processes=True,
            dashboard_address=None, silence_logs=logging.ERROR)
    client = distributed.Client(scheduler or cluster)

    def close():
        client.close()
        if cluster is not None:
            cluster.close()

    threads = client.nthreads()
    if not threads or any(n != 1 for n in threads.values()):
        close()  # two runs in one process would share MXNet's seed
        raise ValueError(f"--engine dask needs workers of one thread each "
                         f"(dask worker ADDRESS --nthreads 1); the "
                         f"scheduler {scheduler} has {threads or 'none'}")
    return client.get_executor(pure=False), close


def _results(runs, experiments, jobs, engine="process", scheduler=None):
    """``(name, seed, result)`` as each run finishes."""
    if engine == "process" and (jobs == 1 or len(runs) <= 1):
        for name, seed in runs:  # here, one after another, in order
            yield name, seed, _timed(experiments[name][1], seed)
        return
    if not runs:
        return
    if engine == "dask":
        pool, close = _dask_executor(min(jobs, len(runs)), scheduler)
    else:  # fresh interpreters: each imports lstm_tutorial (one thread)
        pool = ProcessPoolExecutor(
            min(jobs, len(runs)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_die_with_parent)

        def close():
            for process in list(getattr(pool, "_processes", {}).values()):
                if process.is_alive():  # stop the runs still going
                    process.terminate()
            pool.shutdown(wait=True, cancel_futures=True)
    try:
        futures = {pool.submit(_timed, experiments[name][1], seed):
                   (name, seed) for name, seed in runs}
        failure = None
        for future in as_completed(futures):
            if future.cancelled():
                continue
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 (raised below)
                if failure is None:  # start no more; let the others finish
                    failure = exc
                    for queued in futures:
                        queued.cancel()
                continue
            yield (*futures[future], result)
        if failure is not None:
            raise failure
    finally:
        close()


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


def _stored_names(out=None):
    """The registered experiments with a results file in ``out``."""
    return sorted(n for n in registry() if results_path(n, out).is_file())


def claims_report(names=None, out=None):
    """``(table, failed)`` of the stored records' claims: a Markdown table
    of every claim of the experiments ``names`` (default: every record in
    ``out``), and the claims that fail, as text. README.md shows this
    table for the committed records (tests/test_claims_stored.py)."""
    from .claims import table

    found, labels = [], []
    for name in _stored_names(out) if names is None else names:
        listed = check_claims(name, out)
        found += listed
        labels += [name] * len(listed)
    failed = [f"{n}: {c}" for n, c in zip(labels, found) if not c.holds]
    return table(found, labels), failed


def _print_claims(parser, experiments, which, out):
    """Print the claims of the stored records in ``out``; 1 if one fails."""
    if which is not None and which not in experiments:
        parser.error(f"unknown experiment {which!r}; known: "
                     f"{', '.join(sorted(experiments))}")
    names = [which] if which else _stored_names(out)
    if not names:
        parser.error(f"no results in {Path(out or RESULTS_DIR)}")
    try:
        text, failed = claims_report(names, out)
    except (FileNotFoundError, ValueError) as exc:
        parser.error(str(exc))
    print(text)
    rows = len(text.splitlines()) - 2  # below the header and its rule
    print("\n".join(failed) if failed else f"\nall {rows} claims hold",
          flush=True)
    return 1 if failed else 0


def _stop(signum, frame):
    raise SystemExit(128 + signum)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m lstm_tutorial."
                                     "experiments", description=__doc__,
                                     formatter_class=argparse.
                                     RawDescriptionHelpFormatter)
    parser.add_argument("name", help="an experiment, 'all', 'list' or "
                        "'claims' (of every stored record, or of NAME)")
    parser.add_argument("which", nargs="?", default=None,
                        help="with 'claims': one experiment")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
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
    parser.add_argument("--engine", default="process", choices=ENGINES,
                        help="run the seeds in a local process pool "
                        "(default) or on a Dask cluster")
    parser.add_argument("--scheduler", default=None,
                        help="with --engine dask: a running scheduler's "
                        "address (default: a local cluster of --jobs "
                        "workers)")
    args = parser.parse_args(argv)
    experiments = registry()
    if args.name == "list":
        for name, (module_name, _) in sorted(experiments.items()):
            print(f"{name}\t(lstm_tutorial/{module_name}.py)")
        return 0
    if args.name == "claims":
        return _print_claims(parser, experiments, args.which, args.out)
    if args.which is not None:
        parser.error(f"one experiment at a time, got {args.which!r} after "
                     f"{args.name!r}")
    names = sorted(experiments) if args.name == "all" else [args.name]
    # Stop the workers, then exit. SIGINT too: a shell that starts the
    # command in the background has Python ignore Ctrl-C otherwise.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _stop)
    try:
        run_experiments(names, args.seeds, args.out, args.jobs, args.rerun,
                        args.replace, args.engine, args.scheduler)
    except ValueError as exc:
        parser.error(str(exc))
    except OSError as exc:  # a full disk or a folder gone: what is kept
        parser.exit(1, f"{parser.prog}: error: {exc}; every results file "
                    "is written whole or not at all, so the stored seeds "
                    "are as they were before this write\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
