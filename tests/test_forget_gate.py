"""lstm_tutorial/forget_gate.py and forget_gate_tasks.py (chapter 3).

Readable equals fused equals ``gluon.rnn.LSTM`` (outputs and gradients
over a whole sequence); F_t = 1 is the 1997 cell; MXNet's operator run
behind ``GluonLayer`` computes what our cells compute; contexts are
followed and bad input refused; the continual embedded Reber grammar is
what Gers et al. (2000) describe; and the stored three-seed results
satisfy the chapter's claims.
"""

import mxnet as mx
import numpy as onp
import pytest
from mxnet import autograd, gluon, np

from lstm_tutorial import device, experiments, lstm, lstm_tasks, rnn, training
from lstm_tutorial import forget_gate as fg
from lstm_tutorial import forget_gate_tasks as tasks

T, B, D, H = 20, 3, 5, 6
CELLS = [fg.LSTMScratch, fg.LSTMFused]


def _layer(cls=fg.LSTMScratch, ctx=None, sigma=0.3, **biases):
    device.seed(1)
    layer = cls(D, H, sigma=sigma, **biases)
    layer.initialize(ctx=ctx)
    return layer


def _fused_copy(layer, cls=fg.LSTMFused):
    twin = cls(D, H)
    twin.initialize(ctx=layer.collect_params().list_ctx()[0])
    return fg.load_fused_weights(twin, *fg.fused_weights(layer))


def _inputs(ctx=None):
    return np.random.normal(0, 1, (T, B, D), ctx=ctx)


def _state(ctx=None):
    return (np.random.normal(0, 1, (B, H), ctx=ctx),
            np.random.normal(0, 1, (B, H), ctx=ctx))


def _max_diff(a, b):
    return float(np.abs(a - b).max())


def _run(layer, X, state, head):
    """Outputs and final state; gradients of a mean-scaled random loss."""
    X = X.copy()
    X.attach_grad()
    with autograd.record():
        outputs, (H_T, C_T) = layer(X, state)
        loss = (outputs * head).sum() + C_T.mean()
    loss.backward()
    return outputs, H_T, C_T, X.grad


def test_shapes_and_gate_biases():
    for cls in CELLS:
        layer = _layer(cls, forget_bias=2.5, input_gate_bias=-1.0)
        outputs, (H_T, C_T) = layer(_inputs())
        assert outputs.shape == (T, B, H) and H_T.shape == C_T.shape == (B, H)
        onp.testing.assert_array_equal(outputs[-1].asnumpy(), H_T.asnumpy())
        b = fg.fused_weights(layer)[2].asnumpy()
        onp.testing.assert_array_equal(b, [-1.0] * H + [2.5] * H + [0] * 2 * H)


def test_step_is_the_equations():
    layer, X_t, (H0, C0) = _layer(forget_bias=1.0), _inputs()[0], _state()
    H1, C1 = layer.step(X_t, (H0, C0))
    w = {n.split("_", 1)[1]: p.data().asnumpy()
         for n, p in layer.collect_params().items()}
    x, h, c = X_t.asnumpy(), H0.asnumpy(), C0.asnumpy()

    def gate(g, f):
        return f(x @ w[f"W_x{g}"] + h @ w[f"W_h{g}"] + w[f"b_{g}"])

    def sigmoid(z):
        return 1 / (1 + onp.exp(-z))

    C = gate("f", sigmoid) * c + gate("i", sigmoid) * gate("c", onp.tanh)
    onp.testing.assert_allclose(C1.asnumpy(), C, atol=1e-6)
    onp.testing.assert_allclose(H1.asnumpy(),
                                gate("o", sigmoid) * onp.tanh(C), atol=1e-6)


