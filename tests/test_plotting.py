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
