"""Chapter 3: the forget gate (Gers, Schmidhuber & Cummins 2000).

    I_t  = sigmoid(X_t W_xi + H_{t-1} W_hi + b_i)    (input gate)
    F_t  = sigmoid(X_t W_xf + H_{t-1} W_hf + b_f)    (forget gate)
    O_t  = sigmoid(X_t W_xo + H_{t-1} W_ho + b_o)    (output gate)
    C~_t = tanh(X_t W_xc + H_{t-1} W_hc + b_c)       (cell input)
    C_t  = F_t * C_{t-1} + I_t * C~_t                (the cell can forget)
    H_t  = O_t * tanh(C_t)                           (hidden state)

The 1997 cell of chapter 2 is the case F_t = 1. With the forget gate this
is the LSTM that every framework ships: ``LSTMScratch`` (one matrix pair
per gate, as the equations read) and ``LSTMFused`` (one product for all
four gates, columns in MXNet's order i, f, c, o) equal
``gluon.rnn.LSTM`` with copied weights (``to_gluon``). ``forget_bias``
initialises b_f: Jozefowicz et al. (2015) recommend 1.

Both cells reuse chapter 2's state checks and time loops; only the
parameters and the step differ. ``tests/test_forget_gate.py`` checks
readable = fused = gluon (outputs and gradients over a whole sequence),
contexts and bad input. The experiments live in ``forget_gate_tasks``.
"""

import numpy as onp
from mxnet import gluon, init, np, npx

from . import device, lstm, lstm_tasks, rnn
from . import forget_gate_tasks as tasks

__all__ = ["LSTMScratch", "LSTMFused", "GATES", "fused_weights",
           "load_fused_weights", "to_gluon", "without_forget_gate",
           "with_forget_gate_at_one",
           "GluonLayer", "network", "cerg_predictor", "run_cerg",
           "bias_classifier", "run_forget_bias", "EXPERIMENTS", "KINDS",
           "BIASES"]

GATES = ("i", "f", "c", "o")  # MXNet's order of the gates


class _LSTMBase(gluon.Block):
    """Sizes, gate biases, zero state and input checks of both cells."""

    # The same zero state (H, C) and the same checks as the 1997 cell.
    begin_state = lstm.LSTM1997Scratch.begin_state
    _start = lstm.LSTM1997Scratch._start

    def __init__(self, num_inputs, num_hiddens, forget_bias,
                 input_gate_bias):
        super().__init__()
        rnn.check_sizes(num_inputs, num_hiddens)  # chapter 1's check
        for name, value in (("forget_bias", forget_bias),
                            ("input_gate_bias", input_gate_bias)):
            if not isinstance(value, (int, float)):
                raise TypeError(f"{name} must be a number, got "
                                f"{type(value).__name__}")
        self.num_inputs, self.num_hiddens = num_inputs, num_hiddens
        self.biases = {"i": float(input_gate_bias), "f": float(forget_bias),
                       "c": 0.0, "o": 0.0}


class LSTMScratch(_LSTMBase):
    """The modern LSTM cell, one matrix pair per gate."""

    def __init__(self, num_inputs, num_hiddens, sigma=0.01, forget_bias=1.0,
                 input_gate_bias=0.0):
        super().__init__(num_inputs, num_hiddens, forget_bias,
                         input_gate_bias)
        self.W_xi, self.W_hi, self.b_i = self._gate("i", sigma)
        self.W_xf, self.W_hf, self.b_f = self._gate("f", sigma)
        self.W_xc, self.W_hc, self.b_c = self._gate("c", sigma)
        self.W_xo, self.W_ho, self.b_o = self._gate("o", sigma)

    def _gate(self, g, sigma):
        """Parameters W_xg (num_inputs, H), W_hg (H, H) and b_g (H,)."""
        d, h = self.num_inputs, self.num_hiddens
        return (self.params.get(f"W_x{g}", shape=(d, h),
                                init=init.Normal(sigma)),
                self.params.get(f"W_h{g}", shape=(h, h),
                                init=init.Normal(sigma)),
                self.params.get(f"b_{g}", shape=(h,),
                                init=init.Constant(self.biases[g])))

    def step(self, X_t, state):
        """One step: X_t (batch_size, num_inputs), state ``(H, C)``."""
        H, C = state
        ctx = X_t.ctx

        def gate(g):  # X_t W_xg + H_{t-1} W_hg + b_g
            W_x, W_h, b = (getattr(self, f"{n}{g}").data(ctx)
                           for n in ("W_x", "W_h", "b_"))
            return np.dot(X_t, W_x) + np.dot(H, W_h) + b

        I = npx.sigmoid(gate("i"))
        F = npx.sigmoid(gate("f"))  # the forget gate
        O = npx.sigmoid(gate("o"))
        C_tilde = np.tanh(gate("c"))
        C = F * C + I * C_tilde  # forget some of the old, write the new
        H = O * np.tanh(C)
        return H, C

    # Chapter 2's loop: ``step`` at every time step, outputs stacked.
    forward = lstm.LSTM1997Scratch.forward


