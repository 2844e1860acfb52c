"""Chapter 7's experiments: the ablation, and what cells learn.

The ablation trains each variant and the GRU on two tasks. Chapter 2's
temporal order is made shorter so that 9 models x 3 seeds fit in
minutes: lengths 50-55 instead of 100-110, 300 steps. Chapter 3's
continual embedded Reber grammar keeps chapter 3's configuration and
budget (``REBER_RUN``); it trains the variants on the fast path
(``variants.VariantFast``). The cells part
trains chapter 3's LSTM as a character model of *The Time Machine* with
its punctuation, line breaks and capitals lower-cased (chapter 1's
pipeline keeps only letters and spaces), and correlates each unit's cell
state with two properties of the text. Checked by
``tests/test_variants.py``.
"""

import html

import numpy as onp
from mxnet import gluon, init, np

from . import data, device, forget_gate, lstm_tasks, rnn, training
from . import forget_gate_tasks as reber

# Temporal order at half the paper's length: the X/Y windows halved too.
ORDER = {"lengths": (50, 55), "first": (5, 10), "second": (25, 30)}
ORDER_RUN = {"num_hiddens": 16, "num_steps": 300, "batch_size": 32,
             "lr": 1e-2, "theta": 1.0, "sigma": 0.1, "forget_bias": 1.0,
             "input_gate_bias": -2.0}
# Chapter 3's Reber stream with its configuration and budget of chunks.
REBER_RUN = {**reber.CERG, "num_chunks": reber.CERG["budget"],
             "eval_every": 100}
CELLS = {"num_hiddens": 128, "num_steps": 100, "batch_size": 32,
         "num_epochs": 30, "lr": 1e-2, "passage": 20_000}
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


def ablation(seed, make_layer, names, num_steps=None):
    """Every variant in ``names`` on temporal order from one seed."""
    ctx = device.device()
    test = order_test_set(ctx)
    result = {"order": ORDER, "order_run": ORDER_RUN}
    for name in names:
        result[name] = order_run(make_layer, name, seed, ctx, test,
                                 num_steps)
    return result


def reber_run(make_layer, name, seed, ctx, test, config=REBER_RUN):
    """Variant ``name`` on chapter 3's continual Reber stream.

    Trained as chapter 3 trains its cells (``forget_gate_tasks.CERG``),
    scored on the validation stream every ``eval_every`` chunks and on a
    fresh 20,000-symbol test stream at the end.
    """
    net = build(rnn.RNNLMScratch, make_layer, name, len(reber.SYMBOLS),
                len(reber.SYMBOLS), seed, ctx, config, config["sigma"])
    history = reber.fit_stream(net, seed, config["num_chunks"], config,
                               validation=reber.fresh_stream(5000, 1999),
                               eval_every=config["eval_every"])
    logits, _ = reber.predict_stream(net, test[0], ctx)
    chunks, accuracy = history.at("long_lag_accuracy")
    return {**reber.score(logits, *test[1:]), "chunks": chunks,
            "val_long_lag_accuracy": accuracy,
            "diverged_at": history.diverged_at}


def reber_ablation(seed, make_layer, names):
    """Every variant in ``names`` on the Reber stream from one seed."""
    ctx, test = device.device(), reber.fresh_stream(20_000)
    result = {"reber_run": REBER_RUN}
    for name in names:
        result[name] = reber_run(make_layer, name, seed, ctx, test)
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


def run_cells(seed, config=CELLS, excerpt=(12150, 12700)):
    """Train the char model; per property the best unit, its trace, and
    the best |r| by chance (the property shifted by half the passage)."""
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
        # Chance: the same property shifted by half the passage keeps its
        # runs and its share of ones but no longer lines up with the text.
        shifted = onp.roll(values, len(values) // 2)
        result[name] = {"unit": best, "r": float(r[best]),
                        "chance": float(onp.abs(correlations(C, shifted))
                                        .max()),
                        "trace": C[slice(*excerpt), best].round(3).tolist()}
    return result


def coloured_text(text, values):
    """HTML: each character on a background, blue < 0 < red (Karpathy)."""
    if len(text) != len(values):
        raise ValueError(f"text has {len(text)} characters but values has "
                         f"{len(values)}")
    scale = max(float(onp.abs(values).max()), 1e-12)
    spans = []
    for char, value in zip(text, values):
        a = min(abs(float(value)) / scale, 1.0)
        rgb = "214,96,77" if value > 0 else "67,147,195"
        shown = html.escape(char) if char != "\n" else "&#8629;\n"
        spans.append(f'<span style="background:rgba({rgb},{a:.2f})">'
                     f"{shown}</span>")
    return ('<div style="font-family:monospace;white-space:pre-wrap;'
            'line-height:1.5;font-size:0.9em">' + "".join(spans) + "</div>")
