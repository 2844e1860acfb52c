"""lstm_tutorial/layers.py: one conformance suite for every layer.

Every recurrent layer the package defines (``LAYERS``) is checked here,
once, the same way: shapes and state; the context it is given followed,
another refused; inputs and states of the wrong shape, arity or dtype
refused with a clear message; bad sizes refused; and equality with its
MXNet twin (``gluon.rnn``, through ``to_gluon``) in outputs, final states
and every gradient: inputs, initial state and each weight. Layers with
no twin (the switched variants, the fast paths) are checked against the
fused cell they restate, gradients included. ``GluonLayer``, MXNet's
operator behind the book's interface, is checked against the layer whose
weights it holds, and ``to_scratch`` brings them back.
"""

import mxnet as mx
import numpy as onp
import pytest
from mxnet import autograd, gluon, np

from lstm_tutorial import backprop, device, layers, lstm, rnn, training
from lstm_tutorial import bidirectional_lstm as bl
from lstm_tutorial import forget_gate as fg
from lstm_tutorial import variants as V

T, B, D, H = 6, 3, 5, 4
RTOL, ATOL = 1e-4, 1e-5  # float32 (exact in float64)


def _variant(cls, name):
    return lambda d, h: cls(d, h, sigma=0.3, **V.VARIANTS[name])


def _gluon(make):
    def wrap(d, h):
        inner = make(d, h)
        inner.initialize()
        return layers.GluonLayer(inner)
    return wrap


# name: a layer of D inputs and H units (the caller initialises it), and
# whether it has a gluon.rnn twin.
FACTORIES = {
    "RNNScratch": (lambda d, h: rnn.RNNScratch(d, h, sigma=0.3), True),
    **{cls.__name__: (lambda d, h, cls=cls: cls(
        d, h, sigma=0.3, input_gate_bias=-1.0), True)
       for cls in (lstm.LSTM1997Scratch, lstm.LSTM1997Fused,
                   lstm.LSTM1997Fast)},
    **{cls.__name__: (lambda d, h, cls=cls: cls(
        d, h, sigma=0.3, forget_bias=1.0, input_gate_bias=-0.5), True)
       for cls in (fg.LSTMScratch, fg.LSTMFused, fg.LSTMFast,
                   backprop.LSTMManual)},
    **{f"{cls.__name__}-{name}": (_variant(cls, name), name == "vanilla")
       for cls in (V.VariantScratch, V.VariantFused, V.VariantFast)
       for name in V.VARIANTS},
    "GRUScratch": (lambda d, h: V.GRUScratch(d, h, sigma=0.3), True),
    "BiLSTMScratch": (lambda d, h: bl.BiLSTMScratch(d, h, sigma=0.3), True),
    "BiRNN": (lambda d, h: bl.Bidirectional(rnn.RNNScratch(d, h, 0.3),
                                            rnn.RNNScratch(d, h, 0.3)),
              True),
    "BiGRU": (lambda d, h: bl.Bidirectional(V.GRUScratch(d, h, 0.3),
                                            V.GRUScratch(d, h, 0.3)), True),
    "WindowMLP": (lambda d, h: bl.WindowMLP(d, 1, h), False),
}
FACTORIES.update({
    f"GluonLayer-{name}": (_gluon(FACTORIES[name][0]), True)
    for name in ("RNNScratch", "LSTM1997Fused", "LSTMScratch", "GRUScratch")})
LAYERS = sorted(FACTORIES)
TWINNED = [n for n in LAYERS if FACTORIES[n][1]]
STATEFUL = [n for n in LAYERS if n != "WindowMLP"]


def _randomise(layer):
    """Every weight, biases too, drawn from N(0, 0.3^2)."""
    for p in layer.collect_params().values():
        if p.grad_req != "null":
            p.set_data(np.random.normal(0, 0.3, p.shape, ctx=p.list_ctx()[0]))


