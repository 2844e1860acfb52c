"""lstm-tutorial: recurrent networks built from scratch on MXNet 1.9.1.

The modules follow the book's chapter order; each imports only modules of
earlier chapters or the shared infrastructure (tests/test_structure.py):

- infrastructure: ``device``, ``data``, ``layers`` (the protocol every
  recurrent layer follows: checks, state, loop, weights, MXNet twin),
  ``training``, ``plotting``, ``diagrams`` and ``cell_diagrams`` (the
  cells step by step), ``source``, ``fast`` (a fused
  layer's loop as one static graph), ``claims`` (rates over seeds with
  their intervals), and ``experiments``, the command
  that runs the chapters' multi-seed experiments
- companions of a chapter module: ``*_tasks``, its task only (data,
  batches, objectives, metrics, baselines; no model, no training run)
- NumPy only: ``numpy_lstm``, the LSTM's forward and hand-derived
  backward (the 1997 truncated gradient too); it imports NumPy and the
  standard library only, so it runs where MXNet does not install, and
  any module may import it
- chapters, in order: ``rnn`` (1), ``lstm`` (2, the 1997 cell),
  ``forget_gate`` (3), ``bidirectional_lstm`` (4), ``attention`` (5),
  ``cnn_lstm`` (6), ``variants`` (7), ``backprop`` (8, the gradient by
  hand), ``image_attention`` (9, attention over an image)

Importing the package itself is cheap; import the modules you need, e.g.
``from lstm_tutorial import data, rnn``.
"""

import os
import sys
import warnings

__version__ = "0.1.0"

# MXNet's CPU math gives last-bit differences with another thread count,
# and with other CPU kernels; training amplifies them into different
# perplexities and accuracies. The book's stored outputs are made with one
# thread and AVX2 kernels, so the package fixes both before MXNet loads
# (import lstm_tutorial before mxnet):
# - one OpenMP thread; LSTM_TUTORIAL_THREADS=n trades reproducibility for
#   speed on a large CPU (README, "Threads");
# - the kernels of MXNet's bundled OpenBLAS (it picks them by CPU:
#   AVX-512 ones on recent Intel chips) and oneDNN: the AVX2 ones, on any
#   x86-64 CPU that has AVX2. Elsewhere the last digits may differ.
THREADS_ENV_VAR = "LSTM_TUTORIAL_THREADS"
KERNELS = {"OPENBLAS_CORETYPE": "Haswell", "DNNL_MAX_CPU_ISA": "AVX2"}


def _has_avx2():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            return any(line.startswith("flags") and " avx2" in line
                       for line in cpuinfo)
    except OSError:  # not Linux: leave the libraries' own choice
        return False


def _pin_math():
    threads = os.environ.get(THREADS_ENV_VAR, "1").strip()
    if not threads.isdigit() or int(threads) < 1:
        raise ValueError(f"${THREADS_ENV_VAR} must be a positive integer, "
                         f"got {threads!r}")
    if "mxnet" not in sys.modules:
        os.environ["OMP_NUM_THREADS"] = threads
        if _has_avx2():
            for name, value in KERNELS.items():
                set_before = os.environ.setdefault(name, value)
                if set_before != value:
                    warnings.warn(
                        f"{name}={set_before!r} is set, not the book's "
                        f"{value!r}: MXNet's math then differs in its last "
                        "digits and training drifts, so the notebooks' "
                        "stored outputs may not reproduce (unset it, or "
                        f"set {name}={value})", stacklevel=3)
    elif os.environ.get("OMP_NUM_THREADS") != threads:
        warnings.warn(
            f"mxnet was imported before lstm_tutorial, so MXNet uses "
            f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')!r} threads,"
            f" not {threads}: results may differ from the book's in their "
            "last digits; import lstm_tutorial first", stacklevel=3)


_pin_math()

# The book's order; a module may import only those before it.
CHAPTER_MODULES = (
    "rnn", "lstm", "forget_gate", "bidirectional_lstm", "attention",
    "cnn_lstm", "variants", "backprop", "image_attention",
)
INFRASTRUCTURE_MODULES = (
    "device", "data", "layers", "training", "plotting", "diagrams",
    "cell_diagrams", "source", "fast", "claims", "experiments",
)
# Modules that import NumPy and the standard library only (no MXNet, no
# other module of the package): any module may import them.
NUMPY_ONLY_MODULES = ("numpy_lstm",)
