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
gates with one matrix product (columns in MXNet's [i, f, c, o] order, f
left out); ``copy_weights`` moves weights between them and ``to_gluon``
into a ``gluon.rnn.LSTM`` whose forget gate is exactly 1.
``tests/test_lstm.py`` checks that all three agree, forward and backward,
and that the stored temporal-order results satisfy the chapter's claim.
"""

from mxnet import gluon, init, np, npx

from . import device as _device
from . import fast, lstm_tasks
from .lstm_tasks import cell_gradient_norms
from .rnn import RNNScratch, check_sequence, check_sizes, check_state

__all__ = [
    "LSTM1997Scratch", "LSTM1997Fused", "LSTM1997Fast", "gate_weights",
    "copy_weights",
    "to_gluon", "cell_gradient_norms", "classifier", "train_models",
    "run_temporal_order", "EXPERIMENTS", "GATES", "FORGET_BIAS", "KINDS",
]

KINDS = ("lstm", "rnn")  # the chapter's two models
GATES = ("i", "c", "o")  # MXNet's order [i, f, c, o] without f
# sigmoid(20) rounds to 1.0 in float32 (exp(-20) < 2**-24): F_t = 1.
FORGET_BIAS = 20.0


class _LSTM1997Base(gluon.Block):
    """What both 1997 cells share: sizes, zero state, input checks."""

    def __init__(self, num_inputs, num_hiddens):
        super().__init__()
        check_sizes(num_inputs, num_hiddens)
        self.num_inputs, self.num_hiddens = num_inputs, num_hiddens

    def begin_state(self, batch_size, ctx):
        """Zero state ``(H, C)``, each (batch_size, num_hiddens)."""
        shape = (batch_size, self.num_hiddens)
        return np.zeros(shape, ctx=ctx), np.zeros(shape, ctx=ctx)

    def _start(self, inputs, state):
        ctx = self.collect_params().list_ctx()[0]
        check_sequence("inputs", inputs, self.num_inputs, ctx)
        if state is None:
            return self.begin_state(inputs.shape[1], ctx)
        if len(state) != 2:
            raise ValueError(f"state must be a pair (H, C), got {len(state)}"
                             " arrays")
        shape = (inputs.shape[1], self.num_hiddens)
        check_state("state H", state[0], shape, ctx)
        check_state("state C", state[1], shape, ctx)
        return tuple(state)


class LSTM1997Scratch(_LSTM1997Base):
    """The 1997 cell, one matrix pair per gate, as the equations read."""

    def __init__(self, num_inputs, num_hiddens, sigma=0.01,
                 input_gate_bias=0.0):
        super().__init__(num_inputs, num_hiddens)
        normal = init.Normal(sigma)

        def triple(gate, bias=0.0):  # W_x., W_h., b_. of one gate
            return (self.params.get(f"W_x{gate}", init=normal,
                                    shape=(num_inputs, num_hiddens)),
                    self.params.get(f"W_h{gate}", init=normal,
                                    shape=(num_hiddens, num_hiddens)),
                    self.params.get(f"b_{gate}", init=init.Constant(bias),
                                    shape=(num_hiddens,)))

        self.W_xi, self.W_hi, self.b_i = triple("i", input_gate_bias)
        self.W_xo, self.W_ho, self.b_o = triple("o")
        self.W_xc, self.W_hc, self.b_c = triple("c")

    def step(self, X_t, state):
        """One step: X_t (batch_size, num_inputs), state ``(H, C)``."""
        H, C = state
        ctx = X_t.ctx

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

    def forward(self, inputs, state=None):
        state = self._start(inputs, state)
        outputs = []
        for X_t in inputs:  # inputs: (num_steps, batch_size, num_inputs)
            state = self.step(X_t, state)
            outputs.append(state[0])
        return np.stack(outputs), state  # (num_steps, batch_size, H)


class _GateBias(init.Initializer):
    """Bias of the fused gates: ``input_gate_bias`` on the i block."""

    def __init__(self, num_hiddens, input_gate_bias):
        super().__init__()
        self.num_hiddens, self.input_gate_bias = num_hiddens, input_gate_bias

    def _init_weight(self, _, arr):
        arr[:] = 0.0
        arr[:self.num_hiddens] = self.input_gate_bias


class LSTM1997Fused(_LSTM1997Base):
    """The same cell with one product for all gates (what experiments run).

    ``W_x`` (num_inputs, 3H), ``W_h`` (H, 3H) and ``b`` (3H,) hold the
    gates side by side in the order i, c, o.
    """

    def __init__(self, num_inputs, num_hiddens, sigma=0.01,
                 input_gate_bias=0.0):
        super().__init__(num_inputs, num_hiddens)
        normal, width = init.Normal(sigma), len(GATES) * num_hiddens
        self.W_x = self.params.get("W_x", shape=(num_inputs, width),
                                   init=normal)
        self.W_h = self.params.get("W_h", shape=(num_hiddens, width),
                                   init=normal)
        self.b = self.params.get(
            "b", shape=(width,), init=_GateBias(num_hiddens, input_gate_bias))

    def _cell(self, XW_t, state):
        """One step from XW_t = X_t W_x + b, (batch_size, 3H)."""
        H, C = state
        gates = XW_t + np.dot(H, self.W_h.data(XW_t.ctx))  # (batch, 3H)
        I, C_tilde, O = np.split(gates, 3, axis=1)  # each (batch, H)
        C = C + npx.sigmoid(I) * np.tanh(C_tilde)
        H = npx.sigmoid(O) * np.tanh(C)
        return H, C

    def step(self, X_t, state):
        """One step: X_t (batch_size, num_inputs), state ``(H, C)``."""
        ctx = X_t.ctx
        return self._cell(np.dot(X_t, self.W_x.data(ctx)) + self.b.data(ctx),
                          state)

    def forward(self, inputs, state=None):
        state, ctx = self._start(inputs, state), inputs.ctx
        XW = np.dot(inputs, self.W_x.data(ctx)) + self.b.data(ctx)  # (T,B,3H)
        outputs = []
        # T blocks (batch_size, 3H), split once: indexing XW[t] in a
        # recorded loop would make the backward pass O(T^2).
        for XW_t in np.split(XW.reshape(-1, XW.shape[2]), inputs.shape[0]):
            state = self._cell(XW_t, state)
            outputs.append(state[0])
        return np.stack(outputs), state  # (num_steps, batch_size, H)


class LSTM1997Fast(fast.Unrolled, LSTM1997Fused):
    """``LSTM1997Fused`` with its loop run as one static graph per length
    (``fast.py``): the same parameters, checks and arithmetic, several
    times faster to train (tests/test_lstm.py checks they agree)."""

    def cell(self, F, XW_t, HW_t, state):
        """(H_t, C_t) from the pre-activations of the gates i, c, o."""
        gates, (_, C), n = XW_t + HW_t, state, self.num_hiddens
        I, C_tilde, O = (fast.gate(F, gates, k, n) for k in range(3))
        C = C + F.npx.sigmoid(I) * F.np.tanh(C_tilde)
        return F.npx.sigmoid(O) * F.np.tanh(C), C


def gate_weights(lstm):
    """``{gate: (W_x, W_h, b)}`` arrays of either 1997 cell."""
    if not isinstance(lstm, _LSTM1997Base):
        raise TypeError(f"expected a 1997 LSTM, got {type(lstm).__name__}")
    ctx = lstm.collect_params().list_ctx()[0]
    if isinstance(lstm, LSTM1997Fused):
        parts = [np.split(p.data(ctx), len(GATES), axis=-1)
                 for p in (lstm.W_x, lstm.W_h, lstm.b)]
        return {g: tuple(part[k] for part in parts)
                for k, g in enumerate(GATES)}
    return {g: tuple(getattr(lstm, f"{n}{g}").data(ctx)
                     for n in ("W_x", "W_h", "b_")) for g in GATES}


def copy_weights(source, target):
    """Copy a 1997 cell's weights into another (readable or fused).

    A ``target`` not yet initialised is initialised on the source's
    context. Returns ``target``.
    """
    weights = gate_weights(source)
    if not isinstance(target, _LSTM1997Base):
        raise TypeError(f"expected a 1997 LSTM, got {type(target).__name__}")
    if (source.num_inputs, source.num_hiddens) != (
            target.num_inputs, target.num_hiddens):
        raise ValueError("source and target sizes differ: "
                         f"{(source.num_inputs, source.num_hiddens)} vs "
                         f"{(target.num_inputs, target.num_hiddens)}")
    try:
        target.collect_params().list_ctx()
    except RuntimeError:  # not initialised yet
        target.initialize(ctx=source.collect_params().list_ctx()[0])
    if isinstance(target, LSTM1997Fused):
        for k, p in enumerate((target.W_x, target.W_h, target.b)):
            p.set_data(np.concatenate([weights[g][k] for g in GATES],
                                      axis=-1))
        return target
    for g in GATES:
        for name, value in zip(("W_x", "W_h", "b_"), weights[g]):
            getattr(target, f"{name}{g}").set_data(value)
    return target


def to_gluon(lstm):
    """A ``gluon.rnn.LSTM`` equal to a 1997 cell: F_t = 1 exactly.

    Gluon stacks the gates as rows i, f, c, o of (4H, in) and (4H, H)
    matrices (our W transposed) and adds two biases. The f rows are zero
    and the f bias is ``FORGET_BIAS``, so C_t = 1 * C_{t-1} + I_t * C~_t.
    """
    H, weights = lstm.num_hiddens, gate_weights(lstm)
    ctx = lstm.collect_params().list_ctx()[0]
    layer = gluon.rnn.LSTM(H, input_size=lstm.num_inputs)
    layer.initialize(ctx=ctx)
    params = {name.split("_", 1)[1]: p
              for name, p in layer.collect_params().items()}
    forget = {"W_x": np.zeros((lstm.num_inputs, H), ctx=ctx),
              "W_h": np.zeros((H, H), ctx=ctx),
              "b": np.full((H,), FORGET_BIAS, ctx=ctx)}

    def rows(k, key):  # gates i, f, c, o stacked as rows
        blocks = [weights["i"][k], forget[key], weights["c"][k],
                  weights["o"][k]]
        return np.concatenate([b.T for b in blocks], axis=0)

    params["l0_i2h_weight"].set_data(rows(0, "W_x"))  # (4H, num_inputs)
    params["l0_h2h_weight"].set_data(rows(1, "W_h"))  # (4H, H)
    params["l0_i2h_bias"].set_data(rows(2, "b"))      # (4H,)
    params["l0_h2h_bias"].set_data(np.zeros((4 * H,), ctx=ctx))
    return layer


def classifier(kind, num_hiddens=16, sigma=0.1, input_gate_bias=-2.0,
               ctx=None):
    """One of the chapter's two models, initialised: ``'lstm'`` or ``'rnn'``.

    Input weights are N(0, sigma^2). The LSTM's input gates start mostly
    closed (the paper used negative biases: cells are not written to by
    every input); the RNN gets orthogonal recurrent weights, its fairest
    start.
    """
    ctx = ctx if ctx is not None else _device.device()
    num_inputs = len(lstm_tasks.SYMBOLS)
    if kind == "lstm":  # the fused cell, on the fast path
        layer = LSTM1997Fast(num_inputs, num_hiddens, sigma, input_gate_bias)
    elif kind == "rnn":
        layer = RNNScratch(num_inputs, num_hiddens, sigma)
    else:
        raise ValueError(f"kind must be 'lstm' or 'rnn', got {kind!r}")
    net = lstm_tasks.SequenceClassifier(layer, len(lstm_tasks.CLASSES))
    net.initialize(ctx=ctx)
    if kind == "rnn":
        layer.W_hh.initialize(init.Orthogonal(1.0, "normal"), ctx=ctx,
                              force_reinit=True)
    return net


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
        trained[kind] = net, lstm_tasks.fit(
            net, seed, num_steps, batch_size, test=test, target=target)
    return trained


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
        steps, accuracy = history.at("accuracy")
        first = history.first_step("accuracy", 0.95)
        result[kind] = {
            "steps": steps, "accuracy": accuracy, "best": max(accuracy),
            "steps_to_95": first,
            "sequences_to_95": None if first is None else first * batch_size}
        result["gradient_flow"][kind] = cell_gradient_norms(net, X, labels)
    return result


EXPERIMENTS = {"temporal_order": run_temporal_order}
