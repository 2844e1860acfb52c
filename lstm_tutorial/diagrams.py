"""Diagrams of the networks, drawn by code in one house style.

Layers (a weight matrix and a nonlinearity) are boxes, pointwise operations
are circles, data flows along arrows, and the LSTM's cell state is the thick
line running through the top of the cell. Every function returns the
matplotlib figure; chapters call them in a hidden-input figure cell. The
cells themselves, step by step, are drawn by ``cell_diagrams`` with these
primitives. Checked by ``tests/test_diagrams.py``.
"""

from matplotlib import patches
from matplotlib import pyplot as plt

from .plotting import COLORS

LAYER = "#FCE8C3"    # boxes: learned layers
POINTWISE = "#D7ECF7"  # circles: pointwise operations
STATE = COLORS[0]      # the recurrent state lines


def canvas(width, height, scale=0.75):
    """An empty figure with data coordinates 0..width x 0..height."""
    fig, ax = plt.subplots(figsize=(width * scale, height * scale))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def box(ax, x, y, text, width=0.9, height=0.6):
    """A layer centred at (x, y)."""
    ax.add_patch(patches.FancyBboxPatch(
        (x - width / 2, y - height / 2), width, height,
        boxstyle="round,pad=0.05", fc=LAYER, ec="black", lw=1, zorder=3))
    ax.text(x, y, text, ha="center", va="center", zorder=4)


def circle(ax, x, y, text, radius=0.28):
    """A pointwise operation centred at (x, y)."""
    ax.add_patch(patches.Circle((x, y), radius, fc=POINTWISE, ec="black",
                                lw=1, zorder=3))
    ax.text(x, y, text, ha="center", va="center", zorder=4)


def arrow(ax, start, end, color="black", lw=1.2):
    """An arrow from ``start`` to ``end`` (points as (x, y))."""
    ax.annotate("", xy=end, xytext=start, zorder=2,
                arrowprops={"arrowstyle": "-|>", "color": color, "lw": lw,
                            "shrinkA": 0, "shrinkB": 0})


def line(ax, points, color="black", lw=1.2):
    """A polyline through ``points`` (no arrow head)."""
    xs, ys = zip(*points)
    ax.plot(xs, ys, color=color, lw=lw, zorder=2, solid_capstyle="round")


def label(ax, x, y, text, **kwargs):
    ax.text(x, y, text, ha="center", va="center", **kwargs)


def unrolled_rnn(num_steps=4):
    """The RNN unrolled in time: one hidden layer repeated at every step."""
    width = 2.2 * num_steps + 1.6
    fig, ax = canvas(width, 4.6)
    label(ax, 0.35, 2.2, r"$H_0$", color=STATE)
    previous = (0.65, 2.2)
    for t in range(1, num_steps + 1):
        x = 2.2 * t - 0.2
        box(ax, x, 2.2, r"$\tanh$")
        box(ax, x, 3.7, r"$W_{hq}$", width=0.8)
        label(ax, x, 0.3, rf"$X_{t}$")
        label(ax, x + 0.65, 4.3, rf"$O_{t}$")
        arrow(ax, (x, 0.55), (x, 1.85))
        arrow(ax, (x, 2.55), (x, 3.35), color=STATE)
        arrow(ax, previous, (x - 0.5, 2.2), color=STATE, lw=2)
        if t > 1:
            label(ax, x - 1.1, 2.45, rf"$H_{t - 1}$", color=STATE)
        previous = (x + 0.5, 2.2)
    arrow(ax, previous, (width - 0.2, 2.2), color=STATE, lw=2)
    label(ax, width - 0.55, 2.5, rf"$H_{num_steps}$", color=STATE)
    return fig


BACKWARD = COLORS[1]  # the backward chain of a bidirectional layer


def _check_num_steps(num_steps):
    if not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f"num_steps must be a positive int, got "
                         f"{num_steps!r}")


# The symbols of book/notation.md, as the figures write them (mathtext):
# tests/test_notation.py checks that every label is one of the page's.
FORWARD_LSTM = r"$\overrightarrow{\operatorname{LSTM}}$"
BACKWARD_LSTM = r"$\overleftarrow{\operatorname{LSTM}}$"


