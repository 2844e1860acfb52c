"""Device selection and seeding: the only module that names a context.

CONTRIBUTING.md, "Devices". ``device()`` reads ``LSTM_TUTORIAL_DEVICE``
(``cpu``, ``gpu`` or ``auto``; default ``auto``: a GPU when MXNet sees
one). Every array and parameter in the book is created on the context it
returns.
``check_context`` turns a context mismatch into a clear error instead of
MXNet's stack trace (plain ``mxnet.np`` ops silently mix ``cpu(0)`` and
``cpu(1)`` operands). Checked by ``tests/test_device.py``.
"""

import os
import random

import mxnet as mx
import numpy as onp
from mxnet import npx

npx.set_np()

ENV_VAR = "LSTM_TUTORIAL_DEVICE"
CHOICES = ("auto", "cpu", "gpu")


def num_gpus():
    """Number of GPUs MXNet can use (0 with the CPU build)."""
    return mx.context.num_gpus()


def device(name=None):
    """The context the book runs on: ``'cpu'``, ``'gpu'`` or ``'auto'``.

    ``name=None`` reads ``$LSTM_TUTORIAL_DEVICE`` (default ``'auto'``).
    """
    where = "device name"
    if name is None:
        name, where = os.environ.get(ENV_VAR, "auto"), f"${ENV_VAR}"
    if not isinstance(name, str):
        raise TypeError(f"{where} must be a string, got {type(name).__name__}")
    key = name.strip().lower() or "auto"
    if key not in CHOICES:
        raise ValueError(
            f"unknown {where} {name!r}: expected one of {', '.join(CHOICES)}")
    if key == "cpu" or (key == "auto" and num_gpus() == 0):
        return mx.cpu()
    if num_gpus() == 0:
        raise ValueError(
            f"{where} is 'gpu' but MXNet sees no GPU: install the CUDA build "
            "(e.g. mxnet-cu117==1.9.1, see README) or use 'cpu'")
    return mx.gpu(0)


def check_available(ctx):
    """Raise ``ValueError`` if ``ctx`` (a context or a list of them) names a
    GPU that MXNet cannot use: MXNet's own message ("GPU is not enabled")
    does not say what to do."""
    for one in ctx if isinstance(ctx, (list, tuple)) else [ctx]:
        if getattr(one, "device_type", None) == "gpu" and \
                one.device_id >= num_gpus():
            raise ValueError(
                f"ctx is {one} but MXNet sees {num_gpus()} GPU(s): use "
                "ctx=device.device(), which picks the GPU only when there is"
                " one (install the CUDA build, e.g. mxnet-cu117==1.9.1, to "
                "use a GPU)")


def check_context(name, array, ctx):
    """Raise ``ValueError`` unless ``array`` lives on context ``ctx``."""
    if array.ctx != ctx:
        raise ValueError(
            f"{name} is on {array.ctx} but the model is on {ctx}: "
            f"move it with {name}.as_in_ctx(ctx)")


def seed(value):
    """Seed Python, NumPy and MXNet (every device) for a reproducible run."""
    if not isinstance(value, int) or value < 0:
        raise ValueError(f"seed must be a non-negative int, got {value!r}")
    random.seed(value)
    onp.random.seed(value)
    mx.random.seed(value, ctx="all")
