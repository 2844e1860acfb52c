"""Chapter 4: the bidirectional LSTM (Schuster & Paliwal 1997).

    ->H_t = LSTM_f(X_t, ->H_{t-1})     forward chain, t = 1 .. T
    <-H_t = LSTM_b(X_t, <-H_{t+1})     backward chain, t = T .. 1
    H_t   = [->H_t, <-H_t]             both, side by side: (T, B, 2h)

Two chapter-3 layers, one of them reading the sequence reversed: every
output sees the whole past and the whole future. ``Bidirectional`` takes
any two layers of the book's interface (chapter 1's RNN as well: the
bidirectional RNN); ``BiLSTMScratch`` is it with two ``LSTMScratch`` (or
``LSTMFused``) layers. ``to_gluon`` copies the weights into MXNet's
``gluon.rnn.LSTM(bidirectional=True)`` (or ``RNN``). Graves & Schmidhuber
(2005) trained it for framewise phoneme labelling; the experiment, on a
synthetic task with the same property, lives in ``bidirectional_lstm_tasks``.
``tests/test_bidirectional_lstm.py`` checks ours = gluon (outputs and
gradients), contexts, bad input and the stored results.
"""

import math

from mxnet import gluon, init, np, npx

from . import bidirectional_lstm_tasks as tasks
from . import device, forget_gate, rnn

__all__ = ["Bidirectional", "BiLSTMScratch", "to_gluon", "labeller",
           "num_weights", "train_labellers", "views", "run_segment_labelling",
           "language_model", "last_logits", "predict_without_future",
           "causal_perplexity", "KINDS", "NAMES", "EXPERIMENTS"]


class Bidirectional(gluon.Block):
    """A forward and a backward layer; outputs (T, B, 2h) side by side.

    As in d2l's ``BiRNNScratch``, ``num_hiddens`` is the width of the
    outputs, the sum of the two layers' widths. The state is the pair
    ``(forward state, backward state)``; the backward layer's final state
    is the one after reading X_1, last.
    """

    def __init__(self, f_layer, b_layer):
        super().__init__()
        for name, layer in (("f_layer", f_layer), ("b_layer", b_layer)):
            if not all(hasattr(layer, a) for a in
                       ("num_inputs", "num_hiddens", "begin_state")):
                raise TypeError(f"{name} must be a recurrent layer with "
                                "num_inputs, num_hiddens and begin_state, "
                                f"got {type(layer).__name__}")
        if f_layer.num_inputs != b_layer.num_inputs:
            raise ValueError("f_layer and b_layer must read the same inputs:"
                             f" num_inputs {f_layer.num_inputs} != "
                             f"{b_layer.num_inputs}")
        self.f_layer, self.b_layer = f_layer, b_layer
        self.num_inputs = f_layer.num_inputs
        self.num_hiddens = f_layer.num_hiddens + b_layer.num_hiddens

    def begin_state(self, batch_size, ctx):
        return (self.f_layer.begin_state(batch_size, ctx),
                self.b_layer.begin_state(batch_size, ctx))

    def forward(self, inputs, state=None):
        if state is None:
            state = (None, None)
        elif not (isinstance(state, (tuple, list)) and len(state) == 2
                  and all(isinstance(s, (tuple, list)) for s in state)):
            raise ValueError("state must be a pair (forward state, backward"
                             " state) of tuples, as begin_state returns")
        f_outputs, f_state = self.f_layer(inputs, state[0])  # (T, B, h_f)
        # The backward chain reads X_T first, so its step t sees X_t .. X_T.
        b_outputs, b_state = self.b_layer(np.flip(inputs, axis=0), state[1])
        outputs = np.concatenate([f_outputs, np.flip(b_outputs, axis=0)],
                                 axis=2)  # (T, B, h_f + h_b)
        return outputs, (f_state, b_state)


