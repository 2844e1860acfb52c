"""Chapter 9's task: read a strip of handwritten digits, left to right.

The digits are the 1,797 images of 8 x 8 pixels that scikit-learn ships
(``sklearn.datasets.load_digits``; Alpaydin & Kaynak 1998, the UCI
"Optical recognition of handwritten digits" set), scaled to [0, 1]. A
fixed permutation (its own seed, ``SPLIT_SEED``) splits them into
disjoint train, validation and test images, so no test digit is ever
seen in training.

``strips`` composes a strip (a "caption" of several digits) from them:

- a canvas ``HEIGHT`` pixels high (the 8 rows of a digit and up to
  ``HEIGHT - 8`` rows of vertical jitter) and ``width_for(L)`` columns
  wide for a strip of L digits;
- the digits side by side, left to right, with random gaps of
  ``gaps`` columns between them and a random left margin, each digit at
  a random height;
- Gaussian noise of standard deviation ``noise``, clipped to [0, 1].

It returns the canvases, each strip's digit string and each digit's
column span ``[start, start + 8)``: where the digit is, by construction,
which is what "where the model looks" is measured against. The strips of
one call share one width (that of the longest), so a minibatch needs no
padding. Chapter 9's models read them; the CTC chapter shares this
generator.

Tokens: the digits 0 to 9, ``EOS`` (the end of the string, which the
decoder must emit) and ``BOS`` (its first input). The decoder is trained
with teacher forcing on the digits and ``EOS`` (``encode``; the loss is
``image_attention.objective``); one length per minibatch, drawn from
``train_lengths``. The validation strips (``test_strips(...,
part="validation")``) are only measured, in the stored record. The test
strips come from the test images and their own seed (``TEST_SEED``),
``num_test`` of each length in ``test_lengths``, which go beyond the
longest trained length.
``tests/test_image_attention.py`` checks the generator (spans, disjoint
sources, seeds) and its bad input.
"""

import numbers

import numpy as onp
from mxnet import np

from . import device, layers
from .source import checked_by

__all__ = ["DIGIT", "HEIGHT", "GAPS", "NOISE", "NUM_DIGITS", "EOS", "BOS",
           "VOCAB_SIZE", "SPLIT_SEED", "TEST_SEED", "SPLIT", "CONFIG",
           "load_digits", "split", "width_for", "strips", "encode",
           "batches", "test_strips", "decode_lengths",
           "score", "in_span"]

DIGIT = 8  # each source image is DIGIT x DIGIT pixels
HEIGHT = 12  # 8 rows of digit and up to 4 rows of vertical jitter
GAPS = (1, 4)  # columns between two digits, lowest and highest
NOISE = 0.05  # standard deviation of the pixel noise
NUM_DIGITS = 10
EOS = NUM_DIGITS  # the decoder's last output: "the string ends here"
BOS = NUM_DIGITS + 1  # the decoder's first input
VOCAB_SIZE = NUM_DIGITS + 2
SPLIT_SEED = 2_024  # the permutation of the source images
TEST_SEED = 10_000  # the test strips: their own stream
SPLIT = {"train": 0.6, "validation": 0.2, "test": 0.2}

CONFIG = {"embed_size": 16, "num_hiddens": 64, "channels": (16, 32),
          "lr": 1e-2, "theta": 1.0, "batch_size": 32, "num_steps": 600,
          "train_lengths": (1, 4), "test_lengths": (1, 2, 3, 4, 5, 6, 7, 8),
          "num_test": 200, "penalty": 0.0}
# Exercise 4: the same training on strips of every test length.
LONG_RUN = dict(CONFIG, train_lengths=(1, CONFIG["test_lengths"][-1]))


def load_digits():
    """The 1,797 digit images (n, 8, 8) in [0, 1] and their labels (n,)."""
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    images = (digits.images / 16.0).astype(onp.float32)
    return images, digits.target.astype(onp.int64)


def split(num_images, seed=SPLIT_SEED):
    """Disjoint index arrays ``{"train", "validation", "test"}`` of a
    fixed permutation of ``num_images`` source images."""
    order = onp.random.RandomState(seed).permutation(num_images)
    n_train = int(SPLIT["train"] * num_images)
    n_val = int(SPLIT["validation"] * num_images)
    return {"train": order[:n_train],
            "validation": order[n_train:n_train + n_val],
            "test": order[n_train + n_val:]}


def width_for(length, gaps=GAPS):
    """Columns of a strip of ``length`` digits: room for the widest gaps
    between and around them."""
    return length * DIGIT + (length + 1) * gaps[1]


def _check_strips(images, labels, lengths, rng, height=HEIGHT, gaps=GAPS,
                  noise=NOISE, width=None):
    if not isinstance(images, onp.ndarray) or images.ndim != 3 or \
            images.shape[1:] != (DIGIT, DIGIT) or len(images) == 0:
        got = getattr(images, "shape", type(images).__name__)
        raise ValueError(f"images must be a NumPy array (n, {DIGIT}, "
                         f"{DIGIT}) with n > 0, got {got}")
    if not isinstance(labels, onp.ndarray) or labels.shape != \
            (len(images),) or not onp.isin(labels, range(NUM_DIGITS)).all():
        got = getattr(labels, "shape", type(labels).__name__)
        raise ValueError(f"labels must be a NumPy array of {len(images)} "
                         f"digits 0 to 9, one per image, got {got}")
    lengths = onp.asarray(lengths)
    if lengths.ndim != 1 or len(lengths) == 0 or \
            not onp.issubdtype(lengths.dtype, onp.integer) or \
            (lengths < 1).any():
        raise ValueError(f"lengths must be a non-empty sequence of positive"
                         f" ints (one per strip), got {lengths.tolist()!r}")
    if not isinstance(rng, onp.random.RandomState):
        raise TypeError(f"rng must be a numpy.random.RandomState, got "
                        f"{type(rng).__name__}")
    layers.check_count("height", height, DIGIT)
    if (not isinstance(gaps, tuple) or len(gaps) != 2 or
            not all(isinstance(g, numbers.Integral) for g in gaps) or
            not 0 <= gaps[0] <= gaps[1]):
        raise ValueError(f"gaps must be a pair (low, high) of ints with "
                         f"0 <= low <= high, got {gaps!r}")
    layers.check_real("noise", noise)
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    need = width_for(int(lengths.max()), gaps)
    if width is not None:
        layers.check_count("width", width)
        if width < need:
            raise ValueError(f"width must be at least {need} for strips of "
                             f"{int(lengths.max())} digits with gaps "
                             f"{gaps}, got {width}")


