"""lstm_tutorial/device.py: one device function, clear errors, seeding."""

import mxnet as mx
import numpy as onp
import pytest
from mxnet import np

from lstm_tutorial import device


def test_cpu_by_name_and_by_variable(monkeypatch):
    assert device.device("cpu") == mx.cpu()
    assert device.device(" CPU ") == mx.cpu()
    monkeypatch.setenv(device.ENV_VAR, "cpu")
    assert device.device() == mx.cpu()


def test_auto_is_cpu_without_gpu(monkeypatch):
    monkeypatch.delenv(device.ENV_VAR, raising=False)
    monkeypatch.setattr(device, "num_gpus", lambda: 0)
    assert device.device() == mx.cpu()
    assert device.device("auto") == mx.cpu()


def test_auto_prefers_a_gpu(monkeypatch):
    monkeypatch.delenv(device.ENV_VAR, raising=False)
    monkeypatch.setattr(device, "num_gpus", lambda: 1)
    assert device.device() == mx.gpu(0)


def test_gpu_without_gpu_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(device, "num_gpus", lambda: 0)
    monkeypatch.setenv(device.ENV_VAR, "gpu")
    with pytest.raises(ValueError, match="LSTM_TUTORIAL_DEVICE.*no GPU"):
        device.device()


@pytest.mark.parametrize("name", ["tpu", "cuda:0", "gpu1"])
def test_unknown_device_names_the_choices(name):
    with pytest.raises(ValueError, match="expected one of auto, cpu, gpu"):
        device.device(name)


def test_unknown_variable_value_names_the_variable(monkeypatch):
    monkeypatch.setenv(device.ENV_VAR, "fast")
    with pytest.raises(ValueError, match=r"\$LSTM_TUTORIAL_DEVICE 'fast'"):
        device.device()


def test_non_string_device():
    with pytest.raises(TypeError, match="must be a string"):
        device.device(0)


def test_check_context(other_ctx):
    x = np.ones(3)
    device.check_context("x", x, mx.cpu())
    with pytest.raises(ValueError, match=r"x is on cpu\(0\).*cpu\(1\)"):
        device.check_context("x", x, other_ctx)


def test_seed_reproduces_every_generator():
    def draw():
        return (onp.random.rand(), float(np.random.uniform(size=1)[0]))

    device.seed(3)
    first = draw()
    device.seed(3)
    assert draw() == first
    device.seed(4)
    assert draw() != first


@pytest.mark.parametrize("bad", [-1, 1.5, "0"])
def test_bad_seed(bad):
    with pytest.raises(ValueError, match="seed"):
        device.seed(bad)


def test_a_gpu_that_is_not_there_is_named_at_initialize():
    from lstm_tutorial import rnn

    missing = mx.gpu(device.num_gpus())  # one past the last GPU MXNet sees
    layer = rnn.RNNScratch(4, 3)
    with pytest.raises(ValueError, match=r"ctx is gpu\(\d\) but MXNet sees "
                                         r"\d GPU\(s\): use ctx=device"):
        layer.initialize(ctx=missing)
    with pytest.raises(ValueError, match="but MXNet sees"):
        layer.initialize(ctx=[mx.cpu(), missing])
    layer.initialize(ctx=mx.cpu())  # and a context that is there works
    assert layer.context() == mx.cpu()
