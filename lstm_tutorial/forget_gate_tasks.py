"""Chapter 3's task: the continual embedded Reber grammar (Gers et al. 2000).

Reber's grammar is a small finite automaton: from ``B`` a walk along its
edges, each branch taken with probability 1/2, emits symbols until ``E``::

    node 0 --T--> 1, --P--> 2       node 3 --X--> 2, --S--> 5
    node 1 --S--> 1, --X--> 3       node 4 --P--> 3, --V--> 5
    node 2 --T--> 2, --V--> 4       node 5 --E--> end

The *embedded* grammar wraps one Reber string as ``B a <Reber string> a
E`` with ``a`` either ``T`` or ``P``: to predict the second ``a`` the
network must remember the first across the whole inner string (the
*long lag*). The *continual* task (CERG) concatenates embedded strings
into one endless stream that is never reset. At every symbol the target
is the set of symbols that may legally come next, multi-hot over the 7
symbols; a prediction is correct when the thresholded outputs equal that
set on all 7 units. The module holds the task only (the stream, its
batches, the objective, the scoring); the predictors and their training
are in ``forget_gate``. Checked by ``tests/test_forget_gate.py``.
"""

import numpy as onp
from mxnet import np

from .source import checked_by

# The configuration of a pilot run, one for both cells;
# weights start from N(0, 0.1^2): with 0.01 learning was much slower.
# Both cells get the same budget of chunks; the stored runs go on to
# ``num_chunks`` to show what happens with more.
CERG = {"num_hiddens": 12, "num_streams": 16, "chunk_len": 50,
        "budget": 2000, "num_chunks": 3000, "lr": 1e-2, "theta": 5.0,
        "forget_bias": 1.0, "input_gate_bias": -1.0, "sigma": 0.1}
SYMBOLS = ("B", "T", "P", "S", "X", "V", "E")
PER = 1000  # errors are counted per this many symbols
INDEX = {s: k for k, s in enumerate(SYMBOLS)}
# node: ((symbol, next node), ...); None ends the string.
REBER = {0: (("T", 1), ("P", 2)), 1: (("S", 1), ("X", 3)),
         2: (("T", 2), ("V", 4)), 3: (("X", 2), ("S", 5)),
         4: (("P", 3), ("V", 5)), 5: (("E", None),)}


def _check_rng(rng):
    if not isinstance(rng, onp.random.RandomState):
        raise TypeError("rng must be a numpy.random.RandomState, got "
                        f"{type(rng).__name__}")


def reber(rng):
    """One Reber string and, per symbol, the symbols legal next.

    ``legal[k]`` is a string such as ``"SX"``: what may follow symbol
    ``k``. After the final ``E`` it is empty: the embedding decides.
    """
    _check_rng(rng)
    string, legal, node = "B", [], 0
    while node is not None:
        options = REBER[node]
        legal.append("".join(symbol for symbol, _ in options))
        k = int(rng.random_sample() * len(options))  # each with equal odds
        symbol, node = options[k]
        string += symbol
    return string, legal + [""]


@checked_by(_check_rng)
def embedded_reber(rng):
    """``B a <Reber string> a E`` and the symbols legal next in a stream.

    Returns ``(string, legal, lag)``: ``lag`` is the index of the inner
    ``E``, after which only ``a`` is legal. After the outer ``E`` the
    next string's ``B`` follows.
    """
    a = "TP"[int(rng.random_sample() * 2)]
    inner, inner_legal = reber(rng)
    legal = ["TP", "B"] + inner_legal[:-1] + [a, "E", "B"]
    return f"B{a}{inner}{a}E", legal, 1 + len(inner)


_CODES = onp.zeros(128, dtype=onp.int32)  # ASCII code -> symbol index
_CODES[[ord(s) for s in SYMBOLS]] = onp.arange(len(SYMBOLS))
_MASKS = {}  # legal symbols -> bit mask, filled as they occur