@checked_by(_check_strips)
def strips(images, labels, lengths, rng, height=HEIGHT, gaps=GAPS,
           noise=NOISE, width=None):
    """Strips of digits: canvases, digit strings, each digit's columns.

    ``lengths[k]`` digits for strip k, drawn (with replacement) from
    ``images``; returns canvases (n, height, width) in [0, 1], the
    strings (a list of int arrays) and the spans (a list of (L, 2) int
    arrays, ``[start, end)`` columns of each digit).
    """
    lengths = onp.asarray(lengths)
    width = width if width is not None else width_for(lengths.max(), gaps)
    canvases = onp.zeros((len(lengths), height, width), onp.float32)
    strings, spans = [], []
    for canvas, L in zip(canvases, lengths):
        chosen = rng.randint(0, len(images), L)
        between = rng.randint(gaps[0], gaps[1] + 1, L - 1)
        used = L * DIGIT + between.sum()
        start = rng.randint(0, width - used + 1)  # the left margin
        starts = start + onp.concatenate(
            [[0], onp.cumsum(between + DIGIT)]).astype(int)
        tops = rng.randint(0, height - DIGIT + 1, L)  # vertical jitter
        for k, top, left in zip(chosen, tops, starts):
            canvas[top:top + DIGIT, left:left + DIGIT] = images[k]
        strings.append(labels[chosen])
        spans.append(onp.stack([starts, starts + DIGIT], axis=1))
    canvases += rng.normal(0, noise, canvases.shape).astype(onp.float32)
    return onp.clip(canvases, 0, 1), strings, spans


def encode(strings):
    """Teacher forcing: decoder inputs ``[BOS, y_1 .. y_L]`` and targets
    ``[y_1 .. y_L, EOS]`` (n, L + 1), for strings of one length L."""
    Y = onp.stack(strings)
    Y_in = onp.concatenate([onp.full((len(Y), 1), BOS), Y], axis=1)
    Y_out = onp.concatenate([Y, onp.full((len(Y), 1), EOS)], axis=1)
    return Y_in, Y_out


def _source(part, data=None):
    images, labels = data if data is not None else load_digits()
    index = split(len(images))[part]
    return images[index], labels[index]


def batches(seed, config=CONFIG, ctx=None, data=None):
    """``num_steps`` minibatches ``(X, Y_in, Y)`` of training strips:
    X (B, 1, HEIGHT, W) float32, Y_in and Y (B, L + 1) int32."""
    ctx = ctx if ctx is not None else device.device()
    images, labels = _source("train", data)
    rng = onp.random.RandomState(seed)
    low, high = config["train_lengths"]
    for _ in range(config["num_steps"]):
        length = rng.randint(low, high + 1)
        X, strings, _ = strips(images, labels,
                               [length] * config["batch_size"], rng)
        Y_in, Y = encode(strings)
        yield (np.array(X[:, None], ctx=ctx),
               np.array(Y_in, ctx=ctx, dtype="int32"),
               np.array(Y, ctx=ctx, dtype="int32"))


def test_strips(length, config=CONFIG, part="test", data=None):
    """The fixed strips of ``length`` digits from ``part``'s images:
    canvases (n, HEIGHT, W), strings (n, L) and spans (n, L, 2)."""
    images, labels = _source(part, data)
    offset = {"test": 0, "validation": 500}[part]
    rng = onp.random.RandomState(TEST_SEED + offset + length)
    X, strings, spans = strips(images, labels, [length] * config["num_test"],
                               rng)
    return X, onp.stack(strings), onp.stack(spans)


def decode_lengths(Y_hat):
    """Where each greedy output ends: the index of its first ``EOS`` (the
    number of steps if it never emits one)."""
    Y_hat = onp.asarray(Y_hat)
    ends = Y_hat == EOS
    return onp.where(ends.any(axis=1), ends.argmax(axis=1), Y_hat.shape[1])


def score(Y_hat, strings):
    """Sequence accuracy (the whole string right, ``EOS`` in its place)
    and per-digit accuracy (position by position over the true digits)."""
    Y_hat, strings = onp.asarray(Y_hat), onp.asarray(strings)
    L = strings.shape[1]
    digits = Y_hat[:, :L] == strings  # (n, L)
    ended = decode_lengths(Y_hat) == L
    return {"sequence": float((digits.all(axis=1) & ended).mean()),
            "digit": float(digits.mean())}


def in_span(columns, spans):
    """Whether each image column of (n, L) lies in its digit's span
    ``[start, end)`` of (n, L, 2)."""
    columns = onp.asarray(columns)
    return (spans[..., 0] <= columns) & (columns < spans[..., 1])