def make(name, ctx=None, d=D, h=H):
    """Layer ``name``, initialised on ``ctx`` (seed 1), weights random."""
    device.seed(1)
    if name.startswith("GluonLayer-"):  # the operator holding our weights
        inner = FACTORIES[name.split("-", 1)[1]][0](d, h)
        inner.initialize(ctx=ctx)
        _randomise(inner)
        return layers.GluonLayer(inner)
    layer = FACTORIES[name][0](d, h)
    layer.initialize(ctx=ctx)
    _randomise(layer)
    return layer


def _inputs(ctx=None, num_steps=T, width=D):
    return np.random.normal(0, 1, (num_steps, B, width), ctx=ctx)


def _random_state(layer, ctx=None):
    """A random state shaped as ``begin_state``'s (nested for BiLSTMs)."""
    def draw(s):
        if isinstance(s, tuple):
            return tuple(draw(x) for x in s)
        return np.random.normal(0, 0.5, s.shape, ctx=ctx)
    return draw(layer.begin_state(B, ctx or mx.cpu()))


def _flat(state):
    if isinstance(state, (tuple, list)):
        return [a for s in state for a in _flat(s)]
    return [state]


def _close(a, b, what):
    a, b = (x.asnumpy() if hasattr(x, "asnumpy") else onp.asarray(x)
            for x in (a, b))
    onp.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=what)


# Shapes, state and context.

@pytest.mark.parametrize("name", LAYERS)
def test_shapes_and_state(name):
    layer = make(name)
    outputs, state = layer(_inputs())
    assert outputs.shape == (T, B, layer.num_hiddens)
    assert outputs.dtype == onp.float32
    zero = layer.begin_state(B, mx.cpu())
    assert [s.shape for s in _flat(state)] == [s.shape for s in _flat(zero)]
    assert all(float(np.abs(s).max()) == 0 for s in _flat(zero))
    if name in STATEFUL and not name.startswith("Bi"):
        assert len(state) == len(layer.STATE) and layer.STATE[0] == "H"
        onp.testing.assert_array_equal(outputs[-1].asnumpy(),
                                       state[0].asnumpy())


@pytest.mark.parametrize("name", LAYERS)
def test_follows_its_context(name, other_ctx):
    layer = make(name, ctx=other_ctx)
    outputs, state = layer(_inputs(other_ctx),
                           _random_state(layer, other_ctx))
    assert outputs.ctx == other_ctx
    assert all(s.ctx == other_ctx for s in _flat(state))
    assert layer.context() == other_ctx


@pytest.mark.parametrize("name", LAYERS)
def test_other_context_is_refused(name, other_ctx):
    layer = make(name, ctx=other_ctx)
    with pytest.raises(ValueError, match=r"inputs is on cpu\(0\) but the "
                       r"model is on cpu\(1\)"):
        layer(_inputs(mx.cpu()))
    if name not in STATEFUL:
        return
    state = _random_state(layer, other_ctx)
    moved = _flat(state)[-1].as_in_ctx(mx.cpu())
    wrong = _replace_last(state, moved)
    with pytest.raises(ValueError, match=r"state \w+ is on cpu\(0\)"):
        layer(_inputs(other_ctx), wrong)


def _replace_last(state, value):
    if isinstance(state[-1], tuple):
        return state[:-1] + (_replace_last(state[-1], value),)
    return state[:-1] + (value,)


# Bad input: shapes, arity, batch, dtype, sizes.

@pytest.mark.parametrize("shape", [(T, B), (T, B, D + 1), (0, B, D),
                                   (T, B, D, 1)])
@pytest.mark.parametrize("name", LAYERS)
def test_inputs_of_wrong_shape(name, shape):
    with pytest.raises(ValueError, match=r"inputs must have shape "
                       r"\(num_steps, batch_size, 5\), got"):
        make(name)(np.zeros(shape))


@pytest.mark.parametrize("name", STATEFUL)
def test_state_of_wrong_arity(name):
    layer = make(name)
    state = _random_state(layer)
    with pytest.raises((ValueError, TypeError), match="state must be"):
        layer(_inputs(), state[:-1])
    with pytest.raises((ValueError, TypeError), match="state must be"):
        layer(_inputs(), _flat(state)[0])  # an array, not a tuple


