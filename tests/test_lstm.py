"""lstm_tutorial/lstm.py and lstm_tasks.py (chapter 2): the 1997 LSTM.

The cell's step is the paper's equations and its twin holds F = 1; the
temporal-order task is what the paper describes; the classifier, its
training and the gradient flow; and the stored three-seed results
satisfy the chapter's claim. The cells' conformance (readable = fused =
fast = ``gluon.rnn.LSTM`` with F = 1, contexts, bad input) is in
``tests/test_layers.py``.
"""

import mxnet as mx
import numpy as onp
import pytest
from mxnet import autograd, np, npx

from lstm_tutorial import device, experiments, layers, lstm, lstm_tasks, rnn

from helpers import failing, max_diff, normal, seeded_layer, spoiled

T, B, D, H = 7, 3, 5, 6


def _layer(cls=lstm.LSTM1997Scratch, ctx=None, sigma=0.3):
    return seeded_layer(cls, D, H, ctx=ctx, sigma=sigma,
                        input_gate_bias=-1.0)


def _inputs(ctx=None):
    return normal(T, B, D, ctx=ctx)


def _state(ctx=None):
    return normal(B, H, ctx=ctx), normal(B, H, ctx=ctx)


_max_diff = max_diff


def test_shapes_state_and_input_gate_bias():
    layer = _layer()
    outputs, (H_T, C_T) = layer(_inputs())
    assert outputs.shape == (T, B, H) and H_T.shape == C_T.shape == (B, H)
    onp.testing.assert_array_equal(outputs[-1].asnumpy(), H_T.asnumpy())
    assert float(layer.b_i.data().min()) == float(layer.b_i.data().max())
    assert float(layer.b_i.data()[0]) == -1.0
    fused = _layer(lstm.LSTM1997Fused)
    onp.testing.assert_array_equal(fused.b.data().asnumpy(),
                                   [-1.0] * H + [0.0] * 2 * H)


def test_step_is_the_equations():
    layer, (X_t, (H0, C0)) = _layer(), (_inputs()[0], _state())
    H1, C1 = layer.step(X_t, (H0, C0))
    w = {n.split("_", 1)[1]: p.data().asnumpy()
         for n, p in layer.collect_params().items()}
    x, h, c = X_t.asnumpy(), H0.asnumpy(), C0.asnumpy()

    def affine(g):
        return x @ w[f"W_x{g}"] + h @ w[f"W_h{g}"] + w[f"b_{g}"]

    def sigmoid(z):
        return 1 / (1 + onp.exp(-z))

    C = c + sigmoid(affine("i")) * onp.tanh(affine("c"))
    onp.testing.assert_allclose(C1.asnumpy(), C, atol=1e-6)
    onp.testing.assert_allclose(
        H1.asnumpy(), sigmoid(affine("o")) * onp.tanh(C), atol=1e-6)


def test_fast_path_draws_what_the_fused_cell_draws():
    for x, y in zip(_layer(lstm.LSTM1997Fused).fused_weights(),
                    _layer(lstm.LSTM1997Fast).fused_weights()):
        assert _max_diff(x, y) == 0.0


def test_forget_bias_makes_the_gate_exactly_one():
    gate = npx.sigmoid(np.array([lstm.FORGET_BIAS], dtype="float32"))
    assert gate.dtype == onp.float32 and float(gate[0]) == 1.0


def test_the_twin_has_f_rows_that_hold_the_gate_at_one():
    layer = _layer()
    i2h_weight, h2h_weight, i2h_bias, h2h_bias = layer.gluon_weights()
    f = slice(H, 2 * H)  # gluon's rows: i, f, c, o
    assert i2h_weight.shape == (4 * H, D) and h2h_weight.shape == (4 * H, H)
    assert float(np.abs(i2h_weight[f]).max()) == 0.0
    assert float(np.abs(h2h_weight[f]).max()) == 0.0
    assert (i2h_bias[f].asnumpy() == lstm.FORGET_BIAS).all()
    assert float(np.abs(h2h_bias).max()) == 0.0
    onp.testing.assert_array_equal(i2h_bias[:H].asnumpy(),
                                   layer.b_i.data().asnumpy())


