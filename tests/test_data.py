"""lstm_tutorial/data.py: offline-first loading, vocabulary, minibatches."""

import io
import shutil
import urllib.error

import numpy as onp
import pytest

from lstm_tutorial import data


@pytest.fixture
def no_data_env(monkeypatch, tmp_path):
    monkeypatch.delenv(data.DATA_ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path


def _offline(*args, **kwargs):
    raise urllib.error.URLError("no network")


def test_mirror_found_and_sha1_checked(timemachine):
    assert data.sha1(timemachine) == data.TIMEMACHINE_SHA1
    assert data.read_time_machine().startswith(
        "The Time Machine, by H. G. Wells")


def test_missing_file_in_data_folder(monkeypatch, tmp_path):
    monkeypatch.setenv(data.DATA_ENV_VAR, str(tmp_path))
    with pytest.raises(FileNotFoundError,
                       match=r"\$LSTM_TUTORIAL_DATA is .* does not exist"):
        data.read_time_machine()


def test_corrupt_file_is_refused(monkeypatch, tmp_path):
    (tmp_path / data.TIMEMACHINE).write_text("not the book")
    monkeypatch.setenv(data.DATA_ENV_VAR, str(tmp_path))
    with pytest.raises(ValueError, match="sha1 .* expected 090b5e7e"):
        data.read_time_machine()


def test_cache_is_used_before_download(timemachine, no_data_env,
                                       monkeypatch):
    cached = data.cache_dir() / data.TIMEMACHINE
    cached.parent.mkdir(parents=True)
    shutil.copy(timemachine, cached)
    monkeypatch.setattr(data.urllib.request, "urlopen", _offline)
    assert data.find_data_file(data.TIMEMACHINE,
                               data.TIMEMACHINE_SHA1) == cached


def test_offline_error_names_the_variable(no_data_env, monkeypatch):
    monkeypatch.setattr(data.urllib.request, "urlopen", _offline)
    with pytest.raises(FileNotFoundError,
                       match="Offline\\? Set LSTM_TUTORIAL_DATA"):
        data.read_time_machine()
    assert not list(data.cache_dir().glob("*"))  # no partial file left


def test_no_download_when_not_allowed(no_data_env):
    with pytest.raises(FileNotFoundError, match="set LSTM_TUTORIAL_DATA"):
        data.read_time_machine(download=False)


def test_download_is_sha1_checked(timemachine, no_data_env, monkeypatch):
    payload = timemachine.read_bytes()
    monkeypatch.setattr(data.urllib.request, "urlopen",
                        lambda url, timeout: io.BytesIO(payload))
    path = data.find_data_file(data.TIMEMACHINE, data.TIMEMACHINE_SHA1)
    assert path == data.cache_dir() / data.TIMEMACHINE
    assert path.read_bytes() == payload


def test_corrupt_download_leaves_nothing(no_data_env, monkeypatch):
    monkeypatch.setattr(data.urllib.request, "urlopen",
                        lambda url, timeout: io.BytesIO(b"truncated"))
    with pytest.raises(ValueError, match="sha1"):
        data.read_time_machine()
    assert not list(data.cache_dir().glob("*"))


def test_an_unreadable_file_or_folder_names_the_variable(
        timemachine, monkeypatch, tmp_path):
    # Tests run as root here, whom chmod does not stop: the refusals are
    # simulated where the operating system would raise them.
    monkeypatch.setenv(data.DATA_ENV_VAR, str(timemachine.parent))

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(data, "sha1", refuse)
    with pytest.raises(PermissionError, match="timemachine.txt cannot be "
                       r"read \(Permission denied\).* set \$LSTM_TUTORIAL"):
        data.read_time_machine()
    monkeypatch.undo()
    monkeypatch.setenv(data.DATA_ENV_VAR, str(tmp_path))
    monkeypatch.setattr(data.Path, "is_file", refuse)
    with pytest.raises(PermissionError, match="cannot be read"):
        data.read_time_machine()


def test_a_cache_home_that_is_a_file_names_the_variables(monkeypatch,
                                                         tmp_path):
    monkeypatch.delenv(data.DATA_ENV_VAR, raising=False)
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))
    monkeypatch.setattr(data.urllib.request, "urlopen", _offline)
    with pytest.raises(FileNotFoundError, match="cache folder .* cannot be "
                       "made .*XDG_CACHE_HOME is .*file.* set "
                       "LSTM_TUTORIAL_DATA"):
        data.read_time_machine()


def test_url_is_d2ls():
    import d2l.mxnet as d2l

    assert data.D2L_DATA_URL == d2l.DATA_URL


