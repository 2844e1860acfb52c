"""Chapter 7: LSTM variants (Greff et al. 2017) and the GRU (Cho et al. 2014).

Each variant is chapter 3's cell with one switch turned (``VARIANTS``):

    no input gate   (NIG)   I_t = 1
    no forget gate  (NFG)   F_t = 1         (chapter 2's 1997 cell)
    no output gate  (NOG)   O_t = 1
    no input act.   (NIAF)  C~_t = X_t W_xc + H_{t-1} W_hc + b_c
    no output act.  (NOAF)  H_t = O_t * C_t
    peepholes       (PH)    gates also see the cell: + C_{t-1} * p_i,
                            + C_{t-1} * p_f, and + C_t * p_o
    coupled         (CIFG)  I_t = 1 - F_t   (one gate writes and erases)

With every switch at its default a variant is ``forget_gate.LSTMFused``
(hence ``gluon.rnn.LSTM``). The GRU has two gates and no cell:

    R_t  = sigmoid(X_t W_xr + H_{t-1} W_hr + b_r)           (reset)
    Z_t  = sigmoid(X_t W_xz + H_{t-1} W_hz + b_z)           (update)
    H~_t = tanh(X_t W_xh + R_t * (H_{t-1} W_hh + b_hh) + b_xh)
    H_t  = Z_t * H_{t-1} + (1 - Z_t) * H~_t

(the reset gate applied after the product, as MXNet and cuDNN do).
``tests/test_variants.py`` checks the defaults against chapter 3, each
switch against its equation, the fast path (``VariantFast``) against the
fused cell, and the GRU against ``gluon.rnn.GRU``.
The experiments live in ``variants_tasks``.
"""

from mxnet import gluon, init, nd, np, npx

from . import fast, forget_gate, rnn
from . import variants_tasks as tasks

__all__ = ["FLAGS", "VARIANTS", "VariantScratch", "VariantFused",
           "VariantFast", "variant", "GRUScratch", "gru_to_gluon", "SWEEP",
           "layer", "fast_layer", "run_ablation", "run_reber", "EXPERIMENTS"]

FLAGS = {"input_gate": True, "forget_gate": True, "output_gate": True,
         "input_activation": True, "output_activation": True,
         "peepholes": False, "coupled": False}
# Greff et al.'s names; "vanilla" is chapter 3's cell (no peepholes here).
VARIANTS = {"vanilla": {}, "NIG": {"input_gate": False},
            "NFG": {"forget_gate": False}, "NOG": {"output_gate": False},
            "NIAF": {"input_activation": False},
            "NOAF": {"output_activation": False},
            "PH": {"peepholes": True}, "CIFG": {"coupled": True}}


class _Switches:
    """The switches, the peephole weights and the combination of gates."""

    def __init__(self, num_inputs, num_hiddens, sigma=0.01, forget_bias=1.0,
                 input_gate_bias=0.0, **flags):
        super().__init__(num_inputs, num_hiddens, sigma, forget_bias,
                         input_gate_bias)
        unknown = sorted(set(flags) - set(FLAGS))
        if unknown:
            raise ValueError(f"unknown flags {unknown}; known: "
                             f"{sorted(FLAGS)}")
        for name, value in flags.items():
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be a bool, got "
                                f"{type(value).__name__}")
        self.flags = {**FLAGS, **flags}
        if self.flags["coupled"] and not self.flags["forget_gate"]:
            raise ValueError("coupled=True needs forget_gate=True "
                             "(I_t = 1 - F_t)")
        if self.flags["peepholes"]:  # one weight per unit and gate
            self.p_i, self.p_f, self.p_o = (
                self.params.get(f"p_{g}", shape=(num_hiddens,),
                                init=init.Normal(sigma)) for g in "ifo")

    def _combine(self, I, F_t, C_tilde, O, C, F=nd, p=None):
        """H_t, C_t from the gates' pre-activations and C_{t-1}.

        ``F`` is MXNet's operator namespace and ``p`` the peephole
        weights by gate (``self``'s by default); the fast path passes
        its own while it traces the loop.
        """
        f = self.flags
        if f["peepholes"]:  # the gates look at the cell they guard
            p = p or {g: getattr(self, f"p_{g}").data(C.ctx) for g in "ifo"}
            I = I + C * p["i"]
            F_t = F_t + C * p["f"]
        F_t = F.npx.sigmoid(F_t) if f["forget_gate"] else 1.0
        if f["coupled"]:
            I = 1.0 - F_t
        else:
            I = F.npx.sigmoid(I) if f["input_gate"] else 1.0
        C_tilde = F.np.tanh(C_tilde) if f["input_activation"] else C_tilde
        C = F_t * C + I * C_tilde
        if f["peepholes"]:
            O = O + C * p["o"]
        O = F.npx.sigmoid(O) if f["output_gate"] else 1.0
        H = O * (F.np.tanh(C) if f["output_activation"] else C)
        return H, C


