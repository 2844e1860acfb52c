"""Training throughput and peak memory of the book's recurrent layers.

    python benchmarks/lstm_throughput.py [--rounds 3] [--out FILE]

(what ``make bench`` runs). Each measurement is one fresh process: a
character language-model training step (one-hot inputs over 28 symbols,
35 steps, batch 32; forward, softmax cross-entropy, backward, SGD update)
repeated on the same batch, after three warm-up steps. It reports tokens
per second of wall time and of CPU time, and the peak memory the steps
add to the process (``ru_maxrss`` after the steps minus before them).

The layers, at H = 64 and 256:

- ``readable``: chapter 3's ``LSTMScratch``, one matrix pair per gate;
- ``fused``: ``LSTMFused``, one product for all gates (imperative);
- ``fast``: ``LSTMFast``, the fused cell hybridized into one static graph;
- ``manual_backward``: chapter 8's ``LSTMManual``, the whole sequence as
  one ``autograd.Function`` (NumPy forward, hand-derived backward);
- ``gluon``: MXNet's ``gluon.rnn.LSTM`` (one fused operator);
- ``pytorch``: PyTorch's ``torch.nn.LSTM`` on the same workload, one
  thread (``torch.set_num_threads(1)``): the layer a learner would pick
  instead (the optional ``bench`` extra; without it the table says
  "pytorch: not installed" and goes on);
- ``d2l_rnn``: d2l's ``RNNScratch``, the plain RNN of d2l.ai, as is.

The rounds are interleaved (every configuration once, then again), and
each figure is the median over rounds; ratios divide by ``gluon`` (and
by ``pytorch``) in the same setting. A second table runs ``fast`` and
``gluon`` under other thread and engine settings. Nothing here is a test:
the results depend on the machine and on what else runs on it (the load
average is recorded).
"""

import argparse
import importlib.util
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import machine  # benchmarks/machine.py, beside this script

VOCAB, NUM_STEPS, BATCH = 28, 35, 32
MODELS = ("readable", "fused", "fast", "manual_backward", "gluon",
          "pytorch", "d2l_rnn")
HIDDENS = (64, 256)
# Settings: environment variables for the worker. "book" is what the book
# runs with (lstm_tutorial pins one OpenMP thread; MXNet's default engine).
SETTINGS = {
    "book": {},
    "two_omp_threads": {"LSTM_TUTORIAL_THREADS": "2"},
    "naive_engine": {"MXNET_ENGINE_TYPE": "NaiveEngine"},
    "two_cpu_workers": {"MXNET_CPU_WORKER_NTHREADS": "2"},
}
SETTINGS_MODELS = ("fast", "gluon")
# README's names of the models (its table is ``readme_table``'s output).
LABELS = {"readable": "readable LSTM (`LSTMScratch`)",
          "fused": "fused LSTM, Python loop (`LSTMFused`)",
          "fast": "fused LSTM, fast path (`LSTMFast`)",
          "manual_backward": "hand-derived backward (`LSTMManual`)",
          "gluon": "`gluon.rnn.LSTM`",
          "pytorch": "PyTorch's `nn.LSTM`",
          "d2l_rnn": "d2l's scratch RNN (one gate's work)"}
RESULTS = Path(__file__).resolve().parent / "results" / "lstm_throughput.json"


def _peak_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB (Linux)


def _cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _torch_step(num_hiddens, lr=0.1):
    """PyTorch's nn.LSTM on the workload of ``measure``, one thread."""
    import lstm_tutorial  # noqa: F401  first: one OpenMP thread, as MXNet

    # isort: split
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    X = torch.nn.functional.one_hot(
        torch.randint(0, VOCAB, (NUM_STEPS, BATCH)), VOCAB).float()
    Y = torch.randint(0, VOCAB, (NUM_STEPS, BATCH))
    layer = torch.nn.LSTM(VOCAB, num_hiddens)
    head = torch.nn.Linear(num_hiddens, VOCAB)
    for name, p in [*layer.named_parameters(), *head.named_parameters()]:
        torch.nn.init.zeros_(p) if "bias" in name else torch.nn.init.normal_(
            p, 0, 0.01)  # gluon's Normal(0.01) weights and zero biases
    trainer = torch.optim.SGD([*layer.parameters(), *head.parameters()],
                              lr=lr)

    def step():
        trainer.zero_grad()
        logits = head(layer(X)[0])  # (T, B, V)
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, VOCAB), Y.reshape(-1))
        loss.backward()
        trainer.step()
        return loss.item()
    return step, lambda: None


