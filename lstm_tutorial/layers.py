"""The layer protocol: what every recurrent layer of the book shares.

A recurrent layer reads ``inputs`` of shape (num_steps, batch_size,
num_inputs) and a *state*, a tuple of (batch_size, num_hiddens) arrays
named by the class's ``STATE`` (``("H",)`` for the RNN and the GRU,
``("H", "C")`` for the LSTMs), and returns every step's H and the last
state::

    outputs, state = layer(inputs, state=None)   # state None: zeros

``Recurrent`` holds the sizes, the zero state, one check of the inputs
and the state (``start``), and the loop over time (``unroll``) that calls
the layer's ``step(X_t, state)``. A chapter writes only a layer's
parameters and its ``step``: the math. Every check lives here, so every
layer refuses bad input with the same clear messages.

``Gated`` adds the weights protocol. Each gate ``g`` (``GATES``, in
MXNet's row order) is an affine map ``X_t W_xg + H_{t-1} W_hg + b_g``;
``fused_weights()`` returns them side by side, ``W_x`` (num_inputs, kH),
``W_h`` (H, kH) and ``b`` (kH,), and ``load_fused_weights`` sets them,
whichever way a layer stores them: one triple per gate (``Readable``, as
the equations read) or one product for all gates (``Fused``). A layer
whose class names a ``gluon.rnn`` twin (``GLUON``) converts itself with
``to_gluon()``; ``GluonLayer`` wraps that twin, MXNet's fused operator,
behind the same interface, and ``to_scratch()`` is the way back.

A ``Fused`` layer writes its arithmetic once, in ``cell(ops, gates,
state)``: the new state from the gates' pre-activations, with ``ops``
the operator namespace (``mxnet.ndarray`` here, symbols when ``fast``
traces the loop into a graph). Checked by ``tests/test_layers.py``,
for every layer of the package.
"""

import math
import numbers

import numpy as onp
from mxnet import gluon, init, nd, np

from . import device
from .source import checked_by

__all__ = ["DTYPE", "check_count", "check_sizes", "check_dtype",
           "check_np_array", "check_real", "check_scale", "check_tokens",
           "check_sequence", "check_state", "check_lengths", "check_gated",
           "Recurrent", "Gated", "Readable", "Fused", "GluonLayer", "blank",
           "copy_weights", "gluon_params"]

DTYPE = onp.dtype("float32")  # every weight of the book
GLUON_NAMES = ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias")


def check_count(name, value, low=1):
    """Check ``value`` is an integer (a bool is not) of at least ``low``."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Integral)
            or value < low):
        what = "a positive int" if low == 1 else f"an int >= {low}"
        raise ValueError(f"{name} must be {what}, got {value!r}")


def check_real(name, value):
    """Check ``value`` is a finite real number (a bool is not)."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")