class VariantScratch(_Switches, forget_gate.LSTMScratch):
    """Chapter 3's readable cell with switches (``FLAGS``)."""

    def step(self, X_t, state):
        """One step: X_t (batch_size, num_inputs), state ``(H, C)``."""
        H, C = state
        ctx = X_t.ctx

        def gate(g):  # X_t W_xg + H_{t-1} W_hg + b_g, before activation
            return (np.dot(X_t, getattr(self, f"W_x{g}").data(ctx))
                    + np.dot(H, getattr(self, f"W_h{g}").data(ctx))
                    + getattr(self, f"b_{g}").data(ctx))

        return self._combine(gate("i"), gate("f"), gate("c"), gate("o"), C)


class VariantFused(_Switches, forget_gate.LSTMFused):
    """Chapter 3's fused cell with switches."""

    def _cell(self, XW_t, state):
        """One step from XW_t = X_t W_x + b, (batch_size, 4H)."""
        H, C = state
        gates = XW_t + np.dot(H, self.W_h.data(XW_t.ctx))  # (batch, 4H)
        return self._combine(*np.split(gates, 4, axis=1), C)


class VariantFast(fast.Unrolled, VariantFused):
    """``VariantFused`` with its loop run as one graph per length
    (``fast.py``): what the Reber sweep trains."""

    def cell(self, F, XW_t, HW_t, state, **peepholes):
        """(H_t, C_t); ``peepholes``: p_i, p_f and p_o, if any."""
        gates, (_, C), n = XW_t + HW_t, state, self.num_hiddens
        A = [fast.gate(F, gates, k, n) for k in range(4)]  # i f c o
        p = {g: peepholes.get(f"p_{g}") for g in "ifo"}
        return self._combine(*A, C, F, p if peepholes else None)


def variant(name, num_inputs, num_hiddens, fast_path=False, **kwargs):
    """The fused cell of Greff et al.'s variant ``name`` (``VARIANTS``);
    with ``fast_path=True`` the same on the fast path (``VariantFast``)."""
    if name not in VARIANTS:
        raise ValueError(f"name must be one of {sorted(VARIANTS)}, got "
                         f"{name!r}")
    cls = VariantFast if fast_path else VariantFused
    return cls(num_inputs, num_hiddens, **kwargs, **VARIANTS[name])


GRU_GATES = ("r", "z", "h")  # MXNet's order: reset, update, new


