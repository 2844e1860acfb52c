"""The book's one training loop, gradient clipping, perplexity, sampling.

Chapter 1 introduces it; every chapter trains through ``fit``, the one
recipe (an optimiser, global-norm clipping, evaluation every so many
steps, an optional stop), which builds the ``gluon.Trainer`` and runs
``train``. A
task supplies an *objective*: a callable ``objective(net, batch)`` that
returns a scalar loss (it may carry recurrent state between calls, as the
language model does with sequential partitioning). ``train`` records the
loss and the gradient norm before clipping at every step in a ``History``
that notebook cells can assert on, and stops at the first non-finite loss
or gradient (recorded as ``History.diverged_at``).

Global-norm clipping (Pascanu et al. 2013): with ``g`` all gradients
stacked, ``g <- g * min(1, theta / ||g||)``. MXNet's
``gluon.utils.clip_global_norm`` is broken in numpy mode,
so the book has its own (MXNet 1.9.1). Checked by
``tests/test_training.py``.
"""

import math
import numbers
import re

import mxnet as mx
import numpy as onp
from mxnet import autograd, gluon, np, npx

from . import device as _device
from .layers import check_count
from .source import checked_by


def _grads(params):
    return [p.grad(p.list_ctx()[0]) for p in params.values()
            if p.grad_req != "null"]


def grad_norm(params):
    """Global L2 norm of all gradients of a ``ParameterDict``."""
    grads = _grads(params)
    if not grads:
        raise ValueError("params has no parameter with a gradient")
    return math.sqrt(sum(float((g * g).sum()) for g in grads))


