"""Chapter 7's tasks: the ablation's two tasks, and what cells learn.

The ablation trains each variant and the GRU on two tasks. Chapter 2's
temporal order is made shorter so that 9 models x 3 seeds fit in
minutes: lengths 50-55 instead of 100-110, 300 steps. Chapter 3's
continual embedded Reber grammar keeps chapter 3's configuration and
budget (``REBER_RUN``); it trains the variants on the fast path
(``variants.VariantFast``). The cells part
trains chapter 3's LSTM as a character model of *The Time Machine* with
its punctuation, line breaks and capitals lower-cased (chapter 1's
pipeline keeps only letters and spaces), and correlates each unit's cell
state with two properties of the text. This module holds the tasks, the
text's properties and the measurements (no model, no training run: those
are in ``variants``). Checked by ``tests/test_variants.py``.
"""

import html

import numpy as onp

from . import data, lstm_tasks
from . import forget_gate_tasks as reber

# Temporal order at half the paper's length: the X/Y windows halved too.
ORDER = {"lengths": (50, 55), "first": (5, 10), "second": (25, 30)}
ORDER_RUN = {"num_hiddens": 16, "num_steps": 300, "batch_size": 32,
             "lr": 1e-2, "theta": 1.0, "sigma": 0.1, "forget_bias": 1.0,
             "input_gate_bias": -2.0}
# Exercise 3: the same with chapter 3's large forget bias.
ORDER_RUN_BIAS = {**ORDER_RUN, "forget_bias": 5.0}
# Chapter 3's Reber stream with its configuration and budget of chunks.
REBER_RUN = {**reber.CERG, "num_chunks": reber.CERG["budget"],
             "eval_every": 100}
CELLS = {"num_hiddens": 128, "num_steps": 100, "batch_size": 32,
         "num_epochs": 30, "lr": 1e-2, "passage": 20_000}
PROPERTIES = ("line_position", "inside_quotes")


def order_test_set(ctx, size=512, seed=1997):
    """Fixed test sequences of the shortened task."""
    rng = onp.random.RandomState(seed)
    return lstm_tasks.to_batch(
        *lstm_tasks.temporal_order(size, rng, **ORDER), ctx)


# What cells learn.

def raw_text():
    """The book lower-cased, with punctuation and line breaks kept."""
    return data.read_time_machine().lower()


def properties(text):
    """Per character: position in its line, and inside single quotes.

    The book marks speech with ``'``, which is also the apostrophe: a
    quote opens or closes at a ``'`` not between two letters (so
    "traveller's" does not count), and every blank line closes it.
    """
    position = onp.zeros(len(text), dtype=onp.float32)
    quoted = onp.zeros(len(text), dtype=onp.float32)
    column, inside = 0, False
    for t, char in enumerate(text):
        column = 0 if char == "\n" else column + 1
        if char == "\n" and text[t - 1:t] == "\n":
            inside = False
        elif char == "'" and not (text[t - 1:t].isalpha()
                                  and text[t + 1:t + 2].isalpha()):
            inside = not inside
        position[t], quoted[t] = column, inside
    return {"line_position": position, "inside_quotes": quoted}


def correlations(states, values):
    """Pearson r of each unit of ``states`` (n, H) with ``values`` (n,)."""
    S = states - states.mean(axis=0)
    v = values - values.mean()
    norm = onp.sqrt((S ** 2).sum(axis=0) * (v ** 2).sum()) + 1e-12
    return (S * v[:, None]).sum(axis=0) / norm


BLUE, RED = "67,147,195", "214,96,77"  # below and above zero


def coloured_text(text, values, label="value", alt=None):
    """HTML: each character on a background, blue < 0 < red (Karpathy),
    and under it the colour key from -max|values| to +max|values|."""
    if len(text) != len(values):
        raise ValueError(f"text has {len(text)} characters but values has "
                         f"{len(values)}")
    scale = max(float(onp.abs(values).max()), 1e-12)
    spans = []
    for char, value in zip(text, values):
        a = min(abs(float(value)) / scale, 1.0)
        rgb = RED if value > 0 else BLUE
        shown = html.escape(char) if char != "\n" else "&#8629;\n"
        spans.append(f'<span style="background:rgba({rgb},{a:.2f})">'
                     f"{shown}</span>")
    bar = (f"linear-gradient(to right, rgb({BLUE}), rgba({BLUE},0) 50%, "
           f"rgba({RED},0) 50%, rgb({RED}))")
    key = ('<div style="display:flex;flex-wrap:wrap;align-items:center;'
           'gap:0.4em;margin-top:0.8em;font-size:0.85em">'
           f"<span>{-scale:.2f}</span>"
           '<span style="display:inline-block;width:10em;height:0.9em;'
           f'border:1px solid #999;background:{bar}"></span>'
           f"<span>+{scale:.2f}</span>"
           f"<span>{html.escape(label)}</span></div>")
    described = f' role="img" aria-label="{html.escape(alt)}"' if alt else ""
    return (f'<div class="coloured-text" style="text-align:left"'
            f"{described}>"
            '<div style="font-family:monospace;white-space:pre-wrap;'
            'line-height:1.5;font-size:0.9em">' + "".join(spans)
            + "</div>" + key + "</div>")
