"""Chapter 6: the data, windows, baselines, the CNN-LSTM, stored results."""

import mxnet as mx
import numpy as onp
import pytest
from mxnet import np

from lstm_tutorial import cnn_lstm as cl
from lstm_tutorial import cnn_lstm_tasks as tasks
from lstm_tutorial import device, experiments

from helpers import failing, spoiled

SMALL = dict(cl.TRAIN, num_hiddens=8, channels=4, dense=5)


@pytest.fixture(scope="module")
def demand():
    return tasks.load_demand()


@pytest.fixture(scope="module")
def data(demand):
    return tasks.datasets(demand)


def test_demand_is_taylors_series(demand):
    # 12 weeks of half-hours, megawatts of England and Wales in summer
    assert demand.shape == (12 * tasks.WEEK,)
    assert 15_000 < demand.min() < demand.max() < 45_000


def test_split_is_chronological_and_tests_two_weeks(data):
    b = data["bounds"]
    assert b["train"][1] == b["val"][0] and b["val"][1] == b["test"][0]
    assert b["test"] == (10 * tasks.WEEK, 12 * tasks.WEEK)
    for name, (start, end) in b.items():
        origins = data[name]["origins"]
        assert origins.min() >= start and origins.max() + 48 <= end, name


def test_windows_hold_the_past_and_the_next_day(demand):
    X, Y, origins = tasks.windows(demand, 400, 500)
    assert X.shape == (len(origins), 336) and Y.shape == (len(origins), 48)
    t = origins[3]
    assert (X[3] == demand[t - 336:t]).all()
    assert (Y[3] == demand[t:t + 48]).all()
    assert origins[0] == 400 and origins[-1] == 500 - 48


def test_scaler_is_fitted_on_training_weeks_only(data, demand):
    scaler = data["scaler"]
    assert scaler.mean == pytest.approx(demand[:8 * tasks.WEEK].mean())
    assert scaler.mean != pytest.approx(demand.mean())
    assert onp.allclose(scaler.inverse(scaler(demand)), demand)


def test_persistence_copies_yesterday_and_last_week(demand):
    X, Y, origins = tasks.windows(demand, 3000, 3100)
    day = tasks.persistence(X, 48, tasks.DAY)
    week = tasks.persistence(X, 48, tasks.WEEK)
    t = origins[0]
    assert (day[0] == demand[t - 48:t]).all()
    assert (week[0] == demand[t - 336:t - 288]).all()


def test_linear_regression_recovers_a_linear_map():
    rng = onp.random.RandomState(0)
    X, W = rng.randn(200, 6), rng.randn(7, 3)
    Y = onp.hstack([X, onp.ones((200, 1))]) @ W
    assert onp.allclose(tasks.fit_linear(X, Y, ridge=1e-9), W, atol=1e-6)


def test_daily_path_joins_the_forecasts_made_at_midnight(data):
    test = data["test"]
    start = data["bounds"]["test"][0]
    path = tasks.daily_path(test["Y"], test["origins"], start, days=3)
    assert (path == data["series"][start:start + 3 * 48]).all()
    with pytest.raises(ValueError, match="no forecast made at every"):
        tasks.daily_path(test["Y"], test["origins"], start, days=15)


def test_errors_are_rmse_and_mae():
    e = tasks.errors(onp.array([[1.0, 2.0]]), onp.array([[1.0, 5.0]]))
    assert e["mae"] == 1.5 and e["rmse"] == pytest.approx(onp.sqrt(4.5))


@pytest.mark.parametrize("kwargs, match", [
    ({"window": 0}, "window must be a positive int, got 0"),
    ({"horizon": 0}, "horizon must be a positive int, got 0"),
    ({"horizon": -3}, "horizon must be a positive int, got -3"),
    ({"window": 5000}, "no window fits: window 5000"),
    ({"start": 100, "end": 50}, "need 0 <= start < end"),
])
def test_windows_reject_bad_sizes(demand, kwargs, match):
    args = {"start": 0, "end": len(demand), **kwargs}
    with pytest.raises(ValueError, match=match):
        tasks.windows(demand, **args)


