"""lstm_tutorial/plotting.py: the spread of many seeds in one figure."""

import matplotlib

matplotlib.use("Agg")

import numpy as onp  # noqa: E402
import pytest  # noqa: E402

from lstm_tutorial import plotting  # noqa: E402


def test_plot_runs_draws_every_run_and_their_median():
    fig, ax = plotting.figure()
    runs = [([0, 1, 2], [0.1, 0.5, 0.9]), ([0, 1, 2], [0.3, 0.2, 0.7]),
            ([0, 1], [0.2, 0.4])]  # the last stopped early
    line = plotting.plot_runs(ax, runs, label="LSTM", color="#0072B2")
    assert len(ax.lines) == 4 and ax.lines[-1] is line
    assert line.get_label() == "LSTM (median of 3)"
    onp.testing.assert_allclose(line.get_ydata(), [0.2, 0.4])
    assert all(ln.get_alpha() == 0.3 for ln in ax.lines[:3])
    with pytest.raises(ValueError, match="at least one"):
        plotting.plot_runs(ax, [])


def test_every_model_has_its_own_colour():
    colours = list(plotting.MODEL_COLORS.values())
    assert len(set(colours)) == len(colours)
    assert plotting.color("lstm") == plotting.MODEL_COLORS["lstm"]
    with pytest.raises(ValueError, match="model must be one of .* got 'LSTM'"):
        plotting.color("LSTM")


def _visible_labels(ax, axis="y"):
    ax.figure.canvas.draw()
    ticks = (ax.yaxis if axis == "y" else ax.xaxis).get_ticklabels()
    lo, hi = getattr(ax, f"get_{axis}lim")()
    return [t.get_text() for t in ticks
            if t.get_text() and lo <= t.get_position()[axis == "y"] <= hi]


def test_log_axis_labels_a_narrow_range_readably():
    fig, ax = plotting.figure()
    ax.plot([0, 1, 2], [1.5, 3.0, 8.0])
    ax.set_yscale("log")
    assert len(_visible_labels(ax)) <= 1  # matplotlib alone: one label or none
    plotting.log_axis(ax)
    labels = _visible_labels(ax)
    assert len(labels) >= 2, labels
    fig, ax = plotting.figure()
    ax.plot([0, 1], [1e-6, 1.0])
    plotting.log_axis(ax)  # six decades: powers of ten suffice
    assert len(_visible_labels(ax)) >= 3
    with pytest.raises(ValueError, match="axis must be 'x' or 'y'"):
        plotting.log_axis(ax, "z")


def test_legend_above_sits_outside_the_plot_area():
    fig, ax = plotting.figure()
    ax.plot([0, 1], [0, 1], label="LSTM")
    ax.plot([0, 1], [1, 0], label="RNN")
    legend = plotting.legend_above(ax)
    fig.canvas.draw()
    box = legend.get_window_extent()
    assert box.y0 >= ax.get_window_extent().y1  # above the data, not on it
    fig.legend_ = None
    fig, axes = plotting.figure(ncols=2)
    axes[0].plot([0, 1], [0, 1], label="LSTM")
    legend = plotting.legend_above(fig)
    fig.canvas.draw()
    assert legend.get_window_extent().y0 >= axes[0].get_window_extent().y1
    with pytest.raises(ValueError, match="needs labelled artists"):
        plotting.legend_above(plotting.figure()[1])


def _curves(shift=0.0, moved=None, n=47):
    """A figure of ``n`` curves; curve ``moved`` is raised by ``shift``."""
    fig, ax = plotting.figure()
    x = onp.linspace(0, 1, 50)
    for k in range(n):
        ax.plot(x, onp.sin(x + k) + (shift if k == moved else 0.0))
    ax.set_ylim(-2, 2)  # fixed: a moved curve moves no axis limit
    return fig


def test_the_digest_names_the_data_and_changes_when_a_curve_moves():
    digest = plotting.figure_digest(_curves())
    assert digest == plotting.figure_digest(_curves())  # deterministic
    assert digest.startswith("figure data: 1 axes, 47 artists, 4704 numbers")
    assert plotting.figure_digest(_curves(0.01, moved=31)) != digest
    # Below the rounding (3 significant digits), the digest stays:
    assert plotting.figure_digest(_curves(1e-7, moved=31)) == digest


def test_the_digest_covers_bars_scatter_images_and_fills():
    def drawn(bar=1.0, point=0.5, pixel=0.2, fill=0.3):
        fig, ax = plotting.figure()
        ax.bar([0, 1], [1.0, bar])
        ax.scatter([0.1, 0.2], [0.3, point])
        ax.imshow([[0.1, pixel]], extent=(0, 1, 0, 1))
        ax.fill_between([0, 1], [0, 0], [0.1, fill])
        ax.set_xlim(0, 2), ax.set_ylim(0, 2)
        return plotting.figure_digest(fig)

    base = drawn()
    for change in ({"bar": 1.1}, {"point": 0.6}, {"pixel": 0.3},
                   {"fill": 0.4}):
        assert drawn(**change) != base, change