@pytest.mark.parametrize("name", STATEFUL)
def test_state_of_wrong_batch_size(name):
    layer = make(name)
    state = layer.begin_state(B + 1, mx.cpu())
    with pytest.raises(ValueError, match=r"state H must have shape "
                       rf"\({B}, {H}\) \(batch_size, num_hiddens\), got "
                       rf"\({B + 1}, {H}\)"):
        layer(_inputs(), state)


def test_a_stateless_layer_takes_no_state():
    with pytest.raises(ValueError, match=r"state must be a tuple \(\) of 0"):
        make("WindowMLP")(_inputs(), (np.zeros((B, H)),))


@pytest.mark.parametrize("dtype", ["float64", "float16", "int32", "bool"])
@pytest.mark.parametrize("name", LAYERS)
def test_inputs_of_another_dtype(name, dtype):
    with pytest.raises(TypeError, match=r"inputs must have dtype float32 "
                       rf"\(the weights'\), got {dtype}"):
        make(name)(_inputs().astype(dtype))


@pytest.mark.parametrize("name", LAYERS)
def test_a_numpy_float64_array_is_refused_not_cast(name):
    X = np.array(onp.random.rand(T, B, D))  # NumPy's float64 kept
    assert X.dtype == onp.float64
    with pytest.raises(TypeError, match="astype"):
        make(name)(X)


@pytest.mark.parametrize("dtype", ["float64", "float16", "int32", "bool"])
@pytest.mark.parametrize("name", STATEFUL)
def test_state_of_another_dtype(name, dtype):
    layer = make(name)
    state = _random_state(layer)
    wrong = _replace_last(state, _flat(state)[-1].astype(dtype))
    with pytest.raises(TypeError, match=rf"state \w+ must have dtype "
                       rf"float32 \(the weights'\), got {dtype}"):
        layer(_inputs(), wrong)


@pytest.mark.parametrize("sizes", [(0, H), (D, -1), (D, 2.0), (True, H),
                                   ("5", H)])
@pytest.mark.parametrize("name", LAYERS)
def test_sizes_must_be_positive_ints(name, sizes):
    with pytest.raises(ValueError, match="must be a positive int"):
        FACTORIES[name][0](*sizes)


@pytest.mark.parametrize("name", ["RNNScratch", "LSTMFused", "GRUScratch",
                                  "WindowMLP"])
def test_numpy_integers_are_sizes(name):
    layer = FACTORIES[name][0](onp.int64(D), onp.int32(H))
    assert (layer.num_inputs, layer.num_hiddens) == (D, H)
    assert type(layer.num_hiddens) is int


def test_check_messages_name_the_argument():
    with pytest.raises(TypeError, match="inputs must be an mxnet.np array, "
                       r"got builtins.list \(convert it with mxnet.np"):
        make("LSTMFused")([[0.0] * D])


@pytest.mark.parametrize("name", ["RNNScratch", "LSTMFused", "GRUScratch"])
def test_numpy_and_legacy_arrays_are_named_with_their_conversion(name):
    import mxnet as mx

    layer = make(name)
    with pytest.raises(TypeError, match=r"got numpy.ndarray \(convert it "
                                        r"with mxnet.np.array"):
        layer(onp.zeros((T, B, D), "float32"))
    with pytest.raises(TypeError, match=r"legacy mx.nd array: convert it "
                                        r"with inputs.as_np_ndarray\(\)"):
        layer(mx.nd.zeros((T, B, D)))
    X = np.zeros((T, B, D))
    state = layer.begin_state(B, layer.context())
    legacy = tuple(S.as_nd_ndarray() for S in state)
    with pytest.raises(TypeError, match="state H must be an mxnet.np array"):
        layer(X, legacy)


# Equal to the MXNet twin: outputs, states and every gradient.

GLUON_ORDER = {gluon.rnn.LSTM: "ifco", gluon.rnn.GRU: "rzh",
               gluon.rnn.RNN: "h"}


