"""Chapter 6's data: real electricity demand, windows, baselines, errors.

The series is the half-hourly electricity demand of England and Wales
(megawatts) from 5 June to 27 August 2000, 12 weeks = 4,032 points, that
Taylor (2003) forecast with double seasonal exponential smoothing; the
``pmdarima`` package ships it (``load_taylor``), so nothing is downloaded.

A window holds the past ``window`` half-hours (a week, 336) and its
target the next ``horizon`` (a day, 48). The split is chronological:
weeks 1-8 train, 9-10 validation, 11-12 test; a validation or test
window may look back into the weeks before its split (those are past
observations), its targets never leave it. Scaling is fitted on the
training weeks only.
"""

import numpy as onp

from .source import checked_by

__all__ = ["DAY", "WEEK", "CONFIG", "load_demand", "split_bounds",
           "windows", "Scaler", "persistence", "fit_linear",
           "predict_linear", "errors", "datasets", "daily_path"]

DAY, WEEK = 48, 336  # half-hours
CONFIG = {"window": WEEK, "horizon": DAY, "weeks": (8, 2, 2)}


def _check_series(series):
    series = onp.asarray(series, dtype=onp.float64)
    if series.ndim != 1:
        raise ValueError(f"series must be one-dimensional, got shape "
                         f"{series.shape}")
    if not onp.isfinite(series).all():
        bad = int(onp.flatnonzero(~onp.isfinite(series))[0])
        raise ValueError(f"series must be finite, got {series[bad]} at "
                         f"index {bad}")
    return series


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def load_demand():
    """Taylor's series: 4,032 half-hourly demands (MW), float64."""
    from pmdarima.datasets import load_taylor  # lazily: a heavy import

    return onp.asarray(load_taylor(as_series=False), dtype=onp.float64)


def split_bounds(length, weeks=CONFIG["weeks"]):
    """``{'train': (0, a), 'val': (a, b), 'test': (b, c)}`` in points."""
    for name, w in zip(("train", "val", "test"), weeks):
        _check_positive(f"weeks ({name})", w)
    if sum(weeks) * WEEK > length:
        raise ValueError(f"weeks {tuple(weeks)} need {sum(weeks) * WEEK} "
                         f"points, the series has {length}")
    ends = onp.cumsum([0, *weeks]) * WEEK
    return {name: (int(ends[k]), int(ends[k + 1]))
            for k, name in enumerate(("train", "val", "test"))}


def _check_windows(series, start, end, window=CONFIG["window"],
                   horizon=CONFIG["horizon"], stride=1):
    series = _check_series(series)
    for name, value in (("window", window), ("horizon", horizon),
                        ("stride", stride)):
        _check_positive(name, value)
    if not 0 <= start < end <= len(series):
        raise ValueError(f"need 0 <= start < end <= {len(series)}, got "
                         f"start={start}, end={end}")
    first = max(start, window)
    if first + horizon > end:
        raise ValueError(
            f"no window fits: window {window} + horizon {horizon} needs "
            f"targets in [{first}, {first + horizon}), the range ends at "
            f"{end} (series of {len(series)} points)")


@checked_by(_check_windows)
def windows(series, start, end, window=CONFIG["window"],
            horizon=CONFIG["horizon"], stride=1):
    """Inputs ``X`` (n, window), targets ``Y`` (n, horizon), origins.

    Every origin ``t`` (index of the first target) has its targets in
    ``[start, end)`` and its inputs ``series[t - window:t]``.
    """
    series = onp.asarray(series, dtype=onp.float64)
    first = max(start, window)  # the first origin with a whole window
    origins = onp.arange(first, end - horizon + 1, stride)
    X = onp.stack([series[t - window:t] for t in origins])
    Y = onp.stack([series[t:t + horizon] for t in origins])
    return X, Y, origins


class Scaler:
    """Standardise with the mean and deviation of the training data."""

    def __init__(self, train):
        train = _check_series(train)
        self.mean, self.std = float(train.mean()), float(train.std())
        if not self.std > 0:
            raise ValueError("the training data are constant")

    def __call__(self, x):
        return (onp.asarray(x) - self.mean) / self.std

    def inverse(self, z):
        return onp.asarray(z) * self.std + self.mean


def _check_persistence(X, horizon, period):
    X = onp.asarray(X)
    _check_positive("period", period)
    if not horizon <= period <= X.shape[1]:
        raise ValueError(f"period must lie in [horizon={horizon}, "
                         f"window={X.shape[1]}], got {period}")


@checked_by(_check_persistence)
def persistence(X, horizon, period):
    """The value ``period`` points before each target, from the window."""
    X = onp.asarray(X)
    start = X.shape[1] - period
    return X[:, start:start + horizon]


def fit_linear(X, Y, ridge=1.0):
    """Least squares ``Y ~ [X, 1] W`` with a small ridge; returns ``W``."""
    A = onp.hstack([X, onp.ones((len(X), 1))])
    penalty = ridge * onp.eye(A.shape[1])
    penalty[-1, -1] = 0.0  # the bias is not shrunk
    return onp.linalg.solve(A.T @ A + penalty, A.T @ Y)


def predict_linear(W, X):
    return onp.hstack([X, onp.ones((len(X), 1))]) @ W


def errors(prediction, target):
    """``{'rmse': ..., 'mae': ...}`` over every target point (MW)."""
    prediction, target = onp.asarray(prediction), onp.asarray(target)
    if prediction.shape != target.shape:
        raise ValueError(f"prediction has shape {prediction.shape}, target "
                         f"{target.shape}")
    diff = prediction - target
    return {"rmse": float(onp.sqrt((diff ** 2).mean())),
            "mae": float(onp.abs(diff).mean())}


def datasets(series=None, config=CONFIG):
    """Windows of the three splits in MW and scaled, and the scaler."""
    series = _check_series(load_demand() if series is None else series)
    bounds = split_bounds(len(series), config["weeks"])
    scaler = Scaler(series[slice(*bounds["train"])])
    data = {"scaler": scaler, "series": series, "bounds": bounds}
    for name, (start, end) in bounds.items():
        X, Y, origins = windows(series, start, end, config["window"],
                                config["horizon"])
        data[name] = {"X": X, "Y": Y, "origins": origins,
                      "Xs": scaler(X), "Ys": scaler(Y)}
    return data


def daily_path(prediction, origins, start, days=7):
    """The day-ahead forecasts made at ``days`` midnights from ``start``.

    Concatenated, they forecast ``days`` days, each from the week before
    it: a path to plot against the truth.
    """
    prediction, origins = onp.asarray(prediction), onp.asarray(origins)
    wanted = start + DAY * onp.arange(days)
    rows = onp.searchsorted(origins, wanted)
    if (rows >= len(origins)).any() or (origins[rows] != wanted).any():
        raise ValueError(f"the windows hold no forecast made at every "
                         f"midnight from {start} for {days} days")
    return prediction[rows, :DAY].reshape(-1)