def _is_real(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _check_positive(name, value, allow_none=False):
    """``value`` is a positive finite real number (or None if allowed)."""
    if allow_none and value is None:
        return
    if not (_is_real(value) and math.isfinite(value) and value > 0):
        expected = "positive number" + (" or None" if allow_none else "")
        raise ValueError(f"{name} must be a {expected}, got {value!r}")


def _safe_exp(x):
    """exp(x), or inf where it overflows (a diverged model's perplexity)."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _check_theta(params, theta):
    _check_positive("theta", theta, allow_none=True)


@checked_by(_check_theta)
def clip_gradients(params, theta):
    """Scale gradients so their global norm is at most ``theta``.

    ``theta=None`` leaves them as they are. Returns the norm before
    clipping.
    """
    norm = grad_norm(params)
    if theta is not None and norm > theta and math.isfinite(norm):
        for g in _grads(params):
            g *= theta / norm
    return norm


class History:
    """Rows of named values (``step``, ``loss``, ``grad_norm``, ...)."""

    def __init__(self):
        self.rows = []
        self.diverged_at = None

    def add(self, **values):
        self.rows.append(values)

    def __getitem__(self, key):
        return [row[key] for row in self.rows if key in row]

    def __contains__(self, key):
        return any(key in row for row in self.rows)

    def at(self, key, x="step"):
        """``(xs, values)`` of the rows that hold ``key``."""
        rows = [row for row in self.rows if key in row]
        return [row[x] for row in rows], [row[key] for row in rows]

    def last(self, key):
        values = self[key]
        if not values:
            raise KeyError(f"no row holds {key!r}")
        return values[-1]

    def first_step(self, key, threshold, x="step"):
        """The first ``x`` at which ``key`` reached ``threshold`` (or None)."""
        xs, values = self.at(key, x)
        return next((s for s, v in zip(xs, values) if v >= threshold), None)


def _scalar_loss(objective):
    """``objective``, with what it returns checked: one number to minimise.

    A loss of one value per example would backpropagate (MXNet sums it)
    and then fail on ``float(loss)``; a number without a graph would fail
    on ``backward``. Both are refused before the backward pass.
    """
    def checked(net, batch):
        loss = objective(net, batch)
        if not isinstance(loss, np.ndarray):
            raise TypeError(
                f"objective must return an mxnet.np array (the loss, "
                f"computed under autograd.record()), got "
                f"{type(loss).__name__}")
        if loss.size != 1:
            raise ValueError(
                f"objective must return a scalar loss (the mean over the "
                f"batch: did it forget .mean()?), got shape {loss.shape}")
        return loss
    return checked


def _check_train(net, batches, objective, trainer, theta=1.0,
                 evaluate=None, eval_every=None, *args, **kwargs):
    _check_positive("theta", theta, allow_none=True)
    if evaluate is not None and eval_every is not None:
        check_count("eval_every", eval_every)
    if not callable(objective):
        raise TypeError(f"objective must be a callable objective(net, "
                        f"batch), got {type(objective).__name__}")
    return {"objective": _scalar_loss(objective)}


@checked_by(_check_train)
def train(net, batches, objective, trainer, theta=1.0, evaluate=None,
          eval_every=None, history=None, stop_on_divergence=True):
    """Run one optimiser step per batch; return the ``History``.

    ``evaluate(net)`` returns a dict of metrics, recorded every
    ``eval_every`` steps and after the last one.
    """
    history = history if history is not None else History()
    params = net.collect_params()
    step = history.last("step") if "step" in history else 0
    first = step
    for batch in batches:
        step += 1
        with autograd.record():
            loss = objective(net, batch)
        loss.backward()
        norm = clip_gradients(params, theta)
        loss = float(loss)
        history.add(step=step, loss=loss, grad_norm=norm)
        if not (math.isfinite(loss) and math.isfinite(norm)):
            history.diverged_at = history.diverged_at or step
            if stop_on_divergence:
                return history
        trainer.step(1)
        if evaluate is not None and eval_every and step % eval_every == 0:
            history.add(step=step, **evaluate(net))
    if evaluate is not None and step > first and (
            not eval_every or step % eval_every):
        history.add(step=step, **evaluate(net))
    return history


def fit(net, batches, objective, lr, theta=1.0, optimizer="adam",
        evaluate=None, eval_every=None, history=None, stop=None):
    """The book's training recipe: ``optimizer`` at ``lr`` through ``train``.

    ``stop(history)``, if given, is asked before each batch; training ends
    when it returns True (a live run that stops at a target accuracy).
    """
    trainer = make_trainer(net, lr, optimizer)
    history = history if history is not None else History()
    if stop is not None:
        batches = _until(batches, lambda: stop(history))
    return train(net, batches, objective, trainer, theta, evaluate,
                 eval_every, history)


def make_trainer(net, lr, optimizer="adam"):
    """A ``gluon.Trainer`` over all of ``net``'s parameters."""
    _check_positive("lr", lr)
    known = sorted(mx.optimizer.Optimizer.opt_registry)
    if not isinstance(optimizer, str) or optimizer.lower() not in known:
        raise ValueError(f"optimizer must be one of MXNet's optimizers "
                         f"({', '.join(known)}), got {optimizer!r}")
    return gluon.Trainer(net.collect_params(), optimizer,
                         {"learning_rate": lr})


def _until(batches, done):
    for batch in batches:
        if done():
            return
        yield batch


def cross_entropy(logits, labels):
    """Mean softmax cross-entropy; ``logits`` (..., V), ``labels`` (...)."""
    return -npx.pick(npx.log_softmax(logits), labels).mean()


class LanguageModelObjective:
    """Next-token cross-entropy for ``net(X, state) -> (logits, state)``.

    ``X`` is (batch_size, num_steps); the logits are (num_steps,
    batch_size, vocab_size). With ``carry_state`` (sequential
    partitioning) the state flows from one batch to the next, detached so
    that backpropagation stops at the batch boundary (truncated BPTT).
    """

    def __init__(self, carry_state=True):
        self.carry_state = carry_state
        self.state = None

    def reset(self):
        self.state = None

    def __call__(self, net, batch):
        X, Y = batch
        if self.state is None or not self.carry_state:
            self.state = net.begin_state(X.shape[0], X.ctx)
        else:
            self.state = tuple(s.detach() for s in self.state)
        logits, self.state = net(X, self.state)
        return cross_entropy(logits, Y.T)


def perplexity(net, data_iter):
    """exp(mean next-token cross-entropy), state carried across batches."""
    total, count, state = 0.0, 0, None
    for X, Y in data_iter:
        if state is None:
            state = net.begin_state(X.shape[0], X.ctx)
        logits, state = net(X, state)
        total += float(cross_entropy(logits, Y.T)) * Y.size
        count += Y.size
    if count == 0:
        raise ValueError("data_iter yielded no batch")
    return _safe_exp(total / count)


def train_language_model(net, train_iter, val_iter, num_epochs, lr,
                         theta=1.0, optimizer="adam"):
    """Train a character LM; one row per epoch with train and val ppl."""
    check_count("num_epochs", num_epochs)
    _check_positive("theta", theta, allow_none=True)
    trainer = make_trainer(net, lr, optimizer)
    objective = LanguageModelObjective(
        getattr(train_iter, "sequential", True))
    history = History()
    for epoch in range(1, num_epochs + 1):
        objective.reset()
        start = len(history["loss"])
        train(net, train_iter, objective, trainer, theta, history=history)
        losses = history["loss"][start:]
        if not losses:
            raise ValueError("train_iter yielded no batch")
        if history.diverged_at:
            break
        history.add(step=history.last("step"), epoch=epoch,
                    train_ppl=_safe_exp(sum(losses) / len(losses)),
                    val_ppl=perplexity(net, val_iter))
    return history


def _check_prefix(prefix, num_preds, net, vocab, ctx=None):
    check_count("num_preds", num_preds, low=0)
    if not isinstance(prefix, str) or not prefix:
        raise ValueError(f"prefix must hold at least one character (a "
                         f"str), got {prefix!r}")
    unknown = sorted({c for c in prefix if c not in vocab.token_to_idx})
    if unknown:
        raise ValueError(f"prefix has characters not in the vocabulary: "
                         f"{unknown}")
    check_finite_weights("net", net)


def check_finite_weights(name, net):
    """Refuse a net whose weights hold NaN or inf (training diverged):
    its logits are NaN and argmax would answer token 0 without a word."""
    for key, p in net.collect_params().items():
        values = p.data(p.list_ctx()[0]).asnumpy()
        bad = int((~onp.isfinite(values)).sum())
        if bad:
            raise ValueError(
                f"{name} has weights that are not finite "
                f"({re.split(r'[0-9]_', key)[-1]}: {bad} of "
                f"{values.size} are NaN or inf): training diverged; train "
                "it again with a smaller lr or theta")


@checked_by(_check_prefix)
def predict(prefix, num_preds, net, vocab, ctx=None):
    """Continue ``prefix`` by ``num_preds`` characters, greedily."""
    ctx = ctx if ctx is not None else _device.device()
    state = net.begin_state(1, ctx)
    outputs = [vocab[prefix[0]]]
    for i in range(len(prefix) + num_preds - 1):
        X = np.array([[outputs[-1]]], ctx=ctx, dtype="int32")
        logits, state = net(X, state)
        if i + 1 < len(prefix):
            outputs.append(vocab[prefix[i + 1]])
        else:
            outputs.append(int(logits.reshape(-1).argmax()))
    return "".join(vocab.to_tokens(outputs))
