"""lstm_tutorial/bidirectional_lstm.py (chapter 4) and its task module.

Each half of the bidirectional layer sees its own side; MXNet's operator
holding our weights computes what our layers do; the segment-cue task
and the bounds derived from it; the labellers; and the stored three-seed
results, checked claim by claim. The layer's conformance (equal to
``gluon.rnn.LSTM(bidirectional=True)``, ``RNN`` and ``GRU``, contexts, bad
input) is in ``tests/test_layers.py``.
"""

import math

import mxnet as mx
import numpy as onp
import pytest
from mxnet import np

from lstm_tutorial import bidirectional_lstm as bl
from lstm_tutorial import bidirectional_lstm_tasks as tasks
from lstm_tutorial import (
    data,
    device,
    experiments,
    forget_gate,
    layers,
    rnn,
    training,
)

from helpers import failing, spoiled

T, B, D, H = 6, 3, 5, 4


def _bilstm(ctx=None, fused=False):
    device.seed(3)
    layer = bl.BiLSTMScratch(D, H, sigma=0.3, fused=fused)
    layer.initialize(ctx=ctx)
    return layer


def _inputs(ctx=None, num_steps=T):
    return np.random.normal(0, 1, (num_steps, B, D), ctx=ctx)


def _states(layer, ctx=None):
    """Random initial states in ours and in gluon's layout."""
    f, b = (tuple(np.random.normal(0, 0.5, S.shape, ctx=ctx) for S in s)
            for s in layer.begin_state(B, ctx or mx.cpu()))
    return (f, b), [np.stack([Sf, Sb]) for Sf, Sb in zip(f, b)]


def test_shapes_and_states():
    layer = _bilstm()
    assert layer.num_hiddens == 2 * H  # the width of the outputs
    outputs, ((H_f, C_f), (H_b, C_b)) = layer(_inputs())
    assert outputs.shape == (T, B, 2 * H)
    assert H_f.shape == C_b.shape == (B, H)
    # the forward half ends at step T, the backward half at step 1
    onp.testing.assert_array_equal(outputs[-1, :, :H].asnumpy(),
                                   H_f.asnumpy())
    onp.testing.assert_array_equal(outputs[0, :, H:].asnumpy(),
                                   H_b.asnumpy())


def test_each_half_sees_its_own_side():
    layer, X = _bilstm(), _inputs()
    k = 2
    changed = X.copy()
    changed[k] += 1.0
    diff = onp.abs((layer(changed)[0] - layer(X)[0]).asnumpy()).max(axis=1)
    # forward half: steps >= k change; backward half: steps <= k change
    assert (diff[:k, :H] == 0).all() and (diff[k:, :H] > 0).all()
    assert (diff[k + 1:, H:] == 0).all() and (diff[:k + 1, H:] > 0).all()


def test_operator_layers_equal_the_scratch_layers():
    """What the experiments run: MXNet's operator holding our weights."""
    layer, X = _bilstm(fused=True), _inputs()
    fast = bl.Bidirectional(layers.GluonLayer(layer.f_layer),
                            layers.GluonLayer(layer.b_layer))
    state, _ = _states(layer)
    assert float(np.abs(fast(X, state)[0] - layer(X, state)[0]).max()) < 1e-6
    assert float(np.abs(fast.to_gluon()(X) - layer(X)[0]).max()) < 1e-6


def test_bad_layers():
    with pytest.raises(TypeError, match="b_layer must be a recurrent"):
        bl.Bidirectional(rnn.RNNScratch(D, H), "not a layer")
    with pytest.raises(ValueError, match="the same inputs"):
        bl.Bidirectional(rnn.RNNScratch(D, H), rnn.RNNScratch(D + 1, H))
    mixed = bl.Bidirectional(rnn.RNNScratch(D, H),
                             forget_gate.LSTMScratch(D, H))
    mixed.initialize()
    with pytest.raises(ValueError, match="same gluon.rnn kind"):
        mixed.to_gluon()
    mlps = bl.Bidirectional(bl.WindowMLP(D, 1, H), bl.WindowMLP(D, 1, H))
    mlps.initialize()
    with pytest.raises(ValueError, match="same gluon.rnn kind"):
        mlps.to_gluon()
    with pytest.raises(ValueError, match="must be a positive int"):
        bl.BiLSTMScratch(D, 0)


# The segment-cue task.

def _task(batch_size=64, seed=0, **kwargs):
    return tasks.segment_cue(batch_size, onp.random.RandomState(seed),
                             **kwargs)


def _segments(starts_row):
    bounds = list(onp.flatnonzero(starts_row)) + [len(starts_row)]
    return list(zip(bounds[:-1], bounds[1:]))


