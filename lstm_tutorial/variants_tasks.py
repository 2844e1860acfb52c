"""Chapter 7's experiments: the ablation, and what cells learn.

The ablation trains each variant on two tasks of earlier chapters, made
shorter so that 9 models x 2 tasks x 3 seeds fit in minutes: temporal
order (chapter 2) at lengths 50-55 instead of 100-110, and the continual
embedded Reber grammar (chapter 3) for fewer chunks. The cells part
trains chapter 3's LSTM as a character model of *The Time Machine* with
its punctuation, line breaks and capitals lower-cased (chapter 1's
pipeline keeps only letters and spaces), and correlates each unit's cell
state with two properties of the text. Checked by
``tests/test_variants.py``.
"""

import numpy as onp
from mxnet import gluon, init, np

from . import (
    data,
    device,
    forget_gate,
    forget_gate_tasks,
    lstm_tasks,
    rnn,
    training,
)

# Temporal order at half the paper's length: the X/Y windows halved too.
ORDER = {"lengths": (50, 55), "first": (5, 10), "second": (25, 30)}
ORDER_RUN = {"num_hiddens": 16, "num_steps": 300, "batch_size": 32,
             "lr": 1e-2, "theta": 1.0, "sigma": 0.1, "forget_bias": 1.0,
             "input_gate_bias": -2.0}
CERG = {**forget_gate_tasks.CERG, "budget": 600, "num_chunks": 600}
CELLS = {"num_hiddens": 128, "num_steps": 100, "batch_size": 32,
         "num_epochs": 6, "lr": 1e-2, "passage": 20_000}
PROPERTIES = ("line_position", "inside_quotes")


class GluonGRU(gluon.Block):
    """``gluon.rnn.GRU`` behind the book's layer interface (state ``(H,)``).

    ``variants.GRUScratch`` equals it (tested); the sweep trains this.
    """

    def __init__(self, num_inputs, num_hiddens, sigma=0.01):
        super().__init__()
        self.num_inputs, self.num_hiddens = num_inputs, num_hiddens
        self.gru = gluon.rnn.GRU(
            num_hiddens, input_size=num_inputs,
            i2h_weight_initializer=init.Normal(sigma),
            h2h_weight_initializer=init.Normal(sigma))

    def begin_state(self, batch_size, ctx):
        return (np.zeros((batch_size, self.num_hiddens), ctx=ctx),)

    def forward(self, inputs, state=None):
        if state is None:
            state = self.begin_state(inputs.shape[1], inputs.ctx)
        outputs, state = self.gru(inputs, [state[0][None]])
        return outputs, (state[0][0],)


def order_test_set(ctx, size=512, seed=1997):
    """Fixed test sequences of the shortened task."""
    rng = onp.random.RandomState(seed)
    return lstm_tasks.to_batch(
        *lstm_tasks.temporal_order(size, rng, **ORDER), ctx)


def fit_order(net, seed, num_steps, test, config=ORDER_RUN, eval_every=50):
    """Adam on fresh batches of the shortened temporal-order task."""
    trainer = gluon.Trainer(net.collect_params(), "adam",
                            {"learning_rate": config["lr"]})
    ctx = net.W_hq.list_ctx()[0]
    return training.train(
        net, lstm_tasks.batches(num_steps, config["batch_size"], seed, ctx,
                                **ORDER),
        lstm_tasks.objective, trainer, config["theta"],
        evaluate=lambda net: {"accuracy": lstm_tasks.accuracy(net, test)},
        eval_every=eval_every)


def build(head, make_layer, name, num_inputs, num_outputs, seed, ctx,
          config, readout_sigma):
    """``head`` on a fresh layer ``make_layer(name, ...)``, seeded."""
    device.seed(seed)
    layer = make_layer(name, num_inputs, config["num_hiddens"],
                       sigma=config["sigma"],
                       forget_bias=config["forget_bias"],
                       input_gate_bias=config["input_gate_bias"])
    layer.initialize(ctx=ctx)
    net = head(layer, num_outputs, readout_sigma)
    net.params.initialize(ctx=ctx)  # the readout
    return net


def order_run(make_layer, name, seed, ctx, test, num_steps=None):
    """Best test accuracy of variant ``name`` on temporal order."""
    net = build(lstm_tasks.SequenceClassifier, make_layer, name,
                len(lstm_tasks.SYMBOLS), len(lstm_tasks.CLASSES), seed, ctx,
                ORDER_RUN, 0.01)
    history = fit_order(net, seed, num_steps or ORDER_RUN["num_steps"],
                        test)
    return {"best": max(history["accuracy"]),
            "accuracy": history["accuracy"],
            "diverged_at": history.diverged_at}


