"""Chapter 9: the strips, the reader's stages, grid attention, the
penalty's gradient, where it looks, bad input and the stored results.

Each new kind of check is run once on a broken copy of what it guards
(``_broken_*``) and must notice it.
"""

import numpy as onp
import pytest
from mxnet import autograd, np

from lstm_tutorial import attention, experiments
from lstm_tutorial import image_attention as ia
from lstm_tutorial import image_attention_tasks as tasks

from helpers import failing, spoiled

SMALL = dict(tasks.CONFIG, num_steps=3, batch_size=4, num_test=6,
             test_lengths=(1, 3), channels=(4, 6), num_hiddens=8,
             embed_size=5)


@pytest.fixture(scope="module")
def digits():
    return tasks.load_digits()


def _coded_images(n=40):
    """Images whose value says which image they are: image k is all
    (k + 1) / n, label k % 10."""
    images = onp.ones((n, 8, 8), onp.float32) * (
        onp.arange(1, n + 1, dtype=onp.float32) / n)[:, None, None]
    return images, onp.arange(n) % 10


# --- the strips, correct by construction --------------------------------

def _strip_errors(canvas, string, span, images, labels):
    """What is wrong with one noiseless strip of coded images: a list."""
    errors, ink = [], onp.zeros(canvas.shape, bool)
    if not (onp.diff(span[:, 0]) >= 8 + tasks.GAPS[0]).all():
        errors.append("spans overlap or are out of order")
    if not (onp.diff(span[:, 0]) <= 8 + tasks.GAPS[1]).all():
        errors.append("a gap wider than GAPS")
    for digit, (start, end) in zip(string, span):
        block = canvas[:, start:end]
        rows = onp.flatnonzero(block.any(axis=1))
        if end - start != 8 or len(rows) != 8 or rows[-1] - rows[0] != 7:
            errors.append(f"no 8 x 8 digit at {start}:{end}")
            continue
        value = block[rows[0]:rows[0] + 8]
        k = round(float(value[0, 0]) * len(images)) - 1
        if not (value == images[k]).all() or labels[k] != digit:
            errors.append(f"the digit at {start}:{end} is not {digit}")
        ink[rows[0]:rows[0] + 8, start:end] = True
    if canvas[~ink].any():
        errors.append("ink outside the spans")
    return errors


def test_strips_hold_their_digits_at_their_spans():
    images, labels = _coded_images()
    rng = onp.random.RandomState(0)
    lengths = [1, 2, 5, 8, 3]
    X, strings, spans = tasks.strips(images, labels, lengths, rng, noise=0)
    assert X.shape == (5, tasks.HEIGHT, tasks.width_for(8))
    assert [len(s) for s in strings] == lengths
    assert [s.shape for s in spans] == [(n, 2) for n in lengths]
    for canvas, string, span in zip(X, strings, spans):
        assert _strip_errors(canvas, string, span, images, labels) == []
        assert span.min() >= 0 and span.max() <= X.shape[2]


def test_the_strip_check_notices_a_wrong_span():
    images, labels = _coded_images()
    X, strings, spans = tasks.strips(images, labels, [3],
                                     onp.random.RandomState(1), noise=0)
    shifted = spans[0] + onp.array([1, 1])  # one column off
    assert _strip_errors(X[0], strings[0], shifted, images, labels)
    swapped = strings[0][::-1].copy()
    if (swapped != strings[0]).any():
        assert _strip_errors(X[0], swapped, spans[0], images, labels)


def test_strips_are_seeded_noisy_and_in_range(digits):
    images, labels = digits
    a, b, c = (tasks.strips(images, labels, [4] * 3,
                            onp.random.RandomState(s)) for s in (5, 5, 6))
    assert (a[0] == b[0]).all() and (a[0] != c[0]).any()
    assert 0 <= a[0].min() and a[0].max() <= 1 and a[0].dtype == onp.float32
    background = onp.concatenate([  # left of each strip's first digit
        canvas[:, :span[0, 0]].ravel() for canvas, span in zip(a[0], a[2])])
    assert background.size and 0 < background.std() < 3 * tasks.NOISE