def test_models_follow_their_context(other_ctx):
    net = lstm.classifier("lstm", ctx=other_ctx)
    X, lengths, labels = lstm_tasks.test_set(other_ctx, size=4)
    assert net(X, lengths).ctx == other_ctx
    assert len(lstm.cell_gradient_norms(net, X[:20], labels)) == 20


# The temporal-order task (Hochreiter & Schmidhuber 1997, experiment 6a).

def test_task_is_the_papers():
    tokens, lengths, labels = lstm_tasks.temporal_order(
        200, onp.random.RandomState(0))
    assert tokens.shape == (200, 110) and tokens.dtype == onp.int32
    assert lengths.min() >= 100 and lengths.max() <= 110
    assert set(labels) == {0, 1, 2, 3}
    for row, size, label in zip(tokens, lengths, labels):
        text = lstm_tasks.decode(row)
        assert len(text) == size and (row[size:] == lstm_tasks.PAD).all()
        assert text[0] == "E" and text[-1] == "B"
        assert set(text[1:-1]) <= set("abcdXY")
        where = [i + 1 for i, s in enumerate(text) if s in "XY"]
        assert len(where) == 2  # 1-based positions, as in the paper
        assert 10 <= where[0] <= 20 and 50 <= where[1] <= 60
        order = text[where[0] - 1] + text[where[1] - 1]
        assert lstm_tasks.CLASSES[label] == order


def test_task_is_seeded():
    a = lstm_tasks.temporal_order(8, onp.random.RandomState(3))
    b = lstm_tasks.temporal_order(8, onp.random.RandomState(3))
    c = lstm_tasks.temporal_order(8, onp.random.RandomState(4))
    assert all((x == y).all() for x, y in zip(a, b))
    assert not (a[0] == c[0]).all()


def test_batch_is_one_hot_and_padded_with_zeros():
    tokens, lengths, labels = lstm_tasks.temporal_order(
        4, onp.random.RandomState(0))
    X, L, y = lstm_tasks.to_batch(tokens, lengths, labels, mx.cpu())
    assert X.shape == (110, 4, 8) and L.shape == y.shape == (4,)
    sums = X.sum(axis=2).asnumpy()  # (T, B): 1 inside, 0 after the end
    onp.testing.assert_array_equal(sums.T, tokens != lstm_tasks.PAD)


@pytest.mark.parametrize("kwargs, message", [
    ({"lengths": (110, 100)}, "lengths must be two ints"),
    ({"lengths": (100.0, 110)}, "lengths must be two ints"),
    ({"lengths": 110}, "lengths must be two ints"),
    ({"first": (10, 15, 20)}, "first must be two ints"),
    ({"first": (1, 20)}, "2 <= first < second < lengths"),
    ({"first": (10, 55)}, "2 <= first < second < lengths"),
    ({"second": (50, 100)}, "2 <= first < second < lengths"),
    ({"batch_size": 0}, "batch_size must be a positive int"),
])
def test_task_rejects_bad_arguments(kwargs, message):
    args = {"batch_size": 4, "rng": onp.random.RandomState(0), **kwargs}
    with pytest.raises(ValueError, match=message):
        lstm_tasks.temporal_order(**args)


def test_task_needs_a_random_state():
    with pytest.raises(TypeError, match="numpy.random.RandomState"):
        lstm_tasks.temporal_order(4, 0)


@pytest.mark.parametrize("kind", ["lstm", "rnn"])
def test_classifier_reads_each_sequence_at_its_end(kind):
    net = lstm.classifier(kind, num_hiddens=H, ctx=mx.cpu())
    X, lengths, labels = lstm_tasks.test_set(mx.cpu(), size=3)
    logits = net(X, lengths)
    assert logits.shape == (3, 4)
    for b in range(3):
        alone = net(X[:int(lengths[b]), b:b + 1])  # no padding, no lengths
        assert _max_diff(alone[0], logits[b]) < 1e-6
    with pytest.raises(ValueError, match=r"lengths must have shape \(3,\)"):
        net(X, lengths[:2])
    with pytest.raises(ValueError, match=r"lengths must lie in \[1, 110\]"):
        net(X, lengths + 20)
    with pytest.raises(ValueError, match=r"lengths must lie in \[1, 110\]"):
        net(X, lengths * 0)
    with pytest.raises(ValueError, match="kind must be 'lstm' or 'rnn'"):
        lstm.classifier("gru")
    with pytest.raises(ValueError, match="num_classes must be a positive"):
        lstm.SequenceClassifier(rnn.RNNScratch(D, H), 0)