def _sub(symbol, index):
    """``symbol`` with subscript ``index``: ``\\mathbf{h}_{3}``."""
    return rf"${symbol}_{{{index}}}$"


def bidirectional_chain(num_steps=4):
    """A bidirectional layer: a forward and a backward chain, concatenated.

    Every input feeds both chains; the forward state flows left to right,
    the backward state right to left, and each step's output is the pair
    of states side by side.
    """
    _check_num_steps(num_steps)
    step, low, high, top = 2.4, 2.0, 3.4, 5.0
    width = step * num_steps + 1.4
    fwd_H = r"\overrightarrow{\mathbf{H}}"
    bwd_H = r"\overleftarrow{\mathbf{H}}"
    fig, ax = canvas(width, 6.5)
    label(ax, 0.3, low, _sub(fwd_H, 0), color=STATE)
    label(ax, width - 0.3, high, _sub(bwd_H, num_steps + 1), color=BACKWARD)
    for t in range(1, num_steps + 1):
        x = step * t - 0.5
        fwd, bwd = x - 0.55, x + 0.55
        label(ax, x, 0.3, _sub(r"\mathbf{X}", t))
        line(ax, [(x, 0.55), (x, 1.1)])
        line(ax, [(fwd, 1.1), (bwd, 1.1)])
        arrow(ax, (fwd, 1.1), (fwd, low - 0.3))
        arrow(ax, (bwd, 1.1), (bwd, high - 0.3))
        box(ax, fwd, low, FORWARD_LSTM, width=0.8)
        box(ax, bwd, high, BACKWARD_LSTM, width=0.8)
        # Forward state in from the left, backward state out to the left.
        arrow(ax, (fwd - step + 0.4, low) if t > 1 else (0.65, low),
              (fwd - 0.4, low), color=STATE, lw=2)
        arrow(ax, (bwd - 0.4, high),
              (bwd - step + 0.4, high) if t > 1 else (0.2, high),
              color=BACKWARD, lw=2)
        label(ax, fwd + 0.75, low - 0.3, _sub(fwd_H, t), color=STATE)
        label(ax, bwd - 0.75, high + 0.35, _sub(bwd_H, t), color=BACKWARD)
        # Output: the two states concatenated.
        line(ax, [(fwd, low + 0.3), (fwd, top)], color=STATE)
        arrow(ax, (fwd, top), (x - 0.36, top), color=STATE)
        line(ax, [(bwd, high + 0.3), (bwd, top)], color=BACKWARD)
        arrow(ax, (bwd, top), (x + 0.36, top), color=BACKWARD)
        circle(ax, x, top, r"$[\cdot,\cdot]$", radius=0.36)
        arrow(ax, (x, top + 0.36), (x, top + 0.9))
        label(ax, x, top + 1.15, _sub(r"\mathbf{H}", t))
    arrow(ax, (step * num_steps - 0.65, low), (width - 0.2, low), color=STATE,
          lw=2)
    arrow(ax, (width - 0.65, high), (step * num_steps + 0.45, high),
          color=BACKWARD, lw=2)
    return fig


