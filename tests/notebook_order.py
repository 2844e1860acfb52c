"""The chapters in the order ``make test-notebooks`` hands them to nbval:
the longest to re-execute first.

pytest-xdist gives each of its two workers two notebooks to start with
and the next one as each finishes (``--dist loadfile``, with
``--no-loadscope-reorder`` so that this order is kept; xdist's own order,
most cells first, sent the longest chapter out sixth and left one worker
idle for minutes). How long a chapter takes is read from its own stored
outputs: the execution times of its code cells, which every re-execution
rewrites, so the order follows the chapters as they change.

    python tests/notebook_order.py book/*.ipynb   # the paths, one a line
"""

import json
import sys
from datetime import datetime
from pathlib import Path


def seconds(path):
    """The stored execution time of a notebook's code cells, in seconds
    (0 for a notebook without execution times)."""
    total = 0.0
    for cell in json.loads(Path(path).read_text())["cells"]:
        times = cell.get("metadata", {}).get("execution", {})
        if cell["cell_type"] == "code" and "iopub.execute_input" in times:
            start, end = (datetime.fromisoformat(times[k].replace("Z", ""))
                          for k in ("iopub.execute_input",
                                    "shell.execute_reply"))
            total += (end - start).total_seconds()
    return total


def longest_first(paths):
    """``paths`` sorted by stored execution time, longest first (ties by
    name, so the order is the same on every machine)."""
    return sorted(paths, key=lambda p: (-round(seconds(p)), str(p)))


if __name__ == "__main__":
    print("\n".join(str(p) for p in longest_first(sys.argv[1:])))
