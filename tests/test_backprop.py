"""lstm_tutorial/backprop.py: the layer with the hand-derived backward.

``LSTMManual`` runs the sequence as one ``autograd.Function`` whose
forward and backward are ``numpy_lstm``'s. Checked here against chapter
3's readable cell, whose gradient MXNet's autograd computes: outputs,
final state and every gradient (inputs, initial state, each weight), with
and without the inputs attached; training with Adam gives the losses and
weights of ``LSTMFused``; a NaN passes on as in MXNet's cells (a diverging
run must reach its NaN loss); and wrong backwards (the truncated gradient,
two gradients swapped, MXNet 1.9.1's own ``Function`` hand-over) are
caught by the same checks. ``tests/test_layers.py`` runs the conformance
suite on it (its ``gluon.rnn.LSTM`` twin included).
"""

import numpy as onp
import pytest
from mxnet import autograd, gluon, nd, np

from lstm_tutorial import backprop, device, layers
from lstm_tutorial import forget_gate as fg

T, B, D, H = 7, 3, 5, 4
RTOL, ATOL = 1e-4, 1e-5  # float32, as tests/test_layers.py


def _manual(cls=backprop.LSTMManual, seed=1):
    """A layer of ``cls`` with every weight, biases too, random."""
    device.seed(seed)
    layer = cls(D, H, sigma=0.3, forget_bias=1.0, input_gate_bias=-0.5)
    layer.initialize()
    for p in layer.collect_params().values():
        p.set_data(np.random.normal(0, 0.3, p.shape))
    return layer


def _twin(layer, cls):
    """A ``cls`` layer holding ``layer``'s weights."""
    return layers.copy_weights(
        layer, layers.blank(cls, D, H, layer.context()))


def _weight_grads(layer):
    """dW_x, dW_h, db in the fused layout, copied (grads are reused)."""
    if isinstance(layer, layers.Fused):
        return [p.grad().copy() for p in (layer.W_x, layer.W_h, layer.b)]
    return [np.concatenate([getattr(layer, f"{n}{g}").grad()
                            for g in layer.GATES], axis=-1)
            for n in ("W_x", "W_h", "b_")]


def _run(layer, X, state, head, attach):
    """Outputs, final state and all gradients of one random loss that
    reads every output and both final states."""
    X, state = X.copy(), [S.copy() for S in state]
    if attach:
        for A in (X, *state):
            A.attach_grad()
    with autograd.record():
        outputs, (H_T, C_T) = layer(X, tuple(state))
        loss = (outputs * head).sum() + (H_T * C_T).sum() + C_T.mean()
    loss.backward()
    found = {"outputs": outputs, "H_T": H_T, "C_T": C_T}
    if attach:
        found.update(dX=X.grad, dH0=state[0].grad, dC0=state[1].grad)
    found.update(zip(("dW_x", "dW_h", "db"), _weight_grads(layer)))
    return found


def _problem(seed=2):
    device.seed(seed)
    X = np.random.normal(0, 1, (T, B, D))
    state = [np.random.normal(0, 0.5, (B, H)) for _ in range(2)]
    head = np.random.normal(0, 1, (T, B, H))
    return X, state, head


def assert_equals_scratch(layer, attach=True):
    """``layer`` computes what ``LSTMScratch`` with its weights computes,
    every gradient included."""
    reference = _twin(layer, fg.LSTMScratch)
    X, state, head = _problem()
    ours = _run(layer, X, state, head, attach)
    theirs = _run(reference, X, state, head, attach)
    assert sorted(ours) == sorted(theirs)
    for name in ours:
        a, b = ours[name].asnumpy(), theirs[name].asnumpy()
        assert onp.abs(b).max() > 1e-3, name  # not trivially zero
        onp.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL,
                                    err_msg=name)


@pytest.mark.parametrize("attach", [True, False],
                         ids=["inputs attached", "weights only"])
def test_equals_the_readable_cell_in_every_gradient(attach):
    assert_equals_scratch(_manual(), attach)


def test_gradients_add_when_grad_req_is_add():
    layer = _manual()
    X, state, head = _problem()
    once = _run(layer, X, state, head, attach=False)
    for p in layer.collect_params().values():
        p.grad_req = "add"
        p.grad()[:] = 0  # (zero_grad fails in NumPy mode in 1.9.1)
    for _ in range(2):
        twice = _run(layer, X, state, head, attach=False)
    for name in ("dW_x", "dW_h", "db"):
        onp.testing.assert_allclose(twice[name].asnumpy(),
                                    2 * once[name].asnumpy(),
                                    rtol=RTOL, atol=ATOL, err_msg=name)


def test_runs_without_recording_and_follows_its_context(other_ctx):
    layer = _manual()
    layer.collect_params().reset_ctx(other_ctx)
    X, state, _ = _problem()
    outputs, (H_T, C_T) = layer(X.as_in_ctx(other_ctx),
                                tuple(S.as_in_ctx(other_ctx) for S in state))
    assert {A.ctx for A in (outputs, H_T, C_T)} == {other_ctx}
    assert isinstance(outputs, np.ndarray)  # mxnet.np, not legacy nd
    reference = _twin(layer, fg.LSTMFused)
    expected = reference(X.as_in_ctx(other_ctx),
                         tuple(S.as_in_ctx(other_ctx) for S in state))[0]
    onp.testing.assert_allclose(outputs.asnumpy(), expected.asnumpy(),
                                rtol=RTOL, atol=ATOL)


