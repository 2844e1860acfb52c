"""The book's one plotting style: SVG figures that nbval can compare.

Every chapter calls ``setup_notebook()`` once. Figures are SVG with text
kept as text (``svg.fonttype='none'``), a fixed hash salt and a fixed date
(``SOURCE_DATE_EPOCH=0``) so that re-executing a notebook reproduces the
stored SVG; tests/nbval_sanitize.cfg masks only the geometry, so titles,
labels, tick labels and legends are still compared. Plot cells end with
``plt.show()`` (a trailing ``;`` does not hide output under nbval).
"""

import os

import matplotlib as mpl
from matplotlib import pyplot as plt

# Colour-blind-safe cycle (Okabe & Ito), for figures that are not about models.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00",
          "#56B4E9", "#F0E442", "#000000")

# One colour per model across the whole book: a reader who has met the
# LSTM in blue finds it blue in every later figure. Okabe & Ito's colours
# first, then three of Tol's (wine, olive, purple) for the rest; the observed
# data are black. Figures ask ``color(model)``, never a position in COLORS.
MODEL_COLORS = {
    "lstm": "#0072B2",        # the modern LSTM (forget gate), chapters 3-7
    "rnn": "#D55E00",         # chapter 1's RNN
    "lstm1997": "#009E73",    # the 1997 cell, chapters 2-3
    "bilstm": "#CC79A7",      # chapter 4
    "attention": "#E69F00",   # encoder-decoder with attention, chapter 5
    "seq2seq": "#56B4E9",     # encoder-decoder without attention
    "cnn_lstm": "#882255",    # chapter 6
    "linear": "#999933",      # chapter 6's linear regression
    "persistence": "#777777",  # chapter 6's same-as-last-week forecast
    "gru": "#AA3377",         # chapter 7 (not teal: beside the 1997 green)
    "data": "#000000",        # observed values
}

STYLE = {
    "axes.prop_cycle": mpl.cycler(color=COLORS),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "figure.figsize": (6.0, 3.5),
    "font.size": 10,
    "legend.frameon": False,
    "svg.fonttype": "none",
    "svg.hashsalt": "lstm-tutorial",
}


def use_style():
    """Apply the house style to matplotlib's global settings."""
    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")
    mpl.rcParams.update(STYLE)


def setup_notebook():
    """House style plus SVG output for inline figures (call once).

    The inline backend is activated first: activated later (lazily, at the
    first figure) it would reset the output format to PNG. Each SVG
    carries ``figure_digest`` in its metadata (``<dc:description>``): nbval
    masks the SVG's coordinates, and compares the digest of the data.
    """
    from IPython import get_ipython  # only inside Jupyter
    from matplotlib.figure import Figure
    from matplotlib_inline import backend_inline

    shell = get_ipython()
    if shell is not None:
        shell.run_line_magic("matplotlib", "inline")
    backend_inline.set_matplotlib_formats("svg")
    if shell is not None:
        shell.display_formatter.formatters["image/svg+xml"].for_type(
            Figure, svg)
    use_style()


def svg(fig):
    """``fig`` as SVG text, its data's digest in the metadata (or None
    for a figure with nothing drawn, as IPython's own formatter)."""
    from IPython.core.pylabtools import print_figure

    return print_figure(fig, "svg", bbox_inches="tight",
                        metadata={"Description": figure_digest(fig)})


def _numbers(values):
    import numpy as onp

    array = onp.ma.asarray(values, dtype=float)
    return onp.ma.filled(array, onp.nan).ravel()


def figure_data(fig):
    """Every number ``fig`` draws, in drawing order: ``(kind, array)``.

    Per axes: its limits, then the lines' points, the collections'
    offsets and paths (scatter, ``fill_between``, line collections) and
    colour arrays (``pcolormesh``), the patches' outlines in data
    coordinates (bars, boxes), the images' pixels and extents, and the
    texts' positions. Arrows are left out: their paths are drawn in
    display coordinates, and they carry no data.
    """
    from matplotlib.patches import ConnectionPatch, FancyArrowPatch

    for ax in fig.axes:
        yield "limits", _numbers(ax.get_xlim() + ax.get_ylim())
        for line in ax.lines:
            yield "line", _numbers(line.get_xydata())
        for collection in ax.collections:
            yield "offsets", _numbers(collection.get_offsets())
            for path in collection.get_paths():
                yield "path", _numbers(path.vertices)
            if collection.get_array() is not None:
                yield "colours", _numbers(collection.get_array())
        for patch in ax.patches:
            if isinstance(patch, (FancyArrowPatch, ConnectionPatch)):
                continue
            outline = patch.get_patch_transform().transform(
                patch.get_path().vertices)
            yield "patch", _numbers(outline)
        for image in ax.images:
            yield "image", _numbers(image.get_array())
            yield "extent", _numbers(image.get_extent())
        for text in ax.texts:
            yield "text", _numbers(text.get_position())


