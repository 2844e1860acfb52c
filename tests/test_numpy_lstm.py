"""The LSTM's backward by hand (lstm_tutorial/numpy_lstm.py), three ways.

- with MXNet absent: a subprocess hides ``mxnet`` and imports the module
  (from the package, and as a lone copied file), runs it and checks a
  gradient by finite differences;
- against MXNet's autograd in float64, on chapter 3's modern cells and
  chapter 2's 1997 cells cast to float64 (``unroll`` on float64 arrays:
  the protocol's ``start`` refuses them), to about 1e-12: outputs, final
  state, dX, every weight gradient, dH0 and dC0;
- against central finite differences, every input and parameter, both
  cells. The truncated gradient (the 1997 paper's) is not the derivative
  of the loss, so finite differences do not apply to it: it is checked
  against autograd of the same cell with H_{t-1}.detach() in the
  products with W_h, written here.

Each check is shown to fail on a broken copy of the backward, and bad
arguments are refused with messages that name them.
"""

import json
import os
import shutil
import subprocess
import sys
import types

import numpy as onp
import pytest
from mxnet import autograd, np, npx

from lstm_tutorial import forget_gate, layers, lstm, numpy_lstm, source

from helpers import seeded_layer

T, B, D, H = 5, 3, 4, 3  # num_steps, batch_size, num_inputs, num_hiddens
SIGMA = 0.5  # weights large enough that every gate is far from linear
LAYERS = {"modern": (forget_gate.LSTMScratch, forget_gate.LSTMFused),
          "1997": (lstm.LSTM1997Scratch, lstm.LSTM1997Fused)}
AUTOGRAD_TOL = 1e-12  # float64, relative to the largest entry
FD_TOL = 1e-8  # central differences: O(eps^2) + O(1e-16 / eps)
EPS = 1e-5
INPUTS = ("X", "W_x", "W_h", "b", "H0", "C0")
GRADS = tuple("d" + name for name in INPUTS)


def _rel(a, b):
    """max |a - b| relative to the largest |b| (0 when both are 0)."""
    a, b = onp.asarray(a), onp.asarray(b)
    return float(onp.abs(a - b).max()
                 / max(onp.abs(b).max(), onp.finfo(onp.float64).tiny))


def _problem(cell, seed=0, layer=None):
    """float64 arrays for ``forward`` (weights from ``layer`` if given)
    and the random loss's weights R, r1, r2."""
    rng = onp.random.default_rng(seed)
    k = len(numpy_lstm.GATES[cell])
    args = {"X": rng.normal(size=(T, B, D)),
            "W_x": rng.normal(0, SIGMA, (D, k * H)),
            "W_h": rng.normal(0, SIGMA, (H, k * H)),
            "b": rng.normal(0, SIGMA, (k * H,)),
            "H0": rng.normal(size=(B, H)), "C0": rng.normal(size=(B, H))}
    if layer is not None:
        W_x, W_h, b = (a.asnumpy() for a in layer.fused_weights())
        assert W_x.dtype == onp.float64
        args.update(W_x=W_x, W_h=W_h, b=b)
    loss = {"R": rng.normal(size=(T, B, H)), "r1": rng.normal(size=(B, H)),
            "r2": rng.normal(size=(B, H))}
    return args, loss


def _loss_value(outputs, H_T, C_T, R, r1, r2):
    """L = sum(outputs * R) + sum(H_T * r1) + sum(C_T * r2)."""
    return (outputs * R).sum() + (H_T * r1).sum() + (C_T * r2).sum()


def _ours(cell, args, loss, truncated=False, module=numpy_lstm):
    outputs, (H_T, C_T), cache = module.forward(**args, cell=cell)
    grads = module.backward(loss["R"], loss["r1"], loss["r2"], cache,
                            truncated=truncated)
    return {"outputs": outputs, "H_T": H_T, "C_T": C_T, **grads}


def _layer(cls):
    layer = seeded_layer(cls, D, H, seed=3, sigma=SIGMA)
    layer.cast("float64")
    return layer