def test_non_finite_data_are_rejected(demand):
    bad = demand.copy()
    bad[7] = onp.nan
    with pytest.raises(ValueError, match="finite, got nan at index 7"):
        tasks.windows(bad, 0, len(bad))
    with pytest.raises(ValueError, match="one-dimensional"):
        tasks.windows(demand[:, None], 0, 10)


def test_bad_splits_persistence_and_errors(demand):
    with pytest.raises(ValueError, match="need 4704 points"):
        tasks.split_bounds(len(demand), (10, 2, 2))
    with pytest.raises(ValueError, match=r"weeks \(val\) must be"):
        tasks.split_bounds(len(demand), (8, 0, 2))
    with pytest.raises(ValueError, match="period must lie in"):
        tasks.persistence(onp.zeros((2, 336)), 48, 24)
    with pytest.raises(ValueError, match="prediction has shape"):
        tasks.errors(onp.zeros((2, 3)), onp.zeros((2, 4)))


def test_front_end_shortens_the_week_four_times():
    net = cl.forecaster("cnn_lstm", 0, config=SMALL)
    Z = net.front(np.zeros((2, 1, 336)))
    assert Z.shape == (2, SMALL["channels"], 84)


@pytest.mark.parametrize("kind", cl.KINDS)
def test_forecaster_maps_a_week_to_a_day(kind):
    net = cl.forecaster(kind, 0, config=SMALL)
    assert net(np.ones((3, 336))).shape == (3, 48)
    assert (net.front is None) == (kind == "lstm")


def test_forecaster_is_reproducible_and_rejects_bad_input():
    X = np.array(onp.random.RandomState(1).randn(2, 336), dtype="float32")
    a = cl.forecaster("cnn_lstm", 3, config=SMALL)(X)
    b = cl.forecaster("cnn_lstm", 3, config=SMALL)(X)
    assert onp.array_equal(a.asnumpy(), b.asnumpy())
    with pytest.raises(ValueError, match="kind must be one of"):
        cl.forecaster("gru", 0)
    with pytest.raises(ValueError, match=r"X must be \(batch_size, window\)"):
        cl.forecaster("lstm", 0, config=SMALL)(np.ones((2, 336, 1)))


def test_forecaster_lives_on_its_context(other_ctx):
    net = cl.forecaster("cnn_lstm", 0, ctx=other_ctx, config=SMALL)
    out = net(np.ones((2, 336), ctx=other_ctx))
    assert out.ctx == other_ctx
    with pytest.raises(ValueError, match="is on"):
        net(np.ones((2, 336), ctx=device.device()))


SHORT = dict(cl.TRAIN, num_hiddens=16, channels=8, dense=16, max_steps=80,
             eval_every=10, patience=10_000)


def test_short_training_lowers_the_loss(data):
    net = cl.forecaster("cnn_lstm", 0, config=SHORT)
    history = cl.fit(net, data, 0, SHORT)
    loss = history["loss"]
    assert len(loss) == SHORT["max_steps"]
    assert onp.mean(loss[-10:]) < 0.8 * onp.mean(loss[:10])
    assert cl.forecast(net, data, "test").shape == data["test"]["Y"].shape


@pytest.mark.parametrize("kind", cl.KINDS)
def test_fit_ends_with_the_best_validation_parameters(data, kind):
    # lr so high that the validation RMSE does not fall to the last step:
    # the parameters kept must be those of the best evaluation, not the last
    config = dict(SHORT, lr=0.2, max_steps=40, eval_every=5)
    net = cl.forecaster(kind, 0, config=config)
    history = cl.fit(net, data, 0, config)
    steps, val = history.at("val_rmse")
    assert steps == list(range(5, 41, 5))
    best = int(onp.argmin(val))
    assert history.best_step == steps[best] < steps[-1]
    rmse = tasks.errors(cl.forecast(net, data, "val"), data["val"]["Y"])
    assert rmse["rmse"] == pytest.approx(val[best], rel=1e-5)
    assert rmse["rmse"] != pytest.approx(val[-1], rel=1e-3)