class BiLSTMScratch(Bidirectional):
    """Two chapter-3 LSTM layers of ``num_hiddens`` units each.

    ``fused=True`` builds them as ``LSTMFused`` (one product for all
    gates), the same numbers faster.
    """

    def __init__(self, num_inputs, num_hiddens, sigma=0.01, forget_bias=1.0,
                 fused=False):
        Layer = forget_gate.LSTMFused if fused else forget_gate.LSTMScratch
        super().__init__(Layer(num_inputs, num_hiddens, sigma, forget_bias),
                         Layer(num_inputs, num_hiddens, sigma, forget_bias))


def _gluon_direction(layer):
    """One direction as a ``gluon.rnn`` layer with the same weights."""
    if isinstance(layer, forget_gate.GluonLayer):
        return layer.reference
    if isinstance(layer, rnn.RNNScratch):
        return rnn.to_gluon(layer)
    return forget_gate.to_gluon(layer)  # TypeError unless an LSTM layer


def to_gluon(layer):
    """``gluon.rnn.LSTM(bidirectional=True)`` (or ``RNN``) = ``layer``.

    MXNet names the forward direction's weights ``l0_*`` and the backward
    direction's ``r0_*``, each in the layout chapters 1 and 3 copy into.
    """
    if not isinstance(layer, Bidirectional):
        raise TypeError(f"expected a Bidirectional layer, got "
                        f"{type(layer).__name__}")
    f, b = (_gluon_direction(x) for x in (layer.f_layer, layer.b_layer))
    h = layer.f_layer.num_hiddens
    if type(f) is not type(b) or layer.b_layer.num_hiddens != h:
        raise ValueError("both directions must be the same kind of layer "
                         "with the same num_hiddens")
    ctx = f.collect_params().list_ctx()[0]
    extra = {"activation": "tanh"} if isinstance(f, gluon.rnn.RNN) else {}
    reference = type(f)(h, bidirectional=True, input_size=layer.num_inputs,
                        **extra)
    reference.initialize(init.Zero(), ctx=ctx)  # draws no random numbers
    params = {name.split("_", 1)[1]: p
              for name, p in reference.collect_params().items()}
    for direction, source in (("l0", f), ("r0", b)):
        for name, p in source.collect_params().items():  # ..._l0_i2h_bias
            key = name.split("_", 1)[1].replace("l0", direction, 1)
            params[key].set_data(p.data(ctx))
    return reference


# The experiment: five framewise labellers with the same budget.

KINDS = ("bilstm", "lstm", "lstm_delay", "brnn", "mlp")
NAMES = {"bilstm": "BiLSTM", "lstm": "LSTM", "lstm_delay": "delayed LSTM",
         "brnn": "BRNN", "mlp": "windowed MLP"}


def _fused_lstm(num_hiddens, ctx):
    cell = forget_gate.LSTMFused(tasks.NUM_INPUTS, num_hiddens)
    cell.initialize(ctx=ctx)
    return forget_gate.GluonLayer(cell)  # MXNet's operator, our weights


def _rnn(num_hiddens, ctx):
    layer = rnn.RNNScratch(tasks.NUM_INPUTS, num_hiddens)
    layer.initialize(ctx=ctx)
    layer.W_hh.initialize(init.Orthogonal(1.0, "normal"), ctx=ctx,
                          force_reinit=True)  # chapter 2's fairest start
    return forget_gate.GluonLayer(layer)


