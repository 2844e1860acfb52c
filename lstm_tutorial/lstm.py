"""Chapter 2: the LSTM of Hochreiter & Schmidhuber (1997), from scratch.

    I_t  = sigmoid(X_t W_xi + H_{t-1} W_hi + b_i)    (input gate)
    O_t  = sigmoid(X_t W_xo + H_{t-1} W_ho + b_o)    (output gate)
    C~_t = tanh(X_t W_xc + H_{t-1} W_hc + b_c)       (cell input)
    C_t  = C_{t-1} + I_t * C~_t                      (constant error carousel)
    H_t  = O_t * tanh(C_t)                           (hidden state)

No forget gate (Gers et al. 2000 added it; chapter 3): along the carousel
dC_t/dC_{t-1} = 1, so the error reaching C_t does not vanish with distance
as the RNN's does (Hochreiter 1991; Bengio et al. 1994). The 1997 paper
squashes with scaled logistic functions and truncates the gradient at the
gates; we use tanh and full backpropagation through time, as MXNet does.

``LSTM1997Scratch`` is the readable cell, ``LSTM1997Fused`` computes all
gates with one matrix product (MXNet's order [i, f, c, o], f left out),
``LSTM1997Fast`` is the fused cell on the fast path (``fast.py``). Their
twin is a ``gluon.rnn.LSTM`` whose forget gate is exactly 1. The
temporal-order task is in ``lstm_tasks``; here are the classifier that
reads it, its training run and the stored experiment.
``tests/test_layers.py`` checks the cells, ``tests/test_lstm.py`` the
rest and the stored results.
"""

from mxnet import autograd, gluon, init, np, npx

from . import claims as _claims
from . import device as _device
from . import fast, layers, lstm_tasks, training
from .rnn import RNNScratch
from .source import checked_by

__all__ = [
    "LSTM1997", "LSTM1997Scratch", "LSTM1997Fused", "LSTM1997Fast",
    "SequenceClassifier", "classifier", "fit", "train_models",
    "cell_gradient_norms", "run_temporal_order", "EXPERIMENTS", "FORGET_BIAS",
    "KINDS", "CLAIMS", "claims_temporal_order",
]

KINDS = ("lstm", "rnn")  # the chapter's two models
TARGET = 0.95  # the test accuracy that counts as solved
RNN_BOUND = 0.35  # "near chance" for the RNN (chance is 0.25)
# sigmoid(20) rounds to 1.0 in float32 (exp(-20) < 2**-24): F_t = 1.
FORGET_BIAS = 20.0


class LSTM1997(layers.Gated):
    """What both 1997 cells share: gates, state, and the gluon twin."""

    GATES = ("i", "c", "o")  # MXNet's order [i, f, c, o] without f
    STATE = ("H", "C")
    GLUON = gluon.rnn.LSTM

    def __init__(self, num_inputs, num_hiddens, input_gate_bias,
                 truncated=False):
        super().__init__(num_inputs, num_hiddens)
        layers.check_real("input_gate_bias", input_gate_bias)
        if not isinstance(truncated, bool):
            raise TypeError(f"truncated must be a bool, got "
                            f"{type(truncated).__name__}")
        self.truncated = truncated

    def to_gluon(self):
        if self.truncated:  # MXNet's operator backpropagates through all
            raise TypeError("a cell with the truncated gradient has no "
                            "gluon.rnn twin (its backward differs)")
        return super().to_gluon()

    def gluon_weights(self):
        """Gluon's four arrays with rows i, f, c, o: the f rows are zero
        and the f bias is ``FORGET_BIAS``, so C_t = 1 * C_{t-1} + ..."""
        W_x, W_h, b, zero = super().gluon_weights()  # rows i, c, o
        H = self.num_hiddens
        forget = (np.zeros((H, W_x.shape[1]), ctx=W_x.ctx),
                  np.zeros((H, H), ctx=W_x.ctx),
                  np.full((H,), FORGET_BIAS, ctx=W_x.ctx))
        return tuple(np.concatenate([A[:H], f, A[H:]], axis=0)
                     for A, f in zip((W_x, W_h, b), forget)) + (
            np.concatenate([zero, np.zeros((H,), ctx=W_x.ctx)]),)

    def load_gluon_weights(self, i2h_weight, h2h_weight, i2h_bias,
                           h2h_bias):
        H = self.num_hiddens  # drop the f rows (F_t = 1 stays 1)
        i, c_o = slice(0, H), slice(2 * H, None)
        return super().load_gluon_weights(*(
            np.concatenate([A[i], A[c_o]], axis=0)
            for A in (i2h_weight, h2h_weight, i2h_bias, h2h_bias)))