def check_scale(name, value):
    """Check ``value`` is a positive finite number: a standard deviation."""
    check_real(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be a positive number (the standard "
                         f"deviation of the initial weights), got {value!r}")


def check_tokens(name, X, vocab_size, ndim=2):
    """Check ``X`` holds token indices 0 .. vocab_size - 1, ``ndim`` axes.

    An index outside the vocabulary is no error to MXNet: ``one_hot``
    gives a zero row and ``Embedding`` clips it, so the model answers for
    a token that does not exist. A float index is truncated the same way.
    """
    check_np_array(name, X)
    if X.ndim != ndim or 0 in X.shape:
        axes = "(batch_size, num_steps)" if ndim == 2 else f"{ndim} axes"
        raise ValueError(f"{name} must be token indices of shape {axes}, "
                         f"got {X.shape}")
    values = X.asnumpy()
    bad = (values < 0) | (values >= vocab_size)
    if values.dtype.kind == "f":
        bad |= ~onp.isfinite(values) | (values != onp.floor(values))
    if bad.any():
        first = values[bad].flat[0]  # a NumPy scalar: float32 prints 1.7
        if float(first).is_integer():
            first = int(first)  # 7.0 is shown as 7
        raise ValueError(
            f"{name} must hold token indices, integers 0 to "
            f"{vocab_size - 1} (a vocabulary of {vocab_size}), got "
            f"{str(first)} ({int(bad.sum())} of {values.size} entries are "
            "not)")


def check_sizes(num_inputs, num_hiddens):
    """Check both sizes of a recurrent layer are positive ints."""
    for name, value in (("num_inputs", num_inputs),
                        ("num_hiddens", num_hiddens)):
        check_count(name, value)


def check_dtype(name, array):
    """Check ``array`` is float32, the weights' type (no silent cast)."""
    if onp.dtype(array.dtype) != DTYPE:
        raise TypeError(
            f"{name} must have dtype float32 (the weights'), got "
            f"{onp.dtype(array.dtype)}: convert it with "
            f"{name.split()[0]}.astype('float32')")


def check_np_array(name, X):
    """Check ``X`` is an ``mxnet.np`` array, saying how to convert others."""
    if isinstance(X, np.ndarray):
        return
    kind = f"{type(X).__module__}.{type(X).__name__}"
    if isinstance(X, nd.NDArray):
        hint = f"the legacy mx.nd array: convert it with {name.split()[-1]}" \
               ".as_np_ndarray()"
    else:
        hint = "convert it with mxnet.np.array(..., ctx=ctx)"
    raise TypeError(f"{name} must be an mxnet.np array, got {kind} ({hint})")


def check_sequence(name, X, num_inputs, ctx):
    """Check ``X`` is float32 (num_steps, batch_size, num_inputs) on ctx."""
    check_np_array(name, X)
    if X.ndim != 3 or X.shape[2] != num_inputs or 0 in X.shape:
        raise ValueError(
            f"{name} must have shape (num_steps, batch_size, {num_inputs}),"
            f" got {X.shape}")
    device.check_context(name, X, ctx)
    check_dtype(name, X)


def check_state(name, state, shape, ctx):
    """Check a state array is float32 of ``shape`` and lives on ``ctx``."""
    check_np_array(name, state)
    if state.shape != shape:
        raise ValueError(f"{name} must have shape {shape} (batch_size, "
                         f"num_hiddens), got {state.shape}")
    device.check_context(name, state, ctx)
    check_dtype(name, state)


class Recurrent(gluon.Block):
    """Sizes, zero state, checks and the loop over time of every layer."""

    STATE = ("H",)  # the names of the state's arrays, H first

    def __init__(self, num_inputs, num_hiddens):
        super().__init__()
        check_sizes(num_inputs, num_hiddens)
        self.num_inputs, self.num_hiddens = int(num_inputs), int(num_hiddens)

    def initialize(self, init=None, ctx=None, **kwargs):
        """gluon's ``initialize``, with a GPU that is not there named."""
        if ctx is not None:
            device.check_available(ctx)
        kwargs = kwargs if init is None else {**kwargs, "init": init}
        return super().initialize(ctx=ctx, **kwargs)

    def context(self):
        """The context the layer's weights live on."""
        return self.collect_params().list_ctx()[0]

    def begin_state(self, batch_size, ctx):
        """Zeros, one (batch_size, num_hiddens) array per ``STATE`` name."""
        shape = (batch_size, self.num_hiddens)
        return tuple(np.zeros(shape, ctx=ctx) for _ in self.STATE)

    def start(self, inputs, state):
        """Check ``inputs`` and ``state``; the state to start from."""
        ctx = self.context()
        check_sequence("inputs", inputs, self.num_inputs, ctx)
        if state is None:
            return self.begin_state(inputs.shape[1], ctx)
        names = "(" + ", ".join(self.STATE) + ("," if len(self.STATE) == 1
                                               else "") + ")"
        if not isinstance(state, (tuple, list)):
            raise TypeError(f"state must be a tuple {names}, got "
                            f"{type(state).__name__}")
        if len(state) != len(self.STATE):
            raise ValueError(f"state must be a tuple {names} of "
                             f"{len(self.STATE)} arrays, got {len(state)}")
        shape = (inputs.shape[1], self.num_hiddens)
        for name, S in zip(self.STATE, state):
            check_state(f"state {name}", S, shape, ctx)
        return tuple(state)

    def forward(self, inputs, state=None):
        return self.unroll(inputs, self.start(inputs, state))

    def unroll(self, inputs, state):
        """``step`` at every time step; H of every step, stacked."""
        outputs = []
        for X_t in inputs:  # inputs: (num_steps, batch_size, num_inputs)
            state = self.step(X_t, state)
            outputs.append(state[0])
        return np.stack(outputs), state  # (num_steps, batch_size, H)


def _zero_init(block, ctx):
    """Initialise with zeros, drawing no random numbers (weights follow)."""
    for p in block.collect_params().values():
        p.initialize(init=init.Zero(), ctx=ctx)


def blank(cls, num_inputs, num_hiddens, ctx, **kwargs):
    """A ``cls`` layer with zero weights on ``ctx``, no random draws."""
    layer = cls(num_inputs, num_hiddens, **kwargs)
    _zero_init(layer, ctx)
    return layer


def _check_twin(layer):
    if layer.GLUON is None:
        raise TypeError(f"{type(layer).__name__} has no gluon.rnn twin")


class Gated(Recurrent):
    """A layer of affine gates, its weights in MXNet's layout and back."""

    GATES = ()  # the gates, in MXNet's row order
    GLUON = None  # the gluon.rnn class of the twin (None: there is none)
    GLUON_OPTIONS = {}
    # Gluon adds two biases; ours is one: the twin trains i2h_bias only,
    # so that a step on the operator is a step on our cell.
    GLUON_FROZEN = ("h2h_bias",)
    # Hochreiter & Schmidhuber's truncated gradient (chapter 8): with
    # ``truncated`` set, H_{t-1} in the gates' recurrent products is a
    # constant to the backward pass; only the cell state carries error
    # back in time. The forward pass is unchanged. A layer that offers it
    # sets it in its constructor; ``Fused`` and ``fast`` honour it.
    truncated = False

    def fused_weights(self):
        """``(W_x, W_h, b)``: the gates side by side, in ``GATES`` order."""
        raise NotImplementedError

    def load_fused_weights(self, W_x, W_h, b):
        """Set the weights from the fused layout; returns ``self``."""
        raise NotImplementedError

    def gluon_weights(self):
        """The twin's ``(i2h_weight, h2h_weight, i2h_bias, h2h_bias)``.

        Gluon stacks the gates as rows of (kH, in) and (kH, H) matrices,
        our fused matrices transposed, and adds two biases.
        """
        W_x, W_h, b = self.fused_weights()
        return W_x.T, W_h.T, b, np.zeros_like(b)

    def load_gluon_weights(self, i2h_weight, h2h_weight, i2h_bias,
                           h2h_bias):
        """Set the weights from a twin's four arrays; returns ``self``."""
        return self.load_fused_weights(i2h_weight.T, h2h_weight.T,
                                       i2h_bias + h2h_bias)

    @checked_by(_check_twin)
    def to_gluon(self):
        """The ``gluon.rnn`` twin holding the same weights."""
        reference = self.GLUON(self.num_hiddens, input_size=self.num_inputs,
                               **self.GLUON_OPTIONS)
        _zero_init(reference, self.context())
        params = gluon_params(reference)
        for name, value in zip(GLUON_NAMES, self.gluon_weights()):
            params[f"l0_{name}"].set_data(value)
        return reference


def check_lengths(name, lengths, batch_size, longest, unit):
    """Check ``lengths`` holds one length in [1, longest] per sequence."""
    if lengths.shape != (batch_size,):
        raise ValueError(f"{name} must have shape ({batch_size},) "
                         f"(batch_size,), got {lengths.shape}")
    low, high = int(lengths.min()), int(lengths.max())
    if low < 1 or high > longest:
        raise ValueError(f"{name} must lie in [1, {longest}] ({unit}), got "
                         f"values in [{low}, {high}]")


def check_gated(what, layer):
    """Raise ``TypeError`` unless ``layer`` is a ``Gated`` layer."""
    if not isinstance(layer, Gated):
        raise TypeError(f"{what} a gated layer of the book, got "
                        f"{type(layer).__name__}")


def gluon_params(reference):
    """A gluon layer's parameters without its prefix: ``l0_i2h_weight``."""
    return {name.split("_", 1)[1]: p
            for name, p in reference.collect_params().items()}


class Readable(Gated):
    """Gates stored as the equations read: ``W_xg``, ``W_hg``, ``b_g``."""

    def gate_params(self, g, sigma, bias=0.0):
        """Parameters W_xg (num_inputs, H), W_hg (H, H) and b_g (H,)."""
        check_scale("sigma", sigma)  # each bias is checked by its name
        d, h = self.num_inputs, self.num_hiddens
        return (self.params.get(f"W_x{g}", shape=(d, h),
                                init=init.Normal(sigma)),
                self.params.get(f"W_h{g}", shape=(h, h),
                                init=init.Normal(sigma)),
                self.params.get(f"b_{g}", shape=(h,),
                                init=init.Constant(bias)))

    def fused_weights(self):
        ctx = self.context()
        return tuple(np.concatenate([getattr(self, f"{n}{g}").data(ctx)
                                     for g in self.GATES], axis=-1)
                     for n in ("W_x", "W_h", "b_"))

    def load_fused_weights(self, W_x, W_h, b):
        for n, value in zip(("W_x", "W_h", "b_"), (W_x, W_h, b)):
            parts = np.split(value, len(self.GATES), axis=-1)
            for g, part in zip(self.GATES, parts):
                getattr(self, f"{n}{g}").set_data(part)
        return self


class Fused(Gated):
    """All gates in one product: ``W_x`` (in, kH), ``W_h`` (H, kH), ``b``.

    A subclass writes ``cell(ops, gates, state)``; the imperative loop
    here and the traced one of ``fast.Unrolled`` both run it.
    """

    def fused_params(self, sigma, biases):
        """W_x, W_h ~ N(0, sigma^2) and b, ``biases[g]`` on gate g's block."""
        check_scale("sigma", sigma)  # each bias is checked by its name
        width, h = len(self.GATES) * self.num_hiddens, self.num_hiddens
        bias = [float(biases.get(g, 0.0)) for g in self.GATES
                for _ in range(h)]
        self.W_x = self.params.get("W_x", shape=(self.num_inputs, width),
                                   init=init.Normal(sigma))
        self.W_h = self.params.get("W_h", shape=(h, width),
                                   init=init.Normal(sigma))
        self.b = self.params.get("b", shape=(width,),
                                 init=init.Constant(bias))

    def fused_weights(self):
        ctx = self.context()
        return tuple(p.data(ctx) for p in (self.W_x, self.W_h, self.b))

    def load_fused_weights(self, W_x, W_h, b):
        for p, value in zip((self.W_x, self.W_h, self.b), (W_x, W_h, b)):
            p.set_data(value)
        return self

    def cell(self, ops, gates, state):
        """The new state from ``gates``, pre-activations (batch, H) each."""
        raise NotImplementedError

    def step_from(self, XW_t, state):
        """One step from XW_t = X_t W_x + b, (batch_size, kH)."""
        H = state[0].detach() if self.truncated else state[0]
        gates = XW_t + np.dot(H, self.W_h.data(XW_t.ctx))
        return self.cell(nd, np.split(gates, len(self.GATES), axis=1),
                         state)

    def step(self, X_t, state):
        """One step: X_t (batch_size, num_inputs) and the state."""
        ctx = X_t.ctx
        return self.step_from(
            np.dot(X_t, self.W_x.data(ctx)) + self.b.data(ctx), state)

    def unroll(self, inputs, state):
        ctx = inputs.ctx
        XW = np.dot(inputs, self.W_x.data(ctx)) + self.b.data(ctx)  # (T,B,kH)
        outputs = []
        # T blocks (batch_size, kH), split once: indexing XW[t] in a
        # recorded loop would make the backward pass O(T^2).
        for XW_t in np.split(XW.reshape(-1, XW.shape[2]), inputs.shape[0]):
            state = self.step_from(XW_t, state)
            outputs.append(state[0])
        return np.stack(outputs), state  # (num_steps, batch_size, H)


def _check_wrapped(block, layer):
    check_gated("GluonLayer wraps", layer)


class GluonLayer(Recurrent):
    """MXNet's fused operator holding a ``Gated`` layer's weights.

    Each layer with a twin equals it (``tests/test_layers.py``), so
    experiments may train the operator (faster: ``make bench`` measures
    how much) behind the book's layer interface.
    ``to_scratch()`` copies the trained weights back into a layer of
    the class it was made from (or ``cls``).
    """

    @checked_by(_check_wrapped)
    def __init__(self, layer):
        super().__init__(layer.num_inputs, layer.num_hiddens)
        self.kind, self.STATE = type(layer), layer.STATE
        self.GLUON, self.GLUON_OPTIONS = layer.GLUON, layer.GLUON_OPTIONS
        self.reference = layer.to_gluon()
        for name, p in gluon_params(self.reference).items():
            if name.split("_", 1)[1] in layer.GLUON_FROZEN:
                p.grad_req = "null"

    def unroll(self, inputs, state):
        outputs, state = self.reference(inputs, [S[None] for S in state])
        return outputs, tuple(S[0] for S in state)

    def to_gluon(self):
        """A new twin holding the current weights (not the one trained)."""
        return self.to_scratch().to_gluon()

    def to_scratch(self, cls=None):
        """A ``cls`` layer (default: the wrapped one's class), trained
        weights copied in; it draws no random numbers."""
        params = gluon_params(self.reference)
        arrays = [params[f"l0_{name}"].data() for name in GLUON_NAMES]
        layer = blank(cls or self.kind, self.num_inputs, self.num_hiddens,
                      arrays[0].ctx)
        return layer.load_gluon_weights(*arrays)


def copy_weights(source, target):
    """Copy ``source``'s gates into ``target`` (readable or fused alike).

    A ``target`` not yet initialised is initialised on the source's
    context first. Returns ``target``.
    """
    check_gated("source must be", source)
    check_gated("target must be", target)
    if (source.GATES, source.num_inputs, source.num_hiddens) != (
            target.GATES, target.num_inputs, target.num_hiddens):
        raise ValueError(
            "source and target must have the same gates and sizes: "
            f"{source.GATES} {(source.num_inputs, source.num_hiddens)} vs "
            f"{target.GATES} {(target.num_inputs, target.num_hiddens)}")
    try:
        target.context()
    except RuntimeError:  # not initialised yet
        target.initialize(ctx=source.context())
    return target.load_fused_weights(*source.fused_weights())