def labeller(kind, seed, ctx=None, config=tasks.CONFIG):
    """One of the five models (``KINDS``), initialised from ``seed``."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    ctx = ctx if ctx is not None else device.device()
    device.seed(seed)
    h = config["num_hiddens"][kind]
    if kind == "bilstm":
        layer = Bidirectional(_fused_lstm(h, ctx), _fused_lstm(h, ctx))
    elif kind == "brnn":
        layer = Bidirectional(_rnn(h, ctx), _rnn(h, ctx))
    elif kind == "mlp":
        layer = tasks.WindowMLP(tasks.NUM_INPUTS, config["radius"], h)
        layer.initialize(ctx=ctx)
    else:
        layer = _fused_lstm(h, ctx)
    delay = config["delay"] if kind == "lstm_delay" else 0
    net = tasks.FrameClassifier(layer, len(tasks.CLASSES), delay)
    net.params.initialize(ctx=ctx)  # the readout; the layer has its own
    return net


def num_weights(net):
    """Trained weights of ``net`` (frozen ones, such as the second bias
    that ``GluonLayer`` keeps at zero, not counted)."""
    return sum(p.data().size for p in net.collect_params().values()
               if p.grad_req != "null")


def train_labellers(seed, num_steps, ctx=None, config=tasks.CONFIG,
                    kinds=KINDS):
    """Train each kind on the same batches: ``{kind: (net, history)}``."""
    ctx = ctx if ctx is not None else device.device()
    test, _ = tasks.test_set(ctx, config["test_size"], config["test_seed"])
    return {kind: (net, tasks.fit(net, seed, num_steps, config, test))
            for kind in kinds
            for net in (labeller(kind, seed, ctx, config),)}


def views(config=tasks.CONFIG):
    """``{kind: (past, future)}``: the frames each model can see."""
    k, d = config["radius"], config["delay"]
    return {"bilstm": (None, None), "lstm": (None, 0),
            "lstm_delay": (None, d), "brnn": (None, None), "mlp": (k, k)}


def run_segment_labelling(seed, config=tasks.CONFIG):
    """The stored experiment: the five models' curves, one seed."""
    ctx = device.device()
    test, cues = tasks.test_set(ctx, config["test_size"],
                                config["test_seed"])
    result = {"config": config, "bound": {}}
    trained = train_labellers(seed, config["train_steps"], ctx, config)
    for kind, (net, history) in trained.items():
        seen = tasks.in_view(cues, *views(config)[kind])
        steps, accuracy = history.at("accuracy")
        result["bound"][kind] = tasks.bound(cues, *views(config)[kind])
        result[kind] = {
            "steps": steps, "accuracy": accuracy, "final": accuracy[-1],
            "steps_to_95": history.first_step("accuracy", 0.95),
            **tasks.accuracy_in_view(net, test, seen),
            "num_weights": num_weights(net)}
    return result


EXPERIMENTS = {"segment_labelling": run_segment_labelling}


# Why not for language models: the backward chain reads the answer.

def language_model(vocab_size, num_hiddens, seed, ctx=None,
                   bidirectional=True):
    """A character LM on fused LSTM layers, one or both directions."""
    ctx = ctx if ctx is not None else device.device()
    device.seed(seed)

    def layer():
        cell = forget_gate.LSTMFused(vocab_size, num_hiddens)
        cell.initialize(ctx=ctx)
        return forget_gate.GluonLayer(cell)

    net = rnn.RNNLMScratch(Bidirectional(layer(), layer()) if bidirectional
                           else layer(), vocab_size)
    net.params.initialize(ctx=ctx)  # W_hq, b_q
    return net


def last_logits(net, X):
    """Logits (batch_size, V) after reading X (batch_size, t), all of it.

    The prediction of the next token from the past alone: nothing after
    X is in the input, so the backward chain cannot read the answer.
    """
    logits, _ = net(X, net.begin_state(X.shape[0], X.ctx))
    return logits[-1]


def predict_without_future(prefix, num_preds, net, vocab, ctx=None):
    """Continue ``prefix`` greedily, re-reading the whole text each time."""
    if not prefix:
        raise ValueError("prefix must hold at least one character")
    ctx = ctx if ctx is not None else device.device()
    tokens = [vocab[c] for c in prefix]
    for _ in range(num_preds):
        X = np.array([tokens], ctx=ctx, dtype="int32")  # (1, t)
        tokens.append(int(last_logits(net, X).argmax()))
    return "".join(vocab.to_tokens(tokens))


def causal_perplexity(net, X, Y):
    """exp(cross-entropy) of Y[:, t] predicted from X[:, :t + 1] only."""
    losses = [float(-npx.pick(npx.log_softmax(last_logits(net, X[:, :t])),
                              Y[:, t - 1]).mean())
              for t in range(1, X.shape[1] + 1)]
    return math.exp(sum(losses) / len(losses))