def test_rnn_starts_orthogonal():
    W = lstm.classifier("rnn", ctx=mx.cpu()).layer.W_hh.data().asnumpy()
    onp.testing.assert_allclose(W @ W.T, onp.eye(16), atol=1e-5)


def test_fit_records_accuracy_and_stops_at_target():
    device.seed(0)
    net = lstm.classifier("lstm", num_hiddens=4, ctx=mx.cpu())
    test = lstm_tasks.test_set(mx.cpu(), size=16)
    history = lstm.fit(net, 0, num_steps=4, batch_size=4, test=test,
                             eval_every=2)
    assert history["step"][-1] == 4 and history.at("accuracy")[0] == [2, 4]
    stopped = lstm.fit(net, 0, num_steps=4, batch_size=4, test=test,
                             eval_every=1, target=0.0)
    assert stopped.at("accuracy")[0] == [1]  # target 0 is met at once


# Gradient flow through the carousel, measured with zero perturbations.

def _probe(num_steps=12):
    X, _, labels = lstm_tasks.test_set(mx.cpu(), size=4)
    return X[:num_steps], labels  # the first steps, all of one length


def test_carousel_passes_the_error_unchanged_without_recurrence():
    net = lstm.classifier("lstm", num_hiddens=H, ctx=mx.cpu())
    net.layer.W_h.set_data(np.zeros_like(net.layer.W_h.data()))
    norms = lstm.cell_gradient_norms(net, *_probe())
    # C_t = C_{t-1} + f(X_t): dL/dC_t is the same at every distance.
    assert len(norms) == 12 and norms[-1] > 0
    onp.testing.assert_allclose(norms, norms[-1], rtol=1e-6)
    # H_{t-1} enters the next step through W_h only.
    assert max(lstm.cell_gradient_norms(net, *_probe(), index=0)) == 0.0


def test_rnn_state_gradient_needs_recurrence():
    net = lstm.classifier("rnn", num_hiddens=H, ctx=mx.cpu())
    assert min(lstm.cell_gradient_norms(net, *_probe())) > 0
    net.layer.W_hh.set_data(np.zeros((H, H)))
    assert max(lstm.cell_gradient_norms(net, *_probe())) == 0.0


def test_last_cell_gradient_is_direct():
    net = lstm.classifier("lstm", num_hiddens=H, ctx=mx.cpu())
    X, labels = _probe()
    norms = lstm.cell_gradient_norms(net, X, labels)
    _, (H_prev, C_prev) = net.layer(X[:-1])  # the state entering step T
    C_prev.attach_grad()
    with autograd.record():
        H_T, _ = net.layer.step(X[-1], (H_prev, C_prev))
        loss = -npx.pick(npx.log_softmax(net.readout(H_T)), labels).mean()
    loss.backward()
    assert norms[-1] == pytest.approx(float(np.linalg.norm(C_prev.grad)),
                                      rel=1e-5)


# The stored experiment. Its claims (lstm.claims_temporal_order) are
# checked on the stored record by tests/test_claims_stored.py; here the
# record is whole and each kind of claim can fail.

def _stored():
    return experiments.load_results("temporal_order")


def test_stored_runs_are_whole():
    for seed, result in _stored()["seeds"].items():
        for kind in lstm.KINDS:
            run = result[kind]
            assert max(run["steps"]) == result["num_steps"], seed
            assert result["num_steps"] == lstm.CLAIM_STEPS, seed
            assert run["best"] == max(run["accuracy"]), (seed, kind)
            first = next((s for s, a in zip(run["steps"], run["accuracy"])
                          if a >= lstm.TARGET), None)
            assert run["steps_to_95"] == first, (seed, kind)
            assert run["sequences_to_95"] == (
                None if first is None else first * result["batch_size"])