def test_every_segment_has_one_cue_at_an_end():
    tokens, starts, labels, cues = _task()
    assert tokens.shape == starts.shape == labels.shape == (64, 100)
    placements = set()
    for row in range(len(tokens)):
        segments = _segments(starts[row])
        assert segments[0][0] == 0
        for a, b in segments:
            is_cue = tokens[row, a:b] < len(tasks.CLASSES)
            assert is_cue.sum() == 1
            cue = a + int(onp.flatnonzero(is_cue)[0])
            assert cue in (a, b - 1) and (cues[row, a:b] == cue).all()
            assert (labels[row, a:b] == tokens[row, cue]).all()
            placements.add("first" if cue == a else "last")
            if b < 100:  # the last segment is cut where the sequence ends
                assert 5 <= b - a <= 25
    assert placements == {"first", "last"}
    assert set(onp.unique(labels)) == set(range(len(tasks.CLASSES)))


def test_task_is_seeded():
    for a, b in zip(_task(seed=1), _task(seed=1)):
        onp.testing.assert_array_equal(a, b)
    assert (_task(seed=1)[0] != _task(seed=2)[0]).any()


def test_batch_encoding():
    tokens, starts, labels, _ = _task(batch_size=2)
    X, Y = tasks.to_batch(tokens, starts, labels, mx.cpu())
    assert X.shape == (100, 2, tasks.NUM_INPUTS) and Y.shape == (100, 2)
    X = X.asnumpy()
    onp.testing.assert_array_equal(X[:, :, :-1].argmax(axis=2), tokens.T)
    onp.testing.assert_array_equal(X[:, :, -1], starts.T)
    assert (X.sum(axis=2) == 1 + starts.T).all()
    text = tasks.decode(tokens[0], starts[0])
    assert text.startswith("|") and len(text) == 100 + starts[0].sum()


@pytest.mark.parametrize("kwargs, match", [
    ({"batch_size": 0}, "batch_size must be a positive int"),
    ({"num_steps": -1}, "num_steps must be a positive int"),
    ({"lengths": (6, 5)}, "1 <= low <= high"),
    ({"rng": 0}, "rng must be a numpy.random.RandomState"),
])
def test_task_bad_arguments(kwargs, match):
    args = {"batch_size": 2, "rng": onp.random.RandomState(0), **kwargs}
    error = TypeError if "rng" in kwargs else ValueError
    with pytest.raises(error, match=match):
        tasks.segment_cue(**args)


def test_bound_by_hand():
    # one segment of 4 frames with its cue last, one of 2 with it first
    cues = onp.array([[3, 3, 3, 3, 4, 4]])
    q = 1 / len(tasks.CLASSES)
    assert tasks.bound(cues) == pytest.approx((3 * q + 3) / 6)
    assert tasks.bound(cues, future=1) == pytest.approx((2 * q + 4) / 6)
    assert tasks.bound(cues, future=None) == 1.0
    assert tasks.bound(cues, past=0, future=0) == pytest.approx(
        (4 * q + 2) / 6)


def test_expected_bound_formula():
    # forward only: 5/8 + 3 / (8 E[L]) with E[L] = 15
    assert tasks.expected_bound() == pytest.approx(0.65)
    assert tasks.expected_bound(future=None) == 1.0
    assert tasks.expected_bound(future=24) == 1.0  # sees every cue
    _, _, _, cues = _task(batch_size=16, num_steps=3000)  # cut is negligible
    for past, future in ((None, 0), (None, 5), (5, 5), (0, 0)):
        assert tasks.bound(cues, past, future) == pytest.approx(
            tasks.expected_bound(past, future), abs=0.01)


def test_window_mlp_sees_its_window_only():
    device.seed(5)
    mlp = bl.WindowMLP(D, radius=2, num_hiddens=H, sigma=0.5)
    mlp.initialize()
    X = _inputs(num_steps=10)
    changed = X.copy()
    changed[6] += 1.0
    outputs, state = mlp(X)
    assert outputs.shape == (10, B, H) and state == ()
    diff = onp.abs((mlp(changed)[0] - outputs).asnumpy()).max(axis=(1, 2))
    assert (diff[4:9] > 0).all() and diff[:4].max() == diff[9:].max() == 0
    with pytest.raises(ValueError, match="radius must be an int >= 0"):
        bl.WindowMLP(D, -1, H)


def _frame_shift(net, X, k):
    """Which frames' logits change when input frame ``k`` changes."""
    changed = X.copy()
    changed[k] += 1.0
    return onp.abs((net(changed) - net(X)).asnumpy()).max(axis=(1, 2)) > 0


def test_models_see_what_their_view_says():
    config = dict(tasks.CONFIG, num_hiddens=dict.fromkeys(bl.KINDS, 4))
    X = np.random.normal(0, 1, (30, 2, tasks.NUM_INPUTS))
    k = 15
    for kind in bl.KINDS:
        net = bl.labeller(kind, 0, mx.cpu(), config)
        assert net(X).shape == (30, 2, len(tasks.CLASSES))
        past, future = bl.views(config)[kind]
        t = onp.arange(30)
        expected = (k <= t + (30 if future is None else future)) & (
            k >= t - (30 if past is None else past))
        onp.testing.assert_array_equal(_frame_shift(net, X, k), expected,
                                       err_msg=kind)
    with pytest.raises(ValueError, match="kind must be one of"):
        bl.labeller("gru", 0)
    with pytest.raises(ValueError, match="delay must be an int >= 0"):
        bl.FrameClassifier(rnn.RNNScratch(D, H), 4, delay=-1)


