"""Chapter 5: attention equals d2l's, masks padding, checks its input;
the encoder is chapter 4's; the stored results satisfy the claims."""

import numpy as onp
import pytest
from d2l import mxnet as d2l
from mxnet import autograd, np

from lstm_tutorial import attention as at
from lstm_tutorial import attention_tasks as tasks
from lstm_tutorial import bidirectional_lstm, device, experiments

from helpers import failing, spoiled

B, Q, K, D_Q, D_K, D_V, H = 3, 4, 6, 5, 7, 2, 8


def _inputs(ctx, dq=D_Q, dk=D_K):
    device.seed(0)
    return (np.random.normal(size=(B, Q, dq), ctx=ctx),
            np.random.normal(size=(B, K, dk), ctx=ctx),
            np.random.normal(size=(B, K, D_V), ctx=ctx),
            np.array([2, 6, 4], ctx=ctx))


def _additive(ctx):
    ours = at.AdditiveAttention(D_Q, D_K, H)
    ours.initialize(ctx=ctx)
    theirs = d2l.AdditiveAttention(H, dropout=0)
    theirs.initialize(ctx=ctx)
    theirs(*_inputs(ctx))  # materialise d2l's deferred shapes
    theirs.W_q.weight.set_data(ours.W_q.data().T)  # Dense stores (out, in)
    theirs.W_k.weight.set_data(ours.W_k.data().T)
    theirs.w_v.weight.set_data(ours.w_v.data()[None])
    return ours, theirs


def test_additive_equals_d2l_outputs_weights_and_gradients():
    ours, theirs = _additive(device.device())
    q, k, v, lens = _inputs(device.device())
    for x in (q, k, v):
        x.attach_grad()
    results = []
    for net in (ours, theirs):
        with autograd.record():
            out = net(q, k, v, lens)
            (out * out).sum().backward()
        results.append((out, net.attention_weights,
                        *(x.grad.copy() for x in (q, k, v))))
    for a, b in zip(*results):
        onp.testing.assert_allclose(a.asnumpy(), b.asnumpy(), rtol=1e-4,
                                    atol=1e-6)


def test_dot_product_equals_d2l():
    q, k, v, lens = _inputs(device.device(), dq=D_K)
    theirs = d2l.DotProductAttention(dropout=0)
    for valid_lens in (lens, None):
        ours_out = at.DotProductAttention()(q, k, v, valid_lens)
        onp.testing.assert_allclose(ours_out.asnumpy(),
                                    theirs(q, k, v, valid_lens).asnumpy(),
                                    rtol=1e-5, atol=1e-6)


def test_masked_positions_get_exactly_zero_weight():
    ours, _ = _additive(device.device())
    q, k, v, lens = _inputs(device.device())
    ours(q, k, v, lens)
    alpha = ours.attention_weights.asnumpy()  # (B, Q, K)
    for b, n in enumerate(lens.asnumpy().astype(int)):
        assert (alpha[b, :, n:] == 0).all()
        assert (alpha[b, :, :n] > 0).all()
    onp.testing.assert_allclose(alpha.sum(axis=2), 1, rtol=1e-6)
    # what sits in the padding cannot change the result
    v2 = v.copy()
    v2[0, 2:] = 1e3
    onp.testing.assert_array_equal(ours(q, k, v, lens).asnumpy(),
                                   ours(q, k, v2, lens).asnumpy())


def test_masked_softmax_without_lengths_is_softmax():
    scores = np.random.normal(size=(2, 3, 5))
    e = onp.exp(scores.asnumpy())
    onp.testing.assert_allclose(at.masked_softmax(scores).asnumpy(),
                                e / e.sum(-1, keepdims=True), rtol=1e-5)