def _mask(symbols):
    if symbols not in _MASKS:
        _MASKS[symbols] = sum(1 << INDEX[s] for s in symbols)
    return _MASKS[symbols]


class ReberStream:
    """An endless stream of embedded Reber strings, never reset.

    ``take(n)`` returns the next ``n`` symbols as ``(tokens, targets,
    long_lag)``: token indices (n,), the multi-hot legal next symbols
    (n, 7) and a mask (n,) of the inner ``E``s, the long-lag positions.
    """

    def __init__(self, rng):
        _check_rng(rng)
        self.rng = rng
        self._buffer = (onp.zeros(0, onp.int32), onp.zeros(0, onp.int64),
                        onp.zeros(0, bool))  # tokens, masks, long_lag

    def _extend(self, n):
        """Append at least ``n`` symbols to the buffer, whole strings."""
        strings, legal, lags, size = [], [], [], 0
        while size < n:
            string, string_legal, lag = embedded_reber(self.rng)
            strings.append(string)
            legal += string_legal
            lags.append(size + lag)
            size += len(string)
        tokens = _CODES[onp.frombuffer("".join(strings).encode(), onp.uint8)]
        masks = onp.array([_mask(symbols) for symbols in legal])
        long_lag = onp.zeros(size, dtype=bool)
        long_lag[lags] = True
        self._buffer = tuple(onp.concatenate(pair) for pair in zip(
            self._buffer, (tokens, masks, long_lag)))

    def take(self, n):
        if not isinstance(n, int) or n <= 0:
            raise ValueError(f"n must be a positive int, got {n!r}")
        if len(self._buffer[0]) < n:
            self._extend(max(n, 4096))
        tokens, masks, long_lag = (part[:n] for part in self._buffer)
        self._buffer = tuple(part[n:] for part in self._buffer)
        targets = (masks[:, None] >> onp.arange(len(SYMBOLS))) & 1
        return tokens, targets.astype(onp.float32), long_lag


def decode(tokens):
    """Token indices as a string of symbols."""
    return "".join(SYMBOLS[t] for t in tokens)


def batches(num_chunks, seed, ctx, num_streams=16, chunk_len=50):
    """Chunks of ``num_streams`` parallel streams: ``(X, Y)`` on ``ctx``.

    ``X`` (num_streams, chunk_len) tokens, ``Y`` (chunk_len, num_streams,
    7) targets; row k of each chunk continues row k of the one before.
    """
    for name, value in (("num_chunks", num_chunks),
                        ("num_streams", num_streams),
                        ("chunk_len", chunk_len)):
        if not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    rng = onp.random.RandomState(seed)
    streams = [ReberStream(rng) for _ in range(num_streams)]
    for _ in range(num_chunks):
        parts = [stream.take(chunk_len) for stream in streams]
        X = onp.stack([tokens for tokens, _, _ in parts])
        Y = onp.stack([targets for _, targets, _ in parts], axis=1)
        yield np.array(X, ctx=ctx, dtype="int32"), np.array(Y, ctx=ctx)


def fresh_stream(num_symbols=20_000, seed=2000):
    """A fresh stream, never seen in training (NumPy arrays)."""
    return ReberStream(onp.random.RandomState(seed)).take(num_symbols)


def binary_cross_entropy(logits, Y):
    """Mean sigmoid cross-entropy of ``logits`` against targets ``Y``."""
    # log(1 + exp(z)) - z y, written so that exp never overflows
    return (np.maximum(logits, 0) - logits * Y
            + np.log1p(np.exp(-np.abs(logits)))).mean()


class ContinualObjective:
    """The legal-next loss on a stream whose state is never reset.

    For ``net(X, state) -> (logits, state)``; batches are ``(X, Y)`` as
    ``batches`` makes them. The state flows from one chunk to the next,
    detached, so backpropagation stops at the chunk boundary (truncated
    BPTT) while the forward pass runs on for ever.
    """

    def __init__(self):
        self.state = None

    def __call__(self, net, batch):
        X, Y = batch
        if self.state is None:
            self.state = net.begin_state(X.shape[0], X.ctx)
        self.state = tuple(s.detach() for s in self.state)
        logits, self.state = net(X, self.state)  # (chunk_len, streams, 7)
        return binary_cross_entropy(logits, Y)