def _weight_grads(layer):
    """The layer's weight gradients in the fused layout (GATES order)."""
    if isinstance(layer, layers.Fused):
        return [p.grad() for p in (layer.W_x, layer.W_h, layer.b)]
    return [np.concatenate([getattr(layer, f"{n}{g}").grad()
                            for g in layer.GATES], axis=-1)
            for n in ("W_x", "W_h", "b_")]


def _mxnet(layer, args, loss):
    """MXNet's autograd of the loss through ``layer.unroll``, float64."""
    X, H0, C0 = (np.array(args[n], dtype=onp.float64)
                 for n in ("X", "H0", "C0"))
    R, r1, r2 = (np.array(loss[n], dtype=onp.float64)
                 for n in ("R", "r1", "r2"))
    for a in (X, H0, C0):
        a.attach_grad()
    with autograd.record():
        outputs, (H_T, C_T) = layer.unroll(X, (H0, C0))
        L = _loss_value(outputs, H_T, C_T, R, r1, r2)
    L.backward()
    assert outputs.dtype == onp.float64
    found = {"outputs": outputs, "H_T": H_T, "C_T": C_T, "dX": X.grad,
             "dH0": H0.grad, "dC0": C0.grad,
             **dict(zip(("dW_x", "dW_h", "db"), _weight_grads(layer)))}
    return {name: a.asnumpy() for name, a in found.items()}


def _errors_vs_autograd(cell, cls, module=numpy_lstm):
    layer = _layer(cls)
    args, loss = _problem(cell, layer=layer)
    ours, reference = _ours(cell, args, loss, module=module), _mxnet(
        layer, args, loss)
    return {name: _rel(ours[name], reference[name]) for name in reference}


def _detached_autograd(cell, args, loss):
    """Autograd of the cell with H_{t-1}.detach() in the W_h products:
    the 1997 paper's truncated gradient, written the obvious way."""
    gates = numpy_lstm.GATES[cell]
    arrays = {n: np.array(a, dtype=onp.float64) for n, a in args.items()}
    for a in arrays.values():
        a.attach_grad()
    R, r1, r2 = (np.array(loss[n], dtype=onp.float64)
                 for n in ("R", "r1", "r2"))
    X, W_x, W_h, b = (arrays[n] for n in ("X", "W_x", "W_h", "b"))
    with autograd.record():
        H_t, C_t, outputs = arrays["H0"], arrays["C0"], []
        for t in range(T):
            A = (np.dot(X[t], W_x) + np.dot(H_t.detach(), W_h)
                 + b)  # (B, k H)
            A = dict(zip(gates, np.split(A, len(gates), axis=1)))
            F = npx.sigmoid(A["f"]) if "f" in A else 1.0
            C_t = F * C_t + npx.sigmoid(A["i"]) * np.tanh(A["c"])
            H_t = npx.sigmoid(A["o"]) * np.tanh(C_t)
            outputs.append(H_t)
        L = _loss_value(np.stack(outputs), H_t, C_t, R, r1, r2)
    L.backward()
    return {"d" + n: a.grad.asnumpy() for n, a in arrays.items()}


def _errors_truncated(cell, module=numpy_lstm):
    args, loss = _problem(cell, seed=1)
    ours = _ours(cell, args, loss, truncated=True, module=module)
    reference = _detached_autograd(cell, args, loss)
    return {name: _rel(ours[name], reference[name]) for name in GRADS}


def _errors_vs_finite_differences(cell, module=numpy_lstm):
    args, loss = _problem(cell, seed=2)
    ours = _ours(cell, args, loss, module=module)

    def L(_):
        outputs, (H_T, C_T), _cache = module.forward(**args, cell=cell)
        return _loss_value(outputs, H_T, C_T, **loss)

    return {"d" + n: _rel(ours["d" + n],
                          numpy_lstm.numerical_gradient(L, args[n], EPS))
            for n in INPUTS}


def _copy_with(old, new):
    """A copy of numpy_lstm whose source has ``old`` replaced by ``new``."""
    path = numpy_lstm.__file__
    text = open(path, encoding="utf-8").read()
    assert text.count(old) == 1, old
    module = types.ModuleType("numpy_lstm_broken")
    exec(compile(text.replace(old, new), path, "exec"), module.__dict__)
    return module


