"""Chapter 4's task: framewise labelling whose labels need the future.

After Graves & Schmidhuber (2005), who labelled every frame of TIMIT
speech with its phoneme. TIMIT is not free, so a synthetic task isolates
the property that matters: a frame's label may be revealed only *after*
the frame. A sequence of ``num_steps`` frames is cut into segments of
random length (5 to 25); every frame of a segment carries the segment's
class (one of 4); the class is shown by one *cue* frame, placed at random
at the segment's first or its last frame; all other frames are random
distractors; an input bit marks each segment's first frame. The last
segment is cut where the sequence ends, and its cue follows the cut.

A model that sees ``past`` frames back and ``future`` frames ahead knows a
frame's class exactly when the cue of its segment lies in that range;
otherwise it can only guess (classes are independent and uniform). That
gives each model's best possible frame accuracy by construction
(``bound``, ``expected_bound``). The module holds the task only; the
models (the windowed MLP among them) and their training are in
``bidirectional_lstm``. Checked by ``tests/test_bidirectional_lstm.py``.
"""

import numpy as onp
from mxnet import np

from . import training
from .source import checked_by

CLASSES = ("A", "B", "C", "D")             # cue symbols, one per class
DISTRACTORS = ("u", "v", "w", "x", "y", "z")
SYMBOLS = CLASSES + DISTRACTORS
NUM_INPUTS = len(SYMBOLS) + 1              # one-hot symbol, boundary bit
# The configuration of a pilot run, and the five models' sizes.
CONFIG = {"num_steps": 100, "lengths": (5, 25), "batch_size": 32,
          "lr": 1e-2, "theta": 1.0, "train_steps": 400, "eval_every": 10,
          "delay": 5, "radius": 5, "test_size": 256, "test_seed": 2005,
          "num_hiddens": {"bilstm": 32, "lstm": 48, "lstm_delay": 48,
                          "brnn": 32, "mlp": 90}}


def _check_positive(name, value):
    if not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def _check_lengths(lengths):
    low, high = lengths
    if not (isinstance(low, int) and isinstance(high, int)
            and 1 <= low <= high):
        raise ValueError("lengths must be two ints (low, high) with "
                         f"1 <= low <= high, got {lengths!r}")


def _check_segment_cue(batch_size, rng, num_steps=100, lengths=(5, 25)):
    _check_positive("batch_size", batch_size)
    _check_positive("num_steps", num_steps)
    _check_lengths(lengths)
    if not isinstance(rng, onp.random.RandomState):
        raise TypeError("rng must be a numpy.random.RandomState, got "
                        f"{type(rng).__name__}")


@checked_by(_check_segment_cue)
def segment_cue(batch_size, rng, num_steps=100, lengths=(5, 25)):
    """A batch as ``(tokens, starts, labels, cues)`` NumPy arrays.

    Each is (batch_size, num_steps): symbol indices into ``SYMBOLS``, the
    boundary bit, the class of every frame, and the position of the cue
    frame of every frame's segment. ``rng`` is a ``RandomState``.
    """
    shape = (batch_size, num_steps)
    tokens = rng.randint(len(CLASSES), len(SYMBOLS), size=shape)
    starts = onp.zeros(shape, dtype=bool)
    labels, cues = onp.zeros(shape, onp.int32), onp.zeros(shape, onp.int32)
    for row in range(batch_size):
        t = 0
        while t < num_steps:
            end = min(t + rng.randint(lengths[0], lengths[1] + 1), num_steps)
            label = rng.randint(len(CLASSES))
            cue = t if rng.randint(2) == 0 else end - 1  # first or last
            tokens[row, cue] = label
            starts[row, t] = True
            labels[row, t:end], cues[row, t:end] = label, cue
            t = end
    return tokens.astype(onp.int32), starts, labels, cues


def decode(tokens, starts):
    """One row as text, ``|`` before each segment's first frame."""
    return "".join(("|" if s else "") + SYMBOLS[k]
                   for k, s in zip(tokens, starts))


def to_batch(tokens, starts, labels, ctx):
    """Inputs (T, B, 11) and labels (T, B) as arrays on ``ctx``."""
    X = onp.zeros(tokens.shape + (NUM_INPUTS,), dtype=onp.float32)
    X[..., :len(SYMBOLS)] = onp.eye(len(SYMBOLS), dtype=onp.float32)[tokens]
    X[..., -1] = starts                    # the boundary bit
    return (np.array(X.transpose(1, 0, 2), ctx=ctx),
            np.array(labels.T, ctx=ctx, dtype="int32"))


def batches(num_batches, batch_size, seed, ctx, **task):
    """``num_batches`` fresh training batches from ``RandomState(seed)``."""
    rng = onp.random.RandomState(seed)
    for _ in range(num_batches):
        tokens, starts, labels, _ = segment_cue(batch_size, rng, **task)
        yield to_batch(tokens, starts, labels, ctx)


def test_set(ctx, size=CONFIG["test_size"], seed=CONFIG["test_seed"]):
    """The fixed test batch ``(X, Y)`` and its cue positions (NumPy)."""
    tokens, starts, labels, cues = segment_cue(size,
                                               onp.random.RandomState(seed))
    return to_batch(tokens, starts, labels, ctx), cues


def in_view(cues, past=None, future=0):
    """Frames whose segment's cue is within ``past`` back, ``future`` ahead.

    ``cues`` (batch_size, num_steps) as ``segment_cue`` returns them;
    ``None`` means unlimited. Returns a boolean array of the same shape.
    """
    t = onp.arange(cues.shape[-1])
    seen = cues <= t + (cues.shape[-1] if future is None else future)
    if past is not None:
        seen &= cues >= t - past
    return seen


def bound(cues, past=None, future=0):
    """Best expected frame accuracy of a model with that view.

    A frame in view is certain; any other is a guess, right with
    probability 1 / number of classes (the classes are independent).
    """
    seen = in_view(cues, past, future)
    return float(onp.where(seen, 1.0, 1.0 / len(CLASSES)).mean())


def expected_bound(past=None, future=0, lengths=(5, 25)):
    """``bound`` on endless sequences (segment lengths uniform).

    Half the segments put the cue first: m_p = min(L, past + 1) frames see
    it; half put it last: m_f = min(L, future + 1). Over many segments the
    accuracy is 1/C + (1 - 1/C) (E[m_p] + E[m_f]) / (2 E[L]).
    """
    _check_lengths(lengths)
    L = onp.arange(lengths[0], lengths[1] + 1)
    m_p = L if past is None else onp.minimum(L, past + 1)
    m_f = L if future is None else onp.minimum(L, future + 1)
    guess = 1.0 / len(CLASSES)
    return float(guess + (1 - guess) * (m_p.mean() + m_f.mean())
                 / (2 * L.mean()))


def objective(net, batch):
    """Mean cross-entropy over all frames of the batch."""
    X, Y = batch
    return training.cross_entropy(net(X), Y)


def accuracy(net, batch):
    """Fraction of frames labelled right."""
    X, Y = batch
    predictions = net(X).argmax(axis=2).astype("int32")  # (T, B)
    return float((predictions == Y).mean())


def accuracy_in_view(net, batch, seen):
    """Accuracy on the frames in view and on those out of view."""
    X, Y = batch
    right = (net(X).argmax(axis=2).astype("int32") == Y).asnumpy().T
    return {"in_view": float(right[seen].mean()) if seen.any() else None,
            "out_of_view": float(right[~seen].mean()) if (~seen).any()
            else None}