def _train(layer, steps=5):
    """Adam on a fixed batch; the loss at every step and the weights."""
    X, state, head = _problem(seed=3)
    trainer = gluon.Trainer(layer.collect_params(), "adam",
                            {"learning_rate": 0.05})
    losses = []
    for _ in range(steps):
        with autograd.record():
            outputs, (H_T, C_T) = layer(X, tuple(state))
            loss = ((outputs - head) ** 2).mean() + (C_T ** 2).mean()
        loss.backward()
        trainer.step(1)
        losses.append(float(loss))
    return losses, [p.data() for p in (layer.W_x, layer.W_h, layer.b)]


def test_trains_as_the_fused_cell_does():
    manual = _manual()
    fused = _twin(manual, fg.LSTMFused)
    losses, weights = _train(manual)
    expected_losses, expected_weights = _train(fused)
    onp.testing.assert_allclose(losses, expected_losses, rtol=1e-5)
    assert losses[-1] < losses[0] - 0.05  # it did learn
    for a, b, name in zip(weights, expected_weights, ("W_x", "W_h", "b")):
        onp.testing.assert_allclose(a.asnumpy(), b.asnumpy(), rtol=RTOL,
                                    atol=ATOL, err_msg=name)


# Wrong backwards: each is caught by the checks above.

class _Truncated(backprop.Sequence):
    """The 1997 truncated gradient where the full one is due."""

    def __init__(self, cell):
        super().__init__(cell, truncated=True)


class _Swapped(backprop.Sequence):
    """dH0 and dC0 handed back in each other's place."""

    def backward(self, *ograds):
        dX, dH0, dC0, *weights = super().backward(*ograds)
        return (dX, dC0, dH0, *weights)


class _StockCall(backprop.Sequence):
    """MXNet 1.9.1's own ``autograd.Function.__call__``: it stops at the
    first input that needs no gradient."""

    __call__ = backprop.autograd.Function.__call__


def _with(sequence):
    return type(f"Manual{sequence.__name__}", (backprop.LSTMManual,),
                {"SEQUENCE": sequence})


@pytest.mark.parametrize("sequence, attach", [
    (_Truncated, True), (_Truncated, False), (_Swapped, True),
    (_StockCall, False)], ids=["truncated", "truncated, weights only",
                               "swapped", "MXNet's Function, weights only"])
def test_a_wrong_backward_is_caught(sequence, attach):
    broken = _manual(_with(sequence))
    with pytest.raises(AssertionError):
        assert_equals_scratch(broken, attach)


def test_the_truncated_gradient_differs_only_through_W_h():
    """The broken copy above is the 1997 gradient, not noise: only the
    error sent back through W_h is missing, so with W_h = 0 the two
    gradients agree."""
    layer = _manual(_with(_Truncated))
    layer.W_h.set_data(np.zeros_like(layer.W_h.data()))
    reference = _twin(layer, fg.LSTMScratch)
    X, state, head = _problem()
    ours, theirs = (_run(m, X, state, head, attach=False)
                    for m in (layer, reference))
    for name in ("dW_x", "db", "outputs"):
        onp.testing.assert_allclose(ours[name].asnumpy(),
                                    theirs[name].asnumpy(),
                                    rtol=RTOL, atol=ATOL, err_msg=name)


def test_mxnet_1_9_1_function_drops_the_weight_gradients():
    """Why ``backprop._Function`` exists: MXNet's own ``__call__`` writes
    no gradient after an input that needs none. Fails once MXNet is
    fixed, and the workaround can go."""
    class Product(backprop.autograd.Function):
        def forward(self, a, b):
            return a * b

        def backward(self, dy):
            return dy * 2, dy * 3

    class Fixed(backprop._Function, Product):
        pass

    results = []
    for function in (Product, Fixed):
        a, b = nd.ones((2,)), nd.ones((2,))
        b.attach_grad()  # a needs no gradient
        with autograd.record():
            y = function()(a, b)
        y.backward()
        results.append(b.grad.asnumpy().tolist())
    assert results == [[0.0, 0.0], [3.0, 3.0]]


def test_a_diverging_run_gets_nan_as_with_the_fused_cell():
    """Training records a non-finite loss and stops (training.train):
    the layer passes NaN on, as MXNet's cells do, and raises nothing."""
    X, state, head = _problem()
    X[2, 1, 0] = onp.nan
    manual = _manual()
    found = [_run(layer, X, state, head, attach=True)
             for layer in (manual, _twin(manual, fg.LSTMFused))]
    for name in ("outputs", "dX", "dW_h"):
        ours, theirs = (f[name].asnumpy() for f in found)
        onp.testing.assert_array_equal(onp.isnan(ours), onp.isnan(theirs))
        assert onp.isnan(ours).any(), name
