"""Chapter 5's task: copy a random digit string, measured by length.

The source is ``length`` random digits; the target is the same string
(``reverse=True``: reversed). The decoder reads ``<bos>`` and then the
target shifted by one (teacher forcing) and is trained with the
cross-entropy of every target token. One length per minibatch, drawn from
``train_lengths``, so nothing is padded. Test strings come from their own
seed and are removed from the training minibatches, so every test string
is unseen; the lengths 24 and 28 are longer than any seen in training.
Greedy decoding; token accuracy is the fraction of positions right,
exact match the fraction of strings right everywhere.
"""

import numpy as onp
from mxnet import np

from . import device, training

NUM_DIGITS = 10
BOS = NUM_DIGITS  # the decoder's first input
VOCAB_SIZE = NUM_DIGITS + 1
TEST_SEED = 10_000  # test strings: their own stream, never trained on

CONFIG = {"embed_size": 16, "num_hiddens": 64, "lr": 5e-3, "theta": 1.0,
          "batch_size": 64, "num_steps": 1200, "train_lengths": (3, 20),
          "test_lengths": (4, 8, 12, 16, 20, 24, 28), "num_test": 256,
          "reverse": False}


def target_of(source, reverse=False):
    """What the decoder must write: the source, or the source reversed."""
    return source[:, ::-1] if reverse else source


def test_set(length, num_test, seed=TEST_SEED):
    """``num_test`` distinct digit strings of ``length``, (n, length)."""
    rng = onp.random.RandomState(seed + length)
    strings = onp.unique(rng.randint(0, NUM_DIGITS, (2 * num_test, length)),
                         axis=0)
    return strings[rng.permutation(len(strings))[:num_test]]


def batches(seed, config=CONFIG, ctx=None):
    """``num_steps`` minibatches ``(X, Y_in, Y)`` of token ids (B, T)."""
    ctx = ctx if ctx is not None else device.device()
    rng = onp.random.RandomState(seed)
    low, high = config["train_lengths"]
    held_out = {length: {s.tobytes() for s in
                         test_set(length, config["num_test"])}
                for length in range(low, high + 1)}
    for _ in range(config["num_steps"]):
        length = rng.randint(low, high + 1)
        X = rng.randint(0, NUM_DIGITS, (config["batch_size"], length))
        seen = [s.tobytes() in held_out[length] for s in X]
        while any(seen):  # redraw the strings that are test strings
            X[seen] = rng.randint(0, NUM_DIGITS, (sum(seen), length))
            seen = [s.tobytes() in held_out[length] for s in X]
        Y = target_of(X, config["reverse"])
        Y_in = onp.concatenate([onp.full((len(X), 1), BOS), Y[:, :-1]], 1)
        yield tuple(np.array(a, ctx=ctx, dtype="int32")
                    for a in (X, Y_in, Y))


def objective(net, batch):
    """Cross-entropy of every target token under teacher forcing."""
    X, Y_in, Y = batch
    return training.cross_entropy(net(X, Y_in), Y.T)


def accuracy(net, length, config=CONFIG, ctx=None):
    """Token and exact-match accuracy of greedy decoding on test strings."""
    ctx = ctx if ctx is not None else net.collect_params().list_ctx()[0]
    X = test_set(length, config["num_test"])
    Y = target_of(X, config["reverse"])
    Y_hat, _ = net.predict(np.array(X, ctx=ctx, dtype="int32"), length, BOS)
    right = Y_hat.asnumpy() == Y
    return {"token": float(right.mean()),
            "exact": float(right.all(axis=1).mean())}


def accuracy_by_length(net, config=CONFIG):
    """``{length: {"token": ..., "exact": ...}}`` over the test lengths."""
    return {str(length): {k: round(v, 4) for k, v in
                          accuracy(net, length, config).items()}
            for length in config["test_lengths"]}


def alignment(weights, reverse=False, within=0):
    """Fraction of rows of (T', T) weights whose argmax lies at most
    ``within`` positions from the source token the output copies."""
    weights = onp.asarray(weights)
    expected = onp.arange(weights.shape[0])
    if reverse:
        expected = weights.shape[1] - 1 - expected
    return float((abs(weights.argmax(axis=1) - expected) <= within).mean())


# The token accuracies the claims compare with, and the length they
# compare at: the chapter quotes them from here.
HIGH, LOW, AT = 0.90, 0.60, 16
# The chapter's live run and the exercises' runs: the stored runs' setup
# for half the steps; the heat map's string length; and the exercise that
# trains further on longer strings, up to the longest test length.
LIVE_RUN = dict(CONFIG, num_steps=600)
HEAT_LENGTH = 12
NUM_HEAT = 32  # test strings of HEAT_LENGTH over which alignment is scored
EXTRA_RUN = dict(LIVE_RUN, num_steps=200,
                 train_lengths=(CONFIG["train_lengths"][0],
                                CONFIG["test_lengths"][-1]))


def claims(by_length, no_attention_by_length, at=AT,
           falls=(4, 8, 12, 16, 20), trained=20):
    """The chapter's claims, each True or False, from token accuracies.

    At length ``at``: attention >= HIGH and no attention <= LOW; without
    attention, accuracy falls strictly over ``falls``; with attention,
    >= HIGH at every test length up to ``trained``.
    """
    att = {int(k): v["token"] for k, v in by_length.items()}
    no = {int(k): v["token"] for k, v in no_attention_by_length.items()}
    return {
        f"attention >= {HIGH:.2f} at {at}": att[at] >= HIGH,
        f"no attention <= {LOW:.2f} at {at}": no[at] <= LOW,
        "no attention falls with length": all(
            no[a] > no[b] for a, b in zip(falls, falls[1:])),
        f"attention >= {HIGH:.2f} up to {trained}": all(
            v >= HIGH for k, v in att.items() if k <= trained),
    }