def _mxnet_step(model, num_hiddens, lr=0.1):
    """One training step of an MXNet layer (or d2l's RNN) and a sync."""
    import lstm_tutorial  # noqa: F401  first: pins MXNet's threads

    # isort: split
    import mxnet as mx
    from mxnet import autograd, gluon, init, np, npx

    from lstm_tutorial import backprop, device, forget_gate
    npx.set_np()

    ctx = device.device()
    device.seed(0)
    X = npx.one_hot(np.random.randint(0, VOCAB, (NUM_STEPS, BATCH),
                                      ctx=ctx), VOCAB)
    Y = np.random.randint(0, VOCAB, (NUM_STEPS, BATCH), ctx=ctx)
    W_q = np.random.normal(0, 0.01, (num_hiddens, VOCAB), ctx=ctx)
    b_q = np.zeros(VOCAB, ctx=ctx)
    head = [W_q, b_q]

    if model == "d2l_rnn":
        import d2l.mxnet as d2l
        layer = d2l.RNNScratch(VOCAB, num_hiddens)
        params = [layer.W_xh, layer.W_hh, layer.b_h] + head
        for p in params:
            p.attach_grad()

        def run(X):
            outputs, _ = layer(X)
            return np.stack(outputs)

        def update():  # d2l's SGD: p -= lr * grad
            for p in params:
                p[:] = p - lr * p.grad
    else:
        if model == "gluon":
            layer = gluon.rnn.LSTM(num_hiddens, input_size=VOCAB)
        else:
            cls = {"readable": forget_gate.LSTMScratch,
                   "fused": forget_gate.LSTMFused,
                   "fast": forget_gate.LSTMFast,
                   "manual_backward": backprop.LSTMManual}[model]
            layer = cls(VOCAB, num_hiddens)
        layer.initialize(init.Normal(0.01), ctx=ctx)
        for p in head:
            p.attach_grad()
        trainer = gluon.Trainer(layer.collect_params(), "sgd",
                                {"learning_rate": lr})

        def run(X):  # gluon's layer returns outputs alone, ours a pair
            outputs = layer(X)
            return outputs if model == "gluon" else outputs[0]

        def update():
            trainer.step(1)
            for p in head:
                p[:] = p - lr * p.grad

    def step():
        with autograd.record():
            logits = np.dot(run(X), W_q) + b_q  # (T, B, V)
            loss = -npx.pick(npx.log_softmax(logits), Y).mean()
        loss.backward()
        update()
        return float(loss)
    return step, mx.nd.waitall


def measure(model, num_hiddens, min_seconds=2.0, min_steps=5):
    """One configuration in this process: a dict of figures."""
    step, sync = (_torch_step(num_hiddens) if model == "pytorch"
                  else _mxnet_step(model, num_hiddens))
    start_kib = _peak_kib()
    first_loss = step()
    for _ in range(2):
        step()
    sync()
    steps, wall, cpu = 0, time.perf_counter(), _cpu_seconds()
    while steps < min_steps or time.perf_counter() - wall < min_seconds:
        last_loss = step()
        steps += 1
    sync()  # the last update too (MXNet runs it asynchronously)
    wall, cpu = time.perf_counter() - wall, _cpu_seconds() - cpu
    tokens = steps * NUM_STEPS * BATCH
    assert last_loss < first_loss, (model, first_loss, last_loss)
    return {"model": model, "num_hiddens": num_hiddens, "steps": steps,
            "tokens_per_s": tokens / wall, "tokens_per_cpu_s": tokens / cpu,
            "peak_mib": round((_peak_kib() - start_kib) / 1024, 1)}


def _worker(model, num_hiddens, env, timeout=600):
    out = subprocess.run(
        [sys.executable, __file__, "--worker", model, str(num_hiddens)],
        env={**os.environ, **env}, capture_output=True, text=True,
        timeout=timeout)  # a hung worker stops the run, with its name
    if out.returncode:
        raise RuntimeError(f"{model} H={num_hiddens} {env}: {out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def torch_installed():
    """Whether PyTorch (the optional ``bench`` extra) can be imported."""
    return importlib.util.find_spec("torch") is not None


def _versions():
    code = ("import mxnet, numpy, d2l; print(mxnet.__version__, "
            "numpy.__version__, d2l.__version__)")
    mxnet, numpy, d2l = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        check=True).stdout.split()
    versions = {"mxnet": mxnet, "numpy": numpy, "d2l": d2l,
                "python": platform.python_version()}
    if torch_installed():
        versions["torch"] = subprocess.run(
            [sys.executable, "-c", "import torch; print(torch.__version__)"],
            capture_output=True, text=True, check=True).stdout.strip()
    return versions


def _median(runs, key):
    return statistics.median(r[key] for r in runs)


def plan(models=MODELS):
    """Every (setting, model, H) measured, in the order of one round."""
    keys = [("book", m, h) for h in HIDDENS for m in models]
    keys += [(s, m, h) for s in SETTINGS if s != "book"
             for h in HIDDENS for m in SETTINGS_MODELS]
    return keys