# ---- without MXNet -----------------------------------------------------

NO_MXNET = """
import json, sys
sys.modules["mxnet"] = None  # import mxnet now raises ImportError
try:
    import mxnet  # noqa: F401
    refused = False
except ImportError:
    refused = True
import numpy as np
{import_line}
rng = np.random.default_rng(0)
X, W_x, W_h = (rng.normal(size=s) for s in ((4, 2, 3), (3, 8), (2, 8)))
b, R = rng.normal(size=8), rng.normal(size=(4, 2, 2))
def L(W_h):
    return (nl.forward(X, W_x, W_h, b)[0] * R).sum()
grads = nl.backward(R, None, None, nl.forward(X, W_x, W_h, b)[2])
fd = nl.numerical_gradient(L, W_h, 1e-5)
print(json.dumps({{
    "refused": refused,
    "error": float(abs(grads["dW_h"] - fd).max() / abs(fd).max()),
    "loaded": sorted(m for m, v in sys.modules.items()
                     if v is not None and m.split(".")[0] == "mxnet")}}))
"""


def _run_without_mxnet(import_line, cwd=None):
    code = NO_MXNET.format(import_line=import_line)
    # One thread, as the package sets it: with mxnet hidden in
    # sys.modules, lstm_tutorial would otherwise warn it came first.
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, cwd=cwd, check=True, env=env).stdout
    return json.loads(out)


def test_runs_without_mxnet():
    found = _run_without_mxnet(
        "from lstm_tutorial import numpy_lstm as nl")
    assert found["refused"] and found["loaded"] == []
    assert found["error"] < FD_TOL


def test_runs_as_a_lone_file_without_mxnet(tmp_path):
    """A reader may copy numpy_lstm.py alone: no import of the package."""
    shutil.copy(numpy_lstm.__file__, tmp_path / "numpy_lstm.py")
    found = _run_without_mxnet(
        'sys.modules["lstm_tutorial"] = None\nimport numpy_lstm as nl',
        cwd=tmp_path)
    assert found["refused"] and found["loaded"] == []
    assert found["error"] < FD_TOL


def _chapter_block():
    """The Python block under chapter 8's "Running this chapter without
    MXNet": what a reader without MXNet is told to run."""
    from notebook_checks import BOOK, load

    for cell in load(BOOK / "08_backprop.ipynb")["cells"]:
        text = "".join(cell["source"])
        if "## Running this chapter without MXNet" in text:
            return text.split("```python\n", 1)[1].split("```", 1)[0]
    raise AssertionError("chapter 8 has no section for running without MXNet")


def test_the_chapters_numpy_only_block_runs_without_mxnet(tmp_path):
    """The block, as the chapter prints it, beside a lone copy of
    numpy_lstm.py, with MXNet and the package hidden."""
    shutil.copy(numpy_lstm.__file__, tmp_path / "numpy_lstm.py")
    code = ('import sys\nsys.modules["mxnet"] = None\n'
            'sys.modules["lstm_tutorial"] = None\n' + _chapter_block())
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, cwd=tmp_path, check=True).stdout
    assert out.startswith("largest difference: ")
    assert float(out.split(": ")[1]) < 1e-6


@pytest.mark.parametrize("module", [numpy_lstm, source])
def test_checked_by_checks_first_as_the_package_does(module):
    """numpy_lstm restates source.checked_by (it stands alone): the two
    behave the same."""
    calls = []

    def check(x):
        calls.append("check")
        if x < 0:
            raise ValueError("x must be >= 0")

    @module.checked_by(check)
    def double(x):
        """Twice x."""
        calls.append("run")
        return 2 * x

    assert double(2) == 4 and calls == ["check", "run"]
    with pytest.raises(ValueError, match="x must be >= 0"):
        double(-1)
    assert calls == ["check", "run", "check"]
    assert (double.__name__, double.__doc__) == ("double", "Twice x.")


# ---- against MXNet's autograd, float64 ---------------------------------

@pytest.mark.parametrize("cell,cls", [(c, cls) for c, pair in LAYERS.items()
                                      for cls in pair])