class LSTMFused(_LSTMBase):
    """The same cell with one product for all four gates.

    ``W_x`` (num_inputs, 4H), ``W_h`` (H, 4H) and ``b`` (4H,) hold the
    gates side by side in MXNet's order i, f, c, o.
    """

    def __init__(self, num_inputs, num_hiddens, sigma=0.01, forget_bias=1.0,
                 input_gate_bias=0.0):
        super().__init__(num_inputs, num_hiddens, forget_bias,
                         input_gate_bias)
        width, normal = len(GATES) * num_hiddens, init.Normal(sigma)
        bias = [self.biases[g] for g in GATES for _ in range(num_hiddens)]
        self.W_x = self.params.get("W_x", shape=(num_inputs, width),
                                   init=normal)
        self.W_h = self.params.get("W_h", shape=(num_hiddens, width),
                                   init=normal)
        self.b = self.params.get("b", shape=(width,),
                                 init=init.Constant(bias))

    def _cell(self, XW_t, state):
        """One step from XW_t = X_t W_x + b, (batch_size, 4H)."""
        H, C = state
        gates = XW_t + np.dot(H, self.W_h.data(XW_t.ctx))  # (batch, 4H)
        I, F, C_tilde, O = np.split(gates, 4, axis=1)  # each (batch, H)
        C = npx.sigmoid(F) * C + npx.sigmoid(I) * np.tanh(C_tilde)
        H = npx.sigmoid(O) * np.tanh(C)
        return H, C

    # Chapter 2's fused loops: X W_x + b for all steps at once, then _cell.
    step = lstm.LSTM1997Fused.step
    forward = lstm.LSTM1997Fused.forward


def _check_cell(layer):
    if not isinstance(layer, _LSTMBase):
        raise TypeError("expected LSTMScratch or LSTMFused, got "
                        f"{type(layer).__name__}")


def fused_weights(layer):
    """``(W_x, W_h, b)`` of either cell in the fused layout [i, f, c, o]."""
    _check_cell(layer)
    ctx = layer.collect_params().list_ctx()[0]
    if isinstance(layer, LSTMFused):
        return tuple(p.data(ctx) for p in (layer.W_x, layer.W_h, layer.b))
    return tuple(np.concatenate([getattr(layer, f"{n}{g}").data(ctx)
                                 for g in GATES], axis=-1)
                 for n in ("W_x", "W_h", "b_"))


def load_fused_weights(layer, W_x, W_h, b):
    """Set either cell's weights from the fused layout; returns ``layer``."""
    _check_cell(layer)
    if isinstance(layer, LSTMFused):
        for p, value in zip((layer.W_x, layer.W_h, layer.b), (W_x, W_h, b)):
            p.set_data(value)
        return layer
    for n, value in zip(("W_x", "W_h", "b_"), (W_x, W_h, b)):
        for g, part in zip(GATES, np.split(value, len(GATES), axis=-1)):
            getattr(layer, f"{n}{g}").set_data(part)
    return layer


def _initialize_zero(block, ctx):
    """Initialise with zeros, drawing no random numbers (weights follow)."""
    for p in block.collect_params().values():
        p.initialize(init=init.Zero(), ctx=ctx)


def to_gluon(layer):
    """A ``gluon.rnn.LSTM`` holding the same weights as ``layer``.

    Gluon stacks the gates as rows i, f, c, o of (4H, in) and (4H, H)
    matrices, our fused matrices transposed, and adds two biases.
    """
    W_x, W_h, b = fused_weights(layer)
    ctx = W_x.ctx
    reference = gluon.rnn.LSTM(layer.num_hiddens,
                               input_size=layer.num_inputs)
    _initialize_zero(reference, ctx)
    params = {name.split("_", 1)[1]: p
              for name, p in reference.collect_params().items()}
    params["l0_i2h_weight"].set_data(W_x.T)  # (4H, num_inputs)
    params["l0_h2h_weight"].set_data(W_h.T)  # (4H, H)
    params["l0_i2h_bias"].set_data(b)        # (4H,)
    params["l0_h2h_bias"].set_data(np.zeros_like(b))
    return reference


