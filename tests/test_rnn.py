"""lstm_tutorial/rnn.py (chapter 1): the RNN's step, the language model
and the gradient norms. The layer's conformance (shapes, contexts, bad
input, equality with ``gluon.rnn.RNN``) is in ``tests/test_layers.py``."""

import numpy as onp
import pytest
from mxnet import np, npx

from lstm_tutorial import device, experiments, rnn

from helpers import failing, spoiled, tiny_lm

T, B, D, H = 7, 3, 5, 6


def _layer(ctx=None, sigma=0.3):
    device.seed(1)
    layer = rnn.RNNScratch(D, H, sigma=sigma)
    layer.initialize(ctx=ctx)
    layer.b_h.set_data(np.random.normal(0, 0.3, (H,), ctx=ctx))
    return layer


def _inputs(ctx=None):
    return np.random.normal(0, 1, (T, B, D), ctx=ctx)


def test_step_is_the_equation():
    layer, X_t = _layer(), _inputs()[0]
    H0 = np.random.normal(0, 1, (B, H))
    (H1,) = layer.step(X_t, (H0,))
    W_xh, W_hh, b_h = (p.data().asnumpy() for p in
                       (layer.W_xh, layer.W_hh, layer.b_h))
    expected = onp.tanh(X_t.asnumpy() @ W_xh + H0.asnumpy() @ W_hh + b_h)
    onp.testing.assert_allclose(H1.asnumpy(), expected, atol=1e-6)
    assert layer.GATES == ("h",) and layer.STATE == ("H",)


def _lm(vocab_size=6, num_hiddens=H, sigma=0.3):
    return tiny_lm(vocab_size, num_hiddens, sigma, seed=2)


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


# Exercise 1: the stored partitioning runs (rnn_partitioning).

def test_partitioning_run_trains_both_loaders(monkeypatch):
    load = rnn.data.load_data_time_machine  # the book's first 6,000 chars
    monkeypatch.setattr(rnn.data, "load_data_time_machine",
                        lambda *args, **kw: load(*args, max_tokens=6_000,
                                                 **kw))
    config = dict(rnn.LM_RUN, batch_size=8, num_steps=20, num_hiddens=4,
                  num_epochs=1)
    result = rnn.run_partitioning(0, config)
    assert result["config"] == config
    for name in ("sequential", "random"):
        assert len(result[name]["val_ppl"]) == 1, name
        assert result[name]["diverged_at"] is None
    # the same weights from the seed, another order of the text
    assert result["sequential"]["train_ppl"] != result["random"]["train_ppl"]
    again = rnn.run_partitioning(0, config)
    assert again == result  # a seed gives the same run


def test_stored_partitioning_runs_use_the_chapters_setup():
    record = experiments.load_results("rnn_partitioning")
    assert sorted(map(int, record["seeds"])) == list(experiments.SEEDS)
    for seed, result in record["seeds"].items():
        assert result["config"] == rnn.LM_RUN, seed
        for name in ("sequential", "random"):
            assert len(result[name]["val_ppl"]) == \
                rnn.LM_RUN["num_epochs"], (seed, name)


def test_partitioning_claims_can_fail():
    record = experiments.load_results("rnn_partitioning")
    found = rnn.claims_partitioning(record)
    assert failing(found) == set()

    def behind(r):  # random partitioning never lower
        r["random"]["val_ppl"][-1] = 2 * r["sequential"]["val_ppl"][-1]

    def ahead(r):  # random partitioning always lower
        r["random"]["val_ppl"][-1] = r["sequential"]["val_ppl"][-1] / 2
    for change, claim in ((behind, found[0]), (ahead, found[1])):
        assert failing(rnn.claims_partitioning(spoiled(record, change))) \
            == {claim.sentence}