def test_equals_mxnet_autograd_in_float64(cell, cls):
    errors = _errors_vs_autograd(cell, cls)
    assert set(errors) == {"outputs", "H_T", "C_T", *GRADS}
    assert max(errors.values()) < AUTOGRAD_TOL, errors


def test_truncated_equals_autograd_with_the_recurrent_inputs_detached():
    for cell in LAYERS:
        errors = _errors_truncated(cell)
        assert max(errors.values()) < AUTOGRAD_TOL, (cell, errors)
        # and it is another gradient: the check is not the full one's
        args, loss = _problem(cell, seed=1)
        full = _ours(cell, args, loss)
        cut = _ours(cell, args, loss, truncated=True)
        assert _rel(cut["dW_h"], full["dW_h"]) > 1e-2, cell
        assert not cut["dH0"].any() and full["dH0"].any(), cell
        assert _rel(cut["dC0"], full["dC0"]) > 1e-2, cell


# ---- against finite differences ----------------------------------------

@pytest.mark.parametrize("cell", list(LAYERS))
def test_equals_finite_differences(cell):
    errors = _errors_vs_finite_differences(cell)
    assert max(errors.values()) < FD_TOL, errors


def test_numerical_gradient_of_a_known_function():
    x = onp.array([[0.5, -1.0], [2.0, 0.1]])
    grad = numpy_lstm.numerical_gradient(lambda x: (onp.sin(x) * x).sum(),
                                         x, EPS)
    assert _rel(grad, onp.sin(x) + x * onp.cos(x)) < 1e-9
    assert (x == [[0.5, -1.0], [2.0, 0.1]]).all()  # restored


# ---- the API's other promises ------------------------------------------

def test_missing_errors_are_zeros_and_float32_follows_x():
    args, loss = _problem("modern")
    _, _, cache = numpy_lstm.forward(**args)
    zero = onp.zeros((B, H))
    none = numpy_lstm.backward(loss["R"], None, None, cache)
    zeros = numpy_lstm.backward(loss["R"], zero, zero, cache)
    assert all((none[n] == zeros[n]).all() for n in GRADS)
    only_C = numpy_lstm.backward(None, None, loss["r2"], cache)
    assert only_C["dX"].any()
    single = {n: a.astype(onp.float32) for n, a in args.items()}
    outputs, (H_T, C_T), cache32 = numpy_lstm.forward(**single)
    grads = numpy_lstm.backward(loss["R"].astype(onp.float32), None, None,
                                cache32)
    assert {outputs.dtype, H_T.dtype, C_T.dtype} == {onp.dtype("float32")}
    assert {g.dtype for g in grads.values()} == {onp.dtype("float32")}
    assert max(_rel(grads[n], none[n]) for n in GRADS) < 1e-5


def test_outputs_are_the_hidden_states_of_every_step():
    args, _ = _problem("1997")
    outputs, (H_T, C_T), _ = numpy_lstm.forward(**args, cell="1997")
    short, (H_2, _), _ = numpy_lstm.forward(
        **{**args, "X": args["X"][:2]}, cell="1997")
    assert (outputs[-1] == H_T).all() and (outputs[:2] == short).all()
    assert (outputs[1] == H_2).all()


# ---- the checks fail on broken copies ----------------------------------

def test_a_wrong_derivative_is_found(monkeypatch):
    monkeypatch.setattr(numpy_lstm, "tanh_grad", lambda T: 1 - T)
    for cell, (cls, _) in LAYERS.items():
        assert max(_errors_vs_autograd(cell, cls).values()) > 1e-3, cell
        assert max(_errors_vs_finite_differences(cell).values()) > 1e-3
        assert max(_errors_truncated(cell).values()) > 1e-3, cell


def test_a_carousel_without_the_forget_gate_is_found():
    broken = _copy_with("dC = dC * F[t]  #", "dC = dC  #")
    modern = _errors_vs_autograd("modern", forget_gate.LSTMFused, broken)
    assert modern["dC0"] > 1e-3 and modern["dW_x"] > 1e-3
    assert max(_errors_vs_finite_differences("modern", broken).values()
               ) > 1e-3
    # the 1997 cell's F_t = 1: there the same line is right
    assert max(_errors_vs_autograd("1997", lstm.LSTM1997Fused,
                                   broken).values()) < AUTOGRAD_TOL