def test_split_is_disjoint_and_each_part_reads_its_own():
    parts = tasks.split(1797)
    sets = {k: set(v.tolist()) for k, v in parts.items()}
    assert sum(map(len, sets.values())) == 1797
    assert len(set.union(*sets.values())) == 1797
    images = onp.zeros((1797, 8, 8), onp.float32)
    labels = onp.zeros(1797, int)
    labels[parts["validation"]], labels[parts["test"]] = 1, 2
    data = (images, labels)
    assert (tasks.test_strips(3, SMALL, "test", data)[1] == 2).all()
    assert (tasks.test_strips(3, SMALL, "validation", data)[1] == 1).all()
    for _, _, Y in tasks.batches(0, SMALL, data=data):
        assert (Y.asnumpy()[:, :-1] == 0).all()  # training images only


def test_encode_and_score():
    Y_in, Y = tasks.encode([onp.array([3, 1]), onp.array([4, 1])])
    assert Y_in.tolist() == [[tasks.BOS, 3, 1], [tasks.BOS, 4, 1]]
    assert Y.tolist() == [[3, 1, tasks.EOS], [4, 1, tasks.EOS]]
    E = tasks.EOS
    Y_hat = onp.array([[3, 1, E], [4, 2, E], [4, 1, 1]])
    strings = onp.array([[3, 1], [4, 1], [4, 1]])
    assert tasks.score(Y_hat, strings) == {"sequence": 1 / 3,
                                           "digit": 5 / 6}
    assert tasks.decode_lengths(Y_hat).tolist() == [2, 2, 3]


# --- the reader, stage by stage -----------------------------------------

@pytest.fixture(scope="module")
def small_net():
    return ia.reader("attention", 3, config=SMALL)


def _strips(n=3, length=3, seed=0):
    images, labels = _coded_images()
    X, strings, spans = tasks.strips(images, labels, [length] * n,
                                     onp.random.RandomState(seed))
    return np.array(X[:, None]), onp.stack(strings), onp.stack(spans)


