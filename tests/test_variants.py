"""lstm_tutorial/variants.py and variants_tasks.py (chapter 7).

Each switch computes its equation; the fast path draws what the fused
cell draws; the GRU's twin keeps its candidate bias inside R_t; the
switches' own bad input is refused; the text properties are what they
claim; and the stored results satisfy the chapter's claims. Every
variant's and the GRU's conformance (readable = fused = fast, default
switches = ``gluon.rnn.LSTM``, GRU = ``gluon.rnn.GRU``, contexts, bad
input) is in ``tests/test_layers.py``.
"""

import numpy as onp
import pytest
from mxnet import np

from lstm_tutorial import device, experiments
from lstm_tutorial import variants as V
from lstm_tutorial import variants_tasks as tasks

from helpers import failing, spoiled

T, B, D, H = 9, 3, 5, 4


def _fused(flags, sigma=0.3):
    device.seed(1)
    fused = V.VariantFused(D, H, sigma=sigma, **flags)
    fused.initialize()
    return fused


def _inputs():
    device.seed(2)
    return np.random.normal(0, 1, (T, B, D))


def test_fast_path_draws_what_the_fused_cell_draws():
    for name in V.VARIANTS:
        layers = []
        for fast_path in (False, True):
            device.seed(6)
            layer = V.variant(name, D, H, fast_path, sigma=0.3)
            layer.initialize()
            layers.append(layer)
        fused, fast = layers
        assert isinstance(fast, V.VariantFast) and len(fast._graphs) == 0
        params = [layer.collect_params() for layer in layers]
        names = [[n.split("_", 1)[1] for n in ps] for ps in params]
        assert names[0] == names[1]  # the same parameters, in order
        for p, q in zip(*(ps.values() for ps in params)):
            assert float(np.abs(p.data() - q.data()).max()) == 0.0, p.name


def _sigmoid(z):
    return 1 / (1 + onp.exp(-z))


def _one_step(fused, scale=1.0):
    """One step of ``fused`` from a random input and state (seed 3): the
    input, the state, the new state and the four gates' net inputs."""
    W_x, W_h, b = (a.asnumpy() for a in fused.fused_weights())
    device.seed(3)
    X, H0, C0 = (onp.random.normal(0, scale, s).astype(onp.float32)
                 for s in ((B, D), (B, H), (B, H)))
    H1, C1 = fused.step(np.array(X), (np.array(H0), np.array(C0)))
    gates = onp.split(X @ W_x + H0 @ W_h + b, 4, axis=1)
    return X, H0, C0, H1, C1, gates


@pytest.mark.parametrize("name", sorted(V.VARIANTS))
def test_each_switch_is_its_equation(name):
    fused = _fused(V.VARIANTS[name])
    X, H0, C0, H1, C1, (i, f, c, o) = _one_step(fused)
    if name == "PH":
        p = {g: getattr(fused, f"p_{g}").data().asnumpy() for g in "ifo"}
        i, f = i + C0 * p["i"], f + C0 * p["f"]
    F = 1.0 if name == "NFG" else _sigmoid(f)
    I = {"NIG": 1.0, "CIFG": 1 - F}.get(name, _sigmoid(i))
    C_tilde = c if name == "NIAF" else onp.tanh(c)
    C = F * C0 + I * C_tilde
    if name == "PH":
        o = o + C * p["o"]
    O = 1.0 if name == "NOG" else _sigmoid(o)
    H_ = O * (C if name == "NOAF" else onp.tanh(C))
    onp.testing.assert_allclose(C1.asnumpy(), C, rtol=1e-5, atol=1e-6)
    onp.testing.assert_allclose(H1.asnumpy(), H_, rtol=1e-5, atol=1e-6)


def test_gru_twin_keeps_the_candidate_bias_inside_the_reset_gate():
    gru = _gru()
    for p in gru.collect_params().values():  # nonzero biases, all four
        p.set_data(np.random.normal(0, 1, p.shape))
    i2h_weight, h2h_weight, i2h_bias, h2h_bias = gru.gluon_weights()
    assert i2h_weight.shape == (3 * H, D) and h2h_weight.shape == (3 * H, H)
    onp.testing.assert_array_equal(h2h_bias[2 * H:].asnumpy(),
                                   gru.b_hh.data().asnumpy())
    assert float(np.abs(h2h_bias[:2 * H]).max()) == 0.0
    onp.testing.assert_array_equal(i2h_bias[2 * H:].asnumpy(),
                                   gru.b_h.data().asnumpy())


def test_the_ablations_gru_is_our_gru_on_the_operator():
    layer = V.layer("GRU", D, H, sigma=0.3)
    assert type(layer).__name__ == "GluonLayer"
    assert isinstance(layer.to_scratch(), V.GRUScratch)
    outputs, (H_T,) = layer(_inputs())
    assert outputs.shape == (T, B, H) and H_T.shape == (B, H)