def test_preprocess_keeps_letters_lower_case():
    assert data.preprocess("The Time-Machine, 1895!") == "the time machine "


def test_vocab_matches_d2l(timemachine):
    import d2l.mxnet as d2l

    tokens = data.tokenize_chars(data.preprocess(data.read_time_machine()))
    ours, theirs = data.Vocab(tokens), d2l.Vocab(tokens)
    assert ours.idx_to_token == theirs.idx_to_token
    assert len(ours) == 28
    assert ours[list("time")] == theirs[list("time")]
    assert ours["#"] == ours.unk
    assert "".join(ours.to_tokens(ours[list("time")])) == "time"


def test_empty_corpus_is_refused():
    with pytest.raises(ValueError, match="tokens is empty"):
        data.Vocab([])


def test_sequential_batches_continue_each_row():
    corpus = onp.arange(1000)
    loader = data.SeqDataLoader(corpus, 4, 5, sequential=True,
                                rng=onp.random.RandomState(0))
    batches = [(X.asnumpy(), Y.asnumpy()) for X, Y in loader]
    assert len(batches) == len(loader) > 1
    for X, Y in batches:
        assert X.shape == Y.shape == (4, 5)
        onp.testing.assert_array_equal(Y, X + 1)
    for (X0, _), (X1, _) in zip(batches, batches[1:]):
        onp.testing.assert_array_equal(X1[:, 0], X0[:, -1] + 1)


def test_random_batches_are_distinct_subsequences():
    corpus = onp.arange(1000)
    loader = data.SeqDataLoader(corpus, 4, 5, sequential=False,
                                rng=onp.random.RandomState(0))
    starts = [int(x) for X, Y in loader for x in X.asnumpy()[:, 0]]
    assert len(starts) == len(set(starts)) == 4 * len(loader)
    assert starts != sorted(starts)  # shuffled


def test_eval_loader_repeats_its_batches():
    loader = data.SeqDataLoader(onp.arange(500), 2, 7)
    first = [X.asnumpy() for X, _ in loader]
    onp.testing.assert_array_equal(first, [X.asnumpy() for X, _ in loader])
    assert first[0][0, 0] == 0


@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 0}, "batch_size must be positive, got 0"),
    ({"num_steps": -3}, "num_steps must be positive, got -3"),
    ({"batch_size": 2.5}, "batch_size must be an int"),
    ({"corpus": []}, "corpus must be a non-empty 1-D"),
    ({"corpus": onp.zeros((3, 3))}, "corpus must be a non-empty 1-D"),
    ({"corpus": onp.arange(24)}, "corpus has 24 tokens, too few"),
    ({"corpus": onp.arange(25)}, "corpus has 25 tokens, too few"),
    ({"corpus": list("the time machine" * 10)},
     "corpus must hold token indices .* got dtype <U1"),
    ({"corpus": onp.arange(100) * 0.5}, "got dtype float64"),
    ({"corpus": [2 ** 40 + 7] * 100}, r"in \[0, 2\*\*31\).* got "
                                      "1099511627783"),
    ({"corpus": onp.arange(100) - 1}, r"got -1 to 98"),
])
def test_loader_rejects_bad_input(kwargs, message):
    args = {"corpus": onp.arange(1000), "batch_size": 4, "num_steps": 5}
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=message):
        data.SeqDataLoader(**args)


def test_a_loader_at_its_minimum_size_yields_a_batch():
    # batch 4 x 5 steps: 20 inputs, the targets one further, offset < 5
    for sequential in (True, False):
        loader = data.SeqDataLoader(onp.arange(26), 4, 5, sequential,
                                    rng=onp.random.RandomState(0))
        assert len(loader) == 1 and len(list(loader)) == 1


def test_time_machine_loaders(timemachine):
    train, val, vocab = data.load_data_time_machine(32, 35)
    X, Y = next(iter(train))
    assert X.shape == Y.shape == (32, 35) and len(vocab) == 28
    total = train.corpus.size + val.corpus.size
    assert val.corpus.size == total - int(total * 0.9)
    with pytest.raises(ValueError, match="val_fraction"):
        data.load_data_time_machine(32, 35, val_fraction=1.0)
    with pytest.raises(ValueError, match="num_steps"):
        data.load_data_time_machine(32, 0)


def test_unigram_perplexity():
    uniform = onp.tile(onp.arange(4), 100)
    assert data.unigram_perplexity(uniform, uniform, 4) == pytest.approx(4)
    skewed = onp.array([0] * 90 + [1] * 10)
    assert data.unigram_perplexity(skewed, skewed, 2) < 2
