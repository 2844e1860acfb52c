"""lstm_tutorial/rnn.py (chapter 1): the scratch RNN equals gluon's."""

import mxnet as mx
import numpy as onp
import pytest
from mxnet import autograd, np, npx

from lstm_tutorial import device, rnn

T, B, D, H = 7, 3, 5, 6


def _layer(ctx=None, sigma=0.3):
    device.seed(1)
    layer = rnn.RNNScratch(D, H, sigma=sigma)
    layer.initialize(ctx=ctx)
    layer.b_h.set_data(np.random.normal(0, 0.3, (H,), ctx=ctx))
    return layer


def _inputs(ctx=None):
    return np.random.normal(0, 1, (T, B, D), ctx=ctx)


def test_shapes_and_state():
    layer = _layer()
    outputs, (H_T,) = layer(_inputs())
    assert outputs.shape == (T, B, H) and H_T.shape == (B, H)
    onp.testing.assert_array_equal(outputs[-1].asnumpy(), H_T.asnumpy())
    assert float(np.abs(outputs).max()) < 1  # tanh range


def test_equals_gluon_rnn_forward_and_gradients():
    layer, X = _layer(), _inputs()
    reference = rnn.to_gluon(layer)
    H0 = np.random.normal(0, 1, (B, H))
    head = np.random.normal(0, 1, (T, B, H))  # a random loss direction
    with autograd.record():
        ours, (H_ours,) = layer(X, (H0,))
        loss_ours = (ours * head).sum()
    loss_ours.backward()
    with autograd.record():
        theirs, (H_theirs,) = reference(X, [H0[None]])
        loss_theirs = (theirs * head).sum()
    loss_theirs.backward()
    assert float(np.abs(ours - theirs).max()) < 1e-5
    assert float(np.abs(H_ours - H_theirs[0]).max()) < 1e-5
    grads = {n.split("_", 1)[1]: p.grad()
             for n, p in reference.collect_params().items()}
    pairs = [(layer.W_xh.grad().T, grads["l0_i2h_weight"]),
             (layer.W_hh.grad().T, grads["l0_h2h_weight"]),
             (layer.b_h.grad(), grads["l0_i2h_bias"]),
             (layer.b_h.grad(), grads["l0_h2h_bias"])]
    for ours_grad, theirs_grad in pairs:
        assert float(np.abs(ours_grad).max()) > 1e-3  # not trivially zero
        assert float(np.abs(ours_grad - theirs_grad).max()) < 1e-5


def test_follows_its_context(other_ctx):
    layer = _layer(ctx=other_ctx)
    outputs, (H_T,) = layer(_inputs(other_ctx))
    assert outputs.ctx == H_T.ctx == other_ctx
    assert rnn.to_gluon(layer)(_inputs(other_ctx)).ctx == other_ctx


def test_inputs_on_another_context_are_refused(other_ctx):
    layer = _layer(ctx=other_ctx)
    with pytest.raises(ValueError, match=r"inputs is on cpu\(0\)"):
        layer(_inputs(mx.cpu()))
    state = layer.begin_state(B, mx.cpu())
    with pytest.raises(ValueError, match=r"state is on cpu\(0\)"):
        layer(_inputs(other_ctx), state)


@pytest.mark.parametrize("shape", [(T, B), (T, B, D + 1), (0, B, D)])
def test_inputs_of_wrong_shape(shape):
    with pytest.raises(ValueError, match=r"\(num_steps, batch_size, 5\)"):
        _layer()(np.zeros(shape))


def test_state_of_wrong_batch_size():
    layer = _layer()
    with pytest.raises(ValueError, match=r"state must have shape \(3, 6\)"):
        layer(_inputs(), layer.begin_state(B + 1, mx.cpu()))


@pytest.mark.parametrize("num_inputs, num_hiddens", [(0, 4), (4, -1),
                                                     (4, 2.0)])
def test_sizes_must_be_positive_ints(num_inputs, num_hiddens):
    with pytest.raises(ValueError, match="must be a positive int"):
        rnn.RNNScratch(num_inputs, num_hiddens)


def _lm(vocab_size=6, num_hiddens=H, sigma=0.3):
    device.seed(2)
    lm = rnn.RNNLMScratch(rnn.RNNScratch(vocab_size, num_hiddens, sigma),
                          vocab_size, sigma)
    lm.initialize()
    return lm


def test_language_model_shapes_and_errors():
    lm = _lm()
    X = np.array(onp.arange(12).reshape(2, 6) % 6, dtype="int32")
    logits, (H_T,) = lm(X)
    assert logits.shape == (6, 2, 6) and H_T.shape == (2, H)
    with pytest.raises(ValueError, match=r"\(batch_size, num_steps\)"):
        lm(X.reshape(-1))
    with pytest.raises(ValueError, match="must equal vocab_size"):
        rnn.RNNLMScratch(rnn.RNNScratch(5, 4), 6)


def _tokens(rows, cols, vocab_size, seed):
    rng = onp.random.RandomState(seed)
    return np.array(rng.randint(0, vocab_size, (rows, cols)), dtype="int32")


def test_state_gradient_of_last_step_is_the_output_gradient():
    lm = _lm()
    X, Y = _tokens(4, 9, 6, 0), _tokens(4, 9, 6, 1)
    norms = rnn.state_gradient_norms(lm, X, Y)
    assert len(norms) == 9
    # dL/dH_T = (softmax(O_T) - onehot(y)) W_hq^T / batch_size
    _, (H_T,) = lm(X)
    P = npx.softmax(lm.output_layer(H_T)) - npx.one_hot(Y[:, -1], 6)
    expected = float(np.linalg.norm(np.dot(P, lm.W_hq.data().T) / 4))
    assert norms[-1] == pytest.approx(expected, rel=1e-5)


def test_state_gradients_vanish_without_recurrence():
    lm = _lm()
    lm.rnn.W_hh.set_data(np.zeros((H, H)))
    norms = rnn.state_gradient_norms(lm, _tokens(4, 9, 6, 0),
                                     _tokens(4, 9, 6, 1))
    assert norms[-1] > 0 and max(norms[:-1]) == 0.0
