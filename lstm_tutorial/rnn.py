"""Chapter 1: the recurrent neural network, from scratch.

    H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h)        (hidden state)
    O_t = H_t W_hq + b_q                              (output)

Elman (1990); backpropagation through time and its vanishing and exploding
gradients: Bengio et al. (1994), Pascanu et al. (2013). ``RNNScratch``
equals ``gluon.rnn.RNN(activation='tanh')`` with copied weights
(``to_gluon``); ``tests/test_rnn.py`` checks outputs and gradients.
Weights are Gluon Parameters so that they follow the context they are
initialised on (DESIGN.md section 6).
"""

from mxnet import autograd, gluon, init, np, npx

from . import device as _device


def check_sizes(num_inputs, num_hiddens):
    """Check both sizes of a recurrent layer are positive ints."""
    for name, value in (("num_inputs", num_inputs),
                        ("num_hiddens", num_hiddens)):
        if not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} must be a positive int, got {value!r}")


def check_sequence(name, X, num_inputs, ctx):
    """Check ``X`` is (num_steps, batch_size, num_inputs) on ``ctx``."""
    if X.ndim != 3 or X.shape[2] != num_inputs or 0 in X.shape:
        raise ValueError(
            f"{name} must have shape (num_steps, batch_size, {num_inputs}),"
            f" got {X.shape}")
    _device.check_context(name, X, ctx)


def check_state(name, state, shape, ctx):
    """Check a state array has ``shape`` and lives on ``ctx``."""
    if state.shape != shape:
        raise ValueError(f"{name} must have shape {shape} (batch_size, "
                         f"num_hiddens), got {state.shape}")
    _device.check_context(name, state, ctx)


class RNNScratch(gluon.Block):
    """The tanh RNN layer; inputs are (num_steps, batch_size, num_inputs)."""

    def __init__(self, num_inputs, num_hiddens, sigma=0.01):
        super().__init__()
        check_sizes(num_inputs, num_hiddens)
        self.num_inputs, self.num_hiddens = num_inputs, num_hiddens
        normal = init.Normal(sigma)
        self.W_xh = self.params.get("W_xh", shape=(num_inputs, num_hiddens),
                                    init=normal)
        self.W_hh = self.params.get("W_hh", shape=(num_hiddens, num_hiddens),
                                    init=normal)
        self.b_h = self.params.get("b_h", shape=(num_hiddens,),
                                   init=init.Zero())

    def begin_state(self, batch_size, ctx):
        """Zero state ``(H,)``, H of shape (batch_size, num_hiddens)."""
        return (np.zeros((batch_size, self.num_hiddens), ctx=ctx),)

    def step(self, X_t, H):
        """One time step: (batch_size, num_inputs) -> (batch_size, H)."""
        ctx = X_t.ctx
        return np.tanh(np.dot(X_t, self.W_xh.data(ctx))
                       + np.dot(H, self.W_hh.data(ctx)) + self.b_h.data(ctx))

    def forward(self, inputs, state=None):
        ctx = self.W_xh.list_ctx()[0]
        check_sequence("inputs", inputs, self.num_inputs, ctx)
        if state is None:
            state = self.begin_state(inputs.shape[1], ctx)
        (H,) = state
        check_state("state", H, (inputs.shape[1], self.num_hiddens), ctx)
        outputs = []
        for X_t in inputs:  # inputs: (num_steps, batch_size, num_inputs)
            H = self.step(X_t, H)
            outputs.append(H)
        return np.stack(outputs), (H,)  # (num_steps, batch_size, H)


class RNNLMScratch(gluon.Block):
    """Character language model: one-hot inputs, a recurrent layer, O_t."""

    def __init__(self, rnn, vocab_size, sigma=0.01):
        super().__init__()
        self.rnn, self.vocab_size = rnn, vocab_size
        if rnn.num_inputs != vocab_size:
            raise ValueError(f"rnn.num_inputs ({rnn.num_inputs}) must equal "
                             f"vocab_size ({vocab_size}) for one-hot inputs")
        self.W_hq = self.params.get("W_hq",
                                    shape=(rnn.num_hiddens, vocab_size),
                                    init=init.Normal(sigma))
        self.b_q = self.params.get("b_q", shape=(vocab_size,),
                                   init=init.Zero())

    def begin_state(self, batch_size, ctx):
        return self.rnn.begin_state(batch_size, ctx)

    def output_layer(self, outputs):
        ctx = outputs.ctx
        return np.dot(outputs, self.W_hq.data(ctx)) + self.b_q.data(ctx)

    def forward(self, X, state=None):
        if X.ndim != 2:
            raise ValueError("X must be token indices of shape (batch_size, "
                             f"num_steps), got {X.shape}")
        embs = npx.one_hot(X.T, self.vocab_size)  # (num_steps, batch, V)
        outputs, state = self.rnn(embs, state)
        return self.output_layer(outputs), state  # (num_steps, batch, V)


def to_gluon(rnn):
    """A ``gluon.rnn.RNN`` holding the same weights as ``rnn``.

    Gluon stores ``i2h_weight`` as (H, num_inputs), i.e. ``W_xh`` transposed,
    and adds two biases; ours is ``b_h`` plus a zero ``h2h_bias``.
    """
    ctx = rnn.W_xh.list_ctx()[0]
    layer = gluon.rnn.RNN(rnn.num_hiddens, activation="tanh",
                          input_size=rnn.num_inputs)
    layer.initialize(ctx=ctx)
    params = {name.split("_", 1)[1]: p
              for name, p in layer.collect_params().items()}
    params["l0_i2h_weight"].set_data(rnn.W_xh.data(ctx).T)
    params["l0_h2h_weight"].set_data(rnn.W_hh.data(ctx).T)
    params["l0_i2h_bias"].set_data(rnn.b_h.data(ctx))
    params["l0_h2h_bias"].set_data(np.zeros_like(rnn.b_h.data(ctx)))
    return layer


def state_gradient_norms(lm, X, Y):
    """Norms ||dL/dH_t|| for t = 1..T, with the loss at the last step only.

    ``X``, ``Y`` are (batch_size, num_steps) token indices. A zero
    perturbation added to every H_t has the same gradient as H_t, so one
    backward pass gives them all. Index 0 is the first step, furthest from
    the loss.
    """
    rnn, ctx = lm.rnn, X.ctx
    (H,) = lm.begin_state(X.shape[0], ctx)
    inputs = npx.one_hot(X.T, lm.vocab_size)
    deltas = [np.zeros(H.shape, ctx=ctx) for _ in range(X.shape[1])]
    for d in deltas:
        d.attach_grad()
    with autograd.record():
        for X_t, d in zip(inputs, deltas):
            H = rnn.step(X_t, H) + d
        logits = lm.output_layer(H)
        loss = -npx.pick(npx.log_softmax(logits), Y[:, -1]).mean()
    loss.backward()
    return [float(np.linalg.norm(d.grad)) for d in deltas]
