"""The LSTM's gradient by hand, in NumPy alone (book/08_backprop.ipynb).

Forward, over a whole sequence, for the modern cell (chapter 3) and the
1997 cell (chapter 2, no forget gate: F_t = 1). The net inputs of all
gates are side by side, as ``layers.Gated.fused_weights()`` lays them out
(``GATES``, MXNet's order):

    A_t  = X_t W_x + H_{t-1} W_h + b          (batch_size, k H), k gates
    I_t  = sigmoid(A_t^i)    F_t = sigmoid(A_t^f)    O_t = sigmoid(A_t^o)
    C~_t = tanh(A_t^c)
    C_t  = F_t * C_{t-1} + I_t * C~_t         (the carousel; 1997: F_t = 1)
    H_t  = O_t * tanh(C_t)

The input projections X_t W_x + b of all steps are one product, done
before the loop; only H_{t-1} W_h must wait for the previous step.

Backward (backpropagation through time): the loss L reaches H_t through
its output (``dOutputs[t]``) and through the next step's gates; it
reaches C_t through the next step's carousel and through H_t:

    dH_t = dOutputs_t + dA_{t+1} W_h^T              (error at H_t)
    dC_t = dC_{t+1} * F_{t+1} + dH_t * O_t * (1 - tanh(C_t)^2)
    dA_t^o = dH_t * tanh(C_t) * O_t (1 - O_t)       sigma' = s (1 - s)
    dA_t^i = dC_t * C~_t * I_t (1 - I_t)
    dA_t^f = dC_t * C_{t-1} * F_t (1 - F_t)
    dA_t^c = dC_t * I_t * (1 - C~_t^2)              tanh' = 1 - t^2

and the weights are shared by all steps, so their gradients are sums over
time, each computed as one product over all (step, sequence) rows:

    dW_x = sum_t X_t^T dA_t      dW_h = sum_t H_{t-1}^T dA_t
    db   = sum_t sum_batch dA_t  dX_t = dA_t W_x^T

Hochreiter & Schmidhuber (1997, section 4 and appendix A.1) did not
backpropagate through everything: their *truncated* gradient lets no
error that reaches a gate's or the cell input's net input flow on through
the recurrent weights to H_{t-1}; only the cell state (the constant
error carousel) carries error back in time; those errors still change
the weights. ``backward(..., truncated=True)`` is that gradient: dH_t =
dOutputs_t, the term dA_{t+1} W_h^T dropped (so dH0 = 0), dW_h as
above. It equals MXNet's autograd of the same cell with H_{t-1}.detach()
in the products with W_h.

This module imports NumPy and the standard library only: a reader on a
machine where MXNet does not install runs this part of the book with
NumPy alone (``pip install numpy``, copy this one file beside the
notebook and ``import numpy_lstm``). ``tests/test_numpy_lstm.py`` imports
it with MXNet hidden, checks it against MXNet's autograd of chapters 2
and 3's cells in float64 (to about 1e-12), against central finite
differences (``numerical_gradient``), and the truncated gradient against
autograd with the recurrent inputs detached.
"""

import functools

import numpy as np

__all__ = ["GATES", "CELLS", "forward", "backward", "sigmoid",
           "sigmoid_grad", "tanh_grad", "numerical_gradient"]

GATES = {"modern": ("i", "f", "c", "o"), "1997": ("i", "c", "o")}
CELLS = tuple(GATES)
DTYPES = (np.float32, np.float64)
# What forward keeps of every step for backward, stacked over time:
SAVED = ("H_prev", "C_prev", "I", "F", "C_tilde", "O", "tanh_C")
CACHE_KEYS = ("cell", "X", "W_x", "W_h") + SAVED


def checked_by(check):
    """``check`` sees the arguments first (as ``source.checked_by``,
    restated so that this module stands alone, without the package)."""
    def decorate(function):
        @functools.wraps(function)
        def run(*args, **kwargs):
            check(*args, **kwargs)
            return function(*args, **kwargs)
        return run
    return decorate


# ---- argument checks (not shown in the chapter) ----------------------

