"""Chapter 8: the LSTM's gradient by hand, and a layer built on it.

Backpropagation through time for chapter 3's cell. With the loss L,
write dA for dL/dA and Z_t = X_t W_x + H_{t-1} W_h + b for the gates'
pre-activations (i, f, c, o side by side). Going back from t = T, with
dH_T and dC_T from the last state (zero if the loss does not read it):

    dH_t  = dOutputs_t + dZ_{t+1} W_h^T        (the output, the next step)
    dC_t  = dC_{t+1} * F_{t+1} + dH_t * O_t * (1 - tanh^2(C_t))
    dO_t  = dH_t * tanh(C_t)        dI_t = dC_t * C~_t
    dF_t  = dC_t * C_{t-1}          dC~_t = dC_t * I_t
    dZ_t  = [dI_t I_t (1 - I_t), dF_t F_t (1 - F_t),
             dC~_t (1 - C~_t^2), dO_t O_t (1 - O_t)]

and the weights' gradients are sums over time, one product each:

    dW_x = sum_t X_t^T dZ_t    dW_h = sum_t H_{t-1}^T dZ_t
    db   = sum_t dZ_t          dX_t = dZ_t W_x^T

The cell state's error crosses a step multiplied by F_t alone (the
constant error carousel of Hochreiter & Schmidhuber 1997 when F_t = 1).
``lstm_tutorial.numpy_lstm`` computes the forward pass and these
recursions in NumPy; ``LSTMManual`` plugs them into MXNet as one
``autograd.Function`` (``Sequence``) for the whole sequence: MXNet then
records one node per sequence instead of some twenty small operators per
step, which is why the layer trains faster than MXNet's own fused
operator on a CPU (``benchmarks/lstm_throughput.py``, model
``manual_backward``).

``tests/test_layers.py`` checks ``LSTMManual`` against ``gluon.rnn.LSTM``
(outputs, states, every gradient); ``tests/test_backprop.py`` against
``LSTMScratch`` and in training, and that a wrong backward is caught.
"""

import atexit
import ctypes
import traceback

from mxnet import autograd, base, nd

from . import forget_gate, numpy_lstm

__all__ = ["Sequence", "LSTMManual"]

# numpy_lstm's functions without their argument checks: the layer protocol
# has checked the arrays already, and a diverging run must reach its NaN
# loss (training records it) where numpy_lstm refuses non-finite values.
_forward = numpy_lstm.forward.__wrapped__
_backward = numpy_lstm.backward.__wrapped__

# A backward still queued when Python exits can hang MXNet's shutdown (it
# stops the thread that runs Python callbacks, then waits for every
# operation); atexit runs this first, since MXNet registered its own
# handler earlier.
atexit.register(nd.waitall)