def cerg_run(make_layer, name, seed, ctx, stream, num_chunks=None):
    """Long-lag accuracy and errors of variant ``name`` on the CERG."""
    size = len(forget_gate_tasks.SYMBOLS)
    net = build(rnn.RNNLMScratch, make_layer, name, size, size, seed, ctx,
                CERG, CERG["sigma"])
    history = forget_gate_tasks.fit_stream(
        net, seed, num_chunks or CERG["num_chunks"], CERG)
    logits, _ = forget_gate_tasks.predict_stream(net, stream[0], ctx)
    return {**forget_gate_tasks.score(logits, *stream[1:]),
            "diverged_at": history.diverged_at}


def ablation(seed, make_layer, names, num_order_steps=None,
             num_chunks=None, num_symbols=10_000):
    """Every variant in ``names`` on both tasks from one seed."""
    ctx = device.device()
    test = order_test_set(ctx)
    stream = forget_gate_tasks.fresh_stream(num_symbols)
    result = {"order": ORDER, "order_run": ORDER_RUN, "cerg": CERG}
    for name in names:
        result[name] = {
            "order": order_run(make_layer, name, seed, ctx, test,
                               num_order_steps),
            "cerg": cerg_run(make_layer, name, seed, ctx, stream,
                             num_chunks)}
    return result


# What cells learn.

def raw_text():
    """The book lower-cased, with punctuation and line breaks kept."""
    return data.read_time_machine().lower()


def properties(text):
    """Per character: position in its line, and inside single quotes.

    The book marks speech with ``'``, which is also the apostrophe: a
    quote opens or closes at a ``'`` not between two letters (so
    "traveller's" does not count), and every blank line closes it.
    """
    position = onp.zeros(len(text), dtype=onp.float32)
    quoted = onp.zeros(len(text), dtype=onp.float32)
    column, inside = 0, False
    for t, char in enumerate(text):
        column = 0 if char == "\n" else column + 1
        if char == "\n" and text[t - 1:t] == "\n":
            inside = False
        elif char == "'" and not (text[t - 1:t].isalpha()
                                  and text[t + 1:t + 2].isalpha()):
            inside = not inside
        position[t], quoted[t] = column, inside
    return {"line_position": position, "inside_quotes": quoted}


def correlations(states, values):
    """Pearson r of each unit of ``states`` (n, H) with ``values`` (n,)."""
    S = states - states.mean(axis=0)
    v = values - values.mean()
    norm = onp.sqrt((S ** 2).sum(axis=0) * (v ** 2).sum()) + 1e-12
    return (S * v[:, None]).sum(axis=0) / norm


def cell_states(cell, tokens, vocab_size, ctx):
    """C_t (n, H) of our fused cell stepping through ``tokens``."""
    state, Cs = cell.begin_state(1, ctx), []
    inputs = np.eye(vocab_size, ctx=ctx)[np.array(tokens, ctx=ctx,
                                                  dtype="int32")]
    XW = np.dot(inputs, cell.W_x.data(ctx)) + cell.b.data(ctx)  # (n, 4H)
    for XW_t in np.split(XW, len(tokens)):
        state = cell._cell(XW_t, state)
        Cs.append(state[1])
    return np.concatenate(Cs).asnumpy()


def run_cells(seed, config=CELLS, excerpt=(1000, 1600)):
    """Train the char model; the best unit per property, and its trace."""
    ctx, text = device.device(), raw_text()
    vocab = data.Vocab(list(text))
    corpus = [vocab[c] for c in text]
    split = len(corpus) - config["passage"]  # the held-out passage
    device.seed(seed)
    layer = forget_gate.LSTMScratch(len(vocab), config["num_hiddens"])
    layer.initialize(ctx=ctx)
    lm = rnn.RNNLMScratch(forget_gate.GluonLayer(layer), len(vocab))
    lm.params.initialize(ctx=ctx)
    loader = data.SeqDataLoader(corpus[:split], config["batch_size"],
                                config["num_steps"], True,
                                onp.random.RandomState(seed), ctx)
    val = data.SeqDataLoader(corpus[split:], 16, config["num_steps"],
                             True, None, ctx)
    history = training.train_language_model(
        lm, loader, val, config["num_epochs"], config["lr"])
    C = cell_states(lm.rnn.to_scratch(), corpus[split:], len(vocab), ctx)
    passage = text[split:]
    result = {"config": config, "val_ppl": history.last("val_ppl"),
              "excerpt": passage[slice(*excerpt)]}
    for name, values in properties(passage).items():
        r = correlations(C, values)
        best = int(onp.abs(r).argmax())
        result[name] = {"unit": best, "r": float(r[best]),
                        "trace": C[slice(*excerpt), best].round(3).tolist()}
    return result
