"""lstm-tutorial: recurrent networks built from scratch on MXNet 1.9.1.

The modules follow the book's chapter order; each imports only modules of
earlier chapters or the shared infrastructure (tests/test_structure.py):

- infrastructure: ``device``, ``data``, ``training``, ``plotting``,
  ``diagrams``, ``source`` (and ``experiments``, the command that runs the
  chapters' multi-seed experiments)
- chapters, in order: ``rnn`` (1), ``lstm`` (2, the 1997 cell),
  ``forget_gate`` (3), ``bidirectional_lstm`` (4), ``attention`` (5),
  ``cnn_lstm`` (6)

Importing the package itself is cheap; import the modules you need, e.g.
``from lstm_tutorial import data, rnn``.
"""

import os
import sys
import warnings

__version__ = "0.1.0"

# MXNet's CPU math (its bundled OpenMP OpenBLAS and its own kernels) gives
# last-bit differences with another thread count, and training amplifies
# them into different perplexities. The book's stored outputs are made
# with one thread, so the package fixes the count before MXNet loads:
# import lstm_tutorial before mxnet. LSTM_TUTORIAL_THREADS=n trades that
# reproducibility for speed on a large CPU (README, "Threads").
THREADS_ENV_VAR = "LSTM_TUTORIAL_THREADS"


def _pin_threads():
    threads = os.environ.get(THREADS_ENV_VAR, "1").strip()
    if not threads.isdigit() or int(threads) < 1:
        raise ValueError(f"${THREADS_ENV_VAR} must be a positive integer, "
                         f"got {threads!r}")
    if "mxnet" not in sys.modules:
        os.environ["OMP_NUM_THREADS"] = threads
    elif os.environ.get("OMP_NUM_THREADS") != threads:
        warnings.warn(
            f"mxnet was imported before lstm_tutorial, so MXNet uses "
            f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')!r} threads,"
            f" not {threads}: results may differ from the book's in their "
            "last digits; import lstm_tutorial first", stacklevel=3)


_pin_threads()

# The book's order; a module may import only those before it.
CHAPTER_MODULES = (
    "rnn", "lstm", "forget_gate", "bidirectional_lstm", "attention",
    "cnn_lstm",
)
INFRASTRUCTURE_MODULES = (
    "device", "data", "training", "plotting", "diagrams", "source",
    "experiments",
)
