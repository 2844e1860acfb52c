"""Diagrams of the cells, one step at a time, drawn in the house style.

Chapters 2 and 3 walk through the LSTM cell as Olah's "Understanding LSTM
Networks" does: the same picture again and again, one path in colour and
the rest in grey. Every element of a cell diagram is tagged with the steps
it belongs to (its matplotlib ``gid``); ``highlight=`` greys out every
element that is not tagged with that step. The steps of the modern cell
(``lstm_cell``) are

    state    the cell state, the line through the top (the conveyor belt)
    forget   F_t, from H_{t-1} and X_t, scales C_{t-1}
    input    I_t and C~_t, from H_{t-1} and X_t, and their product
    update   C_t = F_t * C_{t-1} + I_t * C~_t
    output   O_t and tanh(C_t), their product H_t

(the 1997 cell has no ``forget``). Chapter 7's variants (``peepholes``,
``coupled``) and the GRU (``gru_cell``) are drawn the same way; ``legend``
explains the symbols once. Checked by ``tests/test_cell_diagrams.py``.
"""

from matplotlib import patches

from .diagrams import STATE, arrow, box, canvas, circle, label, line

__all__ = ["GREY", "LSTM_STEPS", "GRU_STEPS", "lstm_cell", "gru_cell",
           "legend", "tags", "steps_of"]

GREY = "#C4C4C4"      # what the highlighted step does not use
GREY_FILL = "#F3F3F3"
LSTM_STEPS = ("state", "forget", "input", "update", "output")
GRU_STEPS = ("reset", "update", "candidate", "output")
PEEPHOLE = "#7F7F7F"  # the peephole connections, dashed


class _Tagger:
    """Draws with the primitives and tags what each call added."""

    def __init__(self, ax, steps):
        self.ax, self.steps = ax, steps  # the steps this diagram has

    def _artists(self):
        ax = self.ax
        return list(ax.patches) + list(ax.texts) + list(ax.lines)

    def __call__(self, steps, draw, *args, **kwargs):
        before = set(map(id, self._artists()))
        draw(self.ax, *args, **kwargs)
        for artist in self._artists():
            if id(artist) not in before:
                artist.set_gid(" ".join(s for s in steps
                                        if s in self.steps))


def tags(artist):
    """The steps an element of a cell diagram belongs to."""
    return set((artist.get_gid() or "").split())


def steps_of(fig):
    """Every step named by some element of ``fig``."""
    (ax,) = fig.axes
    found = set()
    for artist in list(ax.patches) + list(ax.texts) + list(ax.lines):
        found |= tags(artist)
    return found


def _grey(ax, step):
    """Grey out every element that does not take part in ``step``."""
    for artist in list(ax.patches) + list(ax.texts) + list(ax.lines):
        if step in tags(artist):
            continue
        if isinstance(artist, patches.Patch):
            artist.set_facecolor(GREY_FILL)
            artist.set_edgecolor(GREY)
        elif getattr(artist, "arrow_patch", None) is not None:
            artist.arrow_patch.set_color(GREY)
        else:
            artist.set_color(GREY)


def _check_highlight(highlight, steps):
    if highlight is not None and highlight not in steps:
        raise ValueError(f"highlight must be None or one of {steps}, got "
                         f"{highlight!r}")