def figure_digest(fig, digits=3):
    """One line naming ``fig``'s data: counts, and a hash of every number
    it draws rounded to ``digits`` significant digits.

    A curve that moves by more than its rounding changes the hash, while
    text in the SVG (labels, ticks, legends) is compared as it is.
    """
    import hashlib

    sha, artists, count = hashlib.sha1(), 0, 0
    for kind, values in figure_data(fig):
        artists += kind != "limits"
        count += values.size
        sha.update(f"{kind}:{values.size}:".encode())
        sha.update(" ".join(f"{v:.{digits}g}" for v in values).encode())
    return (f"figure data: {len(fig.axes)} axes, {artists} artists, "
            f"{count} numbers; sha1 at {digits} significant digits "
            f"{sha.hexdigest()[:16]}")


def color(model):
    """The book's colour for ``model`` (a key of ``MODEL_COLORS``)."""
    if model not in MODEL_COLORS:
        raise ValueError(f"model must be one of {sorted(MODEL_COLORS)}, "
                         f"got {model!r}")
    return MODEL_COLORS[model]


def legend_above(ax, ncol=None, **kwargs):
    """A legend in a row above the plot area, never on top of the data.

    ``ax`` may be an Axes or a Figure (one legend for several axes, taken
    from the first axes' labelled lines). ``ncol`` defaults to all entries
    in one row, at most three.
    """
    from matplotlib.figure import Figure

    source = ax.axes[0] if isinstance(ax, Figure) else ax
    handles, labels = source.get_legend_handles_labels()
    if not handles:
        raise ValueError("legend_above needs labelled artists; none of the "
                         "plotted lines has a label")
    ncol = ncol or min(len(handles), 3)
    if isinstance(ax, Figure):
        return ax.legend(handles, labels, loc="lower center", ncol=ncol,
                         bbox_to_anchor=(0.5, 1.0), **kwargs)
    return ax.legend(handles, labels, loc="lower left", ncol=ncol,
                     bbox_to_anchor=(0.0, 1.02), borderaxespad=0, **kwargs)


def log_axis(ax, axis="y"):
    """A log scale whose ticks a reader can read off.

    Over two decades or more, matplotlib's labels at powers of ten are
    enough. Over less, it labels one tick or none; then 1, 2 and 5 of every
    decade are labelled, in plain numbers. Call after the data are plotted.
    """
    import math

    from matplotlib import ticker

    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    getattr(ax, f"set_{axis}scale")("log")
    lo, hi = getattr(ax, f"get_{axis}lim")()
    target = ax.yaxis if axis == "y" else ax.xaxis
    if math.log10(hi / lo) < 2:
        target.set_major_locator(ticker.LogLocator(10, subs=(1, 2, 5)))
        target.set_major_formatter(ticker.FuncFormatter(
            lambda v, _: f"{v:g}"))
        target.set_minor_formatter(ticker.NullFormatter())
    return ax


def figure(ncols=1, figsize=None, **kwargs):
    """A figure with ``ncols`` axes side by side (house size by default)."""
    if figsize is None:
        width, height = STYLE["figure.figsize"]
        figsize = (width if ncols == 1 else 4.2 * ncols, height)
    fig, axes = plt.subplots(1, ncols, figsize=figsize, **kwargs)
    return fig, axes


def plot_curves(ax, curves, xlabel, ylabel, yscale="linear", title=None):
    """Plot ``{label: (xs, ys)}`` as lines on ``ax`` with a legend."""
    for label, (xs, ys) in curves.items():
        ax.plot(xs, ys, label=label, lw=1.5)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_yscale(yscale)
    if title:
        ax.set_title(title)
    if len(curves) > 1:
        ax.legend()
    return ax


def plot_runs(ax, runs, label=None, color=None, lw=1.8):
    """Every run of a multi-seed experiment faintly, and their median.

    ``runs`` is a list of ``(xs, ys)``, one per seed, on the same ``xs``
    (a run that stopped early is drawn as far as it went; the median is
    taken where every run has a value). Returns the median line.
    """
    if not runs:
        raise ValueError("runs must hold at least one (xs, ys) pair, got "
                         "none")
    import numpy as onp

    color = color or ax._get_lines.get_next_color()
    for xs, ys in runs:
        ax.plot(xs, ys, color=color, lw=0.7, alpha=0.3)
    n = min(len(ys) for _, ys in runs)
    xs = runs[0][0][:n]
    median = onp.median(onp.array([ys[:n] for _, ys in runs]), axis=0)
    (line,) = ax.plot(xs, median, color=color, lw=lw,
                      label=None if label is None else
                      f"{label} (median of {len(runs)})")
    return line