def test_budgets_are_comparable():
    sizes = {kind: bl.num_weights(bl.labeller(kind, 0, mx.cpu()))
             for kind in bl.KINDS}
    # 2 directions x (4 gates x (11 + 32 + 1) x 32) + (64 + 1) x 4
    assert sizes["bilstm"] == 2 * 4 * (11 + 32 + 1) * 32 + 65 * 4
    for kind in ("lstm", "lstm_delay", "mlp"):  # the BRNN has fewer
        assert abs(sizes[kind] / sizes["bilstm"] - 1) < 0.05, sizes
    assert sizes["brnn"] < sizes["bilstm"]


def test_a_few_steps_of_training_lower_the_loss():
    net = bl.labeller("bilstm", 0, mx.cpu())
    config = dict(tasks.CONFIG, eval_every=5)
    test, cues = tasks.test_set(mx.cpu(), size=8)
    history = bl.fit(net, 0, 10, config, test)
    assert history.at("accuracy")[0] == [5, 10]
    assert history["loss"][-1] < history["loss"][0]
    split = tasks.accuracy_in_view(net, test, tasks.in_view(cues, None, 0))
    assert 0 <= split["in_view"] <= 1 and 0 <= split["out_of_view"] <= 1


# The language-model helpers: the future must not leak.

def _lm(bidirectional, seed=0, scale=30.0):
    lm = bl.language_model(7, 5, seed, mx.cpu(), bidirectional)
    for p in lm.collect_params().values():  # weights of a trained size
        p.set_data(p.data() * scale)
    return lm


def _tokens(rows, cols, seed):
    rng = onp.random.RandomState(seed)
    return np.array(rng.randint(0, 7, (rows, cols)), dtype="int32")


def test_forward_lm_predicts_the_same_from_the_past_alone():
    lm, X, Y = _lm(False), _tokens(4, 9, 0), _tokens(4, 9, 1)
    logits, _ = lm(X, lm.begin_state(4, mx.cpu()))
    for t in (1, 5, 9):
        onp.testing.assert_allclose(bl.last_logits(lm, X[:, :t]).asnumpy(),
                                    logits[t - 1].asnumpy(), atol=1e-6)
    forced = math.exp(float(training.cross_entropy(logits, Y.T)))
    assert bl.causal_perplexity(lm, X, Y) == pytest.approx(forced, rel=1e-5)


def test_bidirectional_lm_reads_the_future_when_it_is_there():
    lm, X = _lm(True), _tokens(4, 9, 0)
    logits, _ = lm(X, lm.begin_state(4, mx.cpu()))
    gap = float(np.abs(bl.last_logits(lm, X[:, :5]) - logits[4]).max())
    assert gap > 1e-2  # step 5 of the full text has seen steps 6 to 9


def test_prediction_without_future_matches_the_book_for_forward_lm():
    corpus = "abcdefg"  # seven tokens, the LM's vocabulary
    vocab = data.Vocab(list(corpus))
    lm = bl.language_model(len(vocab), 5, 0, mx.cpu(), bidirectional=False)
    ours = bl.predict_without_future("abc", 6, lm, vocab, mx.cpu())
    assert ours == training.predict("abc", 6, lm, vocab, mx.cpu())
    with pytest.raises(ValueError, match="at least one character"):
        bl.predict_without_future("", 3, lm, vocab, mx.cpu())


# The stored experiment. Its claims (bl.claims_segment_labelling) are
# checked on the stored record by tests/test_claims_stored.py; here the
# record is whole and the claims can fail.

def _stored():
    return experiments.load_results("segment_labelling")


def test_experiment_is_registered():
    assert experiments.registry()["segment_labelling"][0] == \
        "bidirectional_lstm"


def test_stored_runs_are_whole():
    for seed, result in _stored()["seeds"].items():
        assert set(bl.KINDS) <= set(result), seed
        for kind in bl.KINDS:
            run = result[kind]
            assert run["final"] == run["accuracy"][-1]
            assert run["steps"][-1] == result["config"]["train_steps"]
            first = next((s for s, a in zip(run["steps"], run["accuracy"])
                          if a >= 0.95), None)
            assert run["steps_to_95"] == first
        for kind in ("lstm", "lstm_delay", "mlp"):
            assert 0 < result["bound"][kind] < 1


def test_claims_can_fail():
    record, claims = _stored(), bl.claims_segment_labelling
    sentences = [c.sentence for c in claims(record)]
    assert failing(claims(record)) == set()

    def swapped(r):
        r["bilstm"], r["mlp"] = r["mlp"], r["bilstm"]
        r["brnn"] = r["bilstm"]
    assert failing(claims(spoiled(record, swapped))) == set(sentences)

    def lucky(r):  # one point above its bound on one frame set
        r["lstm"]["final"] = r["bound"]["lstm"] + 0.03
    assert failing(claims(spoiled(record, lucky))) == {sentences[1]}