def _check_array(name, A, shape, meaning, dtype=None):
    """``A`` is a finite float32/float64 ndarray of ``shape`` (None: any
    size on that axis) and of ``dtype`` when one is given."""
    if not isinstance(A, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got "
                        f"{type(A).__name__}")
    if A.ndim != len(shape):
        raise ValueError(f"{name} must be a {len(shape)}-d array {meaning},"
                         f" got shape {A.shape}")
    if any(n is not None and n != m for n, m in zip(shape, A.shape)):
        sizes = ", ".join("any" if n is None else str(n) for n in shape)
        comma = "," if len(shape) == 1 else ""
        raise ValueError(f"{name} must have shape ({sizes}{comma}) "
                         f"{meaning}, got {A.shape}")
    if A.dtype not in DTYPES:
        raise TypeError(f"{name} must be float32 or float64, got "
                        f"{A.dtype} ({name}.astype(np.float64) converts it)")
    if dtype is not None and A.dtype != dtype:
        raise TypeError(f"{name} must have the dtype of X, {dtype}, got "
                        f"{A.dtype}")
    if A.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {A.shape}")
    bad = int(np.size(A) - np.count_nonzero(np.isfinite(A)))
    if bad:
        raise ValueError(f"{name} must be finite, got {bad} NaN or "
                         "infinite value(s)")


def _check_cell(cell):
    if not isinstance(cell, str) or cell not in GATES:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")


def _check_forward(X, W_x, W_h, b, H0=None, C0=None, cell="modern"):
    _check_cell(cell)
    k = len(GATES[cell])
    _check_array("X", X, (None, None, None),
                 "(num_steps, batch_size, num_inputs)")
    _, batch_size, d = X.shape
    _check_array("W_h", W_h, (None, None), "(num_hiddens, k num_hiddens)",
                 X.dtype)
    h = W_h.shape[0]
    if W_h.shape[1] != k * h:
        raise ValueError(
            f"W_h must have shape (num_hiddens, {k} num_hiddens) for the "
            f"{k} gates {GATES[cell]} of cell {cell!r}, got {W_h.shape}")
    gates = f"for the gates {GATES[cell]}"
    _check_array("W_x", W_x, (d, k * h), f"(num_inputs, {k} num_hiddens) "
                 f"{gates}", X.dtype)
    _check_array("b", b, (k * h,), f"({k} num_hiddens,) {gates}", X.dtype)
    for name, S in (("H0", H0), ("C0", C0)):
        if S is not None:
            _check_array(name, S, (batch_size, h),
                         "(batch_size, num_hiddens)", X.dtype)


def _check_backward(dOutputs, dH_T, dC_T, cache, truncated=False):
    if not isinstance(cache, dict) or set(cache) != set(CACHE_KEYS):
        raise TypeError("cache must be the third value forward() returns, "
                        f"got {type(cache).__name__}")
    T, B, h = cache["H_prev"].shape
    dtype = cache["X"].dtype
    if dOutputs is not None:
        _check_array("dOutputs", dOutputs, (T, B, h),
                     "(num_steps, batch_size, num_hiddens)", dtype)
    for name, S in (("dH_T", dH_T), ("dC_T", dC_T)):
        if S is not None:
            _check_array(name, S, (B, h), "(batch_size, num_hiddens)", dtype)
    if not isinstance(truncated, bool):
        raise TypeError(f"truncated must be True or False, got "
                        f"{truncated!r}")


def _check_numerical_gradient(f, x, eps=1e-5):
    if not callable(f):
        raise TypeError(f"f must be a function of x, got {type(f).__name__}")
    _check_array("x", x, (None,) * np.ndim(x), "(any shape)")
    if x.dtype != np.float64:
        raise TypeError("x must be float64 (central differences in float32 "
                        f"lose most digits), got {x.dtype}")
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not (
            0 < eps < 1):
        raise ValueError(f"eps must be a number in (0, 1), got {eps!r}")


# ---- the cell and its derivatives ------------------------------------

def sigmoid(A):
    """1 / (1 + exp(-A)), written as (1 + tanh(A / 2)) / 2: the same
    function, without exp overflowing for large negative A."""
    return 0.5 * (1 + np.tanh(0.5 * A))


def sigmoid_grad(S):
    """sigma'(a) from the value S = sigma(a): S (1 - S)."""
    return S * (1 - S)


def tanh_grad(T):
    """tanh'(a) from the value T = tanh(a): 1 - T^2."""
    return 1 - T ** 2


