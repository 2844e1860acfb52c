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


def bidirectional_chain(num_steps=4):
    """A bidirectional layer: a forward and a backward chain, concatenated.

    Every input feeds both chains; the forward state flows left to right,
    the backward state right to left, and each step's output is the pair
    of states side by side.
    """
    _check_num_steps(num_steps)
    step, low, high, top = 2.4, 2.0, 3.4, 5.0
    width = step * num_steps + 1.4
    fig, ax = canvas(width, 6.5)
    label(ax, 0.3, low, r"$\overrightarrow{H}_0$", color=STATE)
    label(ax, width - 0.3, high, rf"$\overleftarrow{{H}}_{{{num_steps + 1}}}$",
          color=BACKWARD)
    for t in range(1, num_steps + 1):
        x = step * t - 0.5
        fwd, bwd = x - 0.55, x + 0.55
        label(ax, x, 0.3, rf"$X_{t}$")
        line(ax, [(x, 0.55), (x, 1.1)])
        line(ax, [(fwd, 1.1), (bwd, 1.1)])
        arrow(ax, (fwd, 1.1), (fwd, low - 0.3))
        arrow(ax, (bwd, 1.1), (bwd, high - 0.3))
        box(ax, fwd, low, "LSTM", width=0.8)
        box(ax, bwd, high, "LSTM", width=0.8)
        # Forward state in from the left, backward state out to the left.
        arrow(ax, (fwd - step + 0.4, low) if t > 1 else (0.65, low),
              (fwd - 0.4, low), color=STATE, lw=2)
        arrow(ax, (bwd - 0.4, high),
              (bwd - step + 0.4, high) if t > 1 else (0.2, high),
              color=BACKWARD, lw=2)
        label(ax, fwd + 0.75, low - 0.3, rf"$\overrightarrow{{H}}_{t}$",
              color=STATE)
        label(ax, bwd - 0.75, high + 0.35, rf"$\overleftarrow{{H}}_{t}$",
              color=BACKWARD)
        # Output: the two states concatenated.
        line(ax, [(fwd, low + 0.3), (fwd, top)], color=STATE)
        arrow(ax, (fwd, top), (x - 0.36, top), color=STATE)
        line(ax, [(bwd, high + 0.3), (bwd, top)], color=BACKWARD)
        arrow(ax, (bwd, top), (x + 0.36, top), color=BACKWARD)
        circle(ax, x, top, r"$[\cdot,\cdot]$", radius=0.36)
        arrow(ax, (x, top + 0.36), (x, top + 0.9))
        label(ax, x, top + 1.15, rf"$H_{t}$")
    arrow(ax, (step * num_steps - 0.65, low), (width - 0.2, low), color=STATE,
          lw=2)
    arrow(ax, (width - 0.65, high), (step * num_steps + 0.45, high),
          color=BACKWARD, lw=2)
    return fig


def attention_decoder(num_steps=4):
    """One decoder step with additive attention over the encoder states.

    The previous decoder state s_{t'-1} is the query: a scoring layer
    a(s, h) = w_v^T tanh(W_q s + W_k h) rates every encoder state h_t, a
    softmax turns the scores into weights, and the weighted sum of the
    encoder states, the context c_{t'}, enters the decoder LSTM with the
    previous output.
    """
    _check_num_steps(num_steps)
    xs = [1.8 + 1.5 * t for t in range(num_steps)]
    right = xs[-1] + 1.5  # the sum, then the decoder
    fig, ax = canvas(right + 2.6, 8.2)
    state_y, bus_y, score_y, soft_y, mul_y, sum_y = 6.2, 1.1, 1.75, 3.0, \
        4.2, 5.0
    # The query: the decoder's previous state, to every scoring layer.
    label(ax, 0.45, state_y + 0.35, r"$s_{t'-1}$", color=STATE)
    arrow(ax, (0.2, state_y), (right - 0.15, state_y), color=STATE, lw=2)
    line(ax, [(0.9, state_y), (0.9, bus_y), (xs[-1] + 0.2, bus_y)],
         color=STATE)
    box(ax, (xs[0] + xs[-1]) / 2, soft_y, "softmax",
        width=xs[-1] - xs[0] + 0.8)
    for t, x in enumerate(xs, start=1):
        label(ax, x - 0.15, 0.3, rf"$h_{t}$")
        arrow(ax, (x - 0.15, 0.55), (x - 0.15, score_y - 0.3))
        arrow(ax, (x + 0.2, bus_y), (x + 0.2, score_y - 0.3), color=STATE)
        box(ax, x, score_y, r"$a$", width=0.7)
        arrow(ax, (x, score_y + 0.3), (x, soft_y - 0.3))
        # alpha_{t't} h_t, then the sum over t.
        arrow(ax, (x, soft_y + 0.3), (x, mul_y - 0.28))
        label(ax, x + 0.45, (soft_y + mul_y) / 2, rf"$\alpha_{{t',{t}}}$")
        arrow(ax, (x - 0.75, mul_y), (x - 0.28, mul_y))
        label(ax, x - 0.75, mul_y + 0.3, rf"$h_{t}$")
        circle(ax, x, mul_y, r"$\times$")
        line(ax, [(x, mul_y + 0.28), (x, sum_y)])
    arrow(ax, (xs[0], sum_y), (right - 0.28, sum_y))
    circle(ax, right, sum_y, "+")
    # The decoder step: context and previous output in, new state out.
    decoder = right + 0.5
    arrow(ax, (right, sum_y + 0.28), (right, state_y - 0.3))
    label(ax, right - 0.35, sum_y + 0.6, r"$c_{t'}$")
    arrow(ax, (decoder + 0.4, mul_y - 0.2), (decoder + 0.4, state_y - 0.3))
    label(ax, decoder + 0.4, mul_y - 0.45, r"$y_{t'-1}$")
    box(ax, decoder, state_y, "LSTM", width=1.3)
    arrow(ax, (decoder + 0.65, state_y), (decoder + 1.9, state_y),
          color=STATE, lw=2)
    label(ax, decoder + 1.4, state_y + 0.35, r"$s_{t'}$", color=STATE)
    arrow(ax, (decoder, state_y + 0.3), (decoder, 7.2))
    box(ax, decoder, 7.5, r"$W_{hq}$", width=0.8)
    label(ax, decoder + 0.8, 7.95, r"$\hat{y}_{t'}$")
    return fig