def test_readable_equals_fused_forward_and_gradients():
    readable, X, state = _layer(), _inputs(), _state()
    head = np.random.normal(0, 1, (T, B, H)) / (T * B)
    fused = _fused_copy(readable)
    for a, b in zip(_run(readable, X, state, head),
                    _run(fused, X, state, head)):
        assert _max_diff(a, b) < 1e-6
    for k, g in enumerate(fg.GATES):
        cols = slice(k * H, (k + 1) * H)
        for name, fused_param in (("W_x", fused.W_x), ("W_h", fused.W_h),
                                  ("b_", fused.b)):
            ours = getattr(readable, f"{name}{g}").grad()
            assert float(np.abs(ours).max()) > 1e-4  # not trivially zero
            assert _max_diff(ours, fused_param.grad()[..., cols]) < 1e-6
    back = _fused_copy(fused, fg.LSTMScratch)
    assert _max_diff(back(X, state)[0], fused(X, state)[0]) < 1e-6


def test_fused_step_equals_readable_step():
    readable, X_t, state = _layer(), _inputs()[0], _state()
    for a, b in zip(readable.step(X_t, state),
                    _fused_copy(readable).step(X_t, state)):
        assert _max_diff(a, b) < 1e-6


@pytest.mark.parametrize("cls", CELLS)
def test_equals_gluon_lstm_forward_and_gradients(cls):
    layer, X, (H0, C0) = _layer(cls, forget_bias=1.0), _inputs(), _state()
    head = np.random.normal(0, 1, (T, B, H)) / (T * B)  # a mean's scale
    reference = fg.to_gluon(layer)
    ours = _run(layer, X, (H0, C0), head)
    X_ref = X.copy()
    X_ref.attach_grad()
    with autograd.record():
        out, (H_ref, C_ref) = reference(X_ref, [H0[None], C0[None]])
        loss = (out * head).sum() + C_ref[0].mean()
    loss.backward()
    W_x, W_h, b = (p.grad() for p in _grad_layout(layer))
    grads = {n.split("_", 1)[1]: p.grad()
             for n, p in reference.collect_params().items()}
    pairs = list(zip(ours, (out, H_ref[0], C_ref[0], X_ref.grad))) + [
        (W_x.T, grads["l0_i2h_weight"]), (W_h.T, grads["l0_h2h_weight"]),
        (b, grads["l0_i2h_bias"]), (b, grads["l0_h2h_bias"])]
    for a, b in pairs:
        scale = float(np.abs(b).max())
        assert scale > 1e-3  # nothing trivially zero
        assert _max_diff(a, b) < 1e-5 and _max_diff(a, b) / scale < 1e-4


def _grad_layout(layer):
    """Gradients of ``layer``'s last backward pass in the fused layout."""
    if isinstance(layer, fg.LSTMFused):
        return layer.W_x, layer.W_h, layer.b

    class Stacked:  # the readable cell's gradients stacked as i, f, c, o
        def __init__(self, name):
            self.name = name

        def grad(self):
            return np.concatenate([getattr(layer, f"{self.name}{g}").grad()
                                   for g in fg.GATES], axis=-1)

    return Stacked("W_x"), Stacked("W_h"), Stacked("b_")


def test_forget_gate_of_one_is_the_1997_cell():
    modern = _layer(fg.LSTMFused, forget_bias=20.0, input_gate_bias=-1.0)
    W_x, W_h, b = fg.fused_weights(modern)
    W_x[:, H:2 * H], W_h[:, H:2 * H] = 0.0, 0.0  # F_t = sigmoid(20) = 1
    fg.load_fused_weights(modern, W_x, W_h, b)
    old = fg.without_forget_gate(modern)
    assert isinstance(old, lstm.LSTM1997Fused)
    X, state = _inputs(), _state()
    for new_state, old_state in zip(modern(X, state)[1], old(X, state)[1]):
        assert _max_diff(new_state, old_state) == 0.0
    for g in lstm.GATES:  # i, c, o copied unchanged
        cols = slice(fg.GATES.index(g) * H, (fg.GATES.index(g) + 1) * H)
        for ours, theirs in zip(lstm.gate_weights(old)[g], (W_x, W_h, b)):
            assert _max_diff(ours, theirs[..., cols]) == 0.0


