"""lstm_tutorial/diagrams.py: every diagram draws what it says, in style.

Each function returns a figure with the expected layers (boxes), pointwise
operations (circles) and labels; every label is valid mathtext and lies
inside the figure once drawn.
"""

import io

import pytest
from matplotlib import colors, patches
from matplotlib import pyplot as plt

from lstm_tutorial import diagrams

from notebook_checks import ROOT


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _ax(fig):
    (ax,) = fig.axes
    return ax


def boxes(fig):
    return [p for p in _ax(fig).patches
            if isinstance(p, patches.FancyBboxPatch)]


def filled(fig, color):
    """The boxes filled with ``color``."""
    return [p for p in boxes(fig)
            if colors.same_color(p.get_facecolor(), color)]


def circles(fig):
    return [p for p in _ax(fig).patches if isinstance(p, patches.Circle)]


def texts(fig):
    """The visible labels (arrows are annotations with empty text)."""
    return [t.get_text() for t in _ax(fig).texts if t.get_text()]


def arrows(fig):
    return [t for t in _ax(fig).texts if getattr(t, "arrow_patch", None)]


def assert_drawn_inside(fig):
    """Renders (so bad mathtext fails) and every label is in the figure."""
    fig.savefig(io.BytesIO(), format="svg")
    renderer = fig.canvas.get_renderer()
    frame = fig.bbox
    for text in _ax(fig).texts:
        if not text.get_text():
            continue
        box = text.get_window_extent(renderer)
        assert (box.x0 >= frame.x0 - 1 and box.x1 <= frame.x1 + 1
                and box.y0 >= frame.y0 - 1 and box.y1 <= frame.y1 + 1), \
            f"label {text.get_text()!r} is cut off"


def test_canvas_has_the_asked_size_and_no_axes():
    fig, ax = diagrams.canvas(8, 4, scale=0.5)
    assert tuple(fig.get_size_inches()) == (4.0, 2.0)
    assert ax.get_xlim() == (0, 8) and ax.get_ylim() == (0, 4)
    assert not ax.axison


def test_primitives_draw_one_element_each():
    fig, ax = diagrams.canvas(4, 2)
    diagrams.box(ax, 1, 1, "layer")
    diagrams.circle(ax, 3, 1, "+")
    diagrams.arrow(ax, (1.5, 1), (2.7, 1))
    diagrams.line(ax, [(0, 0), (1, 0), (1, 1)])
    diagrams.label(ax, 2, 1.8, "$X_t$")
    assert len(boxes(fig)) == 1 and len(circles(fig)) == 1
    assert boxes(fig)[0].get_facecolor()[:3] == pytest.approx(
        (0xFC / 255, 0xE8 / 255, 0xC3 / 255))
    assert texts(fig) == ["layer", "+", "$X_t$"]
    assert len(arrows(fig)) == 1
    assert len(ax.lines) == 1 and list(ax.lines[0].get_xdata()) == [0, 1, 1]
    assert_drawn_inside(fig)


@pytest.mark.parametrize("num_steps", [1, 4])
def test_unrolled_rnn(num_steps):
    fig = diagrams.unrolled_rnn(num_steps)
    assert len(boxes(fig)) == 2 * num_steps  # tanh layer + output layer
    labels = texts(fig)
    for t in range(1, num_steps + 1):
        assert f"$X_{t}$" in labels and f"$O_{t}$" in labels
    assert "$H_0$" in labels and f"$H_{num_steps}$" in labels
    assert_drawn_inside(fig)