def attention_decoder(num_steps=4):
    """One decoder step with additive attention over the encoder states.

    The previous decoder state s_{t'-1} is the query: a scoring layer
    a(s, h) = tanh(s W_q + h W_k) w_v rates every encoder state h_t, a
    softmax turns the scores into the weights alpha_{t't}, and their sum
    of the encoder states, the context c_{t'}, enters the decoder LSTM
    with the previous output y_{t'-1}.
    """
    _check_num_steps(num_steps)
    xs = [1.8 + 1.5 * t for t in range(num_steps)]
    right = xs[-1] + 1.5  # the sum, then the decoder
    fig, ax = canvas(right + 2.6, 8.2)
    state_y, bus_y, score_y, soft_y, mul_y, sum_y = 6.2, 1.1, 1.75, 3.0, \
        4.2, 5.0
    # The query: the decoder's previous state, to every scoring layer.
    label(ax, 0.45, state_y + 0.35, r"$\mathbf{s}_{t'-1}$", color=STATE)
    arrow(ax, (0.2, state_y), (right - 0.15, state_y), color=STATE, lw=2)
    line(ax, [(0.9, state_y), (0.9, bus_y), (xs[-1] + 0.2, bus_y)],
         color=STATE)
    box(ax, (xs[0] + xs[-1]) / 2, soft_y, "softmax",
        width=xs[-1] - xs[0] + 0.8)
    for t, x in enumerate(xs, start=1):
        label(ax, x - 0.15, 0.3, _sub(r"\mathbf{h}", t))
        arrow(ax, (x - 0.15, 0.55), (x - 0.15, score_y - 0.3))
        arrow(ax, (x + 0.2, bus_y), (x + 0.2, score_y - 0.3), color=STATE)
        box(ax, x, score_y, r"$a$", width=0.7)
        arrow(ax, (x, score_y + 0.3), (x, soft_y - 0.3))
        # alpha_{t't} h_t, then the sum over t.
        arrow(ax, (x, soft_y + 0.3), (x, mul_y - 0.28))
        label(ax, x + 0.45, (soft_y + mul_y) / 2, _sub(r"\alpha", f"t'{t}"))
        arrow(ax, (x - 0.75, mul_y), (x - 0.28, mul_y))
        label(ax, x - 0.75, mul_y + 0.3, _sub(r"\mathbf{h}", t))
        circle(ax, x, mul_y, r"$\times$")
        line(ax, [(x, mul_y + 0.28), (x, sum_y)])
    arrow(ax, (xs[0], sum_y), (right - 0.28, sum_y))
    circle(ax, right, sum_y, "+")
    # The decoder step: context and previous output in, new state out.
    decoder = right + 0.5
    arrow(ax, (right, sum_y + 0.28), (right, state_y - 0.3))
    label(ax, right - 0.35, sum_y + 0.6, r"$\mathbf{c}_{t'}$")
    arrow(ax, (decoder + 0.4, mul_y - 0.2), (decoder + 0.4, state_y - 0.3))
    label(ax, decoder + 0.4, mul_y - 0.45, r"$y_{t'-1}$")
    box(ax, decoder, state_y, "LSTM", width=1.3)
    arrow(ax, (decoder + 0.65, state_y), (decoder + 1.9, state_y),
          color=STATE, lw=2)
    label(ax, decoder + 1.4, state_y + 0.35, r"$\mathbf{s}_{t'}$",
          color=STATE)
    arrow(ax, (decoder, state_y + 0.3), (decoder, 7.2))
    box(ax, decoder, 7.5, r"$\mathbf{W}_{hq}$", width=0.8)
    label(ax, decoder + 0.8, 7.95, r"$\hat{y}_{t'}$")
    return fig


MODULE = "#F2F2F2"  # the repeating module of a chain


def _offset(t):
    """The subscript of step ``t`` steps from t: ``t-1``, ``t``, ``t+1``."""
    return "t" if t == 0 else f"t{t:+d}"


