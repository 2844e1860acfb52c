"""lstm_tutorial/diagrams.py: every diagram draws what it says, in style.

Each function returns a figure with the expected layers (boxes), pointwise
operations (circles) and labels; every label is valid mathtext and lies
inside the figure once drawn.
"""

import io

import pytest
from matplotlib import patches
from matplotlib import pyplot as plt

from lstm_tutorial import diagrams


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
    for t in range(1, num_steps + 1):
        assert f"$X_{t}$" in labels and f"$H_{t}$" in labels
        assert rf"$\overrightarrow{{H}}_{t}$" in labels
        assert rf"$\overleftarrow{{H}}_{t}$" in labels
    assert r"$\overrightarrow{H}_0$" in labels
    assert rf"$\overleftarrow{{H}}_{{{num_steps + 1}}}$" in labels
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
        assert texts_.count(f"$h_{t}$") == 2  # as key and as value
        assert rf"$\alpha_{{t',{t}}}$" in texts_
    for name in ("$s_{t'-1}$", "$s_{t'}$", "$c_{t'}$", "$y_{t'-1}$",
                 r"$\hat{y}_{t'}$"):
        assert name in texts_
    assert_drawn_inside(fig)


@pytest.mark.parametrize("draw", [diagrams.bidirectional_chain,
                                  diagrams.attention_decoder])
@pytest.mark.parametrize("num_steps", [0, -1, 2.0])
def test_num_steps_must_be_positive(draw, num_steps):
    with pytest.raises(ValueError, match="num_steps must be a positive int"):
        draw(num_steps)