@pytest.mark.parametrize("num_steps", [1, 2, 4, 6])
def test_bidirectional_chain(num_steps):
    fig = diagrams.bidirectional_chain(num_steps)
    assert len(boxes(fig)) == 2 * num_steps  # a forward and a backward LSTM
    assert len(circles(fig)) == num_steps  # one concatenation per step
    labels = texts(fig)
    # The chains are named by their direction, never LSTM_f (f is a gate).
    assert labels.count(diagrams.FORWARD_LSTM) == num_steps
    assert labels.count(diagrams.BACKWARD_LSTM) == num_steps
    for t in range(1, num_steps + 1):
        assert rf"$\mathbf{{X}}_{{{t}}}$" in labels
        assert rf"$\mathbf{{H}}_{{{t}}}$" in labels
        assert rf"$\overrightarrow{{\mathbf{{H}}}}_{{{t}}}$" in labels
        assert rf"$\overleftarrow{{\mathbf{{H}}}}_{{{t}}}$" in labels
    assert r"$\overrightarrow{\mathbf{H}}_{0}$" in labels
    assert (rf"$\overleftarrow{{\mathbf{{H}}}}_{{{num_steps + 1}}}$"
            in labels)
    colors = {a.arrow_patch.get_edgecolor()[:3] for a in arrows(fig)}
    assert len(colors) == 3  # forward, backward, and plain data
    assert_drawn_inside(fig)


@pytest.mark.parametrize("num_steps", [1, 4, 6])
def test_attention_decoder(num_steps):
    fig = diagrams.attention_decoder(num_steps)
    texts_ = texts(fig)
    # One scoring layer per encoder state, softmax, decoder LSTM, output.
    assert len(boxes(fig)) == num_steps + 3
    assert {"softmax", "LSTM", "$a$"} <= set(texts_)
    assert len(circles(fig)) == num_steps + 1  # weight each state, sum
    for t in range(1, num_steps + 1):
        # as key and as value
        assert texts_.count(rf"$\mathbf{{h}}_{{{t}}}$") == 2
        assert rf"$\alpha_{{t'{t}}}$" in texts_
    for name in (r"$\mathbf{s}_{t'-1}$", r"$\mathbf{s}_{t'}$",
                 r"$\mathbf{c}_{t'}$", "$y_{t'-1}$", r"$\hat{y}_{t'}$",
                 r"$\mathbf{W}_{hq}$"):
        assert name in texts_
    assert_drawn_inside(fig)


@pytest.mark.parametrize("draw", [diagrams.bidirectional_chain,
                                  diagrams.attention_decoder])
@pytest.mark.parametrize("num_steps", [0, -1, 2.0])
def test_num_steps_must_be_positive(draw, num_steps):
    with pytest.raises(ValueError, match="num_steps must be a positive int"):
        draw(num_steps)


