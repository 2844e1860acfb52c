"""The fast path of chapter 3's LSTM: ``LSTMFused`` as a static graph.

``FastLSTM`` is ``LSTMFused`` (a subclass: the same parameters, checks and
state) whose loop ``fast.Unrolled`` traces into one hybridized graph per
sequence length. Its cell is the fused cell's arithmetic, so outputs and
gradients equal ``LSTMScratch``'s and ``LSTMFused``'s to float32 rounding
(tests/test_forget_gate_fast.py); on this book's CPU it trains several
times faster than ``LSTMFused`` (``benchmarks/``).
"""

from mxnet import init

from . import fast, forget_gate

__all__ = ["FastLSTM", "from_fused"]


class FastLSTM(fast.Unrolled, forget_gate.LSTMFused):
    """``LSTMFused`` with its loop run as a static graph.

    ``fused_weights``, ``load_fused_weights``, ``to_gluon`` and
    ``GluonLayer`` accept it as an ``LSTMFused``.
    """

    def cell(self, F, XW_t, HW_t, state):
        """(H_t, C_t) from the gates' pre-activations, in the order i, f, c,
        o. ``F`` is MXNet's operator namespace, so F_t is the forget gate."""
        gates, (_, C), n = XW_t + HW_t, state, self.num_hiddens
        I, F_t, C_tilde, O = (fast.gate(F, gates, k, n) for k in range(4))
        C = F.npx.sigmoid(F_t) * C + F.npx.sigmoid(I) * F.np.tanh(C_tilde)
        return F.npx.sigmoid(O) * F.np.tanh(C), C


def from_fused(layer):
    """A ``FastLSTM`` holding a copy of ``layer``'s weights (either cell of
    chapter 3), on the same context; it draws no random numbers."""
    W_x, W_h, b = forget_gate.fused_weights(layer)
    twin = FastLSTM(layer.num_inputs, layer.num_hiddens)
    for p in twin.collect_params().values():
        p.initialize(init=init.Zero(), ctx=W_x.ctx)
    return forget_gate.load_fused_weights(twin, W_x, W_h, b)