def test_fit_stops_when_the_patience_is_over(data):
    config = dict(SHORT, lr=0.05, max_steps=400, patience=20)
    history = cl.fit(cl.forecaster("lstm", 0, config=config), data, 0,
                     config)
    steps, val = history.at("val_rmse")
    assert history.last("step") == history.best_step + 20 < 400
    assert min(val[:-2]) == val[-3] < min(val[-2:])  # the two after: worse


def test_snapshot_and_restore_round_trip(data):
    net = cl.forecaster("cnn_lstm", 0, config=SHORT)
    before = cl.forecast(net, data, "val")  # the weights in DNNL's layout
    saved = cl.snapshot(net)
    cl.fit(net, data, 0, dict(SHORT, max_steps=10, eval_every=100))
    cl.restore(net, saved)
    assert onp.allclose(cl.forecast(net, data, "val"), before, atol=1e-3)


# The stored results (python -m lstm_tutorial.experiments cnn_lstm_demand),
# the networks stopped early on the validation weeks. Their
# claims (cl.claims_demand) are checked on the stored record by tests/
# test_claims_stored.py; here the record is whole and the claims can fail.

def _stored():
    return experiments.load_results("cnn_lstm_demand")


def test_experiment_is_registered():
    assert experiments.registry()["cnn_lstm_demand"][0] == "cnn_lstm"


def test_stored_results_cover_every_model():
    for result in _stored()["seeds"].values():
        for model in cl.MODELS:
            for split in ("val", "test"):
                e = result[model][split]
                assert 0 < e["mae"] <= e["rmse"], model


def test_stored_runs_stopped_on_the_validation_weeks():
    config = cl.TRAIN
    for result in _stored()["seeds"].values():
        for kind in cl.KINDS:
            r = result[kind]
            c = r["curves"]
            assert len(c["step"]) == len(c["val_rmse"]) == len(c["loss"])
            assert c["step"][-1] == r["steps"] <= config["max_steps"]
            best = c["step"][int(onp.argmin(c["val_rmse"]))]
            assert r["best_step"] == best
            # stopped by the patience, or by the maximum
            assert (r["steps"] == best + config["patience"]
                    or r["steps"] == config["max_steps"])
            assert r["val"]["rmse"] == pytest.approx(min(c["val_rmse"]),
                                                     rel=1e-4)
            assert len(r["last_week"]) == tasks.WEEK


def test_claims_can_fail():
    record, claims = _stored(), cl.claims_demand
    sentences = [c.sentence for c in claims(record)]
    assert failing(claims(record)) == set()

    def worse(*models):
        def change(r):
            for model in models:
                for split in ("val", "test"):
                    r[model][split]["rmse"] *= 10
        return change
    # each claim names the model that must be the better one first
    firsts = {a: set() for a in cl.MODELS}
    for (a, *_), sentence in zip(cl.CLAIMS_RMSE, sentences):
        firsts[a].add(sentence)
    for model, expected in firsts.items():
        assert failing(claims(spoiled(record, worse(model)))) == expected
    assert set().union(*firsts.values()) == set(sentences)


@pytest.mark.parametrize("kernel, pad, pool, convention", [
    (3, 1, 2, "valid"), (2, 0, 2, "valid"), (5, 2, 3, "valid"),
    (4, 1, 2, "full"), (1, 0, 2, "valid")])
def test_front_length_is_mxnets(kernel, pad, pool, convention):
    from mxnet import gluon

    front = gluon.nn.Sequential()
    for _ in range(2):
        front.add(gluon.nn.Conv1D(2, kernel, padding=pad, activation="relu"),
                  gluon.nn.MaxPool1D(pool, ceil_mode=convention == "full"))
    front.initialize()
    for window in range(1, 20):
        n = cl.front_length(front, window)
        if n < 1:
            with pytest.raises((mx.base.MXNetError, ValueError)):
                front(np.zeros((1, 1, window)))
        else:
            assert front(np.zeros((1, 1, window))).shape[2] == n, window


def test_a_window_too_short_for_the_front_names_the_shortest():
    net = cl.forecaster("cnn_lstm", 0)
    with pytest.raises(ValueError, match=r"X's window must be at least 4 "
                       r"steps .*, got 3"):
        net(np.zeros((2, 3)))
    assert net(np.zeros((2, 4))).shape == (2, tasks.CONFIG["horizon"])