def test_a_forget_gate_below_one_bounds_the_cell_state():
    # |C_t| <= F_max |C_{t-1}| + 1: bounded by 1 / (1 - F_max) from zero
    modern = _layer(fg.LSTMFused, sigma=0.05, forget_bias=1.0,
                    input_gate_bias=3.0)
    old = fg.without_forget_gate(modern)
    X = np.ones((200, 1, D))
    C_new = [float(np.abs(modern(X[:n])[1][1]).max()) for n in (100, 200)]
    C_old = [float(np.abs(old(X[:n])[1][1]).max()) for n in (100, 200)]
    assert C_new[1] == pytest.approx(C_new[0], rel=1e-3)
    assert C_new[1] < 1 / (1 - 0.8)
    assert C_old[1] > 1.8 * C_old[0] > 1.8 * C_new[1]


@pytest.mark.parametrize("cls", CELLS)
def test_follows_its_context(cls, other_ctx):
    layer = _layer(cls, ctx=other_ctx)
    outputs, (H_T, C_T) = layer(_inputs(other_ctx))
    assert outputs.ctx == H_T.ctx == C_T.ctx == other_ctx
    zeros = np.zeros((1, B, H), ctx=other_ctx)
    assert fg.to_gluon(layer)(_inputs(other_ctx),
                              [zeros, zeros])[0].ctx == other_ctx
    assert fg.without_forget_gate(layer)(
        _inputs(other_ctx))[0].ctx == other_ctx
    wrapped = fg.GluonLayer(layer)
    assert wrapped(_inputs(other_ctx))[0].ctx == other_ctx
    assert wrapped.to_scratch()(_inputs(other_ctx))[0].ctx == other_ctx


def test_experiment_models_follow_their_context(other_ctx):
    net = fg.cerg_predictor("forget", 0, ctx=other_ctx)
    X, Y = next(tasks.batches(1, 0, other_ctx, num_streams=2,
                              chunk_len=4))
    assert tasks.ContinualObjective()(net, (X, Y)).ctx == other_ctx
    logits, C = tasks.trace_stream(net, X.asnumpy()[0], other_ctx)
    assert logits.shape == (4, 7) and C.shape == (4, 12)
    clf = fg.bias_classifier(None, 0, ctx=other_ctx)
    X, lengths, _ = lstm_tasks.test_set(other_ctx, size=2)
    assert clf(X, lengths).ctx == other_ctx


@pytest.mark.parametrize("cls", CELLS)
def test_other_context_is_refused(cls, other_ctx):
    layer = _layer(cls, ctx=other_ctx)
    with pytest.raises(ValueError, match=r"inputs is on cpu\(0\)"):
        layer(_inputs(mx.cpu()))
    H0, C0 = layer.begin_state(B, other_ctx)
    with pytest.raises(ValueError, match=r"state C is on cpu\(0\)"):
        layer(_inputs(other_ctx), (H0, C0.as_in_ctx(mx.cpu())))
    wrapped = fg.GluonLayer(layer)
    with pytest.raises(ValueError, match=r"inputs is on cpu\(0\)"):
        wrapped(_inputs(mx.cpu()))
    with pytest.raises(ValueError, match=r"state H is on cpu\(0\)"):
        wrapped(_inputs(other_ctx), (H0.as_in_ctx(mx.cpu()), C0))


@pytest.mark.parametrize("shape", [(T, B), (T, B, D + 1), (0, B, D)])
@pytest.mark.parametrize("cls", CELLS + [fg.GluonLayer])
def test_inputs_of_wrong_shape(cls, shape):
    layer = fg.GluonLayer(_layer()) if cls is fg.GluonLayer else _layer(cls)
    with pytest.raises(ValueError, match=r"\(num_steps, batch_size, 5\)"):
        layer(np.zeros(shape))


