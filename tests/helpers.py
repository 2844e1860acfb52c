"""Small builders shared by the chapter test files (not a test file)."""

from mxnet import np

from lstm_tutorial import device, rnn


def seeded_layer(cls, num_inputs, num_hiddens, seed=1, ctx=None, **kwargs):
    """``cls(num_inputs, num_hiddens, **kwargs)`` initialised from ``seed``."""
    device.seed(seed)
    layer = cls(num_inputs, num_hiddens, **kwargs)
    layer.initialize(ctx=ctx)
    return layer


def normal(*shape, ctx=None):
    """A float32 array of N(0, 1) draws on ``ctx``."""
    return np.random.normal(0, 1, shape, ctx=ctx)


def max_diff(a, b):
    return float(np.abs(a - b).max())


def tiny_lm(vocab_size, num_hiddens, sigma, seed):
    """Chapter 1's language model on its RNN, initialised from ``seed``."""
    device.seed(seed)
    lm = rnn.RNNLMScratch(rnn.RNNScratch(vocab_size, num_hiddens, sigma),
                          vocab_size, sigma)
    lm.initialize()
    return lm


def spoiled(record, change):
    """A deep copy of a stored record with ``change(result)`` applied to
    every seed's result: a record on which a claim should fail."""
    import copy

    record = copy.deepcopy(record)
    for result in record["seeds"].values():
        change(result)
    return record


def failing(found):
    """The sentences of the claims in ``found`` that do not hold."""
    return {c.sentence for c in found if not c.holds}