class _Function(autograd.Function):
    """``autograd.Function`` with MXNet 1.9.1's gradient hand-over fixed.

    MXNet 1.9.1 stops writing input gradients at the first input that
    needs none (its ``backward_entry`` returns at ``req == 0``) and never
    adds for ``grad_req='add'``: with ``inputs`` not attached, no weight
    would get a gradient. This ``__call__`` is MXNet's with that loop
    written out: skip, write or add, for every input.
    """

    def __call__(self, *inputs):
        assert not self._used, "a Function instance is called once only"
        self._used = True
        recording = autograd.set_recording(False)
        outputs = self.forward(*inputs)
        autograd.set_recording(recording)
        if not recording:
            return outputs
        outputs_tuple = (outputs,) if isinstance(outputs, nd.NDArray) \
            else tuple(outputs)
        key = autograd.Function._registry.inc()

        def backward_entry(num_ograds, num_igrads, ptrs, reqs, is_train, _):
            try:
                handle = base.NDArrayHandle
                ograds = [nd.NDArray(ctypes.cast(p, handle), writable=False)
                          for p in ptrs[:num_ograds]]
                igrads = [nd.NDArray(ctypes.cast(p, handle), writable=True)
                          for p in ptrs[num_ograds:num_ograds + num_igrads]]
                rets = self.backward(*ograds)
                rets = (rets,) if isinstance(rets, nd.NDArray) else rets
                if len(rets) != len(igrads):
                    raise ValueError(
                        f"backward returned {len(rets)} gradients for "
                        f"{len(igrads)} inputs")
                for k, (igrad, ret) in enumerate(zip(igrads, rets)):
                    if reqs[k] in (1, 2):  # write, in place
                        igrad[:] = ret
                    elif reqs[k] == 3:  # add
                        igrad[:] += ret
            except Exception:  # the C caller sees only False
                print(f"Error in {type(self).__name__}.backward: "
                      f"{traceback.format_exc()}")
                return False
            return True

        def delete_entry(_):
            autograd.Function._registry.ref_holder.pop(key, None)
            return True

        callbacks = [ctypes.cast(f, ctypes.CFUNCTYPE(ctypes.c_int))
                     for f in (autograd.Function._bwd_functype(
                         backward_entry),
                         autograd.Function._del_functype(delete_entry))]
        context = base.MXCallbackList(
            ctypes.c_int(len(callbacks)),
            ctypes.cast(base.c_array(ctypes.CFUNCTYPE(ctypes.c_int),
                                   callbacks),
                        ctypes.POINTER(ctypes.CFUNCTYPE(ctypes.c_int))),
            ctypes.cast(base.c_array(ctypes.c_void_p,
                                   [None] * len(callbacks)),
                        ctypes.POINTER(ctypes.c_void_p)))
        autograd.Function._registry.ref_holder[key] = context
        base.check_call(base._LIB.MXCustomFunctionRecord(
            ctypes.c_int(len(inputs)), base.c_handle_array(inputs),
            ctypes.c_int(len(outputs_tuple)),
            base.c_handle_array(outputs_tuple), ctypes.byref(context)))
        return outputs


class Sequence(_Function):
    """The whole sequence as one MXNet node: NumPy forward, hand-derived
    backward (``numpy_lstm``; ``truncated=True``: the 1997 gradient).
    Arrays in and out are legacy ``mx.nd`` ones (what
    ``autograd.Function`` passes), copied to the host and back to the
    context of ``X``."""

    def __init__(self, cell="modern", truncated=False):
        super().__init__()
        self.cell, self.truncated = cell, truncated

    def forward(self, X, H0, C0, W_x, W_h, b):
        self.ctx = X.context
        outputs, (H_T, C_T), self.cache = _forward(
            *(A.asnumpy() for A in (X, W_x, W_h, b, H0, C0)), cell=self.cell)
        return tuple(nd.array(A, ctx=self.ctx, dtype=A.dtype)
                     for A in (outputs, H_T, C_T))  # (T, B, H), (B, H) x 2

    def backward(self, dOutputs, dH_T, dC_T):
        grads = _backward(dOutputs.asnumpy(), dH_T.asnumpy(),
                                    dC_T.asnumpy(), self.cache,
                                    truncated=self.truncated)
        return tuple(nd.array(grads[name], ctx=self.ctx,
                              dtype=grads[name].dtype)
                     for name in ("dX", "dH0", "dC0", "dW_x", "dW_h", "db"))


class LSTMManual(forget_gate.LSTMFused):
    """``LSTMFused`` (the same parameters ``W_x``, ``W_h``, ``b`` and
    gates i, f, c, o) whose loop over time is one ``Sequence``: the NumPy
    forward and the backward derived above."""

    CELL, SEQUENCE = "modern", Sequence

    def unroll(self, inputs, state):
        ctx = inputs.ctx
        arrays = (inputs, *state,
                  *(p.data(ctx) for p in (self.W_x, self.W_h, self.b)))
        outputs, H, C = self.SEQUENCE(self.CELL)(
            *(A.as_nd_ndarray() for A in arrays))
        return outputs.as_np_ndarray(), (H.as_np_ndarray(),
                                         C.as_np_ndarray())
