"""Chapter 2's task: temporal order (Hochreiter & Schmidhuber 1997, 6a).

A sequence of 100-110 symbols starts with ``E`` and ends with ``B``; every
other symbol is a random ``a``, ``b``, ``c`` or ``d``, except one ``X`` or
``Y`` at a position in [10, 20] and another in [50, 60] (positions count
from 1, as in the paper). The class is the order of the two: ``XX``,
``XY``, ``YX`` or ``YY`` (the paper's Q, R, S, U), and it is asked for
only at the end, some 90 steps after the first informative symbol.

The module holds the task only: the generator, batches, the fixed test
and probe sets, the objective and the accuracy of a sequence classifier
(``lstm.SequenceClassifier``, a readout on the last hidden state of any
layer of the book). Checked by ``tests/test_lstm.py``.
"""

import numpy as onp
from mxnet import np

from . import training
from .source import checked_by

SYMBOLS = ("a", "b", "c", "d", "B", "E", "X", "Y")
CLASSES = ("XX", "XY", "YX", "YY")
LENGTHS = (100, 110)           # the paper's sequence lengths
FIRST, SECOND = (10, 20), (50, 60)  # where the two X/Y symbols go
PAD = -1                      # token after a sequence's end (no input)


def _check_window(name, window):
    if not (isinstance(window, (tuple, list)) and len(window) == 2
            and all(isinstance(v, int) for v in window)
            and window[0] <= window[1]):
        raise ValueError(f"{name} must be two ints (low, high) with "
                         f"low <= high, got {window!r}")


def check_task(lengths, first, second):
    """Check that the windows fit strictly inside the shortest sequence."""
    for name, window in (("lengths", lengths), ("first", first),
                         ("second", second)):
        _check_window(name, window)
    if not (2 <= first[0] and first[1] < second[0]
            and second[1] < lengths[0]):
        raise ValueError(
            "expected 2 <= first < second < lengths[0] (E at position 1, B "
            f"at the end), got lengths={lengths}, first={first}, "
            f"second={second}")


def _check_batch(batch_size, rng, lengths=LENGTHS, first=FIRST,
                 second=SECOND):
    """``temporal_order``'s arguments, checked before it draws."""
    if not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive int, got "
                         f"{batch_size!r}")
    if not isinstance(rng, onp.random.RandomState):
        raise TypeError("rng must be a numpy.random.RandomState, got "
                        f"{type(rng).__name__}")
    check_task(lengths, first, second)


@checked_by(_check_batch)
def temporal_order(batch_size, rng, lengths=LENGTHS, first=FIRST,
                   second=SECOND):
    """A batch of the task as ``(tokens, lengths, labels)`` NumPy arrays.

    ``tokens`` is (batch_size, max_length) indices into ``SYMBOLS``, padded
    with ``PAD`` after each sequence's end; ``rng`` a ``RandomState``.
    """
    sizes = rng.randint(lengths[0], lengths[1] + 1, size=batch_size)
    tokens = onp.full((batch_size, lengths[1]), PAD, dtype=onp.int32)
    labels = rng.randint(0, 4, size=batch_size)
    for row, (size, label) in enumerate(zip(sizes, labels)):
        tokens[row, :size] = rng.randint(0, 4, size=size)  # a, b, c, d
        tokens[row, 0], tokens[row, size - 1] = 5, 4        # E ... B
        t1 = rng.randint(first[0], first[1] + 1) - 1        # 0-based
        t2 = rng.randint(second[0], second[1] + 1) - 1
        tokens[row, t1] = 6 + label // 2                    # X or Y
        tokens[row, t2] = 6 + label % 2
    return tokens, sizes.astype(onp.int32), labels.astype(onp.int32)


def decode(tokens):
    """The symbols of one row of ``tokens`` as a string (padding dropped)."""
    return "".join(SYMBOLS[t] for t in tokens if t != PAD)


def to_batch(tokens, lengths, labels, ctx):
    """One-hot inputs (T, B, 8), lengths and labels as arrays on ``ctx``."""
    one_hot = onp.eye(len(SYMBOLS), dtype=onp.float32)[tokens]
    one_hot[tokens == PAD] = 0.0
    X = np.array(one_hot.transpose(1, 0, 2), ctx=ctx)  # (T, B, 8)
    return (X, np.array(lengths, ctx=ctx, dtype="int32"),
            np.array(labels, ctx=ctx, dtype="int32"))


def batches(num_batches, batch_size, seed, ctx, **task):
    """``num_batches`` fresh training batches from ``RandomState(seed)``."""
    rng = onp.random.RandomState(seed)
    for _ in range(num_batches):
        yield to_batch(*temporal_order(batch_size, rng, **task), ctx)


def objective(net, batch):
    """Softmax cross-entropy of the classes, asked for at the end only."""
    X, lengths, labels = batch
    return training.cross_entropy(net(X, lengths), labels)


def accuracy(net, batch):
    """Fraction of the batch whose class is predicted right."""
    X, lengths, labels = batch
    predictions = net(X, lengths).argmax(axis=1).astype("int32")
    return float((predictions == labels).mean())


def test_set(ctx, size=512, seed=1997):
    """The fixed test sequences every model and seed is scored on."""
    rng = onp.random.RandomState(seed)
    return to_batch(*temporal_order(size, rng), ctx)


def probe_set(ctx, size=32, length=110, seed=1991):
    """Fixed sequences of one length, for measuring gradient flow."""
    rng = onp.random.RandomState(seed)
    return to_batch(*temporal_order(size, rng, lengths=(length, length)),
                    ctx)