def lstm_cell(forget_gate=True, highlight=None, peepholes=False,
              coupled=False):
    """One LSTM step; ``forget_gate=False`` draws the 1997 cell.

    ``highlight`` (one of ``LSTM_STEPS``) draws that step's path in colour
    and the rest in grey. ``peepholes`` adds the connections from the cell
    to the gates; ``coupled`` draws I_t = 1 - F_t (chapter 7's CIFG).
    """
    if coupled and not forget_gate:
        raise ValueError("coupled=True needs forget_gate=True: the coupled "
                         "cell computes I_t = 1 - F_t")
    steps = LSTM_STEPS if forget_gate else tuple(
        s for s in LSTM_STEPS if s != "forget")
    _check_highlight(highlight, steps)
    fig, ax = canvas(10, 5.4)
    draw = _Tagger(ax, steps)
    top, bottom = 4.5, 0.7
    gates_in = ("forget", "input", "output")
    belt = ("state", "update")
    # The conveyor belt: C_{t-1} in at the left, C_t out at the right.
    if forget_gate:
        draw(belt + ("forget",), line, [(0.3, top), (2.12, top)],
             color=STATE, lw=3)
    draw(belt, line, [(2.68 if forget_gate else 0.3, top), (4.07, top)],
         color=STATE, lw=3)
    draw(belt + ("output",), line, [(4.63, top), (9.7, top)],
         color=STATE, lw=3)
    draw(belt + ("forget",), label, 0.3, top + 0.35, r"$C_{t-1}$",
         color=STATE)
    draw(belt + ("output",), label, 9.6, top + 0.35, r"$C_t$", color=STATE)
    # The inputs: H_{t-1} from the left joined by X_t from below.
    first = 2.4 if forget_gate else 3.7  # the first gate on the bus
    draw(gates_in, line, [(0.3, bottom), (first, bottom)])
    if forget_gate:
        draw(("input", "output"), line, [(2.4, bottom), (3.7, bottom)])
    draw(("input", "output"), line, [(3.7, bottom), (5.0, bottom)])
    draw(("output",), line, [(5.0, bottom), (6.9, bottom)])
    draw(gates_in, label, 0.3, bottom - 0.35, r"$H_{t-1}$")
    draw(gates_in, arrow, (1.2, -0.1), (1.2, bottom))
    draw(gates_in, label, 1.5, -0.05, r"$X_t$")
    gates = [(3.7, r"$\sigma$", r"$I_t$", "input"),
             (5.0, r"$\tanh$", r"$\tilde{C}_t$", "input"),
             (6.9, r"$\sigma$", r"$O_t$", "output")]
    if coupled:
        gates.pop(0)
    if forget_gate:
        gates.insert(0, (2.4, r"$\sigma$", r"$F_t$", "forget"))
        draw(("forget", "update"), arrow, (2.4, 2.35), (2.4, top - 0.28))
        draw(("forget", "update"), circle, 2.4, top, r"$\times$")
    for x, text, name, step in gates:
        draw((step,), arrow, (x, bottom), (x, 1.75))
        draw((step,), box, x, 2.05, text)
        draw((step,), label, x + 0.6, 2.55, name)
    # Write: I_t * C~_t is added to the cell state.
    draw(("input", "update"), circle, 4.35, 3.25, r"$\times$")
    if coupled:  # I_t = 1 - F_t: the forget gate's output, inverted
        draw(("input",), line, [(2.4, 3.25), (3.27, 3.25)])
        draw(("input",), circle, 3.55, 3.25, r"$1-$", radius=0.28)
        draw(("input",), line, [(3.83, 3.25), (4.07, 3.25)])
        draw(("input",), label, 3.2, 3.6, r"$I_t$")
    else:
        draw(("input",), line, [(3.7, 2.35), (3.7, 3.25), (4.07, 3.25)])
    draw(("input",), line, [(5.0, 2.35), (5.0, 3.25), (4.63, 3.25)])
    draw(("input", "update"), arrow, (4.35, 3.53), (4.35, top - 0.28))
    draw(belt, circle, 4.35, top, "+")
    # Read: H_t = O_t * tanh(C_t).
    draw(("output",), arrow, (8.3, top), (8.3, 3.68))
    draw(("output",), circle, 8.3, 3.3, r"$\tanh$", radius=0.38)
    draw(("output",), arrow, (8.3, 2.92), (8.3, 2.33))
    draw(("output",), line, [(6.9, 2.35), (6.9, 2.05), (8.02, 2.05)])
    draw(("output",), circle, 8.3, 2.05, r"$\times$")
    draw(("output",), line, [(8.3, 1.77), (8.3, bottom), (9.7, bottom)])
    draw(("output",), label, 9.6, bottom - 0.35, r"$H_t$")
    if peepholes:
        _peepholes(draw, [x for x, *_ in gates], top)
    if highlight is not None:
        _grey(ax, highlight)
    return fig


def _peepholes(draw, xs, top):
    """Dashed connections from the cell to the gates' layers: C_{t-1} to
    F_t and I_t, C_t (after the update) to O_t."""
    paths = {"forget": (2.4, [(1.55, top), (1.55, 2.05), (1.9, 2.05)]),
             "input": (3.7, [(1.0, top), (1.0, 2.85), (3.45, 2.85),
                             (3.45, 2.37)]),
             "output": (6.9, [(7.2, top), (7.2, 2.37)])}
    for step, (x, points) in paths.items():
        if x in xs:  # the coupled cell has no input gate layer
            draw((step,), line, points, color=PEEPHOLE)
            draw.ax.lines[-1].set_linestyle((0, (3, 2)))