def without_forget_gate(layer):
    """The 1997 cell (chapter 2) with ``layer``'s i, c and o weights."""
    W_x, W_h, b = fused_weights(layer)
    keep = [k for k, g in enumerate(GATES) if g in lstm.GATES]  # i, c, o
    cell = lstm.LSTM1997Fused(layer.num_inputs, layer.num_hiddens)
    _initialize_zero(cell, W_x.ctx)
    for p, value in zip((cell.W_x, cell.W_h, cell.b), (W_x, W_h, b)):
        parts = np.split(value, len(GATES), axis=-1)
        p.set_data(np.concatenate([parts[k] for k in keep], axis=-1))
    return cell


def with_forget_gate_at_one(cell):
    """A 1997 cell as a modern one whose F_t is exactly 1 in float32.

    Zero forget weights and the bias ``lstm.FORGET_BIAS``: sigmoid(20)
    rounds to 1, and its derivative F (1 - F) to 0, so training leaves
    the gate at 1.
    """
    weights = lstm.gate_weights(cell)
    ctx = weights["i"][0].ctx
    forget = (np.zeros_like(weights["i"][0]), np.zeros_like(weights["i"][1]),
              np.full_like(weights["i"][2], lstm.FORGET_BIAS))
    layer = LSTMFused(cell.num_inputs, cell.num_hiddens)
    _initialize_zero(layer, ctx)
    return load_fused_weights(layer, *(np.concatenate(
        [forget[k] if g == "f" else weights[g][k] for g in GATES], axis=-1)
        for k in range(3)))


class GluonLayer(gluon.Block):
    """MXNet's fused operator with a scratch layer's weights.

    Each scratch layer equals its ``gluon.rnn`` counterpart (chapters 1-3
    test it), so experiments may train the operator (a training step was
    about five times faster here) behind the book's layer interface:
    states are tuples of (batch_size, num_hiddens) arrays, and one bias
    is trained, as in our cells. ``to_scratch`` copies the trained
    weights back into our fused cell.
    """

    def __init__(self, layer):
        super().__init__()
        if isinstance(layer, _LSTMBase):
            reference = to_gluon(layer)
        elif isinstance(layer, (lstm.LSTM1997Scratch, lstm.LSTM1997Fused)):
            reference = to_gluon(with_forget_gate_at_one(layer))
        elif isinstance(layer, rnn.RNNScratch):
            reference = rnn.to_gluon(layer)
        else:
            raise TypeError(f"no gluon counterpart for {type(layer).__name__}")
        self.kind = type(layer)
        self.num_inputs, self.num_hiddens = layer.num_inputs, layer.num_hiddens
        self.num_states = 1 if self.kind is rnn.RNNScratch else 2
        self.reference = reference
        # Gluon adds two biases: training both would double the biases'
        # steps. With one, a step on the operator is a step on our cell.
        for name, p in reference.collect_params().items():
            if name.endswith("h2h_bias"):
                p.grad_req = "null"

    def begin_state(self, batch_size, ctx):
        shape = (batch_size, self.num_hiddens)
        return tuple(np.zeros(shape, ctx=ctx) for _ in range(self.num_states))

    def forward(self, inputs, state=None):
        ctx = self.reference.collect_params().list_ctx()[0]
        rnn.check_sequence("inputs", inputs, self.num_inputs, ctx)
        if state is None:
            state = self.begin_state(inputs.shape[1], ctx)
        if len(state) != self.num_states:
            raise ValueError(f"state must hold {self.num_states} arrays, got "
                             f"{len(state)}")
        for name, S in zip(("H", "C"), state):
            rnn.check_state(f"state {name}", S,
                            (inputs.shape[1], self.num_hiddens), ctx)
        outputs, state = self.reference(inputs, [S[None] for S in state])
        return outputs, tuple(S[0] for S in state)

    def to_scratch(self):
        """Our fused cell with the current weights (LSTMs only).

        A 1997 cell comes back as ``lstm.LSTM1997Fused``: its forget rows
        still hold F_t = 1, which is dropped.
        """
        if self.kind is rnn.RNNScratch:
            raise TypeError("to_scratch copies LSTM weights only")
        params = {name.split("_", 1)[1]: p.data() for name, p in
                  self.reference.collect_params().items()}
        cell = LSTMFused(self.num_inputs, self.num_hiddens)
        _initialize_zero(cell, params["l0_i2h_weight"].ctx)
        load_fused_weights(cell, params["l0_i2h_weight"].T,
                           params["l0_h2h_weight"].T,
                           params["l0_i2h_bias"] + params["l0_h2h_bias"])
        return cell if issubclass(self.kind, _LSTMBase) else (
            without_forget_gate(cell))


# The experiments: the continual embedded Reber grammar and the
# forget-bias sweep on chapter 2's temporal-order task.

KINDS = ("forget", "1997")  # the modern cell, and the same without F_t
BIASES = (0.0, 1.0, 3.0, 5.0)  # the sweep; None stands for the 1997 cell