def _gradients(layer, reference, X, state):
    """Run both on X from ``state``; outputs, states, input and state
    gradients of one random loss, for ours and for the reference."""
    head = np.random.normal(0, 1, (T, B, layer.num_hiddens)) / (T * B)
    results = []
    for model in (layer, reference):
        X_ = X.copy()
        S_ = [s.copy() for s in _flat(state)]
        for a in [X_, *S_]:
            a.attach_grad()
        with autograd.record():
            outputs, final = model(X_, _as_given(model, layer, S_))
            final = _final(model, layer, final)
            loss = (outputs * head).sum() + sum(s.mean() for s in final)
        loss.backward()
        results.append([outputs, *final, X_.grad, *(s.grad for s in S_)])
    return results


def _as_given(model, layer, flat):
    """Our state in ``model``'s form: gluon stacks layers and directions."""
    if isinstance(model, layers.Recurrent):
        if isinstance(layer, bl.Bidirectional):
            n = len(flat) // 2
            return tuple(flat[:n]), tuple(flat[n:])
        return tuple(flat)
    if isinstance(layer, bl.Bidirectional):
        n = len(flat) // 2
        return [np.stack([f, b]) for f, b in zip(flat[:n], flat[n:])]
    return [s[None] for s in flat]


def _final(model, layer, final):
    if isinstance(model, layers.Recurrent):
        return _flat(final)
    if isinstance(layer, bl.Bidirectional):
        return [s[0] for s in final] + [s[1] for s in final]
    return [s[0] for s in final]


def _our_grads(layer):
    """Weight gradients of a gated layer in the fused layout [gates]."""
    if "W_x" in layer._reg_params:
        return [p.grad() for p in (layer.W_x, layer.W_h, layer.b)]
    return [np.concatenate([getattr(layer, f"{n}{g}").grad()
                            for g in layer.GATES], axis=-1)
            for n in ("W_x", "W_h", "b_")]


def _assert_weight_grads(layer, reference, prefix="l0"):
    """Each gate's gradients equal the twin's rows of that gate."""
    g = {n.split("_", 1)[1]: p.grad().asnumpy()
         for n, p in reference.collect_params().items()
         if p.grad_req != "null"}  # GluonLayer freezes the second bias
    i2h_w, h2h_w, i2h_b, h2h_b = (g.get(f"{prefix}_{n}")
                                  for n in layers.GLUON_NAMES)
    order, h = GLUON_ORDER[type(reference)], layer.num_hiddens
    rows = onp.concatenate([onp.arange(k * h, (k + 1) * h) for k in
                            (order.index(gate) for gate in layer.GATES)])
    W_x, W_h, b = (a.asnumpy() for a in _our_grads(layer))
    for ours, theirs, what in ((W_x.T, i2h_w[rows], "W_x"),
                               (W_h.T, h2h_w[rows], "W_h"),
                               (b, i2h_b[rows], "b")):
        assert onp.abs(theirs).max() > 1e-4, what  # not trivially zero
        _close(ours, theirs, f"d{what}")
    if isinstance(layer, V.GRUScratch):  # b_hh sits inside R_t
        _close(layer.b_hh.grad(), h2h_b[2 * h:], "db_hh")
        _close(h2h_b[:2 * h], i2h_b[:2 * h], "dh2h_bias r, z")
    elif h2h_b is not None:  # the two gluon biases add: one gradient
        _close(h2h_b, i2h_b, "dh2h_bias")
    others = onp.setdiff1d(onp.arange(len(order) * h), rows)
    for theirs in (i2h_w, h2h_w, i2h_b):  # the 1997 cell's f rows
        assert (theirs[others] == 0).all()


@pytest.mark.parametrize("name", [n for n in TWINNED
                                  if not n.startswith("GluonLayer")])