def score(logits, targets, long_lag):
    """Errors and long-lag accuracy of predictions along one stream.

    ``logits`` (n, 7) array, ``targets`` (n, 7) and ``long_lag`` (n,)
    NumPy arrays. A symbol is predicted correctly when every unit is on
    exactly for the legal next symbols (sigmoid above 1/2).
    """
    predicted = onp.asarray(logits) > 0
    if not predicted.shape == targets.shape == long_lag.shape + (7,):
        raise ValueError(f"logits {predicted.shape}, targets "
                         f"{targets.shape} and long_lag {long_lag.shape} "
                         "do not match: expected (n, 7), (n, 7) and (n,)")
    correct = (predicted == (targets > 0.5)).all(axis=1)
    wrong = onp.flatnonzero(~correct)
    return {"long_lag_accuracy": float(correct[long_lag].mean()),
            "errors_per_1000": PER * len(wrong) / len(correct),
            "first_error": int(wrong[0]) if len(wrong) else None,
            "num_symbols": len(correct)}


def predict_stream(net, tokens, ctx, chunk_len=50):
    """Logits (n, 7) along one stream from a zero state, chunk by chunk.

    Also returns max_j |C_j| at the end of every chunk: the operator
    gives the cell state only there (``trace_stream`` has every step).
    """
    state, logits, C_max = net.begin_state(1, ctx), [], []
    for start in range(0, len(tokens), chunk_len):
        X = np.array(tokens[None, start:start + chunk_len], ctx=ctx,
                     dtype="int32")
        chunk, state = net(X, state)  # (chunk_len, 1, 7)
        logits.append(chunk.reshape(-1, chunk.shape[-1]))
        C_max.append(np.abs(state[-1]).max())
    return np.concatenate(logits).asnumpy(), np.stack(C_max).asnumpy()


def boundaries(long_lag):
    """Where one embedded string ends and the next begins.

    Returns the positions of the outer ``E`` and of the next string's
    ``B`` (two index arrays): each inner ``E`` (a long lag, at p) is
    followed by the second ``a`` (p + 1), the outer ``E`` (p + 2) and the
    next ``B`` (p + 3). Strings cut off by the stream's end are left out.
    """
    n = len(long_lag)
    inner = onp.flatnonzero(long_lag)
    inner = inner[inner + 3 < n]
    return inner + 2, inner + 3


PROFILED = ("I", "F", "O", "C")  # the gates, and the cell state (as |C_t|)


def gate_profile(trace, long_lag):
    """Each unit's mean gate values (and |C_t|) at the string boundary.

    ``trace`` maps ``PROFILED`` names to (n, H) arrays along a stream.
    For each name: ``{"end": ..., "start": ..., "inside": ...}``, lists
    of H means over the steps that read the outer ``E``, the next ``B``
    and all other steps.
    """
    end, start = boundaries(long_lag)
    inside = onp.ones(len(long_lag), dtype=bool)
    inside[end] = inside[start] = False
    profile = {}
    for name in PROFILED:
        values = onp.abs(trace[name]) if name == "C" else trace[name]
        profile[name] = {where: [round(float(v), 4) for v in
                                 values[steps].mean(axis=0)]
                         for where, steps in (("end", end), ("start", start),
                                              ("inside", inside))}
    return profile


def boundary_ratios(profile):
    """Each unit's forget gate at the string boundary (the lower of the
    outer ``E``'s and the next ``B``'s) over its value inside strings,
    from a ``gate_profile``."""
    F = profile["F"]
    return [min(e, s) / i for e, s, i in zip(F["end"], F["start"],
                                              F["inside"])]