def test_a_truncation_that_does_not_truncate_is_found():
    broken = _copy_with("dH = zeros if truncated else dA[t] @ W_h.T",
                        "dH = dA[t] @ W_h.T")
    for cell in LAYERS:
        assert max(_errors_truncated(cell, broken).values()) > 1e-2, cell
        assert max(_errors_vs_finite_differences(cell, broken).values()
                   ) < FD_TOL  # the full gradient is still right


# ---- bad input -----------------------------------------------------------

def _bad_forward(**change):
    args, _ = _problem("modern")
    return numpy_lstm.forward(**{**args, **change})


@pytest.mark.parametrize("change,error,message", [
    ({"cell": "lstm"}, ValueError,
     r"cell must be one of \('modern', '1997'\), got 'lstm'"),
    ({"X": [[[1.0]]]}, TypeError, "X must be a numpy.ndarray, got list"),
    ({"X": onp.zeros((T, B))}, ValueError,
     r"X must be a 3-d array \(num_steps, batch_size, num_inputs\), got "
     r"shape \(5, 3\)"),
    ({"X": onp.zeros((T, B, D), int)}, TypeError,
     r"X must be float32 or float64, got int64 \(X.astype\(np.float64\)"),
    ({"X": onp.zeros((0, B, D))}, ValueError, "X must not be empty"),
    ({"X": onp.full((T, B, D), onp.nan)}, ValueError,
     "X must be finite, got 60 NaN or infinite"),
    ({"cell": "1997"}, ValueError,
     r"W_h must have shape \(num_hiddens, 3 num_hiddens\) for the 3 gates "
     r"\('i', 'c', 'o'\) of cell '1997', got \(3, 12\)"),
    ({"W_x": onp.zeros((D + 1, 4 * H))}, ValueError,
     r"W_x must have shape \(4, 12\) \(num_inputs, 4 num_hiddens\) for the "
     r"gates \('i', 'f', 'c', 'o'\), got \(5, 12\)"),
    ({"b": onp.zeros((1, 4 * H))}, ValueError,
     r"b must be a 1-d array \(4 num_hiddens,\) for the gates \('i', 'f', "
     r"'c', 'o'\), got shape \(1, 12\)"),
    ({"W_h": onp.zeros((H, 4 * H), onp.float32)}, TypeError,
     "W_h must have the dtype of X, float64, got float32"),
    ({"H0": onp.zeros((B + 1, H))}, ValueError,
     r"H0 must have shape \(3, 3\) \(batch_size, num_hiddens\), got \(4, 3\)"),
])
def test_bad_forward_arguments_are_refused(change, error, message):
    with pytest.raises(error, match=message):
        _bad_forward(**change)


def test_bad_backward_and_numerical_gradient_arguments_are_refused():
    args, loss = _problem("modern")
    _, _, cache = numpy_lstm.forward(**args)
    with pytest.raises(TypeError, match="cache must be the third value "
                       "forward"):
        numpy_lstm.backward(loss["R"], None, None, (1, 2))
    with pytest.raises(ValueError, match=r"dOutputs must have shape "
                       r"\(5, 3, 3\) \(num_steps, batch_size, num_hiddens\), "
                       r"got \(4, 3, 3\)"):
        numpy_lstm.backward(loss["R"][1:], None, None, cache)
    with pytest.raises(TypeError, match="dC_T must have the dtype of X"):
        numpy_lstm.backward(None, None, loss["r2"].astype("float32"), cache)
    with pytest.raises(TypeError, match="truncated must be True or False, "
                       "got 'yes'"):
        numpy_lstm.backward(None, None, loss["r2"], cache, truncated="yes")
    with pytest.raises(TypeError, match="x must be float64"):
        numpy_lstm.numerical_gradient(sum, onp.zeros(3, onp.float32))
    with pytest.raises(ValueError, match="eps must be a number in"):
        numpy_lstm.numerical_gradient(sum, onp.zeros(3), eps=0)