def test_equals_its_gluon_twin(name):
    layer = make(name)
    reference = layer.to_gluon()
    assert type(reference) in GLUON_ORDER
    X, state = _inputs(), _random_state(layer)
    ours, theirs = _gradients(layer, reference, X, state)
    for k, (a, b) in enumerate(zip(ours, theirs)):
        _close(a, b, f"output {k} (outputs, states, dX, dstate)")
    if isinstance(layer, bl.Bidirectional):
        _assert_weight_grads(layer.f_layer, reference, "l0")
        _assert_weight_grads(layer.b_layer, reference, "r0")
    else:
        _assert_weight_grads(layer, reference)


@pytest.mark.parametrize("name", [n for n in LAYERS if n.startswith("Gluon")])
def test_gluon_layer_computes_what_its_layer_computes(name):
    wrapped = make(name)
    ours = wrapped.to_scratch()  # the wrapped weights, as our layer
    assert type(ours).__name__ == name.split("-", 1)[1]
    X, state = _inputs(), _random_state(ours)
    a, b = _gradients(ours, wrapped, X, state)
    for k, (x, y) in enumerate(zip(a, b)):
        _close(x, y, f"output {k}")
    _assert_weight_grads(ours, wrapped.reference)


@pytest.mark.parametrize("name", [n for n in LAYERS
                                  if not FACTORIES[n][1]
                                  and n != "WindowMLP"])
def test_layers_without_a_twin_say_so(name):
    with pytest.raises(TypeError, match="no gluon.rnn twin"):
        make(name).to_gluon()


# Layers without a twin equal the fused cell they restate.

def _copy_into(source, cls, **kwargs):
    """A ``cls`` layer holding ``source``'s weights (peepholes too)."""
    twin = layers.blank(cls, source.num_inputs, source.num_hiddens,
                        source.context(), **kwargs)
    twin.load_fused_weights(*source.fused_weights())
    for g in ("p_i", "p_f", "p_o"):
        if g in source._reg_params:
            getattr(twin, g).set_data(getattr(source, g).data())
    return twin


# (layer, the fused class it restates, its switches)
SIBLINGS = [*((f"{cls.__name__}-{v}", V.VariantFused, V.VARIANTS[v])
              for cls in (V.VariantScratch, V.VariantFast)
              for v in sorted(V.VARIANTS)),
            ("LSTM1997Scratch", lstm.LSTM1997Fused, {}),
            ("LSTM1997Fast", lstm.LSTM1997Fused, {}),
            ("LSTMScratch", fg.LSTMFused, {}), ("LSTMFast", fg.LSTMFused, {}),
            ("LSTMManual", fg.LSTMFused, {})]


@pytest.mark.parametrize("name, fused, flags", SIBLINGS,
                         ids=[s[0] for s in SIBLINGS])
def test_equals_the_fused_cell_in_outputs_and_gradients(name, fused, flags):
    layer = make(name)
    reference = _copy_into(layer, fused, **flags)
    X, state = _inputs(), _random_state(layer)
    ours, theirs = _gradients(layer, reference, X, state)
    for k, (a, b) in enumerate(zip(ours, theirs)):
        _close(a, b, f"output {k}")
    for a, b in zip(_our_grads(layer), _our_grads(reference)):
        assert float(np.abs(b).max()) > 1e-4
        _close(a, b, "weights")
    for g in ("p_i", "p_f", "p_o"):
        if g in layer._reg_params:
            _close(getattr(layer, g).grad(), getattr(reference, g).grad(), g)


@pytest.mark.parametrize("name", ["LSTM1997Fast", "LSTMFast",
                                  "VariantFast-PH"])
def test_the_fast_path_traces_once_per_length(name):
    layer = make(name)
    layer(_inputs())
    layer(_inputs())
    assert len(layer._graphs) == 1
    assert layer(_inputs(num_steps=2))[0].shape == (2, B, H)
    assert len(layer._graphs) == 2


# The weights protocol.

@pytest.mark.parametrize("name", [n for n in LAYERS if n.split("-")[0] in (
    "RNNScratch", "LSTM1997Scratch", "LSTM1997Fused", "LSTMScratch",
    "LSTMFused", "GRUScratch", "VariantScratch", "VariantFused")])