def network(head, num_inputs, num_outputs, num_hiddens, seed, ctx,
            forget_bias=1.0, input_gate_bias=-1.0, sigma=0.01,
            readout_sigma=None):
    """``head(layer, num_outputs, sigma)`` on a modern cell, on MXNet's op.

    ``forget_bias=None`` gives the 1997 cell with the same i, c and o
    weights and the same readout: the two differ only by F_t.
    """
    device.seed(seed)
    cell = LSTMFused(num_inputs, num_hiddens, sigma,
                     0.0 if forget_bias is None else forget_bias,
                     input_gate_bias)
    cell.initialize(ctx=ctx)
    if forget_bias is None:
        cell = without_forget_gate(cell)
    net = head(GluonLayer(cell), num_outputs,
               sigma if readout_sigma is None else readout_sigma)
    net.params.initialize(ctx=ctx)  # the readout; the layer has its weights
    return net


def cerg_predictor(kind, seed, ctx=None, config=tasks.CERG):
    """The CERG predictor, ``'forget'`` (modern) or ``'1997'``."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    ctx = ctx if ctx is not None else device.device()
    size = len(tasks.SYMBOLS)
    return network(rnn.RNNLMScratch, size, size, config["num_hiddens"], seed,
                   ctx, None if kind == "1997" else config["forget_bias"],
                   config["input_gate_bias"], config["sigma"])


def run_cerg(seed, num_symbols=20_000, block=100, config=tasks.CERG):
    """The stored CERG experiment: both kinds from one seed.

    Each is scored on a fresh test stream after ``config["budget"]``
    chunks and again at the end, ``config["num_chunks"]``. At the end our
    scratch cell also traces the stream, which gives max_j |C_t| at every
    step (the maximum of each ``block`` of steps is stored).
    """
    ctx = device.device()
    tokens, targets, long_lag = tasks.fresh_stream(num_symbols)

    def test(net):
        logits, C_end = tasks.predict_stream(net, tokens, ctx)
        return {**tasks.score(logits, targets, long_lag),
                "c_end_max": float(C_end.max())}

    result = {"config": config, "num_symbols": num_symbols, "block": block}
    for kind in KINDS:
        net = cerg_predictor(kind, seed, ctx, config)
        history = tasks.fit_stream(
            net, seed, config["num_chunks"], config,
            validation=tasks.fresh_stream(5000, seed=1999),
            at={config["budget"]: lambda net: {"at_budget": test(net)}})
        traced, C = tasks.trace_stream(net, tokens, ctx)
        C_max = onp.abs(C).max(axis=1)  # max_j |C_t|, (num_symbols,)
        chunks, accuracy = history.at("long_lag_accuracy")
        result[kind] = {
            "at_budget": history.last("at_budget"), "at_end": test(net),
            "traced": tasks.score(traced, targets, long_lag),
            "c_max": C_max.reshape(-1, block).max(axis=1).tolist(),
            "chunks": chunks, "val_long_lag_accuracy": accuracy,
            "val_errors_per_1000": history.at("errors_per_1000")[1],
            "diverged_at": history.diverged_at}
    return result


def bias_classifier(forget_bias, seed, ctx=None, num_hiddens=16):
    """Chapter 2's classifier on the modern cell (None: the 1997 cell).

    Initialised as chapter 2's ``lstm.classifier``: weights N(0, 0.1^2),
    input-gate bias -2, readout N(0, 0.01^2).
    """
    ctx = ctx if ctx is not None else device.device()
    return network(lstm_tasks.SequenceClassifier, len(lstm_tasks.SYMBOLS),
                   len(lstm_tasks.CLASSES), num_hiddens, seed, ctx,
                   forget_bias, input_gate_bias=-2.0, sigma=0.1,
                   readout_sigma=0.01)


def run_forget_bias(seed, num_steps=800, batch_size=32):
    """The stored sweep: temporal order for each forget bias, one seed."""
    ctx = device.device()
    test = lstm_tasks.test_set(ctx)
    X, _, labels = lstm_tasks.probe_set(ctx)
    result = {"num_steps": num_steps, "batch_size": batch_size}
    for bias in BIASES + (None,):
        net = bias_classifier(bias, seed, ctx)
        flow = lstm_tasks.cell_gradient_norms(net, X, labels)
        history = lstm_tasks.fit(net, seed, num_steps, batch_size, test=test)
        steps, accuracy = history.at("accuracy")
        result["1997" if bias is None else f"{bias:g}"] = {
            "forget_bias": bias, "steps": steps, "accuracy": accuracy,
            "best": max(accuracy),
            "steps_to_95": history.first_step("accuracy", 0.95),
            "gradient_flow_init": flow}
    return result


EXPERIMENTS = {"cerg": run_cerg, "forget_bias": run_forget_bias}