@pytest.mark.parametrize("cls", CELLS + [fg.GluonLayer])
def test_state_of_wrong_batch_size_or_arity(cls):
    layer = fg.GluonLayer(_layer()) if cls is fg.GluonLayer else _layer(cls)
    H0, C0 = layer.begin_state(B + 1, mx.cpu())
    with pytest.raises(ValueError, match=r"state H must have shape \(3, 6"):
        layer(_inputs(), (H0, C0))
    with pytest.raises(ValueError, match="state must"):
        layer(_inputs(), (H0[:B],))


@pytest.mark.parametrize("kwargs, error, message", [
    ({"num_inputs": 0}, ValueError, "num_inputs must be a positive int"),
    ({"num_hiddens": 2.0}, ValueError, "num_hiddens must be a positive int"),
    ({"forget_bias": "1"}, TypeError, "forget_bias must be a number"),
    ({"input_gate_bias": None}, TypeError, "input_gate_bias must be a"),
])
@pytest.mark.parametrize("cls", CELLS)
def test_bad_construction(cls, kwargs, error, message):
    args = {"num_inputs": D, "num_hiddens": H, **kwargs}
    with pytest.raises(error, match=message):
        cls(**args)


def test_weight_helpers_refuse_other_layers():
    for call in (lambda: fg.fused_weights(lstm.LSTM1997Fused(D, H)),
                 lambda: fg.load_fused_weights(rnn.RNNScratch(D, H), 0, 0,
                                               0),
                 lambda: fg.to_gluon(rnn.RNNScratch(D, H)),
                 lambda: fg.without_forget_gate(_layer(lstm.LSTM1997Fused)),
                 lambda: fg.GluonLayer(gluon.nn.Dense(3))):
        with pytest.raises(TypeError):
            call()
    with pytest.raises(ValueError, match="kind must be one of"):
        fg.cerg_predictor("gru", 0)


# MXNet's operator behind the book's interface: the experiments' engine.

def _rnn_layer():
    device.seed(3)
    layer = rnn.RNNScratch(D, H, sigma=0.3)
    layer.initialize()
    return layer


@pytest.mark.parametrize("make", [
    lambda: _layer(fg.LSTMScratch), lambda: _layer(fg.LSTMFused),
    lambda: _layer(lstm.LSTM1997Scratch), _rnn_layer])
def test_gluon_layer_computes_what_the_scratch_layer_does(make):
    layer = make()
    wrapped, X = fg.GluonLayer(layer), _inputs()
    state = layer.begin_state(B, mx.cpu())
    ours, theirs = layer(X, state), wrapped(X, state)
    assert _max_diff(ours[0], theirs[0]) < 1e-5
    for a, b in zip(ours[1], theirs[1]):
        assert _max_diff(a, b) < 1e-5
    if isinstance(layer, rnn.RNNScratch):
        with pytest.raises(TypeError, match="LSTM weights only"):
            wrapped.to_scratch()
        return
    back = wrapped.to_scratch()
    assert isinstance(back, fg.LSTMFused if isinstance(
        layer, (fg.LSTMScratch, fg.LSTMFused)) else lstm.LSTM1997Fused)
    assert _max_diff(back(X, state)[0], ours[0]) < 1e-5


def test_the_1997_cell_keeps_its_forget_gate_at_one_while_training():
    wrapped = fg.GluonLayer(_layer(lstm.LSTM1997Fused, input_gate_bias=-1.))
    params = {n.split("_", 1)[1]: p
              for n, p in wrapped.reference.collect_params().items()}
    before = {n: p.data().copy() for n, p in params.items()}
    trainer = gluon.Trainer(wrapped.collect_params(), "adam",
                            {"learning_rate": 0.1})
    for _ in range(3):
        with autograd.record():
            loss = (wrapped(_inputs())[0] ** 2).mean()
        loss.backward()
        trainer.step(1)
    f_rows = slice(H, 2 * H)  # sigmoid'(20) = F (1 - F) is 0 in float32
    for name, p in params.items():
        assert _max_diff(p.data()[f_rows], before[name][f_rows]) == 0.0
        moved = _max_diff(p.data(), before[name])
        assert moved == 0.0 if name == "l0_h2h_bias" else moved > 0
    assert float(params["l0_i2h_bias"].data()[H]) == lstm.FORGET_BIAS