def test_claims_can_fail():
    record, claims = _stored(), lstm.claims_temporal_order
    assert failing(claims(record)) == set()
    never = spoiled(record, lambda r: r["lstm"].update(steps_to_95=None))
    assert failing(claims(never)) == {
        claims(record)[0].sentence}
    learns = spoiled(record, lambda r: r["rnn"].update(best=0.9))
    assert claims(record)[1].sentence in failing(claims(learns))

    def flat(r):
        r["gradient_flow"]["rnn"] = [1.0] * len(r["gradient_flow"]["rnn"])
        r["gradient_flow"]["lstm"][-1] *= 1e6
    seed = next(iter(record["seeds"]))
    one = spoiled({"seeds": {seed: record["seeds"][seed]}}, flat)
    one["seeds"] = {**record["seeds"], seed: one["seeds"][seed]}
    assert {c.sentence for c in claims(record)[2:]} <= failing(claims(one))


def test_claim_sentences_state_the_thresholds_they_check(monkeypatch):
    """Chapter 2 glues lstm.TARGET, RNN_BOUND and CLAIM_STEPS into its
    prose; the claims must check those numbers and say them."""
    record, claims = _stored(), lstm.claims_temporal_order
    lstm_claim, rnn_claim = claims(record)[:2]
    assert f"{lstm.TARGET} within {lstm.CLAIM_STEPS:,} steps" in (
        lstm_claim.sentence)
    assert f"at or below {lstm.RNN_BOUND} " in rnn_claim.sentence
    best = min(r["rnn"]["best"] for r in record["seeds"].values())
    below = round(best - 0.01, 2)  # below every seed's best
    monkeypatch.setattr(lstm, "RNN_BOUND", below)
    tighter = claims(record)[1]
    assert f"at or below {below} " in tighter.sentence
    assert tighter.rate.k == 0


def _gradients(layer, inputs, state, R):
    """Gradients of sum(outputs * R) + sum(C_T): inputs, H0, C0, and the
    weights in the fused layout (one array)."""
    inputs, state = inputs.copy(), tuple(s.copy() for s in state)
    for A in (inputs, *state):
        A.attach_grad()
    with autograd.record():
        outputs, (_, C_T) = layer(inputs, state)
        loss = (outputs * R).sum() + C_T.sum()
    loss.backward()
    weights = np.concatenate([g.reshape(-1) for g in _fused_grads(layer)])
    return inputs.grad, state[0].grad, state[1].grad, weights


def _fused_grads(layer):
    """The weights' gradients ``(W_x, W_h, b)``, the gates side by side,
    whichever layout the layer stores (readable: one triple per gate)."""
    grads = {n.split("_", 1)[1]: p.grad()
             for n, p in layer.collect_params().items()}
    if "W_x" in grads:
        return grads["W_x"], grads["W_h"], grads["b"]
    return tuple(np.concatenate([grads[f"{n}{g}"] for g in layer.GATES],
                                axis=-1) for n in ("W_x", "W_h", "b_"))


@pytest.mark.parametrize("cls", [lstm.LSTM1997Scratch, lstm.LSTM1997Fused,
                                 lstm.LSTM1997Fast], ids=lambda c: c.__name__)
def test_the_truncated_gradient_is_the_detached_recurrence(cls):
    """truncated=True: the same forward pass; the gradient of the cell
    with H_{t-1} detached in the gates' recurrent products (written out
    here), which is not the full gradient."""
    full = _layer(cls)
    cut = seeded_layer(cls, D, H, sigma=0.3, input_gate_bias=-1.0,
                       truncated=True)
    inputs, state, R = _inputs(), _state(), normal(T, B, H)
    assert _max_diff(full(inputs, state)[0], cut(inputs, state)[0]) == 0.0

    # the readable cell, holding the same weights (no random draws)
    reference = layers.copy_weights(cut, lstm.LSTM1997Scratch(D, H))
    W = {n.split("_", 1)[1]: p for n, p in
         reference.collect_params().items()}

    def detached_step(X_t, state):
        H_prev, C = state

        def affine(g):
            return (np.dot(X_t, W[f"W_x{g}"].data())
                    + np.dot(H_prev.detach(), W[f"W_h{g}"].data())
                    + W[f"b_{g}"].data())
        C = C + npx.sigmoid(affine("i")) * np.tanh(affine("c"))
        return npx.sigmoid(affine("o")) * np.tanh(C), C

    reference.step = detached_step
    expected = _gradients(reference, inputs, state, R)
    got = _gradients(cut, inputs, state, R)
    for a, b in zip(got, expected):  # inputs, H0, C0, weights
        assert _max_diff(a, b) < 1e-5
    # and the truncation matters: the full gradient differs
    assert _max_diff(_gradients(full, inputs, state, R)[0], got[0]) > 1e-3


