"""What a learner's careless input gets: the cases of README's table.

Each case is something a learner might type, and what the package answers:
a ``ValueError`` or ``TypeError`` (``FileNotFoundError``,
``PermissionError`` for files) whose message names the argument, says what
was expected and what was given, never a silent wrong answer or a raw
MXNet trace. ``tests/test_bad_input.py`` runs every case and keeps README's
table ("What bad input gets") equal to ``python tests/bad_input.py``.
"""

import math
import os
import sys
import tempfile
from pathlib import Path

BEGIN = "<!-- bad input: begin (python tests/bad_input.py) -->"
END = "<!-- bad input: end -->"
FOLDER = "<folder>"  # temporary folders, in place of their machine path


def _cases(tmp):
    import mxnet as mx
    import numpy as onp
    from mxnet import np, npx

    from lstm_tutorial import (
        attention,
        cnn_lstm,
        data,
        device,
        experiments,
        forget_gate,
        image_attention,
        image_attention_tasks,
        lstm,
        rnn,
        training,
    )

    layer = rnn.RNNScratch(4, 3)
    layer.initialize(ctx=mx.cpu())
    X = np.zeros((2, 1, 4))
    corpus = onp.tile(onp.arange(5), 40)
    loader = data.SeqDataLoader(corpus, 2, 5)
    lm = rnn.RNNLMScratch(rnn.RNNScratch(5, 3), 5)
    lm.initialize(ctx=mx.cpu())
    vocab = data.Vocab(list("abcd"))
    diverged = rnn.RNNLMScratch(rnn.RNNScratch(5, 3), 5)
    diverged.initialize(ctx=mx.cpu())
    diverged.W_hq.set_data(np.full(diverged.W_hq.shape, math.nan))
    batches = [(np.zeros((2, 5), dtype="int32"),) * 2]

    def per_example(net, batch):  # forgets .mean()
        logits, _ = net(batch[0])
        return -npx.pick(npx.log_softmax(logits), batch[1].T)

    seq2seq = attention.seq2seq("additive", 0, ctx=mx.cpu())
    tokens = np.zeros((2, 5), dtype="int32")
    forecaster = cnn_lstm.forecaster("cnn_lstm", 0, ctx=mx.cpu())
    reader = image_attention.reader("attention", 0, ctx=mx.cpu())
    digits = (onp.zeros((3, 8, 8), onp.float32), onp.arange(3))
    (tmp / "results.json").write_text("{}")
    empty = tmp / "empty"
    empty.mkdir()
    corrupt = tmp / "corrupt"
    corrupt.mkdir()
    (corrupt / data.TIMEMACHINE).write_text("not the book")

    def with_data(folder, call):
        def run():
            old = os.environ.get(data.DATA_ENV_VAR)
            os.environ[data.DATA_ENV_VAR] = str(folder)
            try:
                return call()
            finally:
                if old is None:
                    del os.environ[data.DATA_ENV_VAR]
                else:
                    os.environ[data.DATA_ENV_VAR] = old
        return run

    return [
        ("layers", "a size of True", "num_hiddens",
         lambda: rnn.RNNScratch(4, True)),
        ("layers", "a size of 0", "num_inputs",
         lambda: rnn.RNNScratch(0, 3)),
        ("layers", "a sigma of -1", "sigma",
         lambda: rnn.RNNScratch(4, 3, sigma=-1)),
        ("layers", "a forget_bias of nan", "forget_bias",
         lambda: forget_gate.LSTMScratch(4, 3, forget_bias=math.nan)),
        ("layers", "an input_gate_bias of inf", "input_gate_bias",
         lambda: lstm.LSTM1997Fused(4, 3, input_gate_bias=math.inf)),
        ("layers", "a NumPy array as input", "inputs",
         lambda: layer(onp.zeros((2, 1, 4), "float32"))),
        ("layers", "a legacy mx.nd array as input", "inputs",
         lambda: layer(mx.nd.zeros((2, 1, 4)))),
        ("layers", "float64 input", "inputs",
         lambda: layer(np.zeros((2, 1, 4), dtype="float64"))),
        ("layers", "inputs of the wrong width", "inputs",
         lambda: layer(np.zeros((2, 1, 5)))),
        ("layers", "a bare array as the state", "state",
         lambda: layer(X, np.zeros((1, 3)))),
        ("layers", "a state of the wrong batch size", "state H",
         lambda: layer(X, (np.zeros((2, 3)),))),
        ("models", "token 7 with a vocabulary of 5", "X",
         lambda: lm(np.full((2, 5), 7, dtype="int32"))),
        ("models", "token -1", "X",
         lambda: lm(np.full((2, 5), -1, dtype="int32"))),
        ("models", "token 1.7", "X", lambda: lm(np.full((2, 5), 1.7))),
        ("models", "a seq2seq source token outside its vocabulary", "X",
         lambda: seq2seq(tokens + 100, tokens)),
        ("models", "AdditiveAttention(0, 4, 4)", "query_size",
         lambda: attention.AdditiveAttention(0, 4, 4)),
        ("models", "AdditiveAttention(4, -2, 4)", "key_size",
         lambda: attention.AdditiveAttention(4, -2, 4)),
        ("models", "AdditiveAttention(4, 4, 2.5)", "num_hiddens",
         lambda: attention.AdditiveAttention(4, 4, 2.5)),
        ("models", "a CNN-LSTM window shorter than its front needs",
         "window", lambda: forecaster(np.zeros((2, 3)))),
        ("models", "a strip too narrow for its digits", "width",
         lambda: image_attention_tasks.strips(
             *digits, [4], onp.random.RandomState(0), width=20)),
        ("models", "an 8-row image for the strip reader", "X",
         lambda: reader.predict(np.zeros((2, 1, 8, 40)), 3)),
        ("devices", "an unknown device name", "device name",
         lambda: device.device("tpu")),
        ("devices", "initialize on a GPU that is not there", "ctx",
         lambda: rnn.RNNScratch(4, 3).initialize(
             ctx=mx.gpu(device.num_gpus()))),
        ("training", "a learning rate of nan", "lr",
         lambda: training.fit(layer, [], None, math.nan)),
        ("training", "a negative learning rate", "lr",
         lambda: training.fit(layer, [], None, -0.05)),
        ("training", "theta given as a string", "theta",
         lambda: training.fit(layer, [], None, 0.1, theta="1")),
        ("training", "an unknown optimizer", "optimizer",
         lambda: training.fit(layer, [], None, 0.1, optimizer="adamw2")),
        ("training", "an objective that forgets .mean()", "objective",
         lambda: training.fit(lm, batches, per_example, 0.1)),
        ("training", "1.5 epochs", "num_epochs",
         lambda: training.train_language_model(lm, loader, loader, 1.5,
                                               0.1)),
        ("training", "an empty training set", "train_iter",
         lambda: training.train_language_model(lm, [], loader, 1, 0.1)),
        ("training", "a negative number of characters to predict",
         "num_preds", lambda: training.predict("ab", -2, lm, vocab)),
        ("training", "a prefix with unknown characters", "prefix",
         lambda: training.predict("az", 3, lm, vocab)),
        ("training", "predicting with NaN weights", "net",
         lambda: training.predict("ab", 3, diverged, vocab)),
        ("data", "a corpus of characters", "corpus",
         lambda: data.SeqDataLoader(list("the time machine" * 10), 2, 5)),
        ("data", "token indices of 2**40 + 7", "corpus",
         lambda: data.SeqDataLoader([2 ** 40 + 7] * 100, 2, 5)),
        ("data", "a corpus too short for one batch", "corpus",
         lambda: data.SeqDataLoader(onp.arange(15), 2, 5)),
        ("data", "LSTM_TUTORIAL_DATA without the text", "LSTM_TUTORIAL_DATA",
         with_data(empty, data.read_time_machine)),
        ("data", "a corrupt copy of the text", "sha1",
         with_data(corrupt, data.read_time_machine)),
        ("experiments", "a negative seed", "seeds",
         lambda: experiments.run_experiment("cerg", [0, -1], out=tmp)),
        ("experiments", "--out naming a file", "--out",
         lambda: experiments.run_experiment(
             "cerg", [0], out=tmp / "results.json")),
        ("experiments", "an unknown experiment", "experiment",
         lambda: experiments.run_experiment("cergs", [0], out=tmp)),
    ]