@pytest.mark.parametrize("cls", [fg.LSTMFused, lstm.LSTM1997Fused])
def test_training_the_operator_trains_our_cell(cls):
    ours = _layer(cls, input_gate_bias=-1.0)
    wrapped = fg.GluonLayer(ours)
    X, head = _inputs(), np.random.normal(0, 1, (T, B, H)) / (T * B)
    for layer in (ours, wrapped):
        trainer = gluon.Trainer(layer.collect_params(), "adam",
                                {"learning_rate": 0.05})
        for _ in range(3):
            with autograd.record():
                loss = (layer(X)[0] * head).sum()
            loss.backward()
            training.clip_gradients(layer.collect_params(), 0.01)
            trainer.step(1)
    trained = wrapped.to_scratch()
    for a, b in zip(ours.collect_params().values(),
                    trained.collect_params().values()):
        assert _max_diff(a.data(), b.data()) < 1e-5


def test_network_differs_only_by_the_forget_gate():
    new, old = (fg.cerg_predictor(kind, 5, mx.cpu()) for kind in fg.KINDS)
    W_new = fg.fused_weights(new.rnn.to_scratch())
    W_old = lstm.gate_weights(old.rnn.to_scratch())
    for g in lstm.GATES:
        k = fg.GATES.index(g)
        for a, b in zip(W_old[g], W_new):
            assert _max_diff(a, b[..., k * 12:(k + 1) * 12]) == 0.0
    assert _max_diff(new.W_hq.data(), old.W_hq.data()) == 0.0


# The continual embedded Reber grammar.

def _walk(string):
    """Follow a Reber string through the automaton; True if it is one."""
    if not string.startswith("B"):
        return False
    node = 0
    for symbol in string[1:]:
        moves = dict(tasks.REBER.get(node, ()))
        if symbol not in moves:
            return False
        node = moves[symbol]
    return node is None


def test_reber_strings_follow_the_grammar():
    rng = onp.random.RandomState(0)
    lengths = []
    for _ in range(300):
        string, legal = tasks.reber(rng)
        assert _walk(string), string
        assert len(legal) == len(string) and legal[-1] == ""
        for k in range(len(string) - 1):
            assert string[k + 1] in legal[k]
        lengths.append(len(string))
    assert min(lengths) == 5 and 7 < onp.mean(lengths) < 9  # mean 8
    assert not _walk("BTSSPXSE") and _walk("BTSSXXTVVE")


def test_embedded_strings_repeat_their_second_symbol():
    rng = onp.random.RandomState(1)
    seen = set()
    for _ in range(200):
        string, legal, lag = tasks.embedded_reber(rng)
        a = string[1]
        assert string[0] == "B" and string[-2:] == a + "E" and a in "TP"
        assert _walk(string[2:-2])
        assert string[lag] == "E" and lag == len(string) - 3
        assert legal[lag] == a and legal[-1] == "B"
        assert all(string[k + 1] in legal[k]
                   for k in range(len(string) - 1))
        seen.add(a)
    assert seen == {"T", "P"}


def test_stream_targets_hold_the_next_symbol_and_the_long_lags():
    stream = tasks.ReberStream(onp.random.RandomState(2))
    tokens, targets, long_lag = stream.take(5000)
    assert tokens.shape == long_lag.shape == (5000,)
    assert targets.shape == (5000, 7) and targets.dtype == onp.float32
    nxt = targets[onp.arange(4999), tokens[1:]]
    assert (nxt == 1).all()  # the symbol that came is always legal
    text = tasks.decode(tokens)
    assert text.startswith("B") and "EB" in text and "EE" not in text
    lags = onp.flatnonzero(long_lag)
    assert len(lags) > 300
    for k in lags[:-1]:  # after the inner E only the remembered symbol
        assert text[k] == "E" and text[k + 2] == "E"
        assert targets[k].sum() == 1 and text[k + 1] in "TP"