def _lstm_module(ax, x0, bottom, top):
    """One LSTM step of a chain, its left edge at ``x0`` (width 5.6)."""
    ax.add_patch(patches.FancyBboxPatch(
        (x0 + 0.25, bottom - 0.45), 5.2, top - bottom + 0.9,
        boxstyle="round,pad=0.1", fc=MODULE, ec="#999999", lw=1, zorder=1))
    gate_y = (bottom + top) / 2 - 0.25
    gates = [(1.0, r"$\sigma$"), (1.9, r"$\sigma$"), (2.8, r"$\tanh$"),
             (3.7, r"$\sigma$")]  # F, I, C~, O: the order of the equations
    for dx, text in gates:
        arrow(ax, (x0 + dx, bottom), (x0 + dx, gate_y - 0.3))
        box(ax, x0 + dx, gate_y, text, width=0.7)
    # Erase, then write: C_t = F_t * C_{t-1} + I_t * C~_t.
    circle(ax, x0 + 1.0, top, r"$\times$")
    arrow(ax, (x0 + 1.0, gate_y + 0.3), (x0 + 1.0, top - 0.28))
    write = (x0 + 2.35, top - 1.0)
    circle(ax, *write, r"$\times$")
    line(ax, [(x0 + 1.9, gate_y + 0.3), (x0 + 1.9, write[1]),
              (write[0] - 0.28, write[1])])
    line(ax, [(x0 + 2.8, gate_y + 0.3), (x0 + 2.8, write[1]),
              (write[0] + 0.28, write[1])])
    arrow(ax, (write[0], write[1] + 0.28), (write[0], top - 0.28))
    circle(ax, write[0], top, "+")
    # Read: H_t = O_t * tanh(C_t), to the next step and out of the top.
    read = x0 + 4.6
    arrow(ax, (read, top), (read, top - 0.6))
    circle(ax, read, top - 1.0, r"$\tanh$", radius=0.4)
    arrow(ax, (read, top - 1.4), (read, gate_y + 0.28))
    line(ax, [(x0 + 3.7, gate_y + 0.3), (x0 + 3.7, gate_y),
              (read - 0.28, gate_y)])
    circle(ax, read, gate_y, r"$\times$")
    line(ax, [(read, gate_y - 0.28), (read, bottom), (x0 + 5.6, bottom)],
         color=STATE)