@pytest.mark.parametrize("num_steps", [1, 3, 5])
def test_lstm_chain(num_steps):
    fig = diagrams.lstm_chain(num_steps)
    # Per module: four gate layers and five pointwise operations (erase,
    # write product, write sum, tanh, read product).
    assert len(filled(fig, diagrams.LAYER)) == 4 * num_steps
    assert len(circles(fig)) == 5 * num_steps
    ops = [t.get_text() for t in _ax(fig).texts]
    assert ops.count("+") == num_steps
    assert ops.count(r"$\times$") == 3 * num_steps
    labels = texts(fig)
    first = -(num_steps // 2)
    steps = [f"t{t:+d}" if t else "t"
             for t in range(first, first + num_steps)]
    for t in steps:
        assert f"$X_{{{t}}}$" in labels and f"$H_{{{t}}}$" in labels
    assert {"cell state", "hidden\nstate"} <= set(labels)
    # The cell state: one thick line through the top of every module.
    (state,) = [ln for ln in _ax(fig).lines if ln.get_linewidth() == 3]
    xs = state.get_xdata()
    assert max(ln.get_linewidth() for ln in _ax(fig).lines) == 3
    assert len(set(state.get_ydata())) == 1
    assert_drawn_inside(fig)
    module_boxes = filled(fig, diagrams.MODULE)
    assert len(module_boxes) == num_steps
    for module in module_boxes:
        left, right = module.get_x(), module.get_x() + module.get_width()
        assert min(xs) < left and right < max(xs)
        low = module.get_y()
        assert low < state.get_ydata()[0] < low + module.get_height()


CNN_LSTM = [("add a channel axis", ("batch", 1, 336), "op"),
            ("Conv1D", ("batch", 64, 336), "layer"),
            ("MaxPool1D", ("batch", 64, 168), "op"),
            ("time major", (168, "batch", 64), "op"),
            ("LSTM", ("batch", 64), "layer"),
            ("Dense", ("batch", 48), "layer")]


@pytest.mark.parametrize("count", [1, 2, 5, 6])
def test_cnn_lstm(count):
    stages = CNN_LSTM[:count]
    fig = diagrams.cnn_lstm(("batch", 336), stages)
    labels = texts(fig)
    assert [b for b in labels if b in {s[0] for s in stages}] == [
        s[0] for s in stages]  # one block per stage, in order
    learned = filled(fig, diagrams.LAYER)
    assert len(learned) == sum(kind == "layer" for *_, kind in stages)
    assert len(boxes(fig)) == count
    # Every arrow between two blocks carries the shape the first outputs;
    # the input and the forecast are named with theirs.
    assert "window (batch, 336)" in labels
    assert f"forecast {diagrams._shape(stages[-1][1])}" in labels
    for _, shape, _ in stages[:-1]:
        assert diagrams._shape(shape) in labels
    assert len(arrows(fig)) == count + 1
    assert_drawn_inside(fig)


@pytest.mark.parametrize("stages, message", [
    ([], "at least one block"),
    ([("x", (1,), "conv")], r"'layer' or 'op', got \['conv'\]"),
])
def test_cnn_lstm_refuses_bad_stages(stages, message):
    with pytest.raises(ValueError, match=message):
        diagrams.cnn_lstm((1, 2), stages)


def test_lstm_chain_refuses_bad_num_steps():
    with pytest.raises(ValueError, match="num_steps must be a positive int"):
        diagrams.lstm_chain(0)


@pytest.mark.parametrize("name", sorted(diagrams.FIGURES))
def test_committed_figure_is_the_code_s(name):
    # book/figures/NAME is what `python -m lstm_tutorial.diagrams
    # book/figures` writes; a diagram changed without redrawing fails.
    committed = (ROOT / "book" / "figures" / name).read_text(encoding="utf-8")
    assert committed == diagrams.svg(diagrams.FIGURES[name]), (
        f"book/figures/{name} is stale: run python -m "
        "lstm_tutorial.diagrams book/figures")


def test_svg_is_the_same_every_time():
    draw = diagrams.FIGURES["lstm-chain.svg"]
    assert diagrams.svg(draw) == diagrams.svg(draw)


def test_a_stale_figure_is_found(tmp_path):
    # The check above compares text: a figure drawn with one step fewer
    # differs from the committed one.
    (path,) = diagrams.write_figures(tmp_path)
    assert path.read_text(encoding="utf-8") == diagrams.svg(
        diagrams.FIGURES["lstm-chain.svg"])
    assert path.read_text(encoding="utf-8") != diagrams.svg(
        lambda: diagrams.lstm_chain(num_steps=2))


def _error_arrows(fig, color):
    return [a for a in arrows(fig)
            if colors.same_color(a.arrow_patch.get_edgecolor(), color)]


@pytest.mark.parametrize("num_steps", [1, 3, 4])
def test_error_flow_cuts_only_the_recurrent_path(num_steps):
    fig = diagrams.error_flow(num_steps)
    n = num_steps
    # Two chains: per step, four arrows within the step and one from the
    # output, one on along the carousel at the first step; between steps
    # the carousel, and W_h in the full chain only (dashed in the other).
    per_chain = 5 * n + 1 + (n - 1)
    assert len(_error_arrows(fig, diagrams.ERROR)) == 2 * per_chain + (n - 1)
    cut = _error_arrows(fig, diagrams.CUT)
    assert len(cut) == n - 1
    assert all(a.arrow_patch.get_linestyle() == "--" for a in cut)
    labels = texts(fig)
    assert labels.count(r"$\mathbf{W}_h^\top$") == n - 1
    assert labels.count(r"$\times$") == n - 1  # each cut path crossed out
    assert labels.count(r"$\times\, 1$") == n - 1  # 1997: F = 1
    for t in ("t",) if n < 3 else ("t-1", "t", "t+1"):
        for name in ("A", "H", "C", "X"):
            assert labels.count(rf"$\delta\mathbf{{{name}}}_{{{t}}}$") == 2
    assert len(circles(fig)) == 2 * 2 * n
    assert_drawn_inside(fig)
