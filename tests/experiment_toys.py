"""Toy experiments for tests/test_experiments.py (not a test file).

Module-level, so that the command's worker processes can import them.
"""

import os
import time
from pathlib import Path


def toy(seed):
    return {"accuracy": 0.5 + seed / 10, "pid": os.getpid()}


def other(seed):
    return {"loss": 2.0 - seed, "pid": os.getpid()}


def counted(seed):
    """Leaves a mark in $TOY_MARKS for each run, so tests count them."""
    Path(os.environ["TOY_MARKS"], f"{seed}.{time.time_ns()}").touch()
    return {"seed": seed}


def flaky(seed):
    """Seed 2 fails at once, while seed 0 is still computing."""
    if seed == 2:
        raise RuntimeError("seed 2 fails")
    if seed == 0:
        time.sleep(3)
    return {"seed": seed}


def sleepy(seed):
    """Writes its pid to $TOY_MARKS/pid_SEED, then computes for a minute."""
    Path(os.environ["TOY_MARKS"], f"pid_{seed}").write_text(str(os.getpid()))
    time.sleep(60)
    return {"seed": seed}


def bulky(seed):
    """A result of about 40 kB."""
    return {"values": list(range(8000))}


def quick_then_sleepy(seed):
    """Seed 0 is done at once; every later seed computes for a minute."""
    if seed:
        sleepy(seed)
    return {"seed": seed}


def trained(seed):
    """A small LSTM trained for a few Adam steps: numbers that depend on
    the seed, MXNet's kernels and the thread count, as a real run's do."""
    import mxnet as mx
    from mxnet import autograd, gluon, np, npx

    import lstm_tutorial  # noqa: F401  (one thread, before MXNet runs)

    npx.set_np()
    mx.random.seed(seed)
    net = gluon.nn.Sequential()
    net.add(gluon.rnn.LSTM(8, layout="NTC"), gluon.nn.Dense(1, flatten=True))
    net.initialize(mx.init.Normal(0.1))
    trainer = gluon.Trainer(net.collect_params(), "adam",
                            {"learning_rate": 0.01})
    X = np.random.normal(size=(16, 10, 3))
    Y = X.sum(axis=(1, 2))[:, None]
    losses = []
    for _ in range(20):
        with autograd.record():
            loss = ((net(X) - Y) ** 2).mean()
        loss.backward()
        trainer.step(1)
        losses.append(float(loss))
    return {"losses": losses, "pid": os.getpid()}
