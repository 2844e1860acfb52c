"""lstm_tutorial/training.py: the loop, clipping, perplexity, sampling."""

import numpy as onp
import pytest
from mxnet import gluon, init, np

from lstm_tutorial import data, device, training

from helpers import tiny_lm


def _linear(ctx=None):
    net = gluon.nn.Dense(1, in_units=3)
    net.initialize(init.Constant(0.0), ctx=ctx)
    return net


def _set_grads(net, value):
    for p in net.collect_params().values():
        p.grad()[:] = value


def test_clip_scales_to_theta():
    net = _linear()
    _set_grads(net, 2.0)  # 4 entries of 2: norm 4
    assert training.clip_gradients(net.collect_params(), 1.0) == 4.0
    assert training.grad_norm(net.collect_params()) == pytest.approx(1.0)


def test_clip_leaves_small_and_unclipped_gradients():
    net = _linear()
    _set_grads(net, 0.1)
    training.clip_gradients(net.collect_params(), 1.0)
    assert training.grad_norm(net.collect_params()) == pytest.approx(0.2)
    _set_grads(net, 5.0)
    training.clip_gradients(net.collect_params(), None)
    assert training.grad_norm(net.collect_params()) == pytest.approx(10.0)


@pytest.mark.parametrize("theta", [0, -1.0])
def test_clip_rejects_bad_theta(theta):
    with pytest.raises(ValueError, match="theta must be a positive number"):
        training.clip_gradients(_linear().collect_params(), theta)


def _regression_batches(n, rng):
    w = onp.array([1.0, -2.0, 0.5])
    for _ in range(n):
        X = rng.normal(size=(16, 3))
        yield (np.array(X, dtype="float32"),
               np.array(X @ w + 0.3, dtype="float32"))


def _mse(net, batch):
    X, y = batch
    return ((net(X).reshape(-1) - y) ** 2).mean()


def test_train_fits_and_records_history():
    device.seed(0)
    net = _linear()
    trainer = gluon.Trainer(net.collect_params(), "sgd",
                            {"learning_rate": 0.1})
    history = training.train(
        net, _regression_batches(200, onp.random.RandomState(0)), _mse,
        trainer, theta=None, evaluate=lambda n: {"w0": float(
            n.weight.data()[0, 0])}, eval_every=50)
    assert history["step"][:2] == [1, 2] and history.last("step") == 200
    assert history["loss"][-1] < 1e-3 < history["loss"][0]
    assert history.at("w0")[0] == [50, 100, 150, 200]
    assert history.last("w0") == pytest.approx(1.0, abs=1e-2)
    assert history.first_step("w0", 0.9) <= 100
    assert history.diverged_at is None


def test_train_stops_at_divergence():
    net = _linear()
    trainer = gluon.Trainer(net.collect_params(), "sgd",
                            {"learning_rate": 0.1})
    batches = [(np.ones((2, 3)), np.array([1.0, float("nan")]))] * 5
    history = training.train(net, batches, _mse, trainer)
    assert history.diverged_at == 1 and len(history["loss"]) == 1
    assert float(net.weight.data().sum()) == 0.0  # no update applied


def test_fit_is_train_with_its_optimiser_and_stops_when_asked():
    runs = []
    for make in (lambda net: training.fit(
            net, _regression_batches(30, onp.random.RandomState(0)), _mse,
            0.1, theta=None, optimizer="sgd"),
                 lambda net: training.train(
            net, _regression_batches(30, onp.random.RandomState(0)), _mse,
            gluon.Trainer(net.collect_params(), "sgd",
                          {"learning_rate": 0.1}), theta=None)):
        net = _linear()
        runs.append((make(net)["loss"], net.weight.data().asnumpy()))
    assert runs[0][0] == runs[1][0]  # the same steps, bit for bit
    onp.testing.assert_array_equal(runs[0][1], runs[1][1])
    net = _linear()
    history = training.fit(
        net, _regression_batches(30, onp.random.RandomState(0)), _mse, 0.1,
        stop=lambda h: len(h["loss"]) >= 4)
    assert history.last("step") == 4


@pytest.mark.parametrize("lr", [0, -0.1, -0.05, None, "0.1", True,
                                float("nan"), float("inf")])
def test_fit_rejects_a_bad_learning_rate(lr):
    with pytest.raises(ValueError, match="lr must be a positive number"):
        training.fit(_linear(), [], _mse, lr)


def test_numpy_numbers_are_accepted_and_bad_settings_named():
    net = _linear()
    training.fit(net, _regression_batches(2, onp.random.RandomState(0)),
                 _mse, onp.float32(0.1), theta=onp.float64(1.0))
    with pytest.raises(ValueError, match="optimizer must be one of MXNet's"
                                         r" optimizers \(.*adam.*\), got "
                                         "'adamw2'"):
        training.fit(_linear(), [], _mse, 0.1, optimizer="adamw2")
    for theta in ("1", float("nan"), True):
        with pytest.raises(ValueError, match="theta must be a positive "
                                             "number or None"):
            training.fit(_linear(), [], _mse, 0.1, theta=theta)


@pytest.mark.parametrize("num_epochs", [0, 1.5, "3", True, None])
def test_train_language_model_rejects_bad_epochs(num_epochs):
    corpus = onp.tile([0, 1, 2, 3, 4], 40)
    loader = data.SeqDataLoader(corpus, 2, 5)
    with pytest.raises(ValueError, match="num_epochs must be a positive "
                                         f"int, got {num_epochs!r}"):
        training.train_language_model(_tiny_lm(), loader, loader,
                                      num_epochs, 0.1)