class LSTM1997Scratch(LSTM1997, layers.Readable):
    """The 1997 cell, one matrix pair per gate, as the equations read."""

    def __init__(self, num_inputs, num_hiddens, sigma=0.01,
                 input_gate_bias=0.0, truncated=False):
        super().__init__(num_inputs, num_hiddens, input_gate_bias, truncated)
        self.W_xi, self.W_hi, self.b_i = self.gate_params(
            "i", sigma, input_gate_bias)
        self.W_xo, self.W_ho, self.b_o = self.gate_params("o", sigma)
        self.W_xc, self.W_hc, self.b_c = self.gate_params("c", sigma)

    def step(self, X_t, state):
        """One step: X_t (batch_size, num_inputs), state ``(H, C)``."""
        H, C = state
        ctx = X_t.ctx
        if self.truncated:  # 1997: no error back in time through W_h
            H = H.detach()

        def affine(W_x, W_h, b):  # X_t W_x + H_{t-1} W_h + b
            return (np.dot(X_t, W_x.data(ctx)) + np.dot(H, W_h.data(ctx))
                    + b.data(ctx))

        # The input gate, the output gate and the cell input:
        I = npx.sigmoid(affine(self.W_xi, self.W_hi, self.b_i))
        O = npx.sigmoid(affine(self.W_xo, self.W_ho, self.b_o))
        C_tilde = np.tanh(affine(self.W_xc, self.W_hc, self.b_c))
        C = C + I * C_tilde  # the constant error carousel
        H = O * np.tanh(C)
        return H, C


class LSTM1997Fused(LSTM1997, layers.Fused):
    """The same cell with one product for all gates (what experiments run).

    ``W_x`` (num_inputs, 3H), ``W_h`` (H, 3H) and ``b`` (3H,) hold the
    gates side by side in the order i, c, o.
    """

    def __init__(self, num_inputs, num_hiddens, sigma=0.01,
                 input_gate_bias=0.0, truncated=False):
        super().__init__(num_inputs, num_hiddens, input_gate_bias, truncated)
        self.fused_params(sigma, {"i": input_gate_bias})

    def cell(self, ops, gates, state):
        """(H_t, C_t) from the pre-activations of the gates i, c, o."""
        I, C_tilde, O = gates  # each (batch_size, H)
        C = state[1] + ops.npx.sigmoid(I) * ops.np.tanh(C_tilde)
        return ops.npx.sigmoid(O) * ops.np.tanh(C), C


class LSTM1997Fast(fast.Unrolled, LSTM1997Fused):
    """``LSTM1997Fused`` with its loop run as one static graph per length
    (``fast.py``): the same parameters, checks and ``cell``, several
    times faster to train."""


def _check_classes(net, layer, num_classes, sigma=0.01):
    layers.check_count("num_classes", num_classes)
    layers.check_scale("sigma", sigma)


def _check_lengths(net, inputs, lengths=None):
    if lengths is not None:
        layers.check_lengths("lengths", lengths, inputs.shape[1],
                             inputs.shape[0], "num_steps")


class SequenceClassifier(gluon.Block):
    """A recurrent layer read out once, at each sequence's last step.

    ``logits = H_T W_hq + b_q``; ``layer`` is any layer of the book's
    protocol (``layers.Recurrent``: the RNN as well as the LSTMs).
    """

    @checked_by(_check_classes)
    def __init__(self, layer, num_classes, sigma=0.01):
        super().__init__()
        self.layer = layer
        self.W_hq = self.params.get(
            "W_hq", shape=(layer.num_hiddens, num_classes),
            init=init.Normal(sigma))
        self.b_q = self.params.get("b_q", shape=(num_classes,),
                                   init=init.Zero())

    @checked_by(_check_lengths)
    def last_hidden(self, inputs, lengths=None):
        """H at step ``lengths - 1`` of each sequence: (batch_size, H)."""
        outputs, _ = self.layer(inputs)  # (num_steps, batch_size, H)
        if lengths is None:
            return outputs[-1]
        rows = np.arange(inputs.shape[1], ctx=inputs.ctx, dtype="int32")
        return outputs[lengths - 1, rows]

    def readout(self, H):
        """Logits (batch_size, num_classes) from H (batch_size, H)."""
        ctx = H.ctx
        return np.dot(H, self.W_hq.data(ctx)) + self.b_q.data(ctx)

    def forward(self, inputs, lengths=None):
        return self.readout(self.last_hidden(inputs, lengths))