@pytest.mark.parametrize("change, message", [
    (lambda q, k, v, n: (q[:2], k, v, n), "batch sizes differ"),
    (lambda q, k, v, n: (q, k, v[:, :5], n), "must pair up"),
    (lambda q, k, v, n: (q[:, :, :3], k, v, n), "queries must have width 5"),
    (lambda q, k, v, n: (q, k[:, :, :3], v, n), "keys must have width 7"),
    (lambda q, k, v, n: (q[0], k, v, n), r"queries must be \(batch_size"),
    (lambda q, k, v, n: (q, k, v, n * 0), r"valid_lens must lie in \[1, 6\]"),
    (lambda q, k, v, n: (q, k, v, n + 1), r"valid_lens must lie in \[1, 6\]"),
    (lambda q, k, v, n: (q, k, v, n[:2]), r"valid_lens must have shape"),
])
def test_bad_input_is_named(change, message):
    ours, _ = _additive(device.device())
    with pytest.raises(ValueError, match=message):
        ours(*change(*_inputs(device.device())))


def test_dot_product_needs_equal_widths():
    q, k, v, lens = _inputs(device.device())  # queries 5 wide, keys 7
    with pytest.raises(ValueError, match="queries must have width 7"):
        at.DotProductAttention()(q, k, v, lens)


def test_inputs_on_another_context_are_refused(other_ctx):
    ours, _ = _additive(device.device())
    q, k, v, lens = _inputs(device.device())
    with pytest.raises(ValueError, match="queries is on cpu"):
        ours(q.as_in_ctx(other_ctx), k, v, lens)
    with pytest.raises(ValueError, match="valid_lens is on cpu"):
        ours(q, k, v, lens.as_in_ctx(other_ctx))


def test_model_follows_its_context(other_ctx):
    net = at.seq2seq("additive", 0, ctx=other_ctx)
    X = np.array(tasks.test_set(5, 4), ctx=other_ctx, dtype="int32")
    Y_hat, alpha = net.predict(X, 5, tasks.BOS)
    assert Y_hat.ctx == other_ctx and Y_hat.shape == (4, 5)
    assert alpha.shape == (4, 5, 5)
    onp.testing.assert_allclose(alpha.sum(axis=2).asnumpy(), 1, rtol=1e-5)