def test_fused_weights_round_trip(name):
    layer = make(name)
    W_x, W_h, b = layer.fused_weights()
    k = len(layer.GATES)
    assert W_x.shape == (D, k * H) and W_h.shape == (H, k * H)
    assert b.shape == (k * H,)
    other = make(name)
    _randomise(other)
    other.load_fused_weights(W_x, W_h, b)
    for a, c in zip(other.fused_weights(), (W_x, W_h, b)):
        assert float(np.abs(a - c).max()) == 0.0


@pytest.mark.parametrize("name", ["LSTM1997Scratch", "LSTMFused",
                                  "GRUScratch", "RNNScratch"])
def test_gluon_weights_round_trip(name):
    layer = make(name)
    back = layers.blank(type(layer), D, H, mx.cpu())
    back.load_gluon_weights(*layer.gluon_weights())
    for p, q in zip(layer.collect_params().values(),
                    back.collect_params().values()):
        assert float(np.abs(p.data() - q.data()).max()) == 0.0, p.name


def test_copy_weights_between_readable_and_fused():
    readable = make("LSTMScratch")
    fused = layers.copy_weights(readable, fg.LSTMFused(D, H))
    X = _inputs()
    _close(readable(X)[0], fused(X)[0], "outputs")
    with pytest.raises(ValueError, match="same gates and sizes"):
        layers.copy_weights(readable, fg.LSTMFused(D, H + 1))
    with pytest.raises(ValueError, match="same gates and sizes"):
        layers.copy_weights(readable, lstm.LSTM1997Fused(D, H))
    with pytest.raises(TypeError, match="target must be a gated layer"):
        layers.copy_weights(readable, bl.WindowMLP(D, 1, H))


def test_gluon_layer_refuses_what_has_no_twin():
    with pytest.raises(TypeError, match="GluonLayer wraps a gated layer"):
        layers.GluonLayer(gluon.nn.Dense(3))
    with pytest.raises(TypeError, match="no gluon.rnn twin"):
        layers.GluonLayer(make("VariantFused-NIG"))


def test_gluon_layer_trains_one_bias_as_our_cell_does():
    wrapped = make("GluonLayer-LSTMScratch")
    params = {n.split("_", 1)[1]: p
              for n, p in wrapped.reference.collect_params().items()}
    assert params["l0_h2h_bias"].grad_req == "null"
    assert params["l0_i2h_bias"].grad_req == "write"
    gru = make("GluonLayer-GRUScratch")  # b_hh lives in the h2h bias
    assert all(p.grad_req == "write"
               for p in gru.reference.collect_params().values())


# Training the operator is training our cell.

def _max_diff(a, b):
    return float(np.abs(a - b).max())


def test_the_1997_cell_keeps_its_forget_gate_at_one_while_training():
    wrapped = layers.GluonLayer(make("LSTM1997Fused"))
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


@pytest.mark.parametrize("name", ["LSTMFused", "LSTM1997Fused", "RNNScratch"])
def test_training_the_operator_trains_our_cell(name):
    ours = make(name)
    wrapped = layers.GluonLayer(ours)
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


FAST = {"LSTM1997Fast": lstm.LSTM1997Fused, "LSTMFast": fg.LSTMFused,
        "VariantFast-PH": V.VariantFused}


@pytest.mark.parametrize("name", sorted(FAST))
def test_the_fast_path_trains_to_the_fused_cells_weights(name):
    fast_layer = make(name)
    fused = _copy_into(fast_layer, FAST[name],
                       **V.VARIANTS.get(name.split("-")[-1], {}))
    X, head = _inputs(), np.random.normal(0, 1, (T, B, H))
    weights = []
    for layer in (fused, fast_layer):
        trainer = gluon.Trainer(layer.collect_params(), "adam",
                                {"learning_rate": 0.05})
        for _ in range(3):
            with autograd.record():
                loss = ((layer(X)[0] - head) ** 2).mean()
            loss.backward()
            trainer.step(1)
        weights.append([p.data() for p in layer.collect_params().values()])
    for a, b in zip(*weights):
        _close(a, b, "trained weights")
    assert _max_diff(weights[1][1], make(name).W_h.data()) > 1e-3


