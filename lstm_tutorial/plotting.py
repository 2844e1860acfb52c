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

# Colour-blind-safe cycle (Okabe & Ito), one colour per model across chapters.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00",
          "#56B4E9", "#F0E442", "#000000")

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
    first figure) it would reset the output format to PNG.
    """
    from IPython import get_ipython  # only inside Jupyter
    from matplotlib_inline import backend_inline

    shell = get_ipython()
    if shell is not None:
        shell.run_line_magic("matplotlib", "inline")
    backend_inline.set_matplotlib_formats("svg")
    use_style()


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
