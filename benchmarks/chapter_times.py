"""Wall and CPU time of re-executing each chapter, top to bottom.

    python benchmarks/chapter_times.py [--out FILE] [NOTEBOOK ...]

(what ``make bench`` runs, with the Makefile's reproducible environment:
one OpenMP thread, fixed hash seed and SVG dates). Each chapter runs once
in a fresh kernel through ``jupyter nbconvert --execute``, into a
temporary folder: the committed notebooks are not touched. CPU time is
that of the finished child processes (nbconvert and its kernel). The
chapters' nbval runs in ``make test`` execute the same cells, so these
are their cost too (plus comparing the outputs, which is quick).

The multi-seed experiments are timed where they run: the experiments
command stores each seed's seconds in ``book/results/NAME.json``; this
script copies those figures into its results file.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import machine  # benchmarks/machine.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results" / "chapter_times.json"
KERNEL_ENV = {"SOURCE_DATE_EPOCH": "0"}  # as the Makefile's KERNEL_ENV


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_chapter(notebook, out_dir):
    wall, cpu = time.perf_counter(), _children_cpu()
    subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook",
         "--execute", "--ExecutePreprocessor.timeout=900",
         "--output-dir", str(out_dir), str(notebook)],
        env={**os.environ, **KERNEL_ENV}, check=True,
        capture_output=True)
    return {"chapter": notebook.name,
            "wall_s": round(time.perf_counter() - wall, 1),
            "cpu_s": round(_children_cpu() - cpu, 1)}


def experiment_times():
    """Seconds per seed of every stored experiment, as recorded."""
    found = {}
    for path in sorted((ROOT / "book" / "results").glob("*.json")):
        record = json.loads(path.read_text())
        seconds = {seed: r.get("seconds")
                   for seed, r in record["seeds"].items()}
        found[record["experiment"]] = {
            "chapter_module": record["chapter_module"], "seconds": seconds,
            "total_s": round(sum(s for s in seconds.values() if s), 1)}
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(ROOT.glob("book/[0-9]*.ipynb"))
    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as out_dir:
        for notebook in notebooks:
            rows.append(time_chapter(notebook, out_dir))
            print(f"{rows[-1]['chapter']:28} {rows[-1]['wall_s']:7.1f} s "
                  f"wall {rows[-1]['cpu_s']:7.1f} s CPU", flush=True)
    experiments = experiment_times()
    record = {
        "benchmark": "chapter_times",
        "settings": {k: os.environ.get(k) for k in (
            "OMP_NUM_THREADS", "LSTM_TUTORIAL_THREADS", "MXNET_ENGINE_TYPE",
            "PYTHONHASHSEED")},
        "machine": machine.describe(load_before),
        "chapters": rows,
        "chapters_total_wall_s": round(sum(r["wall_s"] for r in rows), 1),
        "experiments": experiments,
        "experiments_total_s": round(
            sum(e["total_s"] for e in experiments.values()), 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"all chapters: {record['chapters_total_wall_s']} s wall; stored "
          f"experiments: {record['experiments_total_s']} s as recorded")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