@pytest.mark.parametrize("name", sorted(FAST))
def test_the_fast_path_uses_weights_set_after_tracing(name):
    layer = make(name)
    X = _inputs()
    layer(X)  # traced
    layer.W_h.set_data(np.zeros(layer.W_h.shape))
    fused = _copy_into(layer, FAST[name],
                       **V.VARIANTS.get(name.split("-")[-1], {}))
    _close(layer(X)[0], fused(X)[0], "outputs after set_data")
    assert sorted(layer.collect_params()) == sorted(
        f"{layer.prefix}{n}" for n in layer._reg_params)


# Every constructor of a layer that draws N(0, sigma^2) weights, and
# those with initial biases: each refuses a sigma or bias that is no
# finite number (a raw MXNet check, or NaN outputs, before).
SIGMA_CLASSES = [rnn.RNNScratch, lstm.LSTM1997Scratch, lstm.LSTM1997Fused,
                 lstm.LSTM1997Fast, fg.LSTMScratch, fg.LSTMFused, fg.LSTMFast,
                 V.VariantScratch, V.VariantFused, V.VariantFast,
                 V.GRUScratch, bl.BiLSTMScratch]


@pytest.mark.parametrize("sigma", [-1, 0, float("nan"), float("inf"), True,
                                   "0.1"])
@pytest.mark.parametrize("cls", SIGMA_CLASSES, ids=lambda c: c.__name__)
def test_sigma_must_be_a_positive_number(cls, sigma):
    with pytest.raises(ValueError, match=r"sigma must be a (positive|finite)"):
        cls(D, H, sigma=sigma)


@pytest.mark.parametrize("sigma", [-1, float("nan")])
def test_window_mlp_and_readouts_check_sigma_too(sigma):
    with pytest.raises(ValueError, match="sigma must be a"):
        bl.WindowMLP(D, 1, H, sigma=sigma)
    with pytest.raises(ValueError, match="sigma must be a"):
        lstm.SequenceClassifier(rnn.RNNScratch(D, H), 3, sigma=sigma)
    with pytest.raises(ValueError, match="sigma must be a"):
        rnn.RNNLMScratch(rnn.RNNScratch(D, H), D, sigma=sigma)


@pytest.mark.parametrize("bias", [float("nan"), float("-inf")])
@pytest.mark.parametrize("cls, name", [
    *[(c, "input_gate_bias") for c in (lstm.LSTM1997Scratch,
                                       lstm.LSTM1997Fused, fg.LSTMScratch,
                                       fg.LSTMFused, V.VariantFused)],
    *[(c, "forget_bias") for c in (fg.LSTMScratch, fg.LSTMFast,
                                   V.VariantScratch, bl.BiLSTMScratch)]])
def test_initial_biases_must_be_finite(cls, name, bias):
    with pytest.raises(ValueError, match=f"{name} must be a finite number"):
        cls(D, H, **{name: bias})


@pytest.mark.parametrize("bad, shown", [(7, "7"), (-1, "-1"), (1.5, "1.5"),
                                        (float("nan"), "nan")])
def test_tokens_outside_the_vocabulary_are_refused(bad, shown):
    tokens = onp.zeros((2, 3), dtype="float32")
    tokens[1, 2] = bad
    with pytest.raises(ValueError, match=rf"X must hold token indices, "
                       rf"integers 0 to 4 \(a vocabulary of 5\), got "
                       rf"{shown} \(1 of 6 entries are not\)"):
        layers.check_tokens("X", np.array(tokens), 5)
    layers.check_tokens("X", np.full((2, 3), 4), 5)  # 4 is in
    with pytest.raises(ValueError, match=r"shape \(batch_size, num_steps\)"):
        layers.check_tokens("X", np.zeros((2,)), 5)