def test_a_diverging_language_model_keeps_its_history():
    corpus = onp.tile([0, 1, 2, 3, 4], 200)
    train = data.SeqDataLoader(corpus, 4, 10, rng=onp.random.RandomState(0))
    val = data.SeqDataLoader(corpus[:300], 4, 10)
    # lr = 100 used to end in OverflowError from math.exp, losing it all
    history = training.train_language_model(_tiny_lm(5, 16), train, val,
                                            num_epochs=2, lr=100.0)
    assert history["loss"]
    assert history.diverged_at is not None or all(
        p == float("inf") or p > 0 for p in history["val_ppl"])


def test_an_empty_training_set_is_named():
    with pytest.raises(ValueError, match="train_iter yielded no batch"):
        training.train_language_model(_tiny_lm(), [], [], 1, 0.1)


def test_bad_eval_every():
    with pytest.raises(ValueError, match="eval_every"):
        training.train(_linear(), [], _mse, None, evaluate=dict,
                       eval_every=0)


def _tiny_lm(vocab_size=5, num_hiddens=4, sigma=0.5):
    return tiny_lm(vocab_size, num_hiddens, sigma, seed=0)


def test_uniform_model_has_perplexity_vocab_size():
    lm = _tiny_lm()
    lm.W_hq.set_data(np.zeros((4, 5)))
    loader = data.SeqDataLoader(onp.arange(200) % 5, 2, 6)
    assert training.perplexity(lm, loader) == pytest.approx(5.0, rel=1e-5)


def test_language_model_objective_carries_detached_state():
    lm = _tiny_lm()
    X = np.array(onp.arange(12).reshape(2, 6) % 5, dtype="int32")
    objective = training.LanguageModelObjective(carry_state=True)
    objective(lm, (X, X))
    first = objective.state[0].asnumpy()
    objective(lm, (X, X))
    assert not onp.allclose(first, objective.state[0].asnumpy())
    resetting = training.LanguageModelObjective(carry_state=False)
    resetting(lm, (X, X))
    resetting(lm, (X, X))
    onp.testing.assert_allclose(resetting.state[0].asnumpy(), first)


def test_train_language_model_lowers_perplexity():
    corpus = onp.tile([0, 1, 2, 3, 4], 200)  # a perfectly periodic text
    train = data.SeqDataLoader(corpus, 4, 10, rng=onp.random.RandomState(0))
    val = data.SeqDataLoader(corpus[:300], 4, 10)
    lm = _tiny_lm(5, 16, sigma=0.01)
    assert training.perplexity(lm, val) > 4.9  # near-uniform: about 5
    history = training.train_language_model(lm, train, val, num_epochs=3,
                                            lr=0.05)
    assert history["epoch"] == [1, 2, 3]
    assert history.last("val_ppl") < 1.1


def test_predict_and_its_errors():
    vocab = data.Vocab(list("abcd"))
    lm = _tiny_lm(len(vocab))
    b_q = onp.zeros(len(vocab))
    b_q[vocab["c"]] = 50.0  # the model always says "c"
    lm.b_q.set_data(np.array(b_q))
    assert training.predict("ab", 3, lm, vocab) == "abccc"
    with pytest.raises(ValueError, match="prefix must hold"):
        training.predict("", 3, lm, vocab)
    for num_preds in (-2, 1.5, "3"):
        with pytest.raises(ValueError, match=r"num_preds must be an int "
                                             f">= 0, got {num_preds!r}"):
            training.predict("ab", num_preds, lm, vocab)
    assert training.predict("ab", 0, lm, vocab) == "ab"
    with pytest.raises(ValueError, match=r"not in the vocabulary: \['z'\]"):
        training.predict("az", 3, lm, vocab)
    lm.W_hq.set_data(np.full(lm.W_hq.shape, float("nan")))  # diverged
    with pytest.raises(ValueError, match=r"net has weights that are not "
                       r"finite \(W_hq: 20 of 20 are NaN or inf\)"):
        training.predict("ab", 3, lm, vocab)


def test_an_objective_must_return_one_number_before_any_backward():
    net = _linear()

    def per_example(net, batch):  # forgets .mean()
        X, y = batch
        return (net(X).reshape(-1) - y) ** 2

    batches = list(_regression_batches(2, onp.random.RandomState(0)))
    with pytest.raises(ValueError, match=r"objective must return a scalar "
                       r"loss .* forget \.mean\(\)\?\), got shape \(16,\)"):
        training.fit(net, batches, per_example, 0.1)
    assert float((net.weight.grad() ** 2).sum()) == 0.0  # no backward ran
    with pytest.raises(TypeError, match="objective must return an mxnet.np "
                       "array .* got float"):
        training.fit(net, batches, lambda net, b: 0.5, 0.1)
    with pytest.raises(TypeError, match="objective must be a callable"):
        training.fit(net, batches, "mse", 0.1)
    history = training.fit(net, batches, _mse, 0.1)  # the same, mean taken
    assert history.last("step") == 2


def test_history_errors():
    history = training.History()
    with pytest.raises(KeyError, match="no row holds 'loss'"):
        history.last("loss")
    assert history.first_step("acc", 0.5) is None
