"""The fast path: a fused recurrent layer's loop as one static graph.

A fused layer (``layers.Fused``: chapter 2's ``LSTM1997Fused``, chapter
3's ``LSTMFused``, chapter 7's variants) runs its time loop in Python,
and MXNet then executes some twenty small operators per step, one at a
time, each paying Python's and the engine's overhead. ``Unrolled`` is a
mixin that keeps such a layer (its parameters, checks, state and
arithmetic) and traces its loop, once per
sequence length, into a hybridized graph: the Python loop runs only while
tracing, and MXNet plans the memory of all the steps at once
(``static_alloc``, ``static_shape``).

Three choices make the graph fast on a CPU (measured by
``benchmarks/lstm_throughput.py``):

- ``npx.fully_connected`` for the two products, the bias inside the
  input one: its backward pass sums the bias gradient in the same
  operator, where ``np.dot(X_t, W) + b`` costs a broadcast-add backward
  per step;
- ``npx.slice`` to cut the gates out of the (batch, kH) block:
  ``np.split`` (``_split_v2`` in MXNet 1.9.1) was several times slower;
- the inputs are split into steps before the input product, never the
  (T, batch, kH) projection: splitting a large array is slow too.

The mixin goes before a ``layers.Fused`` class, whose ``W_x``
(num_inputs, kH), ``W_h`` (H, kH) and ``b`` (kH,) it reads, and whose
``cell(ops, gates, state)`` it calls: the new state (H_t first) from the k
gates' pre-activations and the old state, written with ``ops``, MXNet's
operator namespace (symbols, which have no shape, while tracing). The
layer's checks (``layers.Recurrent.start``) run before the graph, which
does not check or cast. Any other parameter the layer holds as an
attribute (chapter 7's peephole weights) reaches ``cell`` as a keyword
argument of that name.
"""

import numpy as onp
from mxnet import gluon, init

__all__ = ["Unrolled", "gate", "stop_gradient"]


def gate(ops, block, k, num_hiddens):
    """Columns ``k * H`` to ``(k + 1) * H`` of a (batch, kH) gate block."""
    return ops.npx.slice(block, begin=(None, k * num_hiddens),
                         end=(None, (k + 1) * num_hiddens))


def stop_gradient(ops, X):
    """``X`` as a constant to the backward pass, imperative or traced
    (numpy-mode symbols have no ``detach``; the legacy ``BlockGrad``
    does it)."""
    from mxnet import sym

    if isinstance(X, sym.Symbol):
        return sym.BlockGrad(X.as_nd_ndarray()).as_np_ndarray()
    return X.detach()


class Unrolled:
    """Mixin (listed before the layer's class): run the loop as a graph."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        value = getattr(self.b.init, "value", None)
        if isinstance(self.b.init, init.Constant) and isinstance(value, list):
            # Tracing writes each initializer into the graph, and a
            # Constant of a list cannot be written: the same values as an
            # array can.
            self.b.init = init.Constant(onp.asarray(value, onp.float32))
        self._graphs = _Graphs()

    def unroll(self, inputs, state):
        num_steps = inputs.shape[0]
        graph = self._graphs.get(num_steps)
        if graph is None:  # trace the loop over this many steps, once
            graph = self._graphs.add(num_steps, _Graph(self, num_steps))
        outputs, *state = graph(inputs, *state)
        return outputs, tuple(state)


class _Graphs:
    """Graphs by length, not registered as child blocks: they hold the
    layer's own parameters, which must not be collected twice."""

    def __init__(self):
        self._by_length = {}

    def get(self, num_steps):
        return self._by_length.get(num_steps)

    def add(self, num_steps, graph):
        self._by_length[num_steps] = graph
        return graph

    def __len__(self):
        return len(self._by_length)


class _Graph(gluon.HybridBlock):
    """The loop of ``layer`` over ``num_steps`` steps, on its parameters."""

    def __init__(self, layer, num_steps):
        # The layer's prefix and parameter dict: the same Parameters.
        super().__init__(prefix=layer.prefix, params=layer.params)
        self.num_steps, self.cell = num_steps, layer.cell
        self.truncated = layer.truncated
        self.num_hiddens, self.width = layer.num_hiddens, layer.W_h.shape[1]
        for name in layer._reg_params:  # W_x, W_h, b and any others
            setattr(self, name, self.params.get(name))
        self.hybridize(static_alloc=True, static_shape=True)

    def hybrid_forward(self, ops, X, *state, W_x, W_h, b, **others):
        # FullyConnected computes X W^T + b, so it takes the transposes.
        W_xT, W_hT = W_x.T, W_h.T
        H, k = self.num_hiddens, self.width // self.num_hiddens
        outputs = []
        for X_t in ops.np.split(X, self.num_steps, axis=0):
            XW_t = ops.npx.fully_connected(X_t.squeeze(axis=0), W_xT, b,
                                           num_hidden=self.width)
            H_prev = (stop_gradient(ops, state[0]) if self.truncated
                      else state[0])
            HW_t = ops.npx.fully_connected(H_prev, W_hT, no_bias=True,
                                           num_hidden=self.width)
            block = XW_t + HW_t  # (batch_size, kH)
            gates = [gate(ops, block, j, H) for j in range(k)]
            state = self.cell(ops, gates, state, **others)
            outputs.append(state[0])
        return (ops.np.stack(outputs), *state)