def test_encoder_is_chapter_4s_bidirectional_lstm():
    net = at.seq2seq(None, 0)
    X = np.array(tasks.test_set(7, 3), dtype="int32")
    H, (S, C) = net.encoder(X)
    assert H.shape == (3, 7, 64) and S.shape == C.shape == (3, 64)
    layer = net.encoder.rnn
    scratch = bidirectional_lstm.Bidirectional(layer.f_layer.to_scratch(),
                                               layer.b_layer.to_scratch())
    outputs, _ = scratch(net.encoder.embedding(X.T))
    onp.testing.assert_allclose(H.asnumpy(),
                                outputs.transpose(1, 0, 2).asnumpy(),
                                rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", [None, "additive", "dot"])
def test_teacher_forcing_equals_stepping(kind):
    net = at.seq2seq(kind, 0)
    X, Y_in, _ = next(tasks.batches(0, dict(tasks.CONFIG, batch_size=4)))
    logits = net(X, Y_in)  # (T', B, V)
    H, state = net.encoder(X)
    final = state
    for t, y_prev in enumerate(Y_in.T):
        step_logits, state, _ = net.decoder.step(y_prev, state, H, final)
        onp.testing.assert_allclose(step_logits.asnumpy(),
                                    logits[t].asnumpy(), rtol=1e-4,
                                    atol=1e-5)


def test_batches_hold_out_the_test_strings():
    config = dict(tasks.CONFIG, num_steps=30, train_lengths=(3, 4),
                  num_test=200)
    held_out = {n: {s.tobytes() for s in tasks.test_set(n, 200)}
                for n in (3, 4)}
    for X, Y_in, Y in tasks.batches(1, config):
        X, Y_in, Y = (a.asnumpy().astype(onp.int64) for a in (X, Y_in, Y))
        assert 3 <= X.shape[1] <= 4
        assert not any(s.tobytes() in held_out[X.shape[1]] for s in X)
        assert (Y == X).all() and (Y_in[:, 0] == tasks.BOS).all()
        assert (Y_in[:, 1:] == Y[:, :-1]).all()


def test_test_set_is_distinct_and_fixed():
    a = tasks.test_set(3, 256)
    assert a.shape == (256, 3) and len(onp.unique(a, axis=0)) == 256
    onp.testing.assert_array_equal(a, tasks.test_set(3, 256))


def test_alignment_and_reverse():
    onp.testing.assert_array_equal(tasks.target_of(onp.array([[1, 2, 3]]),
                                                   reverse=True), [[3, 2, 1]])
    assert tasks.alignment(onp.eye(4)) == 1.0
    assert tasks.alignment(onp.eye(4)[::-1], reverse=True) == 1.0
    assert tasks.alignment(onp.eye(4)[::-1]) == 0.0
    shifted = onp.eye(4, 5, k=1)  # row t looks at position t + 1
    assert tasks.alignment(shifted) == 0.0
    assert tasks.alignment(shifted, within=1) == 1.0


def test_claims_can_fail():
    good = {str(n): {"token": 0.99} for n in (4, 8, 12, 16, 20, 24)}
    bad = {str(n): {"token": 1.0 - n / 40} for n in (4, 8, 12, 16, 20, 24)}
    assert all(tasks.claims(good, bad).values())
    assert not all(tasks.claims(bad, bad).values())
    flat = {str(n): {"token": 0.5} for n in (4, 8, 12, 16, 20, 24)}
    assert not tasks.claims(good, flat)["no attention falls with length"]


def _stored():
    return experiments.load_results("copy_by_length")


def test_experiment_is_registered():
    assert experiments.registry()["copy_by_length"][1] is (
        at.run_copy_by_length)


def test_stored_runs_cover_every_test_length():
    for seed, r in _stored()["seeds"].items():
        lengths = {str(n) for n in r["config"]["test_lengths"]}
        for model in ("attention", "no_attention"):
            assert set(r["models"][model]["by_length"]) == lengths, seed


def test_stored_claims_can_fail():
    record, claims = _stored(), at.claims_copy_by_length
    sentences = [c.sentence for c in claims(record)]
    assert failing(claims(record)) == set()

    def swapped(r):
        m = r["models"]
        m["attention"], m["no_attention"] = m["no_attention"], m["attention"]
    assert failing(claims(spoiled(record, swapped))) == set(sentences)


# Exercises 2 and 4 (stored as attention_exercises).

def test_heat_alignment_scores_the_band(monkeypatch):
    net = at.seq2seq("dot", seed=0)
    T = tasks.HEAT_LENGTH

    def predicting(weights):
        def predict(X, num_steps, bos):
            assert X.shape == (tasks.NUM_HEAT, T) and num_steps == T
            return None, np.array(onp.broadcast_to(weights, (len(X), T, T)))
        return predict
    monkeypatch.setattr(net, "predict", predicting(onp.eye(T)))
    assert at.heat_alignment(net) == 1.0
    monkeypatch.setattr(net, "predict", predicting(onp.eye(T, k=2)))
    assert at.heat_alignment(net) == 0.0  # two to the right: off the band
    monkeypatch.setattr(net, "predict", predicting(onp.eye(T, k=-1)))
    assert at.heat_alignment(net) == 1.0  # the left neighbour: on it


def _json(config):  # a configuration as the stored record holds it
    import json
    return json.loads(json.dumps(config))


def test_stored_exercises_use_the_live_run_and_every_length():
    record = experiments.load_results("attention_exercises")
    assert sorted(map(int, record["seeds"])) == list(experiments.SEEDS)
    lengths = {str(n) for n in tasks.CONFIG["test_lengths"]}
    for seed, r in record["seeds"].items():
        assert r["config"] == _json(tasks.LIVE_RUN), seed
        assert r["extra"] == _json(tasks.EXTRA_RUN), seed
        for model in ("attention", "no_attention", "dot",
                      "attention_longer"):
            assert set(r["models"][model]["by_length"]) == lengths, seed
        for model in ("attention", "dot"):
            assert 0 <= r["models"][model]["alignment"] <= 1


def test_exercise_claims_can_fail():
    record = experiments.load_results("attention_exercises")
    found = at.claims_exercises(record)
    assert failing(found) == set()

    def swapped(r):  # dot-product scoring learns, more steps do nothing
        m = r["models"]
        m["attention"], m["dot"] = m["dot"], m["attention"]
        m["attention_longer"] = m["attention"]
    assert failing(at.claims_exercises(spoiled(record, swapped))) == {
        c.sentence for c in found}