def gru_cell(highlight=None):
    """One GRU step (Cho et al. 2014): two gates and no separate cell.

    ``highlight`` is one of ``GRU_STEPS``: the reset gate, the update
    gate, the candidate state (reset applied to H_{t-1} W_hh, as MXNet
    does) and the output H_t = Z_t * H_{t-1} + (1 - Z_t) * H~_t.
    """
    _check_highlight(highlight, GRU_STEPS)
    fig, ax = canvas(7.4, 5.4)
    draw = _Tagger(ax, GRU_STEPS)
    top, bottom, fork = 4.5, 0.7, 3.5
    gates_in = ("reset", "update", "candidate")
    # The hidden state is the line through the top: it is the memory.
    draw(("output",), line, [(0.3, top), (1.92, top)], color=STATE, lw=3)
    draw(("output",), line, [(2.48, top), (4.92, top)], color=STATE, lw=3)
    draw(("output",), line, [(5.48, top), (7.1, top)], color=STATE, lw=3)
    draw(("output",), label, 0.3, top + 0.35, r"$H_{t-1}$", color=STATE)
    draw(("output",), label, 7.0, top + 0.35, r"$H_t$", color=STATE)
    draw(gates_in, line, [(0.7, top), (0.7, bottom), (5.2, bottom)],
         color=STATE)
    draw(gates_in, arrow, (1.3, -0.1), (1.3, bottom))
    draw(gates_in, label, 1.6, -0.05, r"$X_t$")
    for x, text, name, step in ((2.2, r"$\sigma$", r"$Z_t$", "update"),
                                (3.6, r"$\sigma$", r"$R_t$", "reset"),
                                (5.2, r"$\tanh$", r"$\tilde{H}_t$",
                                 "candidate")):
        draw((step,), arrow, (x, bottom), (x, 1.75))
        draw((step,), box, x, 2.05, text)
        draw((step,), label, x + 0.62 if step == "candidate" else x - 0.65,
             2.55, name)
    # R_t scales what H_{t-1} contributes to the candidate.
    draw(("reset", "candidate"), line, [(3.6, 2.35), (3.6, 2.95),
                                        (4.45, 2.95), (4.45, 2.05)])
    draw(("reset", "candidate"), arrow, (4.45, 2.05), (4.7, 2.05))
    # Keep Z_t of the old state, write 1 - Z_t of the candidate.
    draw(("update", "output"), arrow, (2.2, 2.35), (2.2, top - 0.28))
    draw(("update", "output"), circle, 2.2, top, r"$\times$")
    draw(("update", "output"), line, [(2.2, fork), (3.92, fork)])
    draw(("update", "output"), circle, 4.2, fork, r"$1-$")
    draw(("update", "output"), line, [(4.48, fork), (4.92, fork)])
    draw(("candidate", "output"), arrow, (5.2, 2.35), (5.2, fork - 0.28))
    draw(("candidate", "output"), circle, 5.2, fork, r"$\times$")
    draw(("output",), arrow, (5.2, fork + 0.28), (5.2, top - 0.28))
    draw(("output",), circle, 5.2, top, "+")
    if highlight is not None:
        _grey(ax, highlight)
    return fig


def legend():
    """The symbols of every diagram, once."""
    fig, ax = canvas(12, 2.6)
    items = [
        (0.9, lambda x, y: box(ax, x, y, r"$\sigma$"),
         "learned layer:\nweights, bias,\nnonlinearity"),
        (3.0, lambda x, y: circle(ax, x, y, r"$\times$"),
         "pointwise\noperation"),
        (5.0, lambda x, y: arrow(ax, (x - 0.5, y), (x + 0.5, y)),
         "a vector,\ncarried"),
        (7.0, lambda x, y: (line(ax, [(x - 0.5, y + 0.35), (x, y)]),
                            line(ax, [(x - 0.5, y - 0.35), (x, y)]),
                            arrow(ax, (x, y), (x + 0.5, y))),
         "lines merging:\nconcatenation"),
        (9.0, lambda x, y: (line(ax, [(x - 0.5, y), (x, y)]),
                            arrow(ax, (x, y), (x + 0.5, y + 0.35)),
                            arrow(ax, (x, y), (x + 0.5, y - 0.35))),
         "a line forking:\na copy"),
        (11.0, lambda x, y: line(ax, [(x - 0.6, y), (x + 0.6, y)],
                                 color=STATE, lw=3),
         "the state,\ncarried on"),
    ]
    for x, draw, text in items:
        draw(x, 1.85)
        label(ax, x, 0.7, text, fontsize=9)
    return fig
