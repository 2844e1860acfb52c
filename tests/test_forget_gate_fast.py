"""lstm_tutorial/forget_gate_fast.py: the fast path equals the readable cell.

``FastLSTM`` must compute what chapter 3's readable ``LSTMScratch`` and
fused ``LSTMFused`` compute (outputs, final state and every gradient, from
a given state), train to the same weights, keep one graph per length on
the layer's own parameters, follow its context and refuse bad input with
``LSTMFused``'s errors.
"""

import mxnet as mx
import numpy as onp
import pytest
from mxnet import autograd, gluon, np

from lstm_tutorial import device
from lstm_tutorial import forget_gate as fg
from lstm_tutorial import forget_gate_fast as fast

T, B, D, H = 13, 3, 5, 6


def _readable(ctx=None):
    device.seed(2)
    layer = fg.LSTMScratch(D, H, sigma=0.4, forget_bias=0.5,
                           input_gate_bias=-0.5)
    layer.initialize(ctx=ctx)
    return layer


def _fused_copy(layer, cls):
    twin = cls(D, H)
    twin.initialize(ctx=layer.collect_params().list_ctx()[0])
    return fg.load_fused_weights(twin, *fg.fused_weights(layer))


def _data(num_steps=T, ctx=None):
    rng = onp.random.RandomState(7)

    def normal(*shape):
        return np.array(rng.normal(0, 1, shape), ctx=ctx, dtype="float32")

    return (normal(num_steps, B, D), (normal(B, H), normal(B, H)),
            normal(num_steps, B, H))


def _run(layer, X, state, head):
    """Outputs, final state, and the gradients of a loss on all three."""
    X, state = X.copy(), tuple(S.copy() for S in state)
    for A in (X, *state):
        A.attach_grad()
    with autograd.record():
        outputs, (H_T, C_T) = layer(X, state)
        loss = (outputs * head).sum() + (H_T * C_T).sum()
    loss.backward()
    grads = [g.asnumpy() for g in _weight_grads(layer)]
    return ([A.asnumpy() for A in (outputs, H_T, C_T)]
            + [A.grad.asnumpy() for A in (X, *state)] + grads)


def _weight_grads(layer):
    """dW_x, dW_h, db in the fused layout, whatever the cell."""
    if isinstance(layer, fg.LSTMFused):
        return [p.grad() for p in (layer.W_x, layer.W_h, layer.b)]
    return [np.concatenate([getattr(layer, f"{n}{g}").grad()
                            for g in fg.GATES], axis=-1)
            for n in ("W_x", "W_h", "b_")]


@pytest.mark.parametrize("num_steps", [1, T])
def test_equals_readable_and_fused(num_steps):
    readable = _readable()
    X, state, head = _data(num_steps)
    expected = _run(readable, X, state, head)
    for cls in (fg.LSTMFused, fast.FastLSTM):
        got = _run(_fused_copy(readable, cls), X, state, head)
        assert len(got) == len(expected) == 9
        for g, e in zip(got, expected):
            onp.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)


def test_from_fused_copies_and_draws_no_random_numbers():
    readable = _readable()
    before = np.random.uniform(size=3).asnumpy()
    device.seed(2)
    _readable()  # the same draws as readable's
    np.random.uniform(size=3)
    layer = fast.from_fused(readable)
    X, state, _ = _data()
    onp.testing.assert_allclose(layer(X, state)[0].asnumpy(),
                                readable(X, state)[0].asnumpy(),
                                rtol=1e-4, atol=1e-6)
    device.seed(2)
    _readable()
    onp.testing.assert_array_equal(np.random.uniform(size=3).asnumpy(),
                                   before)
    assert isinstance(layer, fg.LSTMFused)