@checked_by(_check_forward)
def forward(X, W_x, W_h, b, H0=None, C0=None, cell="modern"):
    """Run the cell over X (num_steps, batch_size, num_inputs).

    Returns (outputs (num_steps, batch_size, H), (H_T, C_T), cache).
    """
    gates = GATES[cell]
    num_steps, batch_size, num_inputs = X.shape
    num_hiddens = W_h.shape[0]
    zeros = np.zeros((batch_size, num_hiddens), X.dtype)
    H = zeros if H0 is None else H0
    C = zeros if C0 is None else C0
    # The input projections of all steps: one product, before the loop.
    XW = (X.reshape(-1, num_inputs) @ W_x + b).reshape(
        num_steps, batch_size, -1)  # (num_steps, batch_size, k H)
    saved = {name: [] for name in SAVED}
    for t in range(num_steps):
        A = dict(zip(gates, np.split(XW[t] + H @ W_h, len(gates), axis=1)))
        I, O = sigmoid(A["i"]), sigmoid(A["o"])
        F = sigmoid(A["f"]) if "f" in A else np.ones_like(C)  # 1997: F = 1
        C_tilde = np.tanh(A["c"])
        H_prev, C_prev = H, C
        C = F * C_prev + I * C_tilde
        tanh_C = np.tanh(C)
        H = O * tanh_C
        for name, value in zip(SAVED, (H_prev, C_prev, I, F, C_tilde, O,
                                       tanh_C)):
            saved[name].append(value)  # what backward needs of step t
    cache = {"cell": cell, "X": X, "W_x": W_x, "W_h": W_h,
             **{name: np.stack(values) for name, values in saved.items()}}
    outputs = np.concatenate([cache["H_prev"][1:], H[None]])  # H_1 .. H_T
    return outputs, (H, C), cache


@checked_by(_check_backward)
def backward(dOutputs, dH_T, dC_T, cache, truncated=False):
    """The gradients of L from dL/dH_t (``dOutputs``), dL/dH_T, dL/dC_T.

    Returns a dict with dX, dW_x, dW_h, db, dH0, dC0.
    """
    gates = GATES[cache["cell"]]
    X, W_x, W_h = cache["X"], cache["W_x"], cache["W_h"]
    H_prev, C_prev, I, F, C_tilde, O, tanh_C = (
        cache[name] for name in SAVED)
    num_steps, batch_size, num_hiddens = H_prev.shape
    zeros = np.zeros((batch_size, num_hiddens), X.dtype)
    dH = zeros if dH_T is None else dH_T  # error at H_t from later steps
    dC = zeros if dC_T is None else dC_T  # error at C_t from later steps
    dA = np.empty((num_steps, batch_size, len(gates) * num_hiddens),
                  X.dtype)  # the errors at the net inputs, all steps
    for t in reversed(range(num_steps)):
        if dOutputs is not None:
            dH = dH + dOutputs[t]  # plus what H_t's own output receives
        # H_t = O_t tanh(C_t): the error at C_t gains what H_t passes on.
        dC = dC + dH * O[t] * tanh_grad(tanh_C[t])
        dA_t = {"i": dC * C_tilde[t] * sigmoid_grad(I[t]),
                "c": dC * I[t] * tanh_grad(C_tilde[t]),
                "o": dH * tanh_C[t] * sigmoid_grad(O[t])}
        if "f" in gates:  # the 1997 cell has no forget gate
            dA_t["f"] = dC * C_prev[t] * sigmoid_grad(F[t])
        dA[t] = np.concatenate([dA_t[g] for g in gates], axis=1)
        dC = dC * F[t]  # back along the carousel: dC_t / dC_{t-1} = F_t
        # Through W_h to H_{t-1}; the 1997 truncation sends nothing.
        dH = zeros if truncated else dA[t] @ W_h.T
    # Each weight gradient, a sum over all steps, is one product.
    dA_rows = dA.reshape(num_steps * batch_size, -1)  # (T B, k H)
    return {"dX": (dA_rows @ W_x.T).reshape(X.shape),
            "dW_x": X.reshape(num_steps * batch_size, -1).T @ dA_rows,
            "dW_h": H_prev.reshape(num_steps * batch_size, -1).T @ dA_rows,
            "db": dA_rows.sum(axis=0), "dH0": dH, "dC0": dC}


@checked_by(_check_numerical_gradient)
def numerical_gradient(f, x, eps=1e-5):
    """df/dx by central differences, (f(x + eps) - f(x - eps)) / (2 eps)
    one entry at a time; ``x`` (float64) is changed in place and
    restored. The error is O(eps^2) plus round-off O(1e-16 / eps)."""
    grad = np.empty_like(x)
    for index in np.ndindex(x.shape):
        kept = x[index]
        x[index] = kept + eps
        above = f(x)
        x[index] = kept - eps
        below = f(x)
        x[index] = kept
        grad[index] = (above - below) / (2 * eps)
    return grad