def lstm_chain(num_steps=3):
    """The LSTM as a chain of repeating modules (after Olah's essay).

    The cell state is the thick line running through the top of every
    module, changed only by a product (erase) and a sum (write); the hidden
    state runs along the bottom, joined by the input X below each module,
    and leaves through the top as the output H.
    """
    _check_num_steps(num_steps)
    step, bottom, top = 5.6, 1.5, 4.6
    width = step * num_steps + 1.0
    fig, ax = canvas(width, 6.6, scale=0.6)
    line(ax, [(0.1, top), (width - 0.1, top)], color=STATE, lw=3)
    label(ax, 0.55, top + 0.35, "cell state", color=STATE, fontsize=9)
    label(ax, 0.6, bottom - 0.7, "hidden\nstate", color=STATE, fontsize=9)
    for k in range(num_steps):
        x0 = 0.5 + step * k
        t = _offset(k - num_steps // 2)
        _lstm_module(ax, x0, bottom, top)
        # The hidden state in from the left, joined by the input.
        line(ax, [(x0 - 0.4 if k == 0 else x0, bottom), (x0 + 0.5, bottom)],
             color=STATE)
        line(ax, [(x0 + 0.5, bottom), (x0 + 3.7, bottom)])
        arrow(ax, (x0 + 0.5, 0.35), (x0 + 0.5, bottom))
        label(ax, x0 + 0.5, 0.15, rf"$X_{{{t}}}$")
        out = x0 + 5.2
        arrow(ax, (out, bottom), (out, top + 1.3), color=STATE)
        label(ax, out, top + 1.6, rf"$H_{{{t}}}$")
    arrow(ax, (width - 0.9, bottom), (width - 0.1, bottom), color=STATE)
    return fig


def _shape(shape):
    return "(" + ", ".join(str(n) for n in shape) + ")"


def _note(ax, x, y, text):
    """A left-aligned small label: the shape beside an arrow."""
    ax.text(x, y, text, ha="left", va="center", fontsize=9)


def cnn_lstm(window, stages):
    """The CNN-LSTM as blocks, each arrow labelled with its tensor's shape.

    ``window`` is the input's shape; ``stages`` are ``(text, shape, kind)``
    in order: each block's text, the shape it outputs, and its kind,
    ``"layer"`` (learned weights) or ``"op"`` (none: pooling, reshaping).
    The first half of the stages runs down the left column, the rest up
    the right one; the last stage's output is the forecast.
    """
    if not stages:
        raise ValueError("stages must name at least one block, got none")
    kinds = {kind for _, _, kind in stages} - {"layer", "op"}
    if kinds:
        raise ValueError(f"a stage's kind is 'layer' or 'op', got "
                         f"{sorted(kinds)}")
    rows, gap, left, right = (len(stages) + 1) // 2, 1.1, 2.6, 9.1
    height = gap * (rows + 1) + 0.5
    fig, ax = canvas(12.0, height, scale=0.6)
    label(ax, left, height - 0.3, "window " + _shape(window), fontsize=9)
    below = (left, height - 0.5)  # where the next arrow starts
    for k, (text, shape, kind) in enumerate(stages):
        down = k < rows
        row = k + 1 if down else 2 * rows - k
        x, y = (left if down else right), height - 0.3 - gap * row
        if k == rows:  # across the bottom, from the left column's end
            turn = y - 0.65
            line(ax, [below, (left, turn), (right, turn)])
            _note(ax, left + 2.4, turn + 0.17, _shape(stages[k - 1][1]))
            below = (right, turn)
        arrow(ax, below, (x, y + 0.3 if down else y - 0.3))
        box(ax, x, y, text, width=4.7, height=0.55)
        if kind == "op":
            ax.patches[-1].set_facecolor(POINTWISE)
        below = (x, y - 0.3 if down else y + 0.3)
        last = k == len(stages) - 1
        if not last and k != rows - 1:
            _note(ax, x + 0.15, y - gap / 2 if down else y + gap / 2,
                  _shape(shape))
    top = height - 0.5
    arrow(ax, below, (below[0], top))
    label(ax, below[0], height - 0.3, "forecast " + _shape(stages[-1][1]),
          fontsize=9)
    return fig


# Figures of the Markdown pages, committed under book/figures/ as SVG:
# ``python -m lstm_tutorial.diagrams book/figures`` redraws them, and
# tests/test_diagrams.py fails when a committed file differs from a redraw.
ERROR = COLORS[1]  # the backward pass: where the error flows
CUT = "#BBBBBB"    # a path the truncated gradient does not take


def _error_module(ax, x0, y0, t, first, last, truncated):
    """Step ``t`` of the backward pass, the module's left edge at x0."""
    top, gates, hidden = y0 + 3.0, (x0 + 1.3, y0 + 1.5), (x0 + 3.0, y0 + 1.5)
    cell = (x0 + 2.2, top)
    ax.add_patch(patches.FancyBboxPatch(
        (x0 + 0.2, y0 + 0.75), 3.5, 2.75, boxstyle="round,pad=0.1",
        fc=MODULE, ec="#999999", lw=1, zorder=1))
    box(ax, *gates, "", width=1.1)
    label(ax, *gates, rf"$\delta\mathbf{{A}}_{{{t}}}$", fontsize=9,
          zorder=4)
    for (x, y), name in ((hidden, "H"), (cell, "C")):
        circle(ax, x, y, "", radius=0.45)
        label(ax, x, y, rf"$\delta\mathbf{{{name}}}_{{{t}}}$", fontsize=9,
              zorder=4)
    # Within the step: H_t = O_t tanh(C_t) sends error to C_t and to the
    # output gate; C_t sends it to the gates that wrote it (i, f, c).
    arrow(ax, (hidden[0] - 0.15, hidden[1] + 0.42),
          (cell[0] + 0.25, top - 0.38), color=ERROR)
    arrow(ax, (cell[0] - 0.25, top - 0.38), (gates[0] + 0.2, gates[1] + 0.32),
          color=ERROR)
    arrow(ax, (hidden[0] - 0.45, hidden[1]), (gates[0] + 0.6, gates[1]),
          color=ERROR)
    # Down to the input X_t (the weights' gradients sum over all steps).
    arrow(ax, (gates[0], gates[1] - 0.32), (gates[0], y0 + 0.25),
          color=ERROR)
    label(ax, gates[0], y0 + 0.0, rf"$\delta\mathbf{{X}}_{{{t}}}$")
    # The loss reaches H_t through the step's own output.
    arrow(ax, (hidden[0] + 0.55, y0 + 0.15),
          (hidden[0] + 0.25, hidden[1] - 0.38), color=ERROR)
    label(ax, hidden[0] + 0.75, y0 - 0.1,
          rf"$\partial L / \partial \mathbf{{H}}_{{{t}}}$", fontsize=9)
    if first:  # on to the steps before, along the carousel
        arrow(ax, (cell[0] - 0.45, top), (x0 - 0.15, top), color=ERROR,
              lw=2.4)
    if last:
        return
    # Back from step t + 1: along the carousel, times F_{t+1} ...
    arrow(ax, (cell[0] + 4.4 - 0.45, top), (cell[0] + 0.45, top),
          color=ERROR, lw=2.4)
    gain = r"$\times\, 1$" if truncated else (
        rf"$\times\,\mathbf{{F}}_{{{_next(t)}}}$")
    label(ax, cell[0] + 2.2, top + 0.3, gain, color=ERROR, fontsize=9)
    # ... and through the recurrent weights to H_t, unless truncated.
    start = (gates[0] + 4.4 - 0.55, gates[1] - 0.2)
    end = (hidden[0] + 0.45, hidden[1] - 0.1)
    mid = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
    if truncated:
        ax.annotate("", xy=end, xytext=start, zorder=2,
                    arrowprops={"arrowstyle": "-|>", "color": CUT,
                                "lw": 1.2, "ls": "--", "shrinkA": 0,
                                "shrinkB": 0})
        label(ax, *mid, r"$\times$", color=ERROR, fontsize=14, zorder=5)
    else:
        arrow(ax, start, end, color=ERROR)
        label(ax, mid[0], mid[1] - 0.3, r"$\mathbf{W}_h^\top$",
              color=ERROR, fontsize=9)


def _next(t):
    """The subscript one step after ``t``: ``t-1`` -> ``t``."""
    if t == "t":
        return "t+1"
    k = int(t[1:]) + 1
    return "t" if k == 0 else f"t{k:+d}"


def error_flow(num_steps=3):
    """Where the error flows in the LSTM's backward pass, full and truncated.

    Two chains of ``num_steps`` steps, read right to left. Above, the
    modern cell's full gradient: the error reaches H_t from its own output
    and from the next step's gates (through W_h), and C_t from H_t and
    along the carousel (times F_{t+1}). Below, the 1997 cell with
    Hochreiter & Schmidhuber's truncated gradient: the path through W_h is
    cut, and only the carousel (times 1: no forget gate) carries error
    back in time.
    """
    _check_num_steps(num_steps)
    step, height = 4.4, 4.7
    # At least three steps wide, for the titles; the chain centred.
    width = step * max(num_steps, 3) + 0.6
    left = (width - step * num_steps - 0.6) / 2
    fig, ax = canvas(width, 2 * height + 0.5, scale=0.6)
    titles = ("the modern cell, full gradient (backpropagation through "
              "time)", "the 1997 cell, truncated gradient: the carousel "
              "alone carries error back")
    for row, truncated in enumerate((False, True)):
        y0 = (1 - row) * height + 0.6
        label(ax, width / 2, y0 + 3.95, titles[row], fontsize=10)
        line(ax, [(left + 0.1, y0 + 3.0), (width - left - 0.1, y0 + 3.0)],
             color=STATE, lw=3)
        for k in range(num_steps):
            _error_module(ax, left + 0.3 + step * k, y0,
                          _offset(k - num_steps // 2), k == 0,
                          k == num_steps - 1, truncated)
    return fig


FIGURES = {"lstm-chain.svg": lambda: lstm_chain(num_steps=3)}


def svg(draw):
    """The SVG text of ``draw()`` in the house style, the same every run."""
    import io

    from matplotlib import rc_context

    from .plotting import STYLE

    with rc_context(STYLE):
        fig = draw()
        out = io.StringIO()
        fig.savefig(out, format="svg", bbox_inches="tight",
                    metadata={"Date": None})
    plt.close(fig)
    return out.getvalue()


def write_figures(folder):
    """Write every figure of ``FIGURES`` into ``folder``; their paths."""
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, draw in FIGURES.items():
        path = folder / name
        path.write_text(svg(draw), encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 2:
        sys.exit("usage: python -m lstm_tutorial.diagrams FOLDER")
    for written in write_figures(sys.argv[1]):
        print(written)