def _check_kind(kind, *args, **kwargs):
    if kind not in ("lstm", "rnn"):
        raise ValueError(f"kind must be 'lstm' or 'rnn', got {kind!r}")


@checked_by(_check_kind)
def classifier(kind, num_hiddens=16, sigma=0.1, input_gate_bias=-2.0,
               ctx=None, truncated=False):
    """One of the chapter's two models, initialised: ``'lstm'`` or ``'rnn'``.

    Input weights are N(0, sigma^2). The LSTM's input gates start mostly
    closed (the paper used negative biases: cells are not written to by
    every input); the RNN gets orthogonal recurrent weights, its fairest
    start. ``truncated=True`` gives the LSTM the 1997 paper's truncated
    gradient (chapter 8).
    """
    ctx = ctx if ctx is not None else _device.device()
    num_inputs = len(lstm_tasks.SYMBOLS)
    if kind == "lstm":  # the fused cell, on the fast path
        layer = LSTM1997Fast(num_inputs, num_hiddens, sigma, input_gate_bias,
                             truncated)
    else:
        layer = RNNScratch(num_inputs, num_hiddens, sigma)
    net = SequenceClassifier(layer, len(lstm_tasks.CLASSES))
    net.initialize(ctx=ctx)
    if kind == "rnn":
        layer.W_hh.initialize(init.Orthogonal(1.0, "normal"), ctx=ctx,
                              force_reinit=True)
    return net


def fit(net, seed, num_steps=800, batch_size=32, lr=1e-2, theta=1.0,
        test=None, eval_every=25, target=None, **task):
    """Adam on fresh batches of the task; test accuracy every 25 steps.

    With ``target``, stop at the first evaluation reaching it (the live
    run in the notebook); the stored experiment runs all steps.
    """
    ctx = net.W_hq.list_ctx()[0]
    stop = None if target is None else (
        lambda history: any(a >= target for a in history["accuracy"]))
    evaluate = None if test is None else (
        lambda net: {"accuracy": lstm_tasks.accuracy(net, test)})
    return training.fit(
        net, lstm_tasks.batches(num_steps, batch_size, seed, ctx, **task),
        lstm_tasks.objective, lr, theta, evaluate=evaluate,
        eval_every=eval_every, stop=stop)


def train_models(seed, num_steps=800, batch_size=32, target=None,
                 ctx=None):
    """Train the LSTM and the RNN from one seed: ``{kind: (net, history)}``.

    Both see the same batches (``RandomState(seed)``) and are scored every
    25 steps on the same 512 test sequences.
    """
    ctx = ctx if ctx is not None else _device.device()
    test = lstm_tasks.test_set(ctx)
    trained = {}
    for kind in KINDS:
        _device.seed(seed)
        net = classifier(kind, ctx=ctx)
        trained[kind] = net, fit(net, seed, num_steps, batch_size,
                                 test=test, target=target)
    return trained


def cell_gradient_norms(net, inputs, labels, index=-1):
    """Norms ||dL/dS_t|| for t = 0..T-1, S_t entering step t + 1.

    ``net`` is a ``SequenceClassifier``, L its cross-entropy at the last of
    the T steps of ``inputs`` (num_steps, batch_size, num_inputs), all of
    one length. S is state component ``index``: -1 is the cell state C of
    an LSTM and the hidden state H of the RNN. A zero added to S_t has
    S_t's gradient, so one backward pass gives every step; entry t lies
    T - t steps before the loss.
    """
    layer, ctx = net.layer, inputs.ctx
    state = list(layer.begin_state(inputs.shape[1], ctx))
    deltas = [np.zeros(state[index].shape, ctx=ctx) for _ in inputs]
    for d in deltas:
        d.attach_grad()
    with autograd.record():
        for X_t, d in zip(np.split(inputs, inputs.shape[0]), deltas):
            state[index] = state[index] + d
            _, state = layer(X_t, tuple(state))  # X_t: (1, batch, inputs)
            state = list(state)
        loss = training.cross_entropy(net.readout(state[0]), labels)
    loss.backward()
    return [float(np.linalg.norm(d.grad)) for d in deltas]


def run_temporal_order(seed, num_steps=3000, batch_size=32):
    """The stored experiment: curves and gradient flow for one seed."""
    ctx = _device.device()
    X, _, labels = lstm_tasks.probe_set(ctx)
    result = {"num_steps": num_steps, "batch_size": batch_size,
              "gradient_flow_init": {}, "gradient_flow": {}}
    for kind in KINDS:
        _device.seed(seed)
        result["gradient_flow_init"][kind] = cell_gradient_norms(
            classifier(kind, ctx=ctx), X, labels)
    trained = train_models(seed, num_steps, batch_size, ctx=ctx)
    for kind, (net, history) in trained.items():
        result[kind] = _curve(history, batch_size)
        result[kind]["best"] = max(result[kind]["accuracy"])
        result["gradient_flow"][kind] = cell_gradient_norms(net, X, labels)
    return result