def test_stream_is_seeded_and_continues_across_takes():
    whole = tasks.ReberStream(onp.random.RandomState(4)).take(9000)
    stream = tasks.ReberStream(onp.random.RandomState(4))
    parts = [stream.take(n) for n in (10, 5000, 3990)]
    for k in range(3):
        onp.testing.assert_array_equal(
            onp.concatenate([p[k] for p in parts]), whole[k])
    other = tasks.ReberStream(onp.random.RandomState(5)).take(9000)
    assert not (other[0] == whole[0]).all()


def test_batches_are_parallel_streams_in_chunks():
    chunks = list(tasks.batches(3, 7, mx.cpu(), num_streams=4,
                                chunk_len=10))
    assert len(chunks) == 3
    X, Y = chunks[0]
    assert X.shape == (4, 10) and Y.shape == (10, 4, 7)
    rows = onp.concatenate([x.asnumpy() for x, _ in chunks], axis=1)
    ys = onp.concatenate([y.asnumpy() for _, y in chunks])  # (30, 4, 7)
    for b in range(4):  # row b reads on from chunk to chunk
        assert (ys[onp.arange(29), b, rows[b, 1:]] == 1).all()


@pytest.mark.parametrize("call, message", [
    (lambda: tasks.ReberStream(onp.random.RandomState(0)).take(0),
     "n must be a positive int"),
    (lambda: next(tasks.batches(0, 0, mx.cpu())),
     "num_chunks must be a positive int"),
    (lambda: next(tasks.batches(1, 0, mx.cpu(), chunk_len=-1)),
     "chunk_len must be a positive int"),
    (lambda: tasks.score(onp.zeros((4, 7)), onp.zeros((4, 7)),
                         onp.zeros(3, bool)), "do not match"),
])
def test_task_rejects_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_task_needs_a_random_state():
    for call in (tasks.reber, tasks.embedded_reber, tasks.ReberStream):
        with pytest.raises(TypeError, match="numpy.random.RandomState"):
            call(0)


def test_binary_cross_entropy_is_the_formula():
    logits = np.array([[-30.0, 0.0, 2.0], [40.0, -1.0, 0.5]])
    Y = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    z, y = logits.asnumpy().astype(onp.float64), Y.asnumpy()
    # -y log sigmoid(z) - (1 - y) log(1 - sigmoid(z)), in float64
    expected = (y * onp.logaddexp(0, -z)
                + (1 - y) * onp.logaddexp(0, z)).mean()
    assert float(tasks.binary_cross_entropy(logits, Y)) == pytest.approx(
        expected, rel=1e-5)


def test_objective_carries_the_state_and_never_resets():
    net = fg.cerg_predictor("forget", 0, mx.cpu())
    chunks = list(tasks.batches(2, 3, mx.cpu(), num_streams=2,
                                chunk_len=8))
    objective = tasks.ContinualObjective()
    for chunk in chunks:
        objective(net, chunk)
    X = np.concatenate([x for x, _ in chunks], axis=1)  # (2, 16)
    _, (H_all, C_all) = net(X)
    assert _max_diff(objective.state[1], C_all) < 1e-6
    assert _max_diff(objective.state[0], H_all) < 1e-6


def test_score_counts_errors_and_long_lags():
    targets = onp.zeros((4, 7), onp.float32)
    targets[:, 1] = 1.0
    logits = onp.where(targets > 0, 3.0, -3.0)
    logits[2, 5] = 0.5  # one extra symbol predicted at step 2
    long_lag = onp.array([False, False, True, True])
    result = tasks.score(logits, targets, long_lag)
    assert result["long_lag_accuracy"] == 0.5
    assert result["errors_per_1000"] == 250.0 and result["first_error"] == 2
    assert tasks.score(onp.where(targets > 0, 1.0, -1.0), targets,
                       long_lag)["first_error"] is None