class GRUScratch(gluon.Block):
    """The gated recurrent unit, one matrix pair per gate."""

    def __init__(self, num_inputs, num_hiddens, sigma=0.01):
        super().__init__()
        rnn.check_sizes(num_inputs, num_hiddens)
        self.num_inputs, self.num_hiddens = num_inputs, num_hiddens
        d, h, normal = num_inputs, num_hiddens, init.Normal(sigma)
        for g in GRU_GATES:
            setattr(self, f"W_x{g}", self.params.get(
                f"W_x{g}", shape=(d, h), init=normal))
            setattr(self, f"W_h{g}", self.params.get(
                f"W_h{g}", shape=(h, h), init=normal))
            setattr(self, f"b_{g}", self.params.get(
                f"b_{g}", shape=(h,), init=init.Zero()))
        # the candidate's recurrent product has its own bias, inside R_t
        self.b_hh = self.params.get("b_hh", shape=(h,), init=init.Zero())

    def begin_state(self, batch_size, ctx):
        return (np.zeros((batch_size, self.num_hiddens), ctx=ctx),)

    def step(self, X_t, state):
        """One step: X_t (batch_size, num_inputs), state ``(H,)``."""
        (H,), ctx = state, X_t.ctx

        def w(name):
            return getattr(self, name).data(ctx)

        R = npx.sigmoid(np.dot(X_t, w("W_xr")) + np.dot(H, w("W_hr"))
                        + w("b_r"))  # reset gate
        Z = npx.sigmoid(np.dot(X_t, w("W_xz")) + np.dot(H, w("W_hz"))
                        + w("b_z"))  # update gate
        H_tilde = np.tanh(np.dot(X_t, w("W_xh")) + w("b_h")
                          + R * (np.dot(H, w("W_hh")) + w("b_hh")))
        H = Z * H + (1 - Z) * H_tilde  # keep the old or take the new
        return (H,)

    def forward(self, inputs, state=None):
        ctx = self.b_r.list_ctx()[0]
        rnn.check_sequence("inputs", inputs, self.num_inputs, ctx)
        if state is None:
            state = self.begin_state(inputs.shape[1], ctx)
        if not isinstance(state, tuple) or len(state) != 1:
            raise ValueError("state must be a tuple (H,), got "
                             f"{type(state).__name__}")
        rnn.check_state("state H", state[0],
                        (inputs.shape[1], self.num_hiddens), ctx)
        outputs = []
        for X_t in inputs:  # inputs: (num_steps, batch_size, num_inputs)
            state = self.step(X_t, state)
            outputs.append(state[0])
        return np.stack(outputs), state  # (num_steps, batch_size, H)


def gru_to_gluon(gru):
    """A ``gluon.rnn.GRU`` holding the same weights as ``gru``.

    Gluon stacks r, z, h as rows of (3H, in) and (3H, H) matrices and
    has two biases; its h2h bias of the candidate sits inside R_t.
    """
    if not isinstance(gru, GRUScratch):
        raise TypeError(f"expected GRUScratch, got {type(gru).__name__}")
    ctx = gru.b_r.list_ctx()[0]
    reference = gluon.rnn.GRU(gru.num_hiddens, input_size=gru.num_inputs)
    forget_gate._initialize_zero(reference, ctx)
    params = {name.split("_", 1)[1]: p
              for name, p in reference.collect_params().items()}

    def stack(n):
        return np.concatenate([getattr(gru, f"{n}{g}").data(ctx)
                               for g in GRU_GATES], axis=-1)

    zero = np.zeros((gru.num_hiddens,), ctx=ctx)
    params["l0_i2h_weight"].set_data(stack("W_x").T)  # (3H, num_inputs)
    params["l0_h2h_weight"].set_data(stack("W_h").T)  # (3H, H)
    params["l0_i2h_bias"].set_data(stack("b_"))       # (3H,)
    params["l0_h2h_bias"].set_data(np.concatenate(
        [zero, zero, gru.b_hh.data(ctx)]))
    return reference


SWEEP = tuple(VARIANTS) + ("GRU",)  # what the stored ablation trains


def layer(name, num_inputs, num_hiddens, sigma=0.01, forget_bias=1.0,
          input_gate_bias=0.0, fast_path=False):
    """A layer for the ablation: a variant, or ``"GRU"`` (MXNet's op)."""
    if name == "GRU":
        return tasks.GluonGRU(num_inputs, num_hiddens, sigma)
    return variant(name, num_inputs, num_hiddens, fast_path, sigma=sigma,
                   forget_bias=forget_bias, input_gate_bias=input_gate_bias)


def fast_layer(name, *args, **kwargs):
    """``layer`` with the variants on the fast path."""
    return layer(name, *args, **kwargs, fast_path=True)


def run_ablation(seed):
    """The stored ablation: every variant and the GRU on temporal order."""
    return tasks.ablation(seed, layer, SWEEP)


def run_reber(seed):
    """The stored ablation: every variant and the GRU on the Reber stream."""
    return tasks.reber_ablation(seed, fast_layer, SWEEP)


EXPERIMENTS = {"variants_ablation": run_ablation,
               "variants_reber": run_reber,
               "variants_cells": tasks.run_cells}