def test_trains_to_the_same_weights():
    """Three Adam steps on each give the same weights."""
    readable = _readable()
    X, state, head = _data()
    weights = []
    for layer in (_fused_copy(readable, fg.LSTMFused),
                  _fused_copy(readable, fast.FastLSTM)):
        trainer = gluon.Trainer(layer.collect_params(), "adam",
                                {"learning_rate": 0.05})
        for _ in range(3):
            with autograd.record():
                outputs, _ = layer(X, state)
                loss = ((outputs - head) ** 2).mean()
            loss.backward()
            trainer.step(1)
        weights.append([w.asnumpy() for w in fg.fused_weights(layer)])
    for a, b in zip(*weights):
        onp.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    original = fg.fused_weights(readable)[1].asnumpy()
    assert onp.abs(weights[1][1] - original).max() > 1e-3  # it trained


def test_one_graph_per_length_on_the_layers_parameters():
    layer = _fused_copy(_readable(), fast.FastLSTM)
    for num_steps in (4, 9, 4):
        X, state, _ = _data(num_steps)
        assert layer(X, state)[0].shape == (num_steps, B, H)
    assert len(layer._graphs) == 2
    assert sorted(layer.collect_params()) == sorted(
        f"{layer.prefix}{n}" for n in ("W_x", "W_h", "b"))
    # A weight set after tracing is the weight the graphs use.
    X, state, _ = _data(4)
    layer.W_h.set_data(np.zeros((H, 4 * H)))
    expected = _fused_copy(layer, fg.LSTMFused)(X, state)[0]
    onp.testing.assert_allclose(layer(X, state)[0].asnumpy(),
                                expected.asnumpy(), rtol=1e-5, atol=1e-6)


def test_gluon_counterpart_accepts_it():
    layer = _fused_copy(_readable(), fast.FastLSTM)
    X, (H0, C0), _ = _data()
    expected = fg.to_gluon(layer)(X, [H0[None], C0[None]])[0]
    onp.testing.assert_allclose(layer(X, (H0, C0))[0].asnumpy(),
                                expected.asnumpy(), rtol=1e-4, atol=1e-5)


def test_follows_its_context(other_ctx):
    layer = _fused_copy(_readable(other_ctx), fast.FastLSTM)
    X, state, _ = _data(ctx=other_ctx)
    outputs, (H_T, C_T) = layer(X, state)
    assert outputs.ctx == H_T.ctx == C_T.ctx == other_ctx
    assert layer(X)[0].ctx == other_ctx  # the zero state too
    with pytest.raises(ValueError, match=r"inputs is on cpu\(0\)"):
        layer(X.as_in_ctx(mx.cpu()))
    with pytest.raises(ValueError, match=r"state C is on cpu\(0\)"):
        layer(X, (state[0], state[1].as_in_ctx(mx.cpu())))


@pytest.mark.parametrize("shape", [(T, B), (T, B, D + 1), (0, B, D)])
def test_inputs_of_wrong_shape(shape):
    layer = _fused_copy(_readable(), fast.FastLSTM)
    with pytest.raises(ValueError, match=r"\(num_steps, batch_size, 5\)"):
        layer(np.zeros(shape))


def test_state_of_wrong_batch_size_or_arity():
    layer = _fused_copy(_readable(), fast.FastLSTM)
    X, _, _ = _data()
    H0, C0 = layer.begin_state(B + 1, mx.cpu())
    with pytest.raises(ValueError, match=r"state H must have shape \(3, 6"):
        layer(X, (H0, C0))
    with pytest.raises(ValueError, match="state must be a pair"):
        layer(X, (H0[:B],))


def test_other_dtype_is_refused():
    layer = _fused_copy(_readable(), fast.FastLSTM)
    X, (H0, C0), _ = _data()
    with pytest.raises(TypeError, match="inputs must have dtype float32"):
        layer(X.astype("float64"))
    with pytest.raises(TypeError, match="state C must have dtype float32"):
        layer(X, (H0, C0.astype("float16")))


def test_bad_construction():
    with pytest.raises(ValueError, match="num_hiddens must be a positive"):
        fast.FastLSTM(D, 0)
    with pytest.raises(TypeError, match="forget_bias must be a number"):
        fast.FastLSTM(D, H, forget_bias="1")
    with pytest.raises(TypeError, match="expected LSTMScratch or LSTMFused"):
        fast.from_fused(gluon.rnn.LSTM(H))