def test_truncated_must_be_a_bool_and_has_no_twin():
    with pytest.raises(TypeError, match="truncated must be a bool"):
        lstm.LSTM1997Fused(D, H, truncated=1)
    with pytest.raises(TypeError, match="truncated gradient has no "
                       "gluon.rnn twin"):
        lstm.LSTM1997Fused(D, H, truncated=True).to_gluon()


def test_the_truncation_record_is_whole_and_its_full_runs_are_chapter_2s():
    record = experiments.load_results("truncation")
    chapter2 = _stored()["seeds"]
    assert sorted(record["seeds"]) == sorted(chapter2)
    for seed, result in record["seeds"].items():
        assert result["num_steps"] == lstm.CLAIM_STEPS, seed
        for gradient in lstm.GRADIENTS:
            run = result[gradient]
            first = next((s for s, a in zip(run["steps"], run["accuracy"])
                          if a >= lstm.TARGET), None)
            assert run["steps_to_95"] == first, (seed, gradient)
            # the run stopped at its first evaluation at the target
            assert first is None or run["steps"][-1] == first
        assert result["full"]["steps_to_95"] == (
            chapter2[seed]["lstm"]["steps_to_95"]), seed


def test_truncation_claims_can_fail():
    record, claims = experiments.load_results("truncation"), (
        lstm.claims_truncation)
    assert failing(claims(record)) == set()
    for k, gradient in enumerate(lstm.GRADIENTS[::-1]):
        never = spoiled(record,
                        lambda r, g=gradient: r[g].update(steps_to_95=None))
        assert claims(record)[k].sentence in failing(claims(never))


@pytest.mark.parametrize("cls", [lstm.LSTM1997Scratch, lstm.LSTM1997Fused],
                         ids=lambda c: c.__name__)
def test_the_truncated_cell_equals_numpy_lstms_truncated_backward(cls):
    """Chapter 2's cell with truncated=True, in float64, against chapter
    8's NumPy backward with truncated=True: the same gradient."""
    from lstm_tutorial import numpy_lstm

    layer = seeded_layer(cls, D, H, sigma=0.5, input_gate_bias=-1.0,
                         truncated=True)
    W_x, W_h, b = (w.asnumpy().astype("float64")
                   for w in layer.fused_weights())
    rng = onp.random.default_rng(0)
    X, H0, C0 = (rng.normal(size=s) for s in ((T, B, D), (B, H), (B, H)))
    R = rng.normal(size=(T, B, H))
    _, _, cache = numpy_lstm.forward(X, W_x, W_h, b, H0, C0, "1997")
    ours = numpy_lstm.backward(R, None, onp.ones((B, H)), cache,
                               truncated=True)
    layer.cast("float64")
    arrays = [np.array(A, dtype="float64") for A in (X, H0, C0)]
    for A in arrays:
        A.attach_grad()
    with autograd.record():
        outputs, (_, C_T) = layer.unroll(arrays[0], tuple(arrays[1:]))
        loss = (outputs * np.array(R, dtype="float64")).sum() + C_T.sum()
    loss.backward()
    for name, A in zip(("dX", "dH0", "dC0"), arrays):
        onp.testing.assert_allclose(A.grad.asnumpy(), ours[name],
                                    rtol=1e-12, atol=1e-12)
    assert not ours["dH0"].any()  # nothing reaches H_0 through W_h
    for name, grad in zip(("dW_x", "dW_h", "db"), _fused_grads(layer)):
        onp.testing.assert_allclose(grad.asnumpy(), ours[name], rtol=1e-12,
                                    atol=1e-12)