def answers():
    """``(area, case, argument, exception, message)`` for every case; a
    case that raises nothing has exception ``None``."""
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        rows = []
        for area, case, argument, call in _cases(tmp):
            try:
                call()
            except Exception as exc:  # noqa: BLE001  (what it raises is the point)
                message = str(exc).split("\n")[0].replace(str(tmp), FOLDER)
                rows.append((area, case, argument, type(exc), message))
            else:
                rows.append((area, case, argument, None, ""))
        return rows


CLEAR = (ValueError, TypeError, FileNotFoundError, PermissionError)


def problems(rows):
    """The cases that get no clear answer: nothing raised, another kind of
    exception (MXNet's, an AttributeError, a KeyError ...), or a message
    that does not name the argument."""
    found = []
    for area, case, argument, exc, message in rows:
        if exc is None:
            found.append(f"{area}: {case}: nothing raised")
        elif not issubclass(exc, CLEAR):
            found.append(f"{area}: {case}: {exc.__name__}: {message}")
        elif argument not in message:
            found.append(f"{area}: {case}: the message does not name "
                         f"{argument!r}: {message}")
    return found


def table(rows=None):
    """README's Markdown table of the cases (the number of GPUs, which
    differs from machine to machine, as N)."""
    import re

    rows = answers() if rows is None else rows
    lines = ["| what the learner did | what they get |", "|---|---|"]
    for area, case, _, exc, message in rows:
        name = exc.__name__ if exc else "nothing"
        message = re.sub(r"gpu\(\d+\) but MXNet sees \d+",
                         "gpu(N) but MXNet sees N", message)
        text = message.replace("|", "\\|")
        lines.append(f"| {area}: {case} | `{name}`: {text} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    print(f"{BEGIN}\n{table()}\n{END}")