def _curve(history, batch_size):
    """A run's test accuracies and when it first reached ``TARGET``."""
    steps, accuracy = history.at("accuracy")
    first = history.first_step("accuracy", TARGET)
    return {"steps": steps, "accuracy": accuracy, "steps_to_95": first,
            "sequences_to_95": None if first is None else first * batch_size}


GRADIENTS = ("full", "truncated")  # the truncation experiment's two runs


def run_truncation(seed, num_steps=3000, batch_size=32):
    """Experiment 6a with the full and the truncated gradient, one seed.

    The same LSTM, batches and test set as ``run_temporal_order``; each
    run stops at the first evaluation that reaches ``TARGET``. The full
    gradient's runs are those of the temporal-order record, so its steps
    to 95% are the same numbers.
    """
    ctx = _device.device()
    test = lstm_tasks.test_set(ctx)
    result = {"num_steps": num_steps, "batch_size": batch_size}
    for gradient in GRADIENTS:
        _device.seed(seed)
        net = classifier("lstm", ctx=ctx, truncated=gradient == "truncated")
        result[gradient] = _curve(fit(net, seed, num_steps, batch_size,
                                      test=test, target=TARGET), batch_size)
    return result


EXPERIMENTS = {"temporal_order": run_temporal_order,
               "truncation": run_truncation}


# What the stored seeds show (lstm_tutorial/claims.py): chapter 2 asserts
# these, and tests/test_claims_stored.py checks them on the stored record.
# Rate bounds follow the rule of claims.py from the ten stored seeds.
CLAIM_STEPS, FAR = 3000, 89  # the budget; entry -1 - FAR is distance 90
PAPER_6A = ("Hochreiter & Schmidhuber (1997), experiment 6a: solved, "
            "31,390 training sequences on average")


def _solved(run):
    """Whether a run reached ``TARGET`` within the claims' budget."""
    return run["steps_to_95"] is not None and run["steps_to_95"] <= (
        CLAIM_STEPS)


def _flow_ratio(run, kind):
    flow = run["gradient_flow"][kind]
    return flow[-1 - FAR] / flow[-1]


def claims_temporal_order(record):
    """The claims of the ``temporal_order`` record, over all its seeds."""
    runs = list(record["seeds"].values())
    return [
        _claims.at_least(
            f"the 1997 LSTM reaches a test accuracy of {TARGET} within "
            f"{CLAIM_STEPS:,} steps", runs, lambda r: _solved(r["lstm"]),
            0.7, PAPER_6A),
        _claims.at_least(
            f"the RNN stays at or below {RNN_BOUND} (chance is "
            f"{1 / len(lstm_tasks.CLASSES):.2f}) for {CLAIM_STEPS:,} steps",
            runs, lambda r: max(r["rnn"]["steps"]) >= CLAIM_STEPS
            and r["rnn"]["best"] <= RNN_BOUND, 0.7,
            "Hochreiter & Schmidhuber (1997): no other method solved it"),
        _claims.every(
            "after training, the LSTM's cell-state gradient 90 steps back is"
            " above 1/100 of the last step's", runs,
            lambda r: _flow_ratio(r, "lstm") > 1e-2),
        _claims.every(
            "after training, the RNN's gradient 90 steps back is below "
            "1/10,000 of the last step's", runs,
            lambda r: _flow_ratio(r, "rnn") < 1e-4),
    ]


PAPER_TRUNCATED = ("Hochreiter & Schmidhuber (1997), experiment 6a, with "
                   "their truncated gradient: solved, 31,390 training "
                   "sequences on average")


def claims_truncation(record):
    """The claims of the ``truncation`` record, over all its seeds."""
    runs = list(record["seeds"].values())
    return [
        _claims.at_least(
            f"with the truncated gradient, the 1997 LSTM reaches a test "
            f"accuracy of {TARGET} within {CLAIM_STEPS:,} steps", runs,
            lambda r: _solved(r["truncated"]), 0.7, PAPER_TRUNCATED),
        _claims.at_least(
            f"with the full gradient, it reaches {TARGET} within "
            f"{CLAIM_STEPS:,} steps", runs, lambda r: _solved(r["full"]),
            0.7, PAPER_6A),
    ]


CLAIMS = {"temporal_order": claims_temporal_order,
          "truncation": claims_truncation}