def test_trace_and_operator_agree_along_a_stream():
    net = fg.cerg_predictor("1997", 0, mx.cpu())
    tokens, _, _ = tasks.fresh_stream(300, seed=8)
    logits, C_end = tasks.predict_stream(net, tokens, mx.cpu(), 100)
    traced, C = tasks.trace_stream(net, tokens, mx.cpu())
    assert logits.shape == traced.shape == (300, 7)
    assert onp.abs(logits - traced).max() < 1e-4
    assert C_end.shape == (3,) and C.shape == (300, 12)
    onp.testing.assert_allclose(C_end, onp.abs(C).max(axis=1)[[99, 199, 299]],
                                rtol=1e-4)


# The stored experiments: the claims must hold on every seed.

SEEDS = {"0", "1", "2"}


def _cerg():
    return experiments.load_results("cerg")


def _quarters(values):
    """Max of the first and of the last quarter of a curve."""
    n = len(values) // 4
    return max(values[:n]), max(values[-n:])


def test_stored_cerg_covers_three_seeds_with_the_current_config():
    record = _cerg()
    assert SEEDS <= set(record["seeds"])
    for result in record["seeds"].values():
        assert result["config"] == tasks.CERG
        assert result["num_symbols"] >= 20_000


def test_stored_cerg_forget_gate_predicts_the_stream():
    for seed, result in _cerg()["seeds"].items():
        run = result["forget"]
        for when in ("at_budget", "at_end", "traced"):  # traced: our cell
            assert run[when]["long_lag_accuracy"] >= 0.95, (seed, when)
            assert run[when]["errors_per_1000"] < 1.0, (seed, when)
        assert run["diverged_at"] is None


def test_stored_cerg_1997_cell_fails_the_long_lag_at_the_budget():
    for seed, result in _cerg()["seeds"].items():
        at = result["1997"]["at_budget"]
        assert at["long_lag_accuracy"] <= 0.75, seed
        assert at["errors_per_1000"] > 10, seed


def test_stored_cell_state_bounded_with_forget_gate_growing_without():
    for seed, result in _cerg()["seeds"].items():
        first, last = _quarters(result["forget"]["c_max"])
        assert last <= 1.5 * first, (seed, first, last)
        first, last = _quarters(result["1997"]["c_max"])
        assert last >= 2 * first, (seed, first, last)
        assert max(result["1997"]["c_max"]) > 10 * max(
            result["forget"]["c_max"]), seed


def test_stored_traces_by_our_cell_agree_with_the_operator():
    for seed, result in _cerg()["seeds"].items():
        for kind in fg.KINDS:
            end, traced = result[kind]["at_end"], result[kind]["traced"]
            assert abs(end["errors_per_1000"]
                       - traced["errors_per_1000"]) <= 0.1, (seed, kind)


# The forget-bias sweep on chapter 2's temporal-order task.

def _sweep():
    return experiments.load_results("forget_bias")["seeds"]


def _names():
    return [f"{b:g}" for b in fg.BIASES] + ["1997"]


def test_stored_sweep_covers_three_seeds_and_every_bias():
    sweep = _sweep()
    assert SEEDS <= set(sweep)
    for run in sweep.values():
        assert set(_names()) <= set(run) and run["num_steps"] == 800


def test_stored_sweep_small_forget_biases_stay_at_chance():
    for seed, run in _sweep().items():
        for name in ("0", "1"):
            assert max(run[name]["steps"]) >= 800, (seed, name)
            assert run[name]["best"] <= 0.35, (seed, name)


def test_stored_sweep_forget_bias_5_learns_on_every_seed():
    for seed, run in _sweep().items():
        first = run["5"]["steps_to_95"]
        assert first is not None and first <= 800, seed
        assert run["5"]["best"] >= 0.95


def test_stored_sweep_gradient_flow_grows_with_the_bias():
    for seed, run in _sweep().items():
        ratios = [run[n]["gradient_flow_init"][-90]
                  / run[n]["gradient_flow_init"][-1] for n in _names()]
        assert all(a < b for a, b in zip(ratios, ratios[1:])), seed
        assert ratios[1] < 1e-8 and ratios[-1] > 0.5, (seed, ratios)