def _gru():
    gru = V.GRUScratch(D, H)
    gru.initialize()
    return gru


@pytest.mark.parametrize("call, error, message", [
    (lambda: V.VariantFused(D, H, forget=False), ValueError, "unknown"),
    (lambda: V.VariantFused(D, H, peepholes=1), TypeError, "peepholes"),
    (lambda: V.VariantScratch(D, H, coupled=True, forget_gate=False),
     ValueError, "coupled"),
    (lambda: V.variant("LSTM2", D, H), ValueError, "name"),
    (lambda: _fused({"peepholes": True}).to_gluon(), TypeError,
     "peepholes switched has no gluon.rnn twin"),
])
def test_bad_input_is_refused(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_properties_of_a_small_text():
    text = "ab 'cd' it's\n'e\n\nf'"
    props = tasks.properties(text)
    assert props["line_position"].tolist()[:5] == [1, 2, 3, 4, 5]
    assert props["line_position"][text.index("\n")] == 0
    inside = "".join(c for c, q in zip(text, props["inside_quotes"]) if q)
    # the apostrophe of "it's" does not open a quote; a blank line closes
    assert inside == "'cd'e\n'"


def test_correlations_are_pearson():
    device.seed(5)
    S = onp.random.normal(0, 1, (50, 3))
    v = onp.random.normal(0, 1, 50)
    r = tasks.correlations(S, v)
    expected = [onp.corrcoef(S[:, j], v)[0, 1] for j in range(3)]
    onp.testing.assert_allclose(r, expected, rtol=1e-6)


def test_coloured_text_has_one_span_per_character():
    page = tasks.coloured_text("a<\n", [2.0, -1.0, 0.0], "C_t", alt="a<")
    text, key = page.split('<div style="display:flex')
    assert text.count("<span") == 3 and "&lt;" in text
    assert "rgba(214,96,77,1.00)" in text and "rgba(67,147,195,0.50)" in text
    # the key runs from -max|values| to +max|values| and names the values
    assert "<span>-2.00</span>" in key and "<span>+2.00</span>" in key
    assert "<span>C_t</span>" in key and 'aria-label="a&lt;"' in page
    with pytest.raises(ValueError, match="values"):
        tasks.coloured_text("ab", [1.0])


# The stored results (python -m lstm_tutorial.experiments NAME). Their
# claims (V.claims_ablation, V.claims_reber, V.claims_cells) are checked
# on the stored records by tests/test_claims_stored.py; here the records
# are whole and the claims can fail.

def _record(name):
    return experiments.load_results(name)


def test_stored_ablation_uses_the_current_config():
    for seed, run in _record("variants_ablation")["seeds"].items():
        assert set(V.SWEEP) <= set(run), seed
        assert run["order_run"] == tasks.ORDER_RUN, seed
        assert tuple(run["order"]["lengths"]) == tasks.ORDER["lengths"]
        for name in V.SWEEP:
            assert run[name]["best"] == max(run[name]["accuracy"])


def test_stored_reber_ablation_uses_the_current_config():
    for seed, run in _record("variants_reber")["seeds"].items():
        assert set(V.SWEEP) <= set(run), seed
        assert run["reber_run"] == tasks.REBER_RUN, seed
        for name in V.SWEEP:
            assert run[name]["num_symbols"] == 20_000, (seed, name)
            assert run[name]["chunks"][-1] == tasks.REBER_RUN["num_chunks"]


def test_stored_cells_use_the_current_config():
    for seed, run in _record("variants_cells")["seeds"].items():
        assert run["config"] == tasks.CELLS, seed
        for p in tasks.PROPERTIES:
            assert 0 <= run[p]["chance"] <= 1, (seed, p)
            assert len(run[p]["trace"]) == len(run["excerpt"]), (seed, p)


def _swap(a, b):
    def change(r):
        r[a], r[b] = r[b], r[a]
    return change


def test_ablation_claims_can_fail():
    record = _record("variants_ablation")
    sentences = [c.sentence for c in V.claims_ablation(record)]
    assert failing(V.claims_ablation(record)) == set()
    bad = V.claims_ablation(spoiled(record, _swap("CIFG", "vanilla")))
    assert set(sentences[:2]) <= failing(bad)

    def all_solve(r):
        for name in V.SWEEP:
            r[name]["best"] = 1.0
    assert set(sentences[2:]) <= failing(V.claims_ablation(
        spoiled(record, all_solve)))


def test_reber_claims_can_fail():
    record = _record("variants_reber")
    sentences = [c.sentence for c in V.claims_reber(record)]
    assert failing(V.claims_reber(record)) == set()

    def inverted(r):  # those that learn fail, and the others learn
        for name in V.SWEEP:
            r[name]["long_lag_accuracy"] = 1.0
        for name in ("vanilla", "GRU", "CIFG"):
            r[name]["long_lag_accuracy"] = 0.5
        r["NOAF"]["errors_per_1000"] = 0.0
    assert set(sentences) == failing(V.claims_reber(spoiled(record,
                                                            inverted)))


def test_cells_claims_can_fail():
    record = _record("variants_cells")
    assert failing(V.claims_cells(record)) == set()

    def by_chance(r):
        r["line_position"]["r"] = r["line_position"]["chance"]
        r["inside_quotes"]["r"] = r["inside_quotes"]["chance"] + 0.3
    assert len(failing(V.claims_cells(spoiled(record, by_chance)))) == 2


# Exercises 2, 3 and 5 (stored as variants_exercises, variants_forget_bias).

def test_clipped_cell_is_its_equation_and_its_fast_path():
    device.seed(1)
    fused = V.ClippedFused(D, H, sigma=0.8)
    fused.initialize()
    X, H0, C0, H1, C1, (i, f, c, o) = _one_step(fused, scale=2.0)
    C = _sigmoid(f) * C0 + _sigmoid(i) * onp.tanh(c)
    assert (abs(C) > 1).any()  # the clip is exercised
    onp.testing.assert_allclose(C1.asnumpy(), C, rtol=1e-5, atol=1e-6)
    onp.testing.assert_allclose(H1.asnumpy(),
                                _sigmoid(o) * onp.clip(C, -1, 1),
                                rtol=1e-5, atol=1e-6)
    device.seed(1)
    fast = V.exercise_layer("NOAF_clip", D, H, sigma=0.8)
    assert isinstance(fast, V.ClippedFast)
    X = _inputs() * 3
    onp.testing.assert_allclose(fast(X)[0].asnumpy(), fused(X)[0].asnumpy(),
                                rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="output_activation"):
        fused.to_gluon()


def test_zero_peepholes_start_as_vanilla():
    device.seed(4)
    vanilla = V.fast_layer("vanilla", D, H, sigma=0.3)
    after_vanilla = np.random.normal(0, 1, (3,)).asnumpy()
    device.seed(4)
    ph = V.exercise_layer("PH_zero", D, H, sigma=0.3)
    after_ph = np.random.normal(0, 1, (3,)).asnumpy()
    for g in "ifo":
        assert float(np.abs(getattr(ph, f"p_{g}").data()).max()) == 0.0
    X = _inputs()
    assert float(np.abs(ph(X)[0] - vanilla(X)[0]).max()) == 0.0
    # no random draws for the peepholes: the readout starts as vanilla's
    onp.testing.assert_array_equal(after_vanilla, after_ph)
    with pytest.raises(ValueError, match="name"):
        V.exercise_layer("PH", D, H)


def test_the_forget_bias_does_nothing_without_a_forget_gate():
    X, outputs = _inputs(), []
    for bias in (1.0, 5.0):
        device.seed(7)
        outputs.append(V.layer("NFG", D, H, sigma=0.3,
                               forget_bias=bias)(X)[0])
    assert float(np.abs(outputs[0] - outputs[1]).max()) == 0.0
    assert "NFG" not in V.BIASED
    assert tasks.ORDER_RUN_BIAS == {**tasks.ORDER_RUN, "forget_bias": 5.0}


def test_stored_exercises_use_the_sweeps_config():
    sweep_seeds = list(_record("variants_reber")["seeds"])
    record = _record("variants_exercises")
    assert list(record["seeds"]) == sweep_seeds
    for seed, run in record["seeds"].items():
        assert run["reber_run"] == tasks.REBER_RUN, seed
        for name in V.EXERCISES:
            assert run[name]["num_symbols"] == 20_000, (seed, name)
            assert run[name]["chunks"][-1] == tasks.REBER_RUN["num_chunks"]
    record = _record("variants_forget_bias")
    assert list(record["seeds"]) == list(_record("variants_ablation")["seeds"])
    for seed, run in record["seeds"].items():
        assert run["order_run"] == tasks.ORDER_RUN_BIAS, seed
        assert set(V.BIASED) <= set(run), seed


def test_exercise_claims_can_fail():
    record = _record("variants_exercises")
    assert failing(V.claims_exercises(record)) == set()

    def swapped(r):  # the clipped cell fails, the zero peepholes learn
        r["NOAF_clip"]["long_lag_accuracy"] = 0.0
        r["NOAF_clip"]["errors_per_1000"] = 1000.0
        r["PH_zero"]["long_lag_accuracy"] = 1.0
    assert len(failing(V.claims_exercises(spoiled(record, swapped)))) == 3


def test_forget_bias_claims_can_fail():
    record = _record("variants_forget_bias")
    found = V.claims_forget_bias(record)
    assert failing(found) == set()

    def inverted(r):  # vanilla always solves it, CIFG never
        r["vanilla"]["best"], r["CIFG"]["best"] = 1.0, 0.25
    assert failing(V.claims_forget_bias(spoiled(record, inverted))) == {
        c.sentence for c in found}