def _ratio(results, reference, key):
    if not reference:
        return None
    return round(_median(results, key) / _median(reference, key), 3)


def summarise(runs):
    """One row per configuration: medians over rounds, and the ratios to
    ``gluon`` and (in the book's setting, where it runs) ``pytorch``."""
    rows = []
    for (setting, model, h), results in runs.items():
        gluon = runs[(setting, "gluon", h)]
        torch = runs.get((setting, "pytorch", h))
        rows.append({
            "setting": setting, "model": model, "num_hiddens": h,
            "tokens_per_s": round(_median(results, "tokens_per_s")),
            "tokens_per_cpu_s": round(_median(results, "tokens_per_cpu_s")),
            "peak_mib": _median(results, "peak_mib"),
            "ratio_to_gluon": _ratio(results, gluon, "tokens_per_s"),
            "ratio_to_gluon_cpu": _ratio(results, gluon, "tokens_per_cpu_s"),
            "ratio_to_pytorch": _ratio(results, torch, "tokens_per_s"),
            "rounds": [round(x["tokens_per_s"]) for x in results]})
    return rows


def run_all(rounds, models=MODELS, worker=None):
    """``rounds`` interleaved rounds of ``plan(models)``; the rows."""
    worker = worker or _worker
    keys = plan(models)
    runs = {key: [] for key in keys}
    for r in range(rounds):
        for key in keys:
            runs[key].append(worker(key[1], key[2], SETTINGS[key[0]]))
            print(f"round {r + 1}/{rounds} {key}: "
                  f"{runs[key][-1]['tokens_per_s']:.0f} tokens/s",
                  flush=True)
    return summarise(runs)


def readme_table(record):
    """README's table: each model's throughput in the book's setting as a
    fraction of gluon's and of PyTorch's, at each H."""
    rows = {(r["model"], r["num_hiddens"]): r for r in record["results"]
            if r["setting"] == "book"}
    sizes = sorted({h for _, h in rows})

    def cell(ratio):
        return "-" if ratio is None else f"{ratio:.2f}"
    lines = ["| layer | " + " | ".join(
        [f"x gluon, H = {h}" for h in sizes]
        + [f"x PyTorch, H = {h}" for h in sizes]) + " |",
        "|---" * (1 + 2 * len(sizes)) + "|"]
    for model in MODELS:
        if (model, sizes[0]) in rows:
            lines.append(f"| {LABELS[model]} | " + " | ".join(
                [cell(rows[(model, h)]["ratio_to_gluon"]) for h in sizes]
                + [cell(rows[(model, h)].get("ratio_to_pytorch"))
                   for h in sizes]) + " |")
    return "\n".join(lines)


def _fmt(ratio):
    return f"{ratio:8.2f}" if ratio is not None else f"{'-':>8}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--worker", nargs=2, metavar=("MODEL", "H"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--readme", action="store_true",
                        help="print README's table from the results file "
                        "(--out) and stop")
    args = parser.parse_args(argv)
    if args.readme:
        print(readme_table(json.loads(args.out.read_text())))
        return 0
    if args.worker:
        print(json.dumps(measure(args.worker[0], int(args.worker[1]))))
        return 0
    models = MODELS
    if not torch_installed():
        print("pytorch: not installed (make bench installs the pinned "
              "`bench` extra); measuring the others", flush=True)
        models = tuple(m for m in MODELS if m != "pytorch")
    load_before = os.getloadavg()
    start = time.perf_counter()
    rows = run_all(args.rounds, models)
    record = {
        "benchmark": "lstm_throughput",
        "task": {"vocab": VOCAB, "num_steps": NUM_STEPS, "batch": BATCH,
                 "step": "forward, softmax cross-entropy, backward, SGD"},
        "settings": SETTINGS, "rounds": args.rounds,
        "versions": _versions(),
        "pytorch": "measured" if "pytorch" in models else "not installed",
        "machine": machine.describe(load_before),
        "seconds": round(time.perf_counter() - start),
        "results": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"\n{'setting':16} {'model':15} {'H':>4} {'tokens/s':>9} "
          f"{'x gluon':>8} {'x (cpu)':>8} {'x torch':>8} {'peak MiB':>9}")
    for row in rows:
        print(f"{row['setting']:16} {row['model']:15} {row['num_hiddens']:4}"
              f" {row['tokens_per_s']:9} {_fmt(row['ratio_to_gluon'])} "
              f"{_fmt(row['ratio_to_gluon_cpu'])} "
              f"{_fmt(row['ratio_to_pytorch'])} {row['peak_mib']:9}")
    if "pytorch" not in models:
        print("pytorch: not installed")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