def test_shapes_at_every_stage(small_net):
    X, strings, _ = _strips()
    W = X.shape[3]
    G = small_net.encoder.conv(X)
    assert G.shape == (3, 6, 2, W // 2)  # channels, rows, columns
    grid = small_net.encoder(X)
    d = small_net.encoder.num_features
    assert grid.shape == (3, 2, W // 2, d) and d == 6 + 2 * 32
    state, mean = small_net.decoder.begin(grid)
    assert mean.shape == (3, d) and [s.shape for s in state] == [(3, 8)] * 2
    z, alpha = ia.attend(small_net.decoder.attention, state[0], grid)
    assert z.shape == (3, d) and alpha.shape == (3, 2, W // 2)
    assert onp.allclose(alpha.asnumpy().sum(axis=(1, 2)), 1, atol=1e-5)
    Y_in, _ = tasks.encode(list(strings))
    logits = small_net(X, np.array(Y_in, dtype="int32"))
    assert logits.shape == (4, 3, 11)
    assert small_net.alphas.shape == (3, 4, 2, W // 2)
    Y_hat, alphas = small_net.predict(X, 5)
    assert Y_hat.shape == (3, 5) and alphas.shape == (3, 5, 2, W // 2)
    mean_net = ia.reader("mean", 3, config=SMALL)
    Y_hat, alphas = mean_net.predict(X, 5)
    assert Y_hat.shape == (3, 5) and alphas is None


def _written_attention(net, s, grid):
    """e_ti = tanh(s W_q + a_i W_k) w_v at every location (r, w), then
    the softmax over all of them: in NumPy, location by location."""
    A = net.decoder.attention
    W_q, W_k, w_v = (p.data().asnumpy() for p in (A.W_q, A.W_k, A.w_v))
    s, grid = s.asnumpy(), grid.asnumpy()
    B, R, W, d = grid.shape
    e = onp.zeros((B, R, W))
    for r in range(R):
        for w in range(W):
            e[:, r, w] = onp.tanh(s @ W_q + grid[:, r, w] @ W_k) @ w_v
    alpha = onp.exp(e - e.max(axis=(1, 2), keepdims=True))
    alpha /= alpha.sum(axis=(1, 2), keepdims=True)
    return (alpha[..., None] * grid).sum(axis=(1, 2)), alpha


def _attention_gaps(net, attend):
    """How far ``attend`` is from chapter 5's attention on the flattened
    grid and from the written formula: max |dz|, and max |d alpha| over
    the spread of the weights."""
    X, _, _ = _strips(seed=4)
    grid = net.encoder(X)
    s = np.random.normal(0, 1, (3, 8))
    z, alpha = attend(net.decoder.attention, s, grid)
    B, R, W, d = grid.shape
    flat = grid.reshape(B, R * W, d)
    z5 = net.decoder.attention(s[:, None], flat, flat)[:, 0].asnumpy()
    alpha5 = net.decoder.attention.attention_weights[:, 0].asnumpy()
    z_w, alpha_w = _written_attention(net, s, grid)
    z, alpha = z.asnumpy(), alpha.asnumpy()
    spread = alpha_w.max() - alpha_w.min()  # the weights vary this much
    return (max(abs(z - z5).max(), abs(z - z_w).max()),
            max(abs(alpha.reshape(B, -1) - alpha5).max(),
                abs(alpha - alpha_w).max()) / spread)


def _broken_attend(attention, s, grid):
    """Flattens column by column but reads the weights back row by row:
    the same context, the weights at the wrong locations."""
    B, R, W, d = grid.shape
    a = grid.transpose(0, 2, 1, 3).reshape(B, R * W, d)
    z = attention(s[:, None, :], a, a)[:, 0]
    return z, attention.attention_weights[:, 0].reshape(B, R, W)


def test_grid_attention_is_chapter_5s_on_the_flattened_grid(small_net):
    assert ia.AdditiveAttention is attention.AdditiveAttention
    dz, dalpha = _attention_gaps(small_net, ia.attend)
    assert dz < 1e-5 and dalpha < 1e-4
    dz, dalpha = _attention_gaps(small_net, _broken_attend)
    assert dalpha > 0.1  # the check notices weights put elsewhere


def _receptive_centres(encoder, W=40):
    """The centre of the image columns each grid column of the
    convolutions responds to, found by changing one column at a time."""
    X = np.random.uniform(0, 1, (1, 1, tasks.HEIGHT, W))
    base = encoder.conv(X).asnumpy()[0]  # (c, R, W')
    seen = [[] for _ in range(base.shape[2])]
    for column in range(W):
        Y = X.copy()
        Y[:, :, :, column] += 5
        moved = abs(encoder.conv(Y).asnumpy()[0] - base).max(axis=(0, 1))
        for j in onp.flatnonzero(moved > 1e-6):
            seen[j].append(column)
    return [(min(c) + max(c)) / 2 for c in seen]


def test_a_grid_column_is_centred_where_image_column_says(small_net):
    centres = _receptive_centres(small_net.encoder)
    inner = range(3, len(centres) - 3)  # away from the padded borders
    expected = ia.image_column(small_net.encoder, onp.arange(len(centres)))
    assert [centres[j] for j in inner] == [expected[j] for j in inner]
    stride_only = 2 * onp.arange(len(centres))  # a broken mapping
    assert [centres[j] for j in inner] != [stride_only[j] for j in inner]


def _penalty_gradient_gaps(penalty, seed=7):
    """|autograd - written gradient| and |autograd - central difference|
    of ``penalty`` at random attention weights (B, T', R, W')."""
    rng = onp.random.RandomState(seed)
    B, T, R, W = 2, 3, 2, 4
    raw = rng.uniform(0.1, 1, (B, T, R, W))
    alphas = np.array(raw / raw.sum(axis=(2, 3), keepdims=True))
    alphas.attach_grad()
    with autograd.record():
        value = penalty(alphas)
    value.backward()
    grad = alphas.grad.asnumpy()
    a = alphas.asnumpy().astype(onp.float64)
    written = -2 * (1 - a.sum(axis=1, keepdims=True)) / B * onp.ones_like(a)
    numeric, eps = onp.zeros_like(a), 1e-2
    for index in onp.ndindex(a.shape):
        step = onp.zeros_like(a)
        step[index] = eps
        up, down = (float(penalty(np.array(a + sign * step,
                                           dtype="float32")))
                    for sign in (1, -1))
        numeric[index] = (up - down) / (2 * eps)
    return abs(grad - written).max(), abs(grad - numeric).max()


def _broken_penalty(alphas):
    """Sums over the locations instead of over the steps."""
    looked = alphas.sum(axis=(2, 3))  # (B, T')
    return ((1 - looked) ** 2).sum(axis=1).mean()


def test_penalty_gradient_is_its_formula():
    written, numeric = _penalty_gradient_gaps(ia.doubly_stochastic)
    assert written < 1e-5 and numeric < 1e-3
    written, numeric = _penalty_gradient_gaps(_broken_penalty)
    assert written > 1e-2


def test_penalty_is_zero_when_every_location_gets_one():
    alphas = np.zeros((1, 4, 2, 2))
    for t, (r, w) in enumerate(onp.ndindex(2, 2)):
        alphas[0, t, r, w] = 1
    assert float(ia.doubly_stochastic(alphas)) == 0
    assert float(ia.doubly_stochastic(np.ones((1, 4, 2, 2)) / 4)) == 0
    assert float(ia.doubly_stochastic(alphas[:, :1])) == 3


def test_objective_adds_the_penalty(small_net):
    batch = next(tasks.batches(0, SMALL))
    plain = float(ia.objective(small_net, batch))
    penalised = float(ia.objective(small_net, batch, penalty=0.5))
    extra = 0.5 * float(ia.doubly_stochastic(small_net.alphas))
    assert penalised == pytest.approx(plain + extra, rel=1e-5)
    assert extra > 0


def test_where_it_looks_counts_correct_digits_in_their_spans(small_net):
    W = 20
    strings = onp.array([[3, 5], [1, 2]])
    spans = onp.array([[[0, 8], [10, 18]], [[2, 10], [11, 19]]])
    Y_hat = onp.array([[3, 5, 10], [1, 9, 10]])  # 3 digits right
    alphas = onp.zeros((2, 3, 2, W // 2))
    alphas[0, 0, 0, 1] = 1  # image column 2.5: in [0, 8)
    alphas[0, 1, :, 4] = 0.5  # column 8.5: outside [10, 18)
    alphas[1, 0, 1, 2], alphas[1, 0, 1, 7] = 0.6, 0.4  # argmax 4.5 in,
    # centre 0.6 * 4.5 + 0.4 * 14.5 = 8.5 in [2, 10)
    alphas[1, 1, 0, 0] = 1  # a wrong digit: not counted
    found = ia.where_it_looks(small_net.encoder, Y_hat, alphas, strings,
                              spans)
    assert found == {"argmax": 2 / 3, "centre": 2 / 3, "count": 3}


def test_training_lowers_the_loss():
    config = dict(SMALL, num_steps=40, batch_size=8)
    net = ia.reader("attention", 0, config=config)
    history = ia.train(net, 0, config)
    loss = history["loss"]
    assert onp.mean(loss[-10:]) < onp.mean(loss[:10])


def test_the_penalty_changes_training():
    runs = []
    for penalty in (0.0, 1.0):
        config = dict(SMALL, num_steps=5, penalty=penalty)
        net = ia.reader("attention", 0, config=config)
        ia.train(net, 0, config)
        runs.append(net.decoder.attention.w_v.data().asnumpy())
    assert abs(runs[0] - runs[1]).max() > 1e-6


def test_a_seed_gives_the_same_reader():
    a, b = (ia.reader("attention", 4, config=SMALL) for _ in range(2))
    X, _, _ = _strips()
    assert (a.predict(X, 3)[1] == b.predict(X, 3)[1]).all()


# --- bad input ------------------------------------------------------------

def test_strips_refuse_bad_arguments(digits):
    images, labels = digits
    rng = onp.random.RandomState(0)
    for kwargs, match in (
            (dict(images=images[:, :4]), "images must be"),
            (dict(labels=labels[:5]), "labels must be"),
            (dict(labels=labels + 10), "labels must be"),
            (dict(lengths=[2, 0]), "lengths must be"),
            (dict(lengths=[]), "lengths must be"),
            (dict(lengths=[1.5]), "lengths must be"),
            (dict(height=6), "height must be"),
            (dict(gaps=(3, 1)), "gaps must be"),
            (dict(noise=-0.1), "noise must be"),
            (dict(width=20), "width must be at least"),
    ):
        args = dict(images=images, labels=labels, lengths=[2, 3], rng=rng)
        args.update(kwargs)
        with pytest.raises(ValueError, match=match):
            tasks.strips(**args)
    with pytest.raises(TypeError, match="rng must be"):
        tasks.strips(images, labels, [2], rng=0)


def test_the_reader_refuses_bad_input(small_net):
    X, strings, _ = _strips()
    Y_in = np.array(tasks.encode(list(strings))[0], dtype="int32")
    with pytest.raises(ValueError, match="model must be one of"):
        ia.reader("hard", 0)
    with pytest.raises(ValueError, match="X must be strips"):
        small_net(X[:, :, :8], Y_in)
    with pytest.raises(TypeError, match="X must be an mxnet.np array"):
        small_net(X.asnumpy(), Y_in)
    with pytest.raises(TypeError, match="float32"):
        small_net(X.astype("float64"), Y_in)
    with pytest.raises(ValueError, match="Y_in"):
        small_net(X, Y_in + 20)
    with pytest.raises(ValueError, match="one batch size"):
        small_net(X, Y_in[:2])
    with pytest.raises(ValueError, match="num_steps"):
        small_net.predict(X, 0)
    batch = next(tasks.batches(0, SMALL))
    with pytest.raises(ValueError, match="penalty must be >= 0"):
        ia.objective(small_net, batch, penalty=-1.0)
    with pytest.raises(ValueError, match="penalty needs attention"):
        ia.objective(ia.reader("mean", 0, config=SMALL), batch, 1.0)
    with pytest.raises(ValueError, match="seed must be"):
        ia.run_image_attention(-1)
    with pytest.raises(ValueError, match="config must be"):
        ia.run_image_attention(0, {"lr": 1})


# --- the stored results (python -m lstm_tutorial.experiments
# image_attention). Their claims are checked on the record by
# tests/test_claims_stored.py; here the record is whole and the claims can
# fail.

def _record():
    return experiments.load_results("image_attention")


def test_stored_record_is_whole_and_uses_the_current_config():
    record = _record()
    assert sorted(record["seeds"], key=int) == [str(s) for s in
                                                experiments.SEEDS]
    config = ia._as_stored(tasks.CONFIG)
    for seed, run in record["seeds"].items():
        assert run["config"] == config, seed
        assert set(run["models"]) == set(ia.MODELS), seed
        for name, model in run["models"].items():
            assert list(model["by_length"]) == [
                str(n) for n in tasks.CONFIG["test_lengths"]], (seed, name)
        for found in run["models"]["attention"]["by_length"].values():
            assert {"argmax", "centre", "count"} <= set(found), seed


def test_claims_can_fail():
    record = _record()
    sentences = list(ia.sentences(record).values())
    assert failing(ia.claims_image_attention(record)) == set()

    def no_better(r):  # the baseline as good as attention everywhere
        r["models"]["mean"] = r["models"]["attention"]
    assert failing(ia.claims_image_attention(
        spoiled(record, no_better))) == set(sentences[:2])

    def looks_elsewhere(r):
        for found in r["models"]["attention"]["by_length"].values():
            found["argmax"] = found["centre"] = ia.MOST
    assert failing(ia.claims_image_attention(
        spoiled(record, looks_elsewhere))) == set(sentences[2:])


# Exercise 4: the reader trained on every test length (image_attention_long)

def test_long_strips_record_is_whole_and_trained_on_every_length():
    record = experiments.load_results("image_attention_long")
    assert sorted(record["seeds"], key=int) == [str(s) for s in
                                                experiments.SEEDS]
    config = ia._as_stored(tasks.LONG_RUN)
    assert config["train_lengths"] == [1, tasks.CONFIG["test_lengths"][-1]]
    assert {k: v for k, v in config.items() if k != "train_lengths"} == {
        k: v for k, v in ia._as_stored(tasks.CONFIG).items()
        if k != "train_lengths"}
    for seed, run in record["seeds"].items():
        assert run["config"] == config, seed
        assert list(run["models"]["attention"]["by_length"]) == [
            str(n) for n in tasks.CONFIG["test_lengths"]], seed


def test_long_strips_claims_can_fail():
    record = experiments.load_results("image_attention_long")
    found = ia.claims_long_strips(record)
    assert failing(found) == set()

    def perfect(r):  # every strip read whole, the weights off every digit
        for value in r["models"]["attention"]["by_length"].values():
            value.update(sequence=1.0, argmax=0.0, centre=0.0)
    assert failing(ia.claims_long_strips(spoiled(record, perfect))) == {
        c.sentence for c in found}
